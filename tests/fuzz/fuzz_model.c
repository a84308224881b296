/* fuzz_model.c -- libFuzzer target: model YAML (graphs and generators)
 * through gpp_model_load_string. */
#include "sim/model.h"
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
  gpp_model *m = NULL;
  int rc = gpp_model_load_string("fuzz.yaml", text, &m, &err);
  gpp__fuzz_check(rc, &err);
  gpp_model_destroy(m);
  free(text);
  return 0;
}
