/* fuzz_model.c -- libFuzzer target: model YAML (graphs and generators)
 * through gpp_model_load_string. */
#include "sim/model/model.h"
#include "tests/fuzz/fuzz.h"

GPP_FUZZ_TEXT_TARGET(gpp_model,
                     gpp_model_load_string("fuzz.yaml", text, &obj, &err),
                     gpp_model_destroy)
