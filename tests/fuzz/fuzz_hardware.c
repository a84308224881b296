/* fuzz_hardware.c -- libFuzzer target: GPU hardware YAML through
 * gpp_gpu_spec_load (a path loader: the input goes to a file). */
#include "sim/common/arena.h"
#include "topology/topology.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = gpp__fuzz_file(data, size, ".yaml");
  gpp_errctx err = {0};
  gpp_arena *a = path ? gpp_arena_create(&err) : NULL;
  if (a == NULL) return 0;
  gpp_gpu_spec spec;
  gpp__fuzz_check(gpp_gpu_spec_load(path, &spec, a, &err), &err);
  gpp_arena_destroy(a);
  return 0;
}
