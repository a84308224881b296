/* fuzz_sweep.c -- libFuzzer target: sweep experiment YAML through
 * gpp_sweep_load (a path loader). */
#include "sim/sweep/sweep.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = gpp__fuzz_file(data, size, ".yaml");
  if (path == NULL) return 0;
  gpp_errctx err = {0};
  gpp_sweep *s = NULL;
  gpp__fuzz_check(gpp_sweep_load(path, &s, &err), &err);
  gpp_sweep_destroy(s);
  return 0;
}
