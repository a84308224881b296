/* fuzz_results.c -- libFuzzer target: results HDF5 (simulate --out,
 * validate's measured files) through gpp_vfile_read (a path loader). */
#include "validate/validate.h"
#include "tests/fuzz/fuzz.h"

#include <hdf5.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = gpp__fuzz_file(data, size, ".h5");
  if (path == NULL) return 0;
  gpp_errctx err = {0};
  gpp_vfile f = {0};
  int rc = gpp_vfile_read(path, &f, &err);
  gpp__fuzz_check(rc, &err);
  if (rc == 0) gpp_vfile_free(&f);
  /* Each input starts from a fresh HDF5 library: its caches may keep state
   * from a damaged file (a single gppsim run opens one file per process). */
  H5close();
  return 0;
}
