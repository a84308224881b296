/* fuzz_plan.c -- libFuzzer target: plan YAML through gpp_plan_load_string
 * against the bundled synthetic model on 8 GPUs. */
#include "sim/model.h"
#include "sim/plan.h"
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>

static gpp_model *model;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  gpp_errctx err = {0};
  if (gpp_model_load(GPP_SOURCE_DIR "/configs/models/synthetic.yaml", NULL,
                     0, &model, &err) != 0) {
    fprintf(stderr, "fuzz_plan: %s\n", err.msg);
    abort();
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = gpp__fuzz_text(data, size);
  if (text == NULL) return 0;
  gpp_errctx err = {0};
  gpp_plan *p = NULL;
  int rc = gpp_plan_load_string("fuzz.yaml", text, model, 8, &p, &err);
  gpp__fuzz_check(rc, &err);
  gpp_plan_destroy(p);
  free(text);
  return 0;
}
