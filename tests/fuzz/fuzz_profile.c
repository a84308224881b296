/* fuzz_profile.c -- libFuzzer target: profile HDF5 through
 * gpp_profile_db_open (a path loader). */
#include "kernels_profile/profile_db.h"
#include "tests/fuzz/fuzz.h"

#include <hdf5.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = gpp__fuzz_file(data, size, ".h5");
  if (path == NULL) return 0;
  gpp_errctx err = {0};
  gpp_profile_db *db = NULL;
  gpp__fuzz_check(gpp_profile_db_open(path, &db, &err), &err);
  gpp_profile_db_destroy(db);
  /* Each input starts from a fresh HDF5 library: its caches may keep state
   * from a damaged file (a single gppsim run opens one file per process). */
  H5close();
  return 0;
}
