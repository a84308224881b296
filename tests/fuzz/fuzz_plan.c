/* fuzz_plan.c -- libFuzzer target: plan YAML through gpp_plan_load_string
 * against the bundled synthetic model on 8 GPUs. */
#include "sim/model/model.h"
#include "sim/plan/plan.h"
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

GPP_FUZZ_TEXT_TARGET(gpp_plan,
                     gpp_plan_load_string("fuzz.yaml", text, model, 8, &obj,
                                          &err),
                     gpp_plan_destroy)
