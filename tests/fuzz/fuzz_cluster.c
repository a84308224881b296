/* fuzz_cluster.c -- libFuzzer target: cluster YAML through
 * gpp_cluster_from_string. */
#include "topology/topology.h"
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = gpp__fuzz_text(data, size);
  if (text == NULL) return 0;
  gpp_errctx err = {0};
  gpp_cluster *c = NULL;
  int rc = gpp_cluster_from_string("fuzz.yaml", text, &c, &err);
  gpp__fuzz_check(rc, &err);
  gpp_cluster_destroy(c);
  free(text);
  return 0;
}
