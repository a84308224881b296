/* test_model.c -- the model graph: generators, derived costs against hand
 * formulas, the bundled zoo, random graphs, and every loading error. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/model/model.h"

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

static const char *source_path(const char *rel) {
  static char buf[1024];
  const char *root = getenv("GPP_SOURCE_DIR");
  snprintf(buf, sizeof buf, "%s/%s", root ? root : GPP_SOURCE_DIR, rel);
  return buf;
}

static gpp_model *load_zoo(const char *name, const gpp_model_param *p,
                           size_t np) {
  char rel[128];
  snprintf(rel, sizeof rel, "configs/models/%s.yaml", name);
  gpp_errctx err = {0};
  gpp_model *m = NULL;
  cr_assert_eq(gpp_model_load(source_path(rel), p, np, &m, &err), 0, "%s: %s",
               name, err.msg);
  return m;
}

/* A small deterministic generator (splitmix64) for high-entropy inputs. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static long long rnd_in(long long lo, long long hi) {
  return lo + (long long)(rnd() % (uint64_t)(hi - lo + 1));
}

/* ---- the paper's models ------------------------------------------------ */

Test(model, mmt_parameters_match_appendix_a2) {
  /* App. A.2: 4 branches x 8 layers, hidden h = 1024, FFN f = 4096.
   * Per layer: attention Q, K, V, O projections 4h^2 + 4h biases;
   * FFN 2hf + f + h; two layernorms 2 x 2h.  No embedding, no head.
   * 12,596,224 per layer; x 32 = 403,079,168. */
  const double h = 1024, f = 4096;
  const double per_layer = (4 * h * h + 4 * h) + (2 * h * f + f + h) + 4 * h;
  const double hand = 4 * 8 * per_layer;
  cr_assert_float_eq(hand, 403079168.0, 0.5);
  gpp_model *m = load_zoo("mmt", NULL, 0);
  gpp_model_stats st;
  gpp_model_stats_compute(m, &st);
  cr_assert_float_eq(st.param_count, hand, hand * 0.02);
  cr_assert_float_eq(st.param_bytes, 4 * st.param_count, 1);
  cr_assert_str_eq(m->precision, "fp32");
  cr_assert_eq(m->n_groups, 1);
  cr_assert_eq(m->groups[0].count, 4);
  cr_assert_eq(m->groups[0].ops_per_branch, 1 + 8 * 8);
  cr_assert_eq(m->n_ops, 4 * 65 + 2);
  cr_assert_eq(st.n_sources, 4);
  cr_assert_eq(st.n_sinks, 1);
  cr_assert_eq(st.longest_path_ops, 65 + 2);
  gpp_model_destroy(m);
}

Test(model, mmt_flops_match_the_megatron_count) {
  /* Per layer forward: 24 s h^2 + 4 s^2 h with f = 4h (GEMMs only). */
  const double s = 256, h = 1024;
  const double gemm = 4 * 8 * (24 * s * h * h + 4 * s * s * h);
  gpp_model *m = load_zoo("mmt", NULL, 0);
  gpp_model_stats st;
  gpp_model_stats_compute(m, &st);
  cr_assert_float_eq(st.flops_fwd, gemm, gemm * 0.01);
  cr_assert_float_eq(st.flops_bwd, 2 * gemm, 2 * gemm * 0.01);
  gpp_model_destroy(m);
}

Test(model, branch_parameter_override_scales_the_graph) {
  gpp_errctx err = {0};
  gpp_model *m = NULL;
  gpp_model_param p = {"branches", 11};
  m = load_zoo("candle_uno", &p, 1);
  cr_assert_eq(m->groups[0].count, 11);
  cr_assert_geq(gpp_model_find(m, "branch10.ff.fc3"), 0);
  cr_assert_lt(gpp_model_find(m, "branch11.ff.fc0"), 0);
  cr_assert_eq(op_named(m, "concat")->n_inputs, 11);
  gpp_model_destroy(m);
  p.value = 17;
  const char *path = source_path("configs/models/candle_uno.yaml");
  cr_assert_eq(gpp_model_load(path, &p, 1, &m, &err), GPP_ERANGE);
  cr_assert(strstr(err.msg, "expected 2 to 16") != NULL, "%s", err.msg);
  p.name = "branchs";
  cr_assert_eq(gpp_model_load(path, &p, 1, &m, &err), GPP_EINVAL);
  cr_assert(strstr(err.msg, "did you mean 'branches'") != NULL, "%s", err.msg);
}

Test(model, every_bundled_model_loads_in_topological_order) {
  const char *names[] = {"mmt", "dlrm", "candle_uno", "gpt", "synthetic"};
  for (size_t k = 0; k < 5; k++) {
    gpp_model *m = load_zoo(names[k], NULL, 0);
    for (uint32_t i = 0; i < m->n_ops; i++) {
      for (uint32_t j = 0; j < m->ops[i].n_inputs; j++)
        cr_assert_lt(m->ops[i].inputs[j], i, "%s", m->ops[i].name);
      for (uint32_t j = 0; j < m->ops[i].n_outputs; j++)
        cr_assert_gt(m->ops[i].outputs[j], i, "%s", m->ops[i].name);
    }
    gpp_model_stats st;
    gpp_model_stats_compute(m, &st);
    cr_assert_eq(st.n_sinks, 1, "%s", names[k]);
    cr_assert_gt(st.flops_fwd, 0);
    gpp_model_destroy(m);
  }
}

Test(model, dlrm_interaction_is_pairwise_dot_products) {
  gpp_model *m = load_zoo("dlrm", NULL, 0);
  const gpp_op *x = op_named(m, "interact");
  cr_assert_eq(x->kind, GPP_OP_INTERACTION);
  cr_assert_eq(x->n_inputs, 14);
  cr_assert_eq(x->shape.width, 64 + 14 * 13 / 2);
  const gpp_op *emb = op_named(m, "sparse6.emb");
  cr_assert_float_eq(emb->param_count, 1e6 * 64, 0.5);
  cr_assert_eq(emb->shape.bag, 100);
  cr_assert_eq(m->n_groups, 2);
  gpp_model_destroy(m);
}

Test(model, every_branch_count_of_the_parametric_models) {
  const char *names[] = {"mmt", "candle_uno", "dlrm"};
  const uint32_t per[] = {65, 9, 10};
  for (size_t k = 0; k < 3; k++)
    for (long long n = 2; n <= 16; n += 7) {
      gpp_model_param p = {"branches", n};
      gpp_model *m = load_zoo(names[k], &p, 1);
      cr_assert_eq(m->groups[0].count, (uint32_t)n);
      cr_assert_eq(m->groups[0].ops_per_branch, per[k], "%s", names[k]);
      gpp_model_destroy(m);
    }
}

/* ---- exact costs of single ops ---------------------------------------- */

Test(model, matmul_costs_are_exact) {
  gpp_model *m = load_ok("name: t\ngraph:\n"
                         "  - {input: x, tokens: 37, width: 213}\n"
                         "  - {linear: fc, out: 91}\n");
  const gpp_op *fc = op_named(m, "fc");
  double t = 37, in = 213, w = 91;
  cr_assert_eq(fc->flops_fwd, 2 * t * in * w);
  cr_assert_eq(fc->flops_bwd, 4 * t * in * w);
  cr_assert_eq(fc->param_count, in * w + w);
  cr_assert_eq(fc->param_bytes, 4 * (in * w + w));
  cr_assert_eq(fc->saved_bytes, t * in * 4);
  cr_assert_eq(fc->out_bytes, t * w * 4);
  cr_assert_eq(fc->shape.in_width, 213);
  gpp_model_destroy(m);
}

Test(model, attention_costs_are_exact) {
  gpp_model *m = load_ok("name: t\nprecision: bf16\ngraph:\n"
                         "  - {input: x, tokens: 96, width: 320}\n"
                         "  - {op: a, kind: attention, shape: {heads: 5}}\n");
  const gpp_op *a = op_named(m, "a");
  double s = 96, h = 320, hd = 5;
  cr_assert_eq(a->flops_fwd, 8 * s * h * h + 4 * s * s * h);
  cr_assert_eq(a->flops_bwd, 2 * (8 * s * h * h + 4 * s * s * h));
  cr_assert_eq(a->param_count, 4 * h * h + 4 * h);
  cr_assert_eq(a->param_bytes, 2 * (4 * h * h + 4 * h));
  cr_assert_eq(a->saved_bytes, (5 * s * h + hd * s * s) * 2);
  cr_assert_eq(a->dtype_bytes, 2);
  cr_assert_str_eq(m->precision, "bf16");
  gpp_model_destroy(m);
}

Test(model, layernorm_and_embedding_parameters) {
  gpp_model *m = load_ok("name: t\ngraph:\n"
                         "  - {input: ids, width: 7}\n"
                         "  - {embedding_bag: e, rows: 1000, dim: 24, bag: 7}\n"
                         "  - {op: ln, kind: layernorm}\n");
  cr_assert_eq(op_named(m, "ln")->param_count, 2 * 24);
  const gpp_op *e = op_named(m, "e");
  cr_assert_eq(e->param_count, 1000 * 24);
  cr_assert_eq(e->flops_fwd, 7 * 24);
  gpp_model_destroy(m);
}

/* ---- generators --------------------------------------------------------- */

Test(model, transformer_expands_to_eight_ops_per_layer) {
  gpp_model *m = load_ok("name: t\ngraph:\n"
                         "  - {input: x, tokens: 8, width: 48}\n"
                         "  - {transformer: tf, layers: 3, seq: 8, hidden: 48,"
                         " heads: 4, ffn: 112}\n");
  cr_assert_eq(m->n_ops, 1 + 3 * 8);
  cr_assert_eq(op_named(m, "tf.l2.fc2")->shape.width, 48);
  cr_assert_eq(op_named(m, "tf.l1.fc1")->shape.width, 112);
  const gpp_op *add1 = op_named(m, "tf.l0.add1");
  cr_assert_eq(add1->n_inputs, 2);
  cr_assert_str_eq(m->ops[add1->inputs[1]].name, "x");
  gpp_model_stats st;
  gpp_model_stats_compute(m, &st);
  cr_assert_eq(st.longest_path_ops, 1 + 3 * 8);
  gpp_model_destroy(m);
}

/* A decoder's train_metrics: each no-grad cross-entropy of the logits adds
 * an fp32 cast (read 2, write 4 bytes per logit in bf16) and a log-softmax
 * (read 4, write 4; 4 FLOPs) to the loss's forward, and their working
 * memory (10 bytes per logit, once) to the loss's eval_bytes. */
Test(model, decoder_train_metrics_add_unfused_cross_entropies) {
  const char *fmt = "name: t\nprecision: bf16\ngraph:\n"
                    "  - {decoder: m, layers: 2, d_model: 48, heads: 4,"
                    " vocab: 1031, seq: 37%s}\n";
  char a[256], b[256];
  snprintf(a, sizeof a, fmt, "");
  snprintf(b, sizeof b, fmt, ", train_metrics: 3");
  gpp_model *m0 = load_ok(a), *m3 = load_ok(b);
  const gpp_op *l0 = op_named(m0, "m.loss"), *l3 = op_named(m3, "m.loss");
  double logits = 37.0 * 1031;
  cr_assert_eq(l0->shape.in_width, logits);
  cr_assert_eq(l0->bytes_fwd, 2 * logits);
  cr_assert_eq(l3->bytes_fwd - l0->bytes_fwd, 3 * logits * (2 + 12));
  cr_assert_eq(l3->flops_fwd - l0->flops_fwd, 3 * logits * 4);
  cr_assert_eq(l3->bytes_bwd, l0->bytes_bwd);
  cr_assert_eq(l3->saved_bytes, l0->saved_bytes);
  /* After the backward: the logits and their fp32 copy and log-softmax. */
  cr_assert_eq(l0->eval_bytes, 0);
  cr_assert_eq(l3->eval_bytes, logits * (2 + 8));
  cr_assert_eq(op_named(m3, "m.lm_head")->flops_fwd,
               op_named(m0, "m.lm_head")->flops_fwd);
  gpp_model_destroy(m0);
  gpp_model_destroy(m3);
  gpp_errctx err = {0};
  gpp_model *bad = NULL;
  snprintf(b, sizeof b, fmt, ", train_metrics: -1");
  cr_assert_neq(load_text(b, NULL, 0, &bad, &err), 0);
  cr_assert(strstr(err.msg, "train_metrics") != NULL, "%s", err.msg);
}

Test(model, mlp_expands_layers_and_activations) {
  gpp_model *m = load_ok("name: t\ngraph:\n  - {input: x, width: 10}\n"
                         "  - {mlp: a, layers: 5, width: 7, activation: gelu,"
                         " final_activation: false}\n"
                         "  - {mlp: b, layers: 3, width: 2, activation: none}\n");
  cr_assert_eq(m->n_ops, 1 + 5 + 4 + 3);
  cr_assert_eq(op_named(m, "a.act3")->kind, GPP_OP_GELU);
  cr_assert_lt(gpp_model_find(m, "a.act4"), 0);
  cr_assert_str_eq(m->ops[op_named(m, "b.fc0")->inputs[0]].name, "a.fc4");
  gpp_model_destroy(m);
}

Test(model, branches_scope_names_and_join) {
  gpp_model *m = load_ok(
      "name: t\ngraph:\n"
      "  - {input: x, width: 64}\n"
      "  - branches: b\n    count: 3\n    body:\n"
      "      - {mlp: ff, layers: 2, width: 32}\n"
      "      - {linear: proj, inputs: ff, out: 16}\n"
      "  - {concat: cat}\n"
      "  - {interaction: dot, inputs: [b]}\n");
  const gpp_op *cat = op_named(m, "cat");
  cr_assert_eq(cat->n_inputs, 3);
  cr_assert_eq(cat->shape.width, 48);
  cr_assert_str_eq(m->ops[op_named(m, "b1.ff.fc0")->inputs[0]].name, "x");
  cr_assert_str_eq(m->ops[op_named(m, "b2.proj")->inputs[0]].name,
                   "b2.ff.act1");
  const gpp_op *dot = op_named(m, "dot");
  cr_assert_eq(dot->shape.width, 16 + 3);
  cr_assert_eq(m->groups[0].ops_per_branch, 5);
  gpp_model_destroy(m);
}

Test(model, nested_branches_yield_every_leaf) {
  gpp_model *m = load_ok(
      "name: t\ngraph:\n  - {input: x, width: 4}\n"
      "  - branches: outer\n    count: 3\n    body:\n"
      "      - branches: inner\n        count: 5\n        body:\n"
      "          - {linear: l, out: 2}\n"
      "  - {concat: cat}\n");
  cr_assert_eq(op_named(m, "cat")->n_inputs, 15);
  cr_assert_geq(gpp_model_find(m, "outer2.inner4.l"), 0);
  cr_assert_eq(m->n_groups, 4);
  gpp_model_destroy(m);
}

Test(model, params_override_and_defaults) {
  const char *text = "name: t\nparams:\n  w: {default: 8, min: 1, max: 64}\n"
                     "  n: 3\ngraph:\n  - {input: x, width: \"${w}\"}\n"
                     "  - mlp: m\n    layers: ${n}\n    width: ${w}\n";
  gpp_errctx err = {0};
  gpp_model *m = NULL;
  gpp_model_param p[2] = {{"w", 40}, {"n", 6}};
  cr_assert_eq(load_text(text, p, 2, &m, &err), 0, "%s", err.msg);
  cr_assert_eq(op_named(m, "m.fc5")->shape.width, 40);
  cr_assert_eq(op_named(m, "x")->shape.width, 40);
  gpp_model_destroy(m);
  cr_assert_eq(load_text(text, NULL, 0, &m, &err), 0, "%s", err.msg);
  cr_assert_eq(m->n_ops, 1 + 2 * 3);
  gpp_model_destroy(m);
  p[0].value = 65;
  cr_assert_eq(load_text(text, p, 1, &m, &err), GPP_ERANGE);
}

Test(model, overrides_replace_derived_costs) {
  gpp_model *m = load_ok(
      "name: t\ngraph:\n  - {input: x, width: 10}\n"
      "  - op: c\n    kind: custom\n    shape: {width: 10}\n"
      "    time_per_sample: {fwd: 1.5 ms, bwd: 3 ms}\n"
      "    flops: {fwd: 1e6, bwd: 2e6}\n"
      "    activation_bytes_per_sample: 2 KiB\n    param_bytes: 1 MiB\n");
  const gpp_op *c = op_named(m, "c");
  cr_assert(c->has_time);
  cr_assert_float_eq(c->time_fwd, 1.5e-3, 1e-15);
  cr_assert_float_eq(c->time_bwd, 3e-3, 1e-15);
  cr_assert_eq(c->flops_fwd, 1e6);
  cr_assert_eq(c->flops_bwd, 2e6);
  cr_assert_eq(c->saved_bytes, 2048);
  cr_assert_eq(c->param_bytes, 1048576);
  gpp_model_destroy(m);
}

Test(model, forward_references_are_sorted) {
  gpp_model *m = load_ok("name: t\ngraph:\n"
                         "  - {op: c, kind: relu, inputs: b}\n"
                         "  - {op: b, kind: gelu, inputs: a}\n"
                         "  - {input: a, width: 3}\n");
  cr_assert_str_eq(m->ops[0].name, "a");
  cr_assert_str_eq(m->ops[1].name, "b");
  cr_assert_str_eq(m->ops[2].name, "c");
  cr_assert_eq(m->ops[2].shape.width, 3);
  gpp_model_destroy(m);
}

/* ---- high-entropy inputs ----------------------------------------------- */

/* A random chain of linears: FLOPs and parameters sum exactly. */
Test(model, random_linear_chains_sum_exactly) {
  for (int trial = 0; trial < 40; trial++) {
    char text[8192];
    long long t = rnd_in(1, 512), w = rnd_in(1, 4096);
    int n = (int)rnd_in(1, 30);
    size_t off = (size_t)snprintf(text, sizeof text, "name: r\ngraph:\n"
                                  "  - {input: x, tokens: %lld, width: %lld}\n",
                                  t, w);
    double fl = 0, params = 0;
    for (int i = 0; i < n; i++) {
      long long o = rnd_in(1, 4096);
      off += (size_t)snprintf(text + off, sizeof text - off,
                              "  - {linear: l%d, out: %lld}\n", i, o);
      fl += 2.0 * t * w * o;
      params += (double)w * o + o;
      w = o;
    }
    gpp_model *m = load_ok(text);
    gpp_model_stats st;
    gpp_model_stats_compute(m, &st);
    cr_assert_eq(st.flops_fwd, fl);
    cr_assert_eq(st.flops_bwd, 2 * fl);
    cr_assert_eq(st.param_count, params);
    cr_assert_eq(st.longest_path_ops, (uint32_t)n + 1);
    gpp_model_destroy(m);
  }
}

/* Writes a random DAG of explicit elementwise ops, listed in a shuffled
 * order; edges go from lower to higher ids. */
static size_t random_dag(char *text, size_t cap, int n, int *depth) {
  int order[64];
  for (int i = 0; i < n; i++) order[i] = i;
  for (int i = n - 1; i > 0; i--) {
    int j = (int)rnd_in(0, i), x = order[i];
    order[i] = order[j];
    order[j] = x;
  }
  size_t off = (size_t)snprintf(text, cap, "name: dag\ngraph:\n");
  for (int i = 0; i < n; i++) depth[i] = 1;
  for (int k = 0; k < n; k++) {
    int v = order[k];
    if (v == 0) {
      off += (size_t)snprintf(text + off, cap - off,
                              "  - {input: n0, width: 5}\n");
      continue;
    }
    int u1 = (int)rnd_in(0, v - 1), u2 = (int)rnd_in(0, v - 1);
    off += (size_t)snprintf(text + off, cap - off, "  - {op: n%d, kind: "
                            "elementwise, inputs: [n%d", v, u1);
    if (u2 != u1)
      off += (size_t)snprintf(text + off, cap - off, ", n%d", u2);
    off += (size_t)snprintf(text + off, cap - off, "]}\n");
  }
  return off;
}

Test(model, random_dags_come_out_topologically_sorted) {
  for (int trial = 0; trial < 30; trial++) {
    char text[8192];
    int n = (int)rnd_in(2, 60), depth[64];
    random_dag(text, sizeof text, n, depth);
    gpp_model *m = load_ok(text);
    cr_assert_eq(m->n_ops, (uint32_t)n);
    uint32_t edges_in = 0, edges_out = 0;
    for (uint32_t i = 0; i < m->n_ops; i++) {
      for (uint32_t j = 0; j < m->ops[i].n_inputs; j++)
        cr_assert_lt(m->ops[i].inputs[j], i);
      edges_in += m->ops[i].n_inputs;
      edges_out += m->ops[i].n_outputs;
      cr_assert_eq(m->ops[i].shape.width, 5);
    }
    cr_assert_eq(edges_in, edges_out);
    gpp_model_stats st;
    gpp_model_stats_compute(m, &st);
    cr_assert_eq(st.n_sources, 1);
    cr_assert_geq(st.longest_path_ops, 2);
    gpp_model_destroy(m);
  }
}

/* Random bytes and random YAML fragments never crash the loader: every
 * failure is a negative code with a positioned message. */
Test(model, random_text_fails_cleanly) {
  static const char *const bits[] = {
      "name: x\n", "graph:\n", "  - ", "{", "}", "[", "]", "op: ", "kind: ",
      "matmul", "inputs: ", "linear: a", ", ", "out: ", "-3", "1e99", "${n}",
      "branches: b\n", "    body:\n", "count: 0", "\t", ":", "\"", "'", "&a",
      "*a", "!!int ", "transformer: t", "heads: 7", "\n", "  "};
  for (int trial = 0; trial < 300; trial++) {
    char text[2048];
    size_t off = 0;
    int n = (int)rnd_in(1, 40);
    for (int i = 0; i < n; i++)
      off += (size_t)snprintf(text + off, sizeof text - off, "%s",
                              bits[rnd() % (sizeof bits / sizeof *bits)]);
    gpp_errctx err = {0};
    gpp_model *m = NULL;
    int rc = load_text(text, NULL, 0, &m, &err);
    if (rc == 0) {
      gpp_model_destroy(m);
      continue;
    }
    cr_assert_lt(rc, 0);
    cr_assert_null(m);
    cr_assert(strstr(err.msg, tmp_path) == err.msg, "%s", err.msg);
  }
}

/* ---- errors ------------------------------------------------------------- */

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
  load_fails("name: t\ngraph:\n  - {input: x, width: 4}\n"
             "  - {op: a, kind: relu, inputs: c}\n"
             "  - {op: b, kind: relu, inputs: a}\n"
             "  - {op: c, kind: relu, inputs: b}\n",
             GPP_EGRAPH, "cycle: ");
  load_fails("name: t\ngraph:\n  - {input: x, width: 4}\n"
             "  - {op: a, kind: relu, inputs: xx}\n",
             GPP_EGRAPH, ":4:33: input 'xx' names no op or generator; did "
             "you mean 'x'?");
  load_fails("name: t\ngraph:\n  - {input: x, width: 4}\n"
             "  - {op: x, kind: relu}\n",
             GPP_EGRAPH, ":4:5: duplicate name 'x' (first defined at line 3");
  load_fails("name: t\ngraph:\n  - {input: x, width: 4}\n"
             "  - {op: l, kind: matmul}\n", GPP_EGRAPH,
             "missing required key 'out'");
  load_fails("name: t\ngraph:\n  - {input: x, tokens: 2, width: 10}\n"
             "  - {op: a, kind: attention, shape: {heads: 3}}\n", GPP_EGRAPH,
             "expected heads (3) to divide");
  load_fails("name: t\ngraph:\n  - {input: x, width: 4}\n"
             "  - {op: e, kind: elementwise, inputs: [x, x]}\n", GPP_EGRAPH,
             "input twice");
  load_fails("name: t\ngraph: []\n", GPP_EGRAPH, "no ops");
  load_fails("name: t\ngraph:\n  - {input: x, tokens: 4, width: 8}\n"
             "  - {transformer: t, layers: 1, seq: 4, hidden: 16, heads: 2, "
             "ffn: 8}\n", GPP_EGRAPH, "expected an input of 4 x 16");
  load_fails("name: t\ngraph:\n  - {input: x, width: 12}\n"
             "  - {transformer: t, layers: 1, hidden: 12, heads: 5, ffn: 8}\n",
             GPP_EGRAPH, ":4:52: heads: expected a divisor of hidden");
  load_fails("name: t\ngraph:\n  - {input: x, width: 4}\n"
             "  - {op: i, kind: interaction, inputs: [x]}\n", GPP_EGRAPH,
             "expected at least 2 inputs");
}

/* Issue 22: a concat of 256 x 1024 and 1 x 512 once became one 262,656-wide
 * token, silently; it now says how to join them, and `along` / `pool` do. */
Test(model, concat_of_mismatched_tokens_needs_along) {
  static const char head[] = "name: t\ngraph:\n"
                             "  - {input: a, tokens: 256, width: 1024}\n"
                             "  - {input: b, tokens: 1, width: 512}\n";
  char text[512];
  snprintf(text, sizeof text, "%s  - {concat: c, inputs: [a, b]}\n", head);
  load_fails(text, GPP_EGRAPH, ":5:5: op 'c' (concat): inputs 'a' (256 x "
             "1024) and 'b' (1 x 512, tokens x width) differ in tokens");
  snprintf(text, sizeof text, "%s  - {concat: c, inputs: [a, b], along: "
           "tokens}\n", head);
  load_fails(text, GPP_EGRAPH, "differ in width");
  snprintf(text, sizeof text, "%s  - {concat: c, inputs: [a, b], along: "
           "sideways}\n", head);
  load_fails(text, GPP_EINVAL, ":5:40: along:");
  snprintf(text, sizeof text, "%s  - {op: r, kind: relu, inputs: a, along: "
           "tokens}\n", head);
  load_fails(text, GPP_EPARSE, "'along' applies to concat only");
  snprintf(text, sizeof text, "%s  - {concat: c, inputs: [a, b], along: "
           "flatten}\n", head);
  gpp_model *m = load_ok(text);
  cr_assert_eq(op_named(m, "c")->shape.tokens, 1);
  cr_assert_eq(op_named(m, "c")->shape.width, 256 * 1024 + 512);
  gpp_model_destroy(m);
}

Test(model, concat_along_tokens_and_pool_then_concat) {
  gpp_model *m = load_ok("name: t\ngraph:\n"
                         "  - {input: img, tokens: 196, width: 768}\n"
                         "  - {input: txt, tokens: 77, width: 768}\n"
                         "  - {concat: seq, inputs: [img, txt], along: tokens}\n"
                         "  - {pool: p, inputs: img}\n"
                         "  - {input: tab, width: 64}\n"
                         "  - {concat: c, inputs: [p, tab]}\n"
                         "  - {loss: l, inputs: [c]}\n");
  const gpp_op *seq = op_named(m, "seq"), *p = op_named(m, "p");
  cr_assert_eq(seq->shape.tokens, 273);
  cr_assert_eq(seq->shape.width, 768);
  cr_assert_eq(p->kind, GPP_OP_POOL);
  cr_assert_eq(p->shape.tokens, 1);
  cr_assert_eq(p->shape.width, 768);
  cr_assert_eq(p->shape.in_tokens, 196);
  /* 196 x 768 adds and 768 divides; backward spreads dY over 196 tokens */
  cr_assert_float_eq(p->flops_fwd, 196.0 * 768 + 768, 1e-9);
  cr_assert_float_eq(p->flops_bwd, 196.0 * 768, 1e-9);
  cr_assert_float_eq(p->bytes_fwd, (196.0 * 768 + 768) * p->dtype_bytes,
                     1e-9);
  cr_assert_float_eq(p->param_count, 0, 0);
  cr_assert_eq(op_named(m, "c")->shape.width, 768 + 64);
  gpp_model_destroy(m);
}

Test(model, input_errors_name_the_place) {
  load_fails("name: t\ngraph:\n  - {inptu: x, width: 4}\n", GPP_EPARSE,
             ":3:6: unknown item kind 'inptu'; did you mean 'input'?");
  load_fails("name: t\ngraph:\n  - {input: x, widht: 4}\n", GPP_EPARSE,
             "unknown key 'widht'; did you mean 'width'?");
  load_fails("name: t\ngraph:\n  - {op: x, kind: matmull}\n", GPP_EINVAL,
             "did you mean 'matmul'?");
  load_fails("name: t\ngraph:\n  - {input: x, width: -4}\n", GPP_ERANGE,
             "out of range");
  load_fails("name: t\ngraph:\n  - {input: x, width: 4 GB/s}\n",
             GPP_EUNIT, "unknown unit");
  load_fails("name: t\nprecison: fp16\ngraph: []\n", GPP_EPARSE,
             "did you mean 'precision'?");
  load_fails("graph: []\n", GPP_EPARSE, "missing required key 'name'");
  load_fails("name: t\ngraph:\n  - transformer: t\n    layers: ${n}\n"
             "    heads: 1\n    ffn: 4\n", GPP_EINVAL, "unknown parameter");
  load_fails("name: t\nparams: {n: {default: 40, max: 16}}\ngraph: []\n",
             GPP_ERANGE, "out of range");
  load_fails("- a\n- b\n", GPP_EPARSE, "model file: expected a mapping");
  load_fails("name: t\ngraph:\n  - {linear: a, mlp: b, out: 3}\n",
             GPP_EPARSE, "two kind keys");
  load_fails("name: t\ngraph:\n  - {width: 3}\n", GPP_EPARSE,
             "expected one kind key");
  load_fails("name: t\ngraph:\n  - {input: x, width: 3}\n"
             "  - {mlp: m, layers: 0, width: 3}\n", GPP_ERANGE,
             "layers: 0 is out of range");
  load_fails("name: t\ngraph:\n  - {input: x, width: 3}\n"
             "  - {linear: a, inputs: {x: 1}, out: 3}\n", GPP_EPARSE,
             "inputs: expected a name or a list");
}

/* gpp_model_load_as: the precision a caller asks for replaces the file's,
 * and the element size, parameter and activation bytes follow it; mixed
 * keeps a 2-byte file's dtype and turns fp32 into fp16; full and NULL keep
 * the file's; an unknown name is an error naming the valid ones. */
Test(model, load_as_precision) {
  static const char *text = "name: t\nprecision: %s\ngraph:\n"
                            "  - {input: x, tokens: 8, width: 64}\n"
                            "  - {linear: l, out: 32}\n";
  static const struct { const char *file, *as, *got; int bytes; } c[] = {
      {"fp32", NULL, "fp32", 4},   {"fp32", "full", "fp32", 4},
      {"fp32", "tf32", "tf32", 4}, {"fp32", "bf16", "bf16", 2},
      {"fp32", "fp8", "fp8", 2},   {"fp32", "mixed", "fp16", 2},
      {"bf16", "mixed", "bf16", 2}, {"bf16", "fp32", "fp32", 4}};
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    char y[256], path[] = "/tmp/gpp_model_as_XXXXXX";
    snprintf(y, sizeof y, text, c[i].file);
    int fd = mkstemp(path);
    cr_assert_eq(write(fd, y, strlen(y)), (ssize_t)strlen(y));
    close(fd);
    gpp_model *m = NULL;
    gpp_errctx err = {0};
    int rc = gpp_model_load_as(path, NULL, 0, c[i].as, &m, &err);
    cr_assert_eq(rc, 0, "%zu: %s", i, err.msg);
    cr_assert_str_eq(m->precision, c[i].got, "case %zu", i);
    cr_assert_eq(m->dtype_bytes, c[i].bytes, "case %zu", i);
    const gpp_op *l = &m->ops[gpp_model_find(m, "l")];
    cr_assert_eq(l->param_bytes, (64 * 32 + 32) * c[i].bytes, "case %zu", i);
    cr_assert_eq(l->out_bytes, 8 * 32 * c[i].bytes, "case %zu", i);
    gpp_model_destroy(m);
    if (i + 1 < sizeof c / sizeof c[0]) {
      unlink(path);
      continue;
    }
    rc = gpp_model_load_as(path, NULL, 0, "int4", &m, &err);
    unlink(path);
    cr_assert_eq(rc, GPP_EINVAL);
    cr_assert_null(m);
    cr_assert(strstr(err.msg, "unknown precision 'int4'; expected fp32, "
                     "tf32, fp16, bf16, fp8, mixed or full"), "%s", err.msg);
  }
}
