/* test_model.c -- the model graph: generators, derived costs, the bundled
 * zoo, and every loading error. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/model.h"

static char tmp_path[64];

/* Writes text to a temporary file and loads it. */
static int load_text(const char *text, const gpp_model_param *p, size_t np,
                     gpp_model **m, gpp_errctx *err) {
  snprintf(tmp_path, sizeof tmp_path, "/tmp/gpp_model_XXXXXX");
  int fd = mkstemp(tmp_path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  int rc = gpp_model_load(tmp_path, p, np, m, err);
  unlink(tmp_path);
  return rc;
}

static gpp_model *load_ok(const char *text) {
  gpp_errctx err = {0};
  gpp_model *m = NULL;
  cr_assert_eq(load_text(text, NULL, 0, &m, &err), 0, "%s", err.msg);
  return m;
}

static const gpp_op *op_named(const gpp_model *m, const char *name) {
  int64_t i = gpp_model_find(m, name);
  cr_assert_geq(i, 0, "no op %s", name);
  return &m->ops[i];
}

static char *source_path(const char *rel) {
  static char buf[1024];
  const char *root = getenv("GPP_SOURCE_DIR");
  snprintf(buf, sizeof buf, "%s/%s", root ? root : GPP_SOURCE_DIR, rel);
  return buf;
}

Test(model, mmt_parameters_match_appendix_a2) {
  /* App. A.2: 4 branches x 8 layers, hidden h = 1024, FFN f = 4096.
   * Per layer: attention Q, K, V, O projections 4h^2 + 4h biases;
   * FFN 2hf + f + h; two layernorms 2 x 2h.  No embedding, no head. */
  const double h = 1024, f = 4096;
  const double per_layer = (4 * h * h + 4 * h) + (2 * h * f + f + h) + 4 * h;
  const double hand = 4 * 8 * per_layer; /* 403,079,168 */
  gpp_errctx err = {0};
  gpp_model *m = NULL;
  cr_assert_eq(gpp_model_load(source_path("configs/models/mmt.yaml"), NULL, 0,
                              &m, &err), 0, "%s", err.msg);
  gpp_model_stats st;
  gpp_model_stats_compute(m, &st);
  cr_assert_float_eq(st.param_count, hand, hand * 0.02);
  cr_assert_float_eq(st.param_bytes, 4 * st.param_count, 1);
  cr_assert_eq(m->n_groups, 1);
  cr_assert_eq(m->groups[0].count, 4);
  cr_assert_eq(st.n_sources, 4);
  cr_assert_eq(st.n_sinks, 1);
  gpp_model_destroy(m);
}

Test(model, branch_parameter_override_scales_the_graph) {
  gpp_errctx err = {0};
  gpp_model *m = NULL;
  gpp_model_param p = {"branches", 11};
  cr_assert_eq(gpp_model_load(source_path("configs/models/candle_uno.yaml"),
                              &p, 1, &m, &err), 0, "%s", err.msg);
  cr_assert_eq(m->groups[0].count, 11);
  cr_assert_geq(gpp_model_find(m, "branch10.ff.fc3"), 0);
  cr_assert_lt(gpp_model_find(m, "branch11.ff.fc0"), 0);
  gpp_model_destroy(m);
  p.value = 17;
  cr_assert_eq(gpp_model_load(source_path("configs/models/candle_uno.yaml"),
                              &p, 1, &m, &err), GPP_ERANGE);
  cr_assert(strstr(err.msg, "expected 2 to 16") != NULL, "%s", err.msg);
  p.name = "branchs";
  cr_assert_eq(gpp_model_load(source_path("configs/models/candle_uno.yaml"),
                              &p, 1, &m, &err), GPP_EINVAL);
  cr_assert(strstr(err.msg, "did you mean 'branches'") != NULL, "%s", err.msg);
}

Test(model, every_bundled_model_loads_in_topological_order) {
  const char *names[] = {"mmt", "dlrm", "candle_uno", "gpt", "synthetic"};
  for (size_t k = 0; k < 5; k++) {
    char rel[128];
    snprintf(rel, sizeof rel, "configs/models/%s.yaml", names[k]);
    gpp_errctx err = {0};
    gpp_model *m = NULL;
    cr_assert_eq(gpp_model_load(source_path(rel), NULL, 0, &m, &err), 0,
                 "%s: %s", names[k], err.msg);
    for (uint32_t i = 0; i < m->n_ops; i++)
      for (uint32_t j = 0; j < m->ops[i].n_inputs; j++)
        cr_assert_lt(m->ops[i].inputs[j], i, "%s", m->ops[i].name);
    gpp_model_destroy(m);
  }
}

Test(model, matmul_costs_are_exact) {
  gpp_model *m = load_ok("name: t\ngraph:\n"
                         "  - {type: input, name: x, tokens: 37, width: 213}\n"
                         "  - {type: linear, name: fc, out: 91}\n");
  const gpp_op *fc = op_named(m, "fc");
  double t = 37, in = 213, w = 91;
  cr_assert_float_eq(fc->flops_fwd, 2 * t * in * w + t * w, 1e-6);
  cr_assert_float_eq(fc->flops_bwd, 4 * t * in * w + t * w, 1e-6);
  cr_assert_float_eq(fc->param_count, in * w + w, 1e-9);
  cr_assert_float_eq(fc->saved_bytes, t * in * 4, 1e-9);
  cr_assert_float_eq(fc->out_bytes, t * w * 4, 1e-9);
  cr_assert_eq(fc->shape.in_width, 213);
  gpp_model_destroy(m);
}

Test(model, attention_costs_are_exact) {
  gpp_model *m = load_ok("name: t\nprecision: bf16\ngraph:\n"
                         "  - {type: input, name: x, tokens: 96, width: 320}\n"
                         "  - {type: attention, name: a, heads: 5}\n");
  const gpp_op *a = op_named(m, "a");
  double s = 96, h = 320, hd = 5;
  double fwd = 8 * s * h * h + 4 * s * s * h + 5 * hd * s * s + 4 * s * h;
  cr_assert_float_eq(a->flops_fwd, fwd, 1e-3);
  cr_assert_float_eq(a->param_count, 4 * h * h + 4 * h, 1e-9);
  cr_assert_float_eq(a->param_bytes, 2 * (4 * h * h + 4 * h), 1e-9);
  cr_assert_float_eq(a->saved_bytes, (5 * s * h + hd * s * s) * 2, 1e-9);
  cr_assert_eq(a->dtype_bytes, 2);
  gpp_model_destroy(m);
}

Test(model, transformer_expands_to_eight_ops_per_layer) {
  gpp_model *m = load_ok("name: t\ngraph:\n"
                         "  - {type: input, name: x, tokens: 8, width: 48}\n"
                         "  - {type: transformer, name: tf, layers: 3, "
                         "heads: 4, ffn: 112}\n");
  cr_assert_eq(m->n_ops, 1 + 3 * 8);
  const gpp_op *fc2 = op_named(m, "tf.l2.fc2");
  cr_assert_eq(fc2->shape.width, 48);
  cr_assert_eq(op_named(m, "tf.l1.fc1")->shape.width, 112);
  const gpp_op *add1 = op_named(m, "tf.l0.add1");
  cr_assert_eq(add1->n_inputs, 2);
  cr_assert_str_eq(m->ops[add1->inputs[1]].name, "x");
  gpp_model_stats st;
  gpp_model_stats_compute(m, &st);
  cr_assert_eq(st.longest_path_ops, 1 + 3 * 8);
  gpp_model_destroy(m);
}

Test(model, branches_scope_names_and_join) {
  gpp_model *m = load_ok(
      "name: t\ngraph:\n"
      "  - {type: input, name: x, width: 64}\n"
      "  - type: branches\n    name: b\n    count: 3\n    body:\n"
      "      - {type: mlp, name: ff, layers: 2, width: 32}\n"
      "      - {type: linear, name: proj, inputs: [ff], out: 16}\n"
      "  - {type: concat, name: cat}\n"
      "  - {type: interaction, name: dot, inputs: [b]}\n");
  const gpp_op *cat = op_named(m, "cat");
  cr_assert_eq(cat->n_inputs, 3);
  cr_assert_eq(cat->shape.width, 48);
  cr_assert_str_eq(m->ops[op_named(m, "b1.ff.fc0")->inputs[0]].name, "x");
  const gpp_op *dot = op_named(m, "dot");
  cr_assert_eq(dot->shape.width, 16 + 3);
  cr_assert_eq(m->groups[0].ops_per_branch, 5);
  gpp_model_destroy(m);
}

Test(model, overrides_replace_derived_costs) {
  gpp_model *m = load_ok(
      "name: t\ngraph:\n  - {type: input, name: x, width: 10}\n"
      "  - type: custom\n    name: c\n    width: 10\n"
      "    time_per_sample: {fwd: 1.5 ms, bwd: 3 ms}\n"
      "    activation_bytes_per_sample: 2 KiB\n    param_bytes: 1 MiB\n");
  const gpp_op *c = op_named(m, "c");
  cr_assert(c->has_time);
  cr_assert_float_eq(c->time_fwd, 1.5e-3, 1e-15);
  cr_assert_float_eq(c->time_bwd, 3e-3, 1e-15);
  cr_assert_float_eq(c->saved_bytes, 2048, 1e-9);
  cr_assert_float_eq(c->param_bytes, 1048576, 1e-9);
  gpp_model_destroy(m);
}

static void load_fails(const char *text, int code, const char *expect) {
  gpp_errctx err = {0};
  gpp_model *m = NULL;
  cr_assert_eq(load_text(text, NULL, 0, &m, &err), code, "got %d: %s",
               err.code, err.msg);
  cr_assert_null(m);
  cr_assert(strstr(err.msg, expect) != NULL, "message '%s' lacks '%s'",
            err.msg, expect);
  cr_assert(strstr(err.msg, tmp_path) == err.msg, "no file prefix: %s",
            err.msg);
}

Test(model, graph_errors_name_the_place) {
  load_fails("name: t\ngraph:\n  - {type: input, name: x, width: 4}\n"
             "  - {type: relu, name: a, input: c}\n"
             "  - {type: relu, name: b, input: a}\n"
             "  - {type: relu, name: c, input: b}\n",
             GPP_EGRAPH, "cycle");
  load_fails("name: t\ngraph:\n  - {type: input, name: x, width: 4}\n"
             "  - {type: relu, name: a, input: xx}\n",
             GPP_EGRAPH, ":4:34: input 'xx' names no op or generator; did "
             "you mean 'x'?");
  load_fails("name: t\ngraph:\n  - {type: input, name: x, width: 4}\n"
             "  - {type: relu, name: x}\n",
             GPP_EGRAPH, ":4:5: duplicate name 'x' (first defined at line 3");
  load_fails("name: t\ngraph:\n  - {type: input, name: x, width: 4}\n"
             "  - {type: linear, name: l}\n", GPP_EGRAPH,
             "missing required key 'out'");
  load_fails("name: t\ngraph:\n  - {type: input, name: x, tokens: 2, "
             "width: 10}\n  - {type: attention, heads: 3}\n", GPP_EGRAPH,
             "heads must divide");
  load_fails("name: t\ngraph:\n  - {type: input, name: x, width: 4}\n"
             "  - {type: elementwise, inputs: [x, x]}\n", GPP_EGRAPH,
             "input twice");
  load_fails("name: t\ngraph: []\n", GPP_EGRAPH, "no ops");
}

Test(model, input_errors_name_the_place) {
  load_fails("name: t\ngraph:\n  - {type: inptu, width: 4}\n", GPP_EINVAL,
             ":3:12: type: unknown value 'inptu'; did you mean 'input'?");
  load_fails("name: t\ngraph:\n  - {type: input, widht: 4}\n", GPP_EPARSE,
             "unknown key 'widht'; did you mean 'width'?");
  load_fails("name: t\ngraph:\n  - {type: input, width: -4}\n", GPP_ERANGE,
             "out of range");
  load_fails("name: t\ngraph:\n  - {type: input, width: 4 GB/s}\n",
             GPP_EUNIT, "unknown unit");
  load_fails("name: t\nprecison: fp16\ngraph: []\n", GPP_EPARSE,
             "did you mean 'precision'?");
  load_fails("graph: []\n", GPP_EPARSE, "missing required key 'name'");
  load_fails("name: t\ngraph:\n  - type: transformer\n    layers: ${n}\n"
             "    heads: 1\n    ffn: 4\n", GPP_EINVAL, "unknown parameter");
  load_fails("name: t\nparams: {n: {default: 40, max: 16}}\ngraph: []\n",
             GPP_ERANGE, "out of range");
  load_fails("- a\n- b\n", GPP_EPARSE, "model file: expected a mapping");
}
