/* test_planner.c -- SP decomposition, the GraphPipe / PipeDream / Piper
 * planners against each other and against exhaustive search, plan writing,
 * and every error path.  Models are built in C with per-sample time
 * overrides, so the expected optima are exact. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels_profile/cost.h"
#include "planner/internal.h"
#include "planner/planner.h"
#include "planner/sp.h"
#include "planner/study.h"
#include "sim/engine/engine.h"
#include "sim/plan/plan.h"
#include "topology/network.h"
#include "topology/topology.h"

/* ---- a small model builder ---- */

#define TM_MAX 64

typedef struct tmodel {
  gpp_model m;
  gpp_op ops[TM_MAX];
  uint32_t in[TM_MAX][TM_MAX], out[TM_MAX][TM_MAX];
  char names[TM_MAX][24];
} tmodel;

static tmodel *tm_new(const char *name) {
  tmodel *t = calloc(1, sizeof *t);
  cr_assert_not_null(t);
  t->m.name = name;
  t->m.path = "tests/data/planner/none.yaml";
  t->m.ops = t->ops;
  t->m.dtype_bytes = 2;
  return t;
}

/* fwd/bwd in ms per sample; saved and output bytes per sample. */
static uint32_t tm_op(tmodel *t, const char *name, double fwd_ms,
                      double bwd_ms, double params, double saved, double outb) {
  uint32_t i = t->m.n_ops++;
  gpp_op *op = &t->ops[i];
  snprintf(t->names[i], sizeof t->names[i], "%s", name);
  op->name = t->names[i];
  op->kind = GPP_OP_CUSTOM;
  op->inputs = t->in[i];
  op->outputs = t->out[i];
  op->dtype_bytes = 2;
  op->has_time = true;
  op->time_fwd = fwd_ms * 1e-3;
  op->time_bwd = bwd_ms * 1e-3;
  op->param_bytes = params;
  op->param_count = params / 2;
  op->saved_bytes = saved;
  op->out_bytes = outb;
  return i;
}

static void tm_edge(tmodel *t, uint32_t a, uint32_t b) {
  t->ops[a].outputs[t->ops[a].n_outputs++] = b;
  t->ops[b].inputs[t->ops[b].n_inputs++] = a;
}

static int linear_time(void *ctx, uint32_t op, uint32_t b, double *f,
                       double *bw, gpp_errctx *err) {
  const gpp_model *m = ctx;
  (void)err;
  *f = m->ops[op].time_fwd * b;
  *bw = m->ops[op].time_bwd * b;
  return 0;
}

static int failing_time(void *ctx, uint32_t op, uint32_t b, double *f,
                        double *bw, gpp_errctx *err) {
  (void)ctx;
  (void)b;
  *f = *bw = 0;
  GPP_RAISE(err, GPP_EINVAL, "no cost for op %u", op);
}

static gpp_planner_input tm_input(tmodel *t, uint32_t batch, uint32_t gpus) {
  gpp_planner_input in = {0};
  in.model = &t->m;
  in.batch = batch;
  in.n_gpus = gpus;
  in.op_time = linear_time;
  in.op_time_ctx = &t->m;
  return in;
}

/* A chain of n ops with uneven costs (ms per sample). */
static tmodel *chain(uint32_t n, const double *ms) {
  tmodel *t = tm_new("chain");
  for (uint32_t i = 0; i < n; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "op%u", i);
    tm_op(t, nm, ms[i], 2 * ms[i], 0, 1000, 0);
    if (i) tm_edge(t, i - 1, i);
  }
  return t;
}

/* b branches of len ops (ms per sample each, rising along the branch)
 * joined by a concat of join_ms; with a shared input op in front or not. */
static tmodel *branches_ex(uint32_t b, uint32_t len, double ms, double join_ms,
                           bool shared_input) {
  tmodel *t = tm_new("branches");
  uint32_t in = shared_input ? tm_op(t, "input", 0.01, 0.01, 0, 10, 0) : 0;
  uint32_t last[16];
  for (uint32_t i = 0; i < b; i++)
    for (uint32_t j = 0; j < len; j++) {
      char nm[24];
      snprintf(nm, sizeof nm, "b%u.l%u", i, j);
      uint32_t v = tm_op(t, nm, ms * (1 + 0.137 * j), 2 * ms * (1 + 0.137 * j),
                         0, 1000, 0);
      if (j || shared_input) tm_edge(t, j ? last[i] : in, v);
      last[i] = v;
    }
  uint32_t cat = tm_op(t, "concat", join_ms, join_ms, 0, 10, 0);
  for (uint32_t i = 0; i < b; i++) tm_edge(t, last[i], cat);
  return t;
}

static tmodel *branches(uint32_t b, uint32_t len, double ms) {
  return branches_ex(b, len, ms, 0.02, true);
}

static int run(const char *name, const gpp_planner_input *in,
               const gpp_planner_options *o, gpp_planner_result *r,
               gpp_errctx *err) {
  const gpp_planner_type *t;
  cr_assert_eq(gpp_planner_find(name, &t, err), 0);
  return gpp_planner_run(t, in, o, r, err);
}

static void run_ok(const char *name, const gpp_planner_input *in,
                   const gpp_planner_options *o, gpp_planner_result *r) {
  gpp_errctx err = {0};
  int rc = run(name, in, o, r, &err);
  cr_assert_eq(rc, 0, "%s: %s", name, err.msg);
  cr_assert_gt(r->n_cands, 0);
}

/* ---- SP decomposition ---- */

static void sp_expect(uint32_t n, const uint32_t *from, const uint32_t *to,
                      size_t ne, const char *want, bool sp, uint64_t added) {
  static const char *names[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
  gpp_sp_tree *t = NULL;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_sp_decompose(n, from, to, ne, &t, &err), 0, "%s", err.msg);
  char buf[256];
  gpp_sp_format(t, names, buf, sizeof buf);
  cr_assert_str_eq(buf, want);
  cr_assert_eq(t->was_sp, sp);
  cr_assert_eq(t->added_pairs, added);
  gpp_sp_tree_destroy(t);
}

Test(sp, chain_and_diamond_are_sp) {
  uint32_t cf[] = {0, 1}, ct[] = {1, 2};
  sp_expect(3, cf, ct, 2, "S(a,S(b,c))", true, 0);
  uint32_t df[] = {0, 0, 1, 2}, dt[] = {1, 2, 3, 3};
  sp_expect(4, df, dt, 4, "S(a,S(P(b,c),d))", true, 0);
}

Test(sp, several_sources_and_sinks) {
  uint32_t f[] = {0, 2}, t[] = {1, 3};
  sp_expect(4, f, t, 2, "P(S(a,b),S(c,d))", true, 0);
  uint32_t f2[] = {0, 1, 2, 2}, t2[] = {2, 2, 3, 4};
  sp_expect(5, f2, t2, 4, "S(P(a,b),S(c,P(d,e)))", true, 0);
  sp_expect(1, NULL, NULL, 0, "a", true, 0);
}

Test(sp, n_shape_is_made_sp_by_one_pair) {
  /* a->c, b->c, b->d: serialised as (a, b) ; (c, d), adding a->d. */
  uint32_t f[] = {0, 1, 1}, t[] = {2, 2, 3};
  sp_expect(4, f, t, 3, "S(P(a,b),P(c,d))", false, 1);
}

Test(sp, non_sp_inside_a_series) {
  /* e -> {a, b}; the N a->c, b->c, b->d; {c, d} -> f. */
  uint32_t f[] = {0, 0, 1, 2, 2, 3, 4}, t[] = {1, 2, 3, 3, 4, 5, 5};
  sp_expect(6, f, t, 7, "S(a,S(S(P(b,c),P(d,e)),f))", false, 1);
}

Test(sp, ideals_counted_from_the_tree) {
  uint32_t df[] = {0, 0, 1, 2}, dt[] = {1, 2, 3, 3};
  gpp_sp_tree *t = NULL;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_sp_decompose(4, df, dt, 4, &t, &err), 0);
  cr_assert_float_eq(gpp_sp_count_ideals(t), 6, 1e-9);
  gpp_sp_tree_destroy(t);
}

Test(sp, errors) {
  gpp_sp_tree *t = NULL;
  gpp_errctx err = {0};
  uint32_t f[] = {0, 1, 2}, to[] = {1, 2, 0};
  cr_assert_eq(gpp_sp_decompose(3, f, to, 3, &t, &err), GPP_EGRAPH);
  cr_assert(strstr(err.msg, "cycle"), "%s", err.msg);
  cr_assert_null(t);
  uint32_t bf[] = {0}, bt[] = {7};
  cr_assert_eq(gpp_sp_decompose(3, bf, bt, 1, &t, &err), GPP_EGRAPH);
  uint32_t sf[] = {1}, st[] = {1};
  cr_assert_eq(gpp_sp_decompose(3, sf, st, 1, &t, &err), GPP_EGRAPH);
  cr_assert_eq(gpp_sp_decompose(0, NULL, NULL, 0, &t, &err), GPP_EINVAL);
  gpp_sp_tree_destroy(NULL);
}

Test(sp, model_graph) {
  tmodel *t = branches(3, 2, 1.0);
  gpp_sp_tree *sp = NULL;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_sp_decompose_model(&t->m, &sp, &err), 0);
  cr_assert(sp->was_sp);
  cr_assert_float_eq(gpp_sp_count_ideals(sp), 3 * 3 * 3 + 2, 1e-9);
  gpp_sp_tree_destroy(sp);
  free(t);
}

/* ---- exhaustive search over contiguous partitions of a chain ---- */

typedef struct exh {
  const tmodel *t;
  uint32_t b, G;
  bool pow2;
  double best;
} exh;

static double stage_tps(const exh *e, uint32_t i, uint32_t j, uint32_t k) {
  uint32_t r = (e->b + k - 1) / k;
  double s = 0;
  for (uint32_t v = i; v < j; v++)
    s += (e->t->ops[v].time_fwd + e->t->ops[v].time_bwd) * r;
  return s / e->b;
}

static void exh_rec(exh *e, uint32_t i, uint32_t g, double worst) {
  uint32_t n = e->t->m.n_ops;
  if (i == n) {
    if (worst < e->best) e->best = worst;
    return;
  }
  for (uint32_t j = i + 1; j <= n; j++)
    for (uint32_t k = 1; k <= g && k <= e->b; k = e->pow2 ? 2 * k : k + 1) {
      double t = stage_tps(e, i, j, k);
      exh_rec(e, j, g - k, t > worst ? t : worst);
    }
}

static double exhaustive(const tmodel *t, uint32_t b, uint32_t G, bool pow2) {
  exh e = {t, b, G, pow2, INFINITY};
  exh_rec(&e, 0, G, 0);
  return e.best;
}

Test(planner, tiny_chain_matches_exhaustive_search) {
  const double ms[] = {1.3, 0.41, 2.7, 0.93, 1.77};
  tmodel *t = chain(5, ms);
  for (uint32_t G = 2; G <= 4; G++) {
    gpp_planner_input in = tm_input(t, 8, G);
    gpp_planner_options o;
    gpp_planner_options_default(&o);
    o.micro_batch = 4;
    o.tps_tolerance = 1e-6;
    gpp_planner_result gpr, pdr, pir;
    run_ok("graphpipe", &in, &o, &gpr);
    run_ok("pipedream", &in, &o, &pdr);
    run_ok("piper", &in, &o, &pir);
    double pow2 = exhaustive(t, 4, G, true), any = exhaustive(t, 4, G, false);
    cr_assert_float_eq(gpr.cands[0].tps, pow2, 1e-6 * pow2, "G=%u", G);
    cr_assert_float_eq(pir.cands[0].tps, pow2, 1e-9 * pow2, "G=%u", G);
    cr_assert_float_eq(pdr.cands[0].tps, any, 1e-9 * any, "G=%u", G);
    gpp_planner_result_free(&gpr);
    gpp_planner_result_free(&pdr);
    gpp_planner_result_free(&pir);
  }
  free(t);
}

Test(planner, chain_graphpipe_equals_pipedream) {
  const double ms[] = {0.7, 1.9, 0.35, 1.1, 2.2, 0.8, 1.45, 0.6,
                       1.0, 0.25, 1.6, 0.9};
  tmodel *t = chain(12, ms);
  gpp_planner_input in = tm_input(t, 64, 8);
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  gpp_planner_result gpr, pdr;
  run_ok("graphpipe", &in, &o, &gpr);
  run_ok("pipedream", &in, &o, &pdr);
  for (uint32_t i = 0; i < gpr.n_cands; i++)
    for (uint32_t j = 0; j < pdr.n_cands; j++) {
      if (gpr.cands[i].micro_batch != pdr.cands[j].micro_batch) continue;
      double a = gpr.cands[i].tps, b = pdr.cands[j].tps;
      cr_assert_leq(fabs(a - b), 0.02 * b, "b=%u: %g vs %g",
                    gpr.cands[i].micro_batch, a, b);
    }
  double a = gpr.cands[0].iteration, b = pdr.cands[0].iteration;
  cr_assert_leq(fabs(a - b), 0.02 * b, "%g vs %g", a, b);
  cr_assert_str_eq(gpr.cands[0].schedule, "gpp");
  cr_assert_str_eq(pdr.cands[0].schedule, "1f1b");
  gpp_planner_result_free(&gpr);
  gpp_planner_result_free(&pdr);
  free(t);
}

Test(planner, two_branches_graphpipe_shallower_and_faster) {
  /* As the paper's case study (§7.5): two branches of four layers, no data
   * parallelism; here the concat carries a head layer's work. */
  tmodel *t = branches_ex(2, 4, 1.0, 1.2, false);
  gpp_planner_input in = tm_input(t, 32, 9);
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  o.max_stage_devices = 1;
  gpp_planner_result gpr, pdr;
  run_ok("graphpipe", &in, &o, &gpr);
  run_ok("pipedream", &in, &o, &pdr);
  const gpp_planner_candidate *g = &gpr.cands[0], *p = &pdr.cands[0];
  cr_assert_lt(g->depth, p->depth, "depth %u vs %u", g->depth, p->depth);
  cr_assert_lt(g->iteration, p->iteration, "%g vs %g", g->iteration,
               p->iteration);
  uint32_t ops = 0, dev = 0;
  for (uint32_t s = 0; s < g->n_stages; s++) {
    ops += g->stages[s].n_ops;
    cr_assert_eq(g->stages[s].first_device, dev);
    dev += g->stages[s].n_devices;
  }
  cr_assert_eq(ops, t->m.n_ops);
  cr_assert_leq(dev, 9);
  gpp_planner_result_free(&gpr);
  gpp_planner_result_free(&pdr);
  free(t);
}

Test(planner, piper_refuses_seven_branches) {
  tmodel *t = branches(7, 4, 1.0);
  gpp_planner_input in = tm_input(t, 32, 8);
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  gpp_planner_result r;
  gpp_errctx err = {0};
  cr_assert_eq(run("piper", &in, &o, &r, &err), GPP_ENOPLAN);
  /* Ops named like no generator's layer: every op is a layer of its own. */
  cr_assert(strstr(err.msg, "78127 ideals of 30 layers > limit 40000"), "%s",
            err.msg);
  cr_assert_eq(gpp_err_exit_status(err.code), 3);
  cr_assert_eq(r.n_cands, 0);
  run_ok("graphpipe", &in, &o, &r);
  gpp_planner_result_free(&r);
  free(t);
}

Test(planner, piper_on_branches_within_limit) {
  tmodel *t = branches(2, 3, 0.8);
  gpp_planner_input in = tm_input(t, 16, 4);
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  gpp_planner_result pir, pdr;
  run_ok("piper", &in, &o, &pir);
  run_ok("pipedream", &in, &o, &pdr);
  /* Piper searches every convex sequence, a superset of the chain cuts
   * (with power-of-two replicas). */
  cr_assert_leq(pir.cands[0].tps, pdr.cands[0].tps * 1.0001 + 1e-12 +
                pdr.cands[0].tps);
  cr_assert_gt(pir.states, 0);
  gpp_planner_result_free(&pir);
  gpp_planner_result_free(&pdr);
  free(t);
}

Test(planner, options_shape_the_plan) {
  const double ms[] = {0.7, 1.9, 0.35, 1.1, 2.2, 0.8, 1.45, 0.6};
  tmodel *t = chain(8, ms);
  gpp_planner_input in = tm_input(t, 32, 8);
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  o.max_stages = 2;
  o.max_stage_devices = 2;
  gpp_planner_result r;
  run_ok("graphpipe", &in, &o, &r);
  for (uint32_t c = 0; c < r.n_cands; c++) {
    cr_assert_leq(r.cands[c].n_stages, 2);
    for (uint32_t s = 0; s < r.cands[c].n_stages; s++)
      cr_assert_leq(r.cands[c].stages[s].n_devices, 2);
  }
  gpp_planner_result_free(&r);
  free(t);
}

Test(planner, per_stage_micro_batches_not_worse) {
  tmodel *t = branches(2, 3, 1.0);
  gpp_planner_input in = tm_input(t, 16, 4);
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  gpp_planner_result one, per;
  run_ok("graphpipe", &in, &o, &one);
  o.per_stage_micro_batch = true;
  run_ok("graphpipe", &in, &o, &per);
  double best = INFINITY;
  for (uint32_t c = 0; c < one.n_cands; c++)
    if (one.cands[c].tps < best) best = one.cands[c].tps;
  cr_assert_leq(per.cands[0].tps, best * (1 + 2 * o.tps_tolerance));
  gpp_planner_result_free(&one);
  gpp_planner_result_free(&per);
  free(t);
}

Test(planner, memory_limit_and_inflight) {
  const double ms[] = {1.0, 1.0, 1.0, 1.0};
  tmodel *t = chain(4, ms);
  for (uint32_t i = 0; i < 4; i++) t->ops[i].param_bytes = 1e6;
  gpp_planner_input in = tm_input(t, 16, 4);
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  o.micro_batch = 4;
  in.mem_bytes = 1.0; /* nothing fits */
  gpp_planner_result r;
  gpp_errctx err = {0};
  cr_assert_eq(run("graphpipe", &in, &o, &r, &err), GPP_ENOPLAN);
  cr_assert_eq(run("pipedream", &in, &o, &r, &err), GPP_ENOPLAN);
  cr_assert_eq(run("piper", &in, &o, &r, &err), GPP_ENOPLAN);
  in.mem_bytes = 0; /* unlimited */
  run_ok("graphpipe", &in, &o, &r);
  const gpp_planner_candidate *c = &r.cands[0];
  for (uint32_t s = 0; s < c->n_stages; s++)
    cr_assert_eq(c->stages[s].inflight, c->n_stages - s);
  gpp_planner_result_free(&r);
  free(t);
}

/* The bound pruning must not change the plan: every candidate equal, stage
 * by stage, to the exhaustive DP's, with fewer DP states. */
static void expect_same_plans(const gpp_planner_result *a,
                              const gpp_planner_result *b) {
  cr_assert_eq(a->n_cands, b->n_cands);
  for (uint32_t c = 0; c < a->n_cands; c++) {
    const gpp_planner_candidate *x = &a->cands[c], *y = &b->cands[c];
    cr_assert_eq(x->micro_batch, y->micro_batch, "cand %u", c);
    cr_assert_eq(x->n_stages, y->n_stages, "cand %u", c);
    cr_assert_eq(x->depth, y->depth, "cand %u", c);
    cr_assert_eq(x->tps, y->tps, "cand %u: %a vs %a", c, x->tps, y->tps);
    cr_assert_eq(x->iteration, y->iteration, "cand %u", c);
    for (uint32_t s = 0; s < x->n_stages; s++) {
      const gpp_planner_stage *p = &x->stages[s], *q = &y->stages[s];
      cr_assert_eq(p->n_ops, q->n_ops, "cand %u stage %u", c, s);
      cr_assert_eq(memcmp(p->ops, q->ops, p->n_ops * sizeof *p->ops), 0);
      cr_assert_eq(p->n_devices, q->n_devices, "cand %u stage %u", c, s);
      cr_assert_eq(p->micro_batch, q->micro_batch, "cand %u stage %u", c, s);
      cr_assert_eq(p->inflight, q->inflight, "cand %u stage %u", c, s);
    }
  }
}

/* The pruned search finds the exhaustive DP's plans (with fewer states
 * when fewer_states). */
static void expect_exact(const gpp_planner_input *in, gpp_planner_options o,
                         bool fewer_states) {
  gpp_planner_result pruned, full;
  o.exhaustive = false;
  run_ok("graphpipe", in, &o, &pruned);
  o.exhaustive = true;
  run_ok("graphpipe", in, &o, &full);
  expect_same_plans(&pruned, &full);
  if (fewer_states)
    cr_expect_lt(pruned.states, full.states, "%llu vs %llu states",
               (unsigned long long)pruned.states,
               (unsigned long long)full.states);
  gpp_planner_result_free(&pruned);
  gpp_planner_result_free(&full);
}

static void expect_pruning_exact(const gpp_planner_input *in,
                                 gpp_planner_options o) {
  expect_exact(in, o, true);
}

/* The baselines' cuts (PipeDream's dropped replica counts, Piper's
 * on-demand cells and superset walk) against their reference DP: the same
 * candidates, stage by stage, ties included. */
/* Which stage modes the candidates of r use: bit 0 a tensor degree above
 * 1, bit 1 sharding or recompute. */
static unsigned modes_used(const gpp_planner_result *r) {
  unsigned used = 0;
  for (uint32_t c = 0; c < r->n_cands; c++)
    for (uint32_t s = 0; s < r->cands[c].n_stages; s++) {
      const gpp_planner_stage *st = &r->cands[c].stages[s];
      used |= (st->tensor > 1 ? 1u : 0u) |
              (st->sharding || st->recompute ? 2u : 0u);
    }
  return used;
}

/* Returns modes_used of the plans.  With fewer, the cuts price no more
 * stages than the reference (not so where a search with stage modes runs
 * several capped passes on a model this small). */
static unsigned expect_cuts_exact(const char *name,
                                  const gpp_planner_input *in,
                                  gpp_planner_options o, bool fewer) {
  gpp_planner_result cut, ref;
  o.exhaustive = false;
  run_ok(name, in, &o, &cut);
  o.exhaustive = true;
  run_ok(name, in, &o, &ref);
  expect_same_plans(&cut, &ref);
  for (uint32_t c = 0; c < cut.n_cands; c++)
    for (uint32_t s = 0; s < cut.cands[c].n_stages; s++) {
      const gpp_planner_stage *p = &cut.cands[c].stages[s],
                              *q = &ref.cands[c].stages[s];
      cr_assert(p->tensor == q->tensor && p->sharding == q->sharding &&
                    p->recompute == q->recompute,
                "%s cand %u stage %u: modes differ", name, c, s);
    }
  if (fewer)
    cr_expect_leq(cut.states, ref.states, "%s: %llu vs %llu states", name,
                  (unsigned long long)cut.states,
                  (unsigned long long)ref.states);
  unsigned used = modes_used(&ref);
  gpp_planner_result_free(&cut);
  gpp_planner_result_free(&ref);
  return used;
}

static void expect_baseline_cuts_exact(const char *name,
                                       const gpp_planner_input *in,
                                       gpp_planner_options o) {
  expect_cuts_exact(name, in, o, true);
}

Test(planner, baseline_cuts_match_reference_dp) {
  const double ms[] = {0.7, 1.9, 0.35, 1.1, 2.2, 0.8, 1.45, 0.6,
                       1.0, 0.25, 1.6, 0.9};
  const double flat[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}; /* ties */
  tmodel *shapes[] = {chain(12, ms), chain(12, flat), branches(3, 4, 1.0),
                      branches_ex(2, 5, 0.8, 1.3, false), branches(4, 3, 0.6)};
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
    tmodel *t = shapes[i];
    for (uint32_t q = 0; q < t->m.n_ops; q++) t->ops[q].param_bytes = 3e4 * q;
    for (uint32_t G = 3; G <= 12; G += 3)
      for (int mem = 0; mem < 2; mem++) {
        gpp_planner_input in = tm_input(t, 32, G);
        in.mem_bytes = mem ? 3e6 : 0;
        in.comm.p2p_latency = 1e-5;
        in.comm.p2p_sec_per_byte = 1e-9;
        for (uint32_t j = 0; j < GPP_PLANNER_MAX_LOG2; j++) {
          in.comm.ar_latency[j] = 2e-5;
          in.comm.ar_sec_per_byte[j] = 2e-10;
        }
        gpp_planner_options o;
        gpp_planner_options_default(&o);
        expect_baseline_cuts_exact("pipedream", &in, o);
        expect_baseline_cuts_exact("piper", &in, o);
        o.max_stage_devices = 2;
        expect_baseline_cuts_exact("pipedream", &in, o);
        expect_baseline_cuts_exact("piper", &in, o);
      }
    free(t);
  }
}

static void small_comm(gpp_planner_input *in);

/* Op times with a fixed part (3 samples' worth, a kernel's launch and
 * tail), so that a tensor group of t GPUs, running t times the samples
 * split t ways, computes faster than one GPU. */
static int affine_time(void *ctx, uint32_t op, uint32_t b, double *f,
                       double *bw, gpp_errctx *err) {
  const gpp_model *m = ctx;
  (void)err;
  *f = m->ops[op].time_fwd * (b + 3.0);
  *bw = m->ops[op].time_bwd * (b + 3.0);
  return 0;
}

/* With stage modes on 4-GPU nodes, where a tensor degree is faster and,
 * under the tighter memory caps, sharding or recompute is what fits:
 * PipeDream's and Piper's cuts (bounds over every mode) keep their
 * reference DP's plans and modes, and the plans use both kinds. */
Test(planner, baseline_cuts_match_reference_dp_with_stage_modes) {
  const double ms[] = {0.7, 1.9, 0.35, 1.1, 2.2, 0.8, 1.45, 0.6, 1.0, 0.25};
  tmodel *shapes[] = {chain(10, ms), branches(3, 3, 1.0)};
  unsigned used = 0;
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
    tmodel *t = shapes[i];
    for (uint32_t q = 0; q < t->m.n_ops; q++) {
      t->ops[q].param_bytes = 2e5 * (1 + q % 3);
      t->ops[q].param_count = t->ops[q].param_bytes / 2;
      t->ops[q].saved_bytes = 2e5;
    }
    static const double caps[] = {0, 2e7, 1.2e7, 9e6};
    for (uint32_t G = 4; G <= 8; G += 4)
      for (size_t mc = 0; mc < sizeof caps / sizeof *caps; mc++) {
        gpp_planner_input in = tm_input(t, 32, G);
        in.op_time = affine_time;
        in.mem_bytes = caps[mc];
        small_comm(&in);
        in.comm.gpus_per_node = 4;
        gpp_planner_options o;
        gpp_planner_options_default(&o);
        used |= expect_cuts_exact("pipedream", &in, o, false);
        used |= expect_cuts_exact("piper", &in, o, false);
      }
    free(t);
  }
  cr_assert_eq(used, 3u, "modes used: %u (1 tensor, 2 sharding/recompute)",
               used);
}

/* The small affine communication model of the exactness tests. */
static void small_comm(gpp_planner_input *in) {
  in->comm.p2p_latency = 1e-5;
  in->comm.p2p_sec_per_byte = 1e-9;
  for (uint32_t j = 0; j < GPP_PLANNER_MAX_LOG2; j++) {
    in->comm.ar_latency[j] = 2e-5;
    in->comm.ar_sec_per_byte[j] = 2e-10;
  }
}

Test(planner, pruning_matches_exhaustive_dp) {
  const double ms[] = {0.7, 1.9, 0.35, 1.1, 2.2, 0.8, 1.45, 0.6,
                       1.0, 0.25, 1.6, 0.9};
  tmodel *shapes[] = {chain(12, ms), branches(3, 4, 1.0),
                      branches_ex(2, 5, 0.8, 1.3, false), branches(4, 3, 0.6)};
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
    tmodel *t = shapes[i];
    for (uint32_t q = 0; q < t->m.n_ops; q++) t->ops[q].param_bytes = 3e4 * q;
    for (uint32_t G = 3; G <= 9; G += 3) {
      gpp_planner_input in = tm_input(t, 32, G);
      in.mem_bytes = 8e6;
      small_comm(&in);
      gpp_planner_options o;
      gpp_planner_options_default(&o);
      expect_pruning_exact(&in, o);
      o.per_stage_micro_batch = true;
      expect_pruning_exact(&in, o);
      o.per_stage_micro_batch = false;
      o.max_stages = 4;
      expect_pruning_exact(&in, o);
    }
    free(t);
  }
}

Test(planner, input_errors) {
  const double ms[] = {1.0, 2.0};
  tmodel *t = chain(2, ms);
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  gpp_planner_result r;
  gpp_errctx err = {0};
  const gpp_planner_type *ty;
  cr_assert_eq(gpp_planner_find("graphpip", &ty, &err), GPP_EINVAL);
  cr_assert(strstr(err.msg, "graphpipe, pipedream, piper"), "%s", err.msg);
  gpp_planner_input in = tm_input(t, 16, 0);
  cr_assert_eq(run("graphpipe", &in, &o, &r, &err), GPP_ERANGE);
  in = tm_input(t, 0, 2);
  cr_assert_eq(run("pipedream", &in, &o, &r, &err), GPP_ERANGE);
  in = tm_input(t, 16, GPP_MAX_GPUS + 1);
  cr_assert_eq(run("graphpipe", &in, &o, &r, &err), GPP_ERANGE);
  cr_assert(strstr(err.msg, "1..65536"), "%s", err.msg);
  in = tm_input(t, 12, 2);
  o.micro_batch = 8;
  cr_assert_eq(run("piper", &in, &o, &r, &err), GPP_EINVAL);
  o.micro_batch = 0;
  o.max_stages = 999;
  cr_assert_eq(run("graphpipe", &in, &o, &r, &err), GPP_ERANGE);
  o.max_stages = 0;
  o.tps_tolerance = 0;
  cr_assert_eq(run("graphpipe", &in, &o, &r, &err), GPP_ERANGE);
  o.tps_tolerance = 1e-3;
  in.op_time = NULL;
  cr_assert_eq(run("graphpipe", &in, &o, &r, &err), GPP_EINVAL);
  in.op_time = failing_time;
  const char *const names[] = {"graphpipe", "pipedream", "piper"};
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(run(names[i], &in, &o, &r, &err), GPP_EINVAL);
    cr_assert(strstr(err.msg, "no cost for op"), "%s", err.msg);
  }
  gpp_planner_result_free(&r);
  gpp_planner_result_free(NULL);
  free(t);
}

/* ---- plan files ---- */

Test(plan_write, text_loads_back_through_the_plan_loader) {
  tmodel *t = branches(2, 3, 1.0);
  snprintf(t->names[2], sizeof t->names[2], "b0.l*[1]");
  gpp_planner_input in = tm_input(t, 16, 4);
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  gpp_planner_result r;
  run_ok("graphpipe", &in, &o, &r);
  char *text = NULL;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_planner_format_plan(&in, &o, &r, &r.cands[0], &text, &err),
               0);
  cr_assert(strstr(text, "schedule: gpp"), "%s", text);
  cr_assert(strstr(text, "\"b0.l\\\\*\\\\[1]\""), "%s", text);
  gpp_plan *p = NULL;
  int rc = gpp_plan_load_string("planned", text, &t->m, 4, &p, &err);
  cr_assert_eq(rc, 0, "%s\n%s", err.msg, text);
  cr_assert_eq(p->n_stages, r.cands[0].n_stages);
  for (uint32_t s = 0; s < p->n_stages; s++)
    cr_assert_eq(p->stages[s].n_ops, r.cands[0].stages[s].n_ops);
  gpp_plan_destroy(p);
  free(text);
  gpp_planner_result_free(&r);
  free(t);
}

Test(plan_write, file_is_written_atomically) {
  const double ms[] = {1.0, 2.0, 1.5};
  tmodel *t = chain(3, ms);
  gpp_planner_input in = tm_input(t, 8, 2);
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  gpp_planner_result r;
  run_ok("pipedream", &in, &o, &r);
  char path[] = "/tmp/gpp_planner_testXXXXXX";
  cr_assert_not_null(mkdtemp(path));
  char file[128];
  snprintf(file, sizeof file, "%s/plan.yaml", path);
  gpp_errctx err = {0};
  cr_assert_eq(gpp_planner_write_plan(&in, &o, &r, &r.cands[0], file, &err),
               0, "%s", err.msg);
  FILE *f = fopen(file, "r");
  cr_assert_not_null(f);
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  cr_assert(strstr(buf, "schedule: 1f1b"), "%s", buf);
  cr_assert(strstr(buf, "batch: 8"), "%s", buf);
  snprintf(file, sizeof file, "%s/missing/plan.yaml", path);
  cr_assert_neq(gpp_planner_write_plan(&in, &o, &r, &r.cands[0], file, &err),
                0);
  snprintf(file, sizeof file, "%s/plan.yaml", path);
  remove(file);
  rmdir(path);
  gpp_planner_result_free(&r);
  free(t);
}

/* ---- real YAML models, costs and cluster, replayed by the engine ---- */

static const char *src_path(const char *rel) {
  static char buf[1024];
  const char *root = getenv("GPP_SOURCE_DIR");
  snprintf(buf, sizeof buf, "%s/%s", root ? root : GPP_SOURCE_DIR, rel);
  return buf;
}

static int cost_time(void *ctx, uint32_t op, uint32_t b, double *f,
                     double *bw, gpp_errctx *err) {
  (void)err;
  gpp_op_cost c = gpp_costs_op(ctx, op, (double)b);
  *f = c.fwd;
  *bw = c.bwd;
  return 0;
}

typedef struct real {
  gpp_model *m;
  gpp_cluster *cl;
  gpp_costs *costs;
  gpp_planner_input in;
  bool no_modes; /* plan with --no-stage-modes */
} real;

static void real_open(real *r, const char *model, const gpp_model_param *ps,
                      size_t n_ps, uint32_t batch, uint32_t gpus) {
  gpp_errctx err = {0};
  memset(r, 0, sizeof *r);
  cr_assert_eq(gpp_model_load(src_path(model), ps, n_ps, &r->m, &err), 0,
               "%s", err.msg);
  cr_assert_eq(gpp_cluster_load(src_path("configs/clusters/summit.yaml"),
                                &r->cl, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_costs_create(r->m, &r->cl->gpu, NULL, &r->costs, &err), 0,
               "%s", err.msg);
  r->in = (gpp_planner_input){.model = r->m, .model_path = src_path(model),
                              .batch = batch, .n_gpus = gpus,
                              .mem_bytes = r->cl->gpu.mem_bytes,
                              .op_time = cost_time, .op_time_ctx = r->costs};
  cr_assert_eq(gpp_planner_comm_fit(r->cl, gpus, &r->in.comm, &err), 0,
               "%s", err.msg);
}

static void real_close(real *r) {
  gpp_costs_destroy(r->costs);
  gpp_cluster_destroy(r->cl);
  gpp_model_destroy(r->m);
}

/* Plans with the named planner and returns the engine's iteration time of
 * its best candidate (no OOM allowed); *depth gets the stage-graph depth. */
static double plan_and_simulate(real *r, const char *planner,
                                uint32_t *depth) {
  const gpp_planner_type *t;
  gpp_planner_options o;
  gpp_planner_result res;
  gpp_errctx err = {0};
  gpp_planner_options_default(&o);
  o.no_stage_modes = r->no_modes;
  cr_assert_eq(gpp_planner_find(planner, &t, &err), 0);
  cr_assert_eq(gpp_planner_run(t, &r->in, &o, &res, &err), 0, "%s: %s",
               planner, err.msg);
  char *text = NULL;
  gpp_plan *plan = NULL;
  gpp_result *out = NULL;
  gpp_engine_opts eo = {0};
  cr_assert_eq(gpp_planner_format_plan(&r->in, &o, &res, &res.cands[0],
                                       &text, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_plan_load_string("cand", text, r->m, r->cl->n_gpus,
                                    &plan, &err), 0, "%s\n%s", err.msg, text);
  cr_assert_eq(gpp_engine_run(plan, r->costs, r->cl, &eo, &out, &err), 0,
               "%s: %s", planner, err.msg);
  double t_it = out->iteration_time;
  *depth = res.cands[0].depth;
  gpp_result_destroy(out);
  gpp_plan_destroy(plan);
  free(text);
  gpp_planner_result_free(&res);
  return t_it;
}

Test(planner_real, gpt_chain_graphpipe_matches_pipedream) {
  /* A linear chain: GraphPipe has no branches to exploit, so its plan
   * should simulate within 2% of PipeDream's. */
  gpp_model_param layers = {"layers", 4};
  real r;
  real_open(&r, "configs/models/gpt.yaml", &layers, 1, 32, 4);
  r.no_modes = true; /* the partitions' parity, both without modes */
  uint32_t dg, dp;
  double tg = plan_and_simulate(&r, "graphpipe", &dg);
  double tp = plan_and_simulate(&r, "pipedream", &dp);
  cr_expect(fabs(tg - tp) <= 0.02 * tp, "graphpipe %g s vs pipedream %g s",
            tg, tp);
  r.no_modes = false; /* with them, GraphPipe may only gain */
  double tm = plan_and_simulate(&r, "graphpipe", &dg);
  cr_expect_leq(tm, tg * 1.01, "with modes %g s vs without %g s", tm, tg);
  real_close(&r);
}

Test(planner, chain_tables_match_exhaustive_dp) {
  /* From 16 GPUs the all-leaf suffixes of series nodes are solved by
   * tables over stage counts instead of device counts (graphpipe.c,
   * "chain suffixes"): the plans stay the exhaustive DP's. */
  const double ms[] = {0.7, 1.9, 0.35, 1.1, 2.2, 0.8, 1.45, 0.6,
                       1.0, 0.25, 1.6, 0.9};
  tmodel *shapes[] = {chain(12, ms), branches(3, 4, 1.0),
                      branches_ex(2, 5, 0.8, 1.3, false)};
  const uint32_t gpus[] = {16, 33, 64};
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
    tmodel *t = shapes[i];
    for (uint32_t q = 0; q < t->m.n_ops; q++) t->ops[q].param_bytes = 3e5 * q;
    for (size_t j = 0; j < 3; j++) {
      gpp_planner_input in = tm_input(t, 64, gpus[j]);
      in.mem_bytes = 2e7;
      small_comm(&in);
      gpp_planner_options o;
      gpp_planner_options_default(&o);
      expect_exact(&in, o, false);
    }
    free(t);
  }
}

Test(planner, tailed_chains_and_parallel_bisection_match_exhaustive_dp) {
  /* Branches whose concat and loss (a two-op tail) go into one branch's
   * last stage are chains with a tail, and parallel splits are found by
   * bisection over the devices (graphpipe.c, try_par_bisect): the plans
   * stay the exhaustive DP's, with and without a memory limit. */
  tmodel *t = branches_ex(4, 4, 0.9, 0.05, false);
  uint32_t cat = t->m.n_ops - 1;
  uint32_t loss = tm_op(t, "loss", 0.03, 0.03, 0, 10, 0);
  tm_edge(t, cat, loss);
  for (uint32_t q = 0; q < t->m.n_ops; q++) t->ops[q].param_bytes = 2e5 * q;
  const uint32_t gpus[] = {16, 23, 41};
  for (size_t j = 0; j < 3; j++)
    for (int mem = 0; mem < 2; mem++) {
      gpp_planner_input in = tm_input(t, 64, gpus[j]);
      in.mem_bytes = mem ? 1.5e7 : 0;
      small_comm(&in);
      gpp_planner_options o;
      gpp_planner_options_default(&o);
      expect_exact(&in, o, true);
    }
  free(t);
}

static void expect_near(double got, double want, const char *what) {
  cr_expect(fabs(got - want) <= 1e-9 * fabs(want), "%s: %.12g vs %.12g",
            what, got, want);
}

Test(planner, estimate_is_the_closed_form_on_uniform_stages) {
  /* Equal stages, no communication or weights: (m + D - 1) * b * TPS. */
  const double ms[] = {1, 1, 1, 1, 1, 1, 1, 1};
  tmodel *t = chain(8, ms);
  gpp_planner_input in = tm_input(t, 32, 4);
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  o.micro_batch = 4;
  o.max_stage_devices = 1;
  for (int gp = 0; gp < 2; gp++) {
    gpp_planner_result r;
    run_ok(gp ? "graphpipe" : "pipedream", &in, &o, &r);
    const gpp_planner_candidate *c = &r.cands[0];
    cr_assert_eq(c->n_stages, 4);
    expect_near(c->iteration, (32.0 / 4 + c->depth - 1) * 4 * c->tps,
                gp ? "gpp" : "1f1b");
    gpp_planner_result_free(&r);
  }
  free(t);
}

Test(planner, estimate_adds_the_optimizer_step_that_sticks_out) {
  /* Only the first stage (a source, on the costliest path) has weights:
   * with the GPU known, the estimate grows by exactly its optimizer step
   * as the engine times it, and the plan stays the same. */
  const double ms[] = {0.7, 1.9, 0.35, 1.1, 2.2, 0.8};
  tmodel *t = chain(6, ms);
  t->ops[0].param_bytes = 4e8;
  t->ops[0].param_count = 2e8;
  gpp_planner_input in = tm_input(t, 32, 3);
  small_comm(&in);
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  gpp_planner_result without, with;
  run_ok("graphpipe", &in, &o, &without);
  gpp_gpu_spec gpu = {.mem_bandwidth = 2e12, .launch_overhead = 5e-6};
  in.gpu = &gpu;
  run_ok("graphpipe", &in, &o, &with);
  const gpp_planner_candidate *a = &without.cands[0], *b = &with.cands[0];
  cr_assert_eq(a->n_stages, b->n_stages);
  cr_assert_eq(a->stages[0].n_ops, b->stages[0].n_ops);
  double p = 0, n = 0;
  for (uint32_t j = 0; j < b->stages[0].n_ops; j++) {
    p += t->ops[b->stages[0].ops[j]].param_bytes;
    n += t->ops[b->stages[0].ops[j]].param_count;
  }
  double step = gpp_optimizer_step_seconds(&gpu, o.optimizer,
                                           gpp_precision_of_model(&t->m), p,
                                           n, 1);
  cr_assert_gt(step, 1e-3);
  expect_near(b->iteration - a->iteration, step, "optimizer step");
  gpp_planner_result_free(&without);
  gpp_planner_result_free(&with);
  free(t);
}

Test(planner_real, pruning_matches_exhaustive_dp_on_paper_models) {
  static const char *const models[] = {"configs/models/mmt.yaml",
                                       "configs/models/dlrm.yaml",
                                       "configs/models/candle_uno.yaml"};
  for (size_t i = 0; i < 3; i++) {
    real r;
    real_open(&r, models[i], NULL, 0, 64, 4);
    gpp_planner_options o;
    gpp_planner_options_default(&o);
    expect_pruning_exact(&r.in, o);
    real_close(&r);
  }
}

Test(planner_real, synthetic_branches_get_their_own_stages) {
  /* §7.5: 2 branches x 4 stages at 8 GPUs, the concat and loss merged into
   * a branch stage (no GPU of their own): 8 stages and depth 5 (the merged
   * join adds one hop), against PipeDream's 8, at micro-batch 1.  (Free to
   * pick the size, both planners take the same 2-stage plan at 4, which
   * the engine runs within 0.2% of this one.) */
  real r;
  real_open(&r, "configs/models/synthetic.yaml", NULL, 0, 128, 8);
  const gpp_planner_type *t;
  gpp_planner_options o;
  gpp_planner_result res;
  gpp_errctx err = {0};
  gpp_planner_options_default(&o);
  o.micro_batch = 1;
  cr_assert_eq(gpp_planner_find("graphpipe", &t, &err), 0);
  cr_assert_eq(gpp_planner_run(t, &r.in, &o, &res, &err), 0, "%s", err.msg);
  cr_expect_eq(res.cands[0].n_stages, 8);
  cr_expect_eq(res.cands[0].depth, 5);
  cr_expect_eq(res.cands[0].devices_used, 8);
  double gp_est = res.cands[0].iteration;
  gpp_planner_result_free(&res);
  cr_assert_eq(gpp_planner_find("pipedream", &t, &err), 0);
  cr_assert_eq(gpp_planner_run(t, &r.in, &o, &res, &err), 0, "%s", err.msg);
  cr_expect_eq(res.cands[0].depth, 8);
  cr_expect_lt(gp_est, res.cands[0].iteration);
  gpp_planner_result_free(&res);
  real_close(&r);
}

/* Plans with the named planner on r's input; returns the engine's
 * iteration time of the best candidate and checks that every stage on a
 * power-of-two number of GPUs starts at a multiple of it (the all-reduce
 * model's aligned groups, planner/comm.c). */
static double plan_sim_aligned(real *r, const char *planner) {
  uint32_t depth;
  const gpp_planner_type *t;
  gpp_planner_options o;
  gpp_planner_result res;
  gpp_errctx err = {0};
  gpp_planner_options_default(&o);
  o.no_stage_modes = r->no_modes;
  cr_assert_eq(gpp_planner_find(planner, &t, &err), 0);
  cr_assert_eq(gpp_planner_run(t, &r->in, &o, &res, &err), 0, "%s", err.msg);
  for (uint32_t s = 0; s < res.cands[0].n_stages; s++) {
    const gpp_planner_stage *st = &res.cands[0].stages[s];
    if ((st->n_devices & (st->n_devices - 1)) == 0)
      cr_expect_eq(st->first_device % st->n_devices, 0,
                   "%s stage %u: %u GPUs from GPU %u", planner, s,
                   st->n_devices, st->first_device);
  }
  gpp_planner_result_free(&res);
  return plan_and_simulate(r, planner, &depth);
}

Test(planner_real, gpt_chain_parity_at_16_gpus) {
  /* App. A.3 at 16 GPUs (configs/experiments/paper/a3.yaml): on the
   * 24-layer chain both planners must settle on the least bottleneck and
   * the shallowest pipeline meeting it, so their plans simulate within
   * 2% (PipeDream used to keep 12 stages where 8 met the bottleneck). */
  real r;
  real_open(&r, "configs/models/gpt.yaml", NULL, 0, 64, 16);
  r.no_modes = true; /* the partitions' parity, both without modes */
  double tg = plan_sim_aligned(&r, "graphpipe");
  double tp = plan_sim_aligned(&r, "pipedream");
  cr_expect(fabs(tg - tp) <= 0.02 * tp, "graphpipe %g s vs pipedream %g s",
            tg, tp);
  /* With its stage modes GraphPipe may only gain (16 GiB V100s: it
   * recomputes or shards where the default stash does not fit). */
  r.no_modes = false;
  double tm = plan_sim_aligned(&r, "graphpipe");
  cr_expect_leq(tm, tg * 1.01, "with modes %g s vs without %g s", tm, tg);
  real_close(&r);
}

Test(planner_real, candle_uno_32_gpus_graphpipe_near_pipedream) {
  /* Fig. 6c at 32 GPUs: the top layer's 470 MB of weights on 4 replicas
   * must stay inside a node, as the planner's all-reduce model assumes;
   * straddling two nodes it ran over InfiniBand and GraphPipe simulated at
   * 0.68x PipeDream.  Under the flat roofline GraphPipe's plan was also
   * never slower than PipeDream's (the paper's claim); under the kernel
   * model (micro-batch-dependent op times) both planners reach the same
   * estimated bottleneck (31.6 us/sample) but their iteration estimates
   * err in opposite directions (GraphPipe 44.5 ms estimated vs 51.5 ms
   * simulated, PipeDream 56.7 vs 48.9), so GraphPipe's plan simulates
   * 5.4% slower.  What still holds, and is pinned here, is that the
   * aligned GraphPipe plan stays within 10% of PipeDream's (it was 0.68x
   * when the replicas straddled nodes).  (Fig. 6 in REPRODUCTION.md plans
   * through the sweep path and there has GraphPipe 1.05x ahead at this
   * point; the paper's claim counts its one exception at dlrm/4 GPUs.) */
  real r;
  real_open(&r, "configs/models/candle_uno.yaml", NULL, 0, 1024, 32);
  double tg = plan_sim_aligned(&r, "graphpipe");
  double tp = plan_sim_aligned(&r, "pipedream");
  cr_expect_leq(tg, 1.10 * tp, "graphpipe %g s vs pipedream %g s", tg, tp);
  real_close(&r);
}

/* Ideals of a model's layer graph (planner/layers.c), from its SP tree. */
static double layer_ideals(const char *model, uint32_t *n_layers) {
  real r;
  real_open(&r, model, NULL, 0, 64, 4);
  gpp__layers L;
  gpp_errctx err = {0};
  cr_assert_eq(gpp__layers_build(r.m, &L, &err), 0, "%s", err.msg);
  gpp_sp_tree *t = NULL;
  cr_assert_eq(gpp_sp_decompose(L.n, L.from, L.to, L.n_edges, &t, &err), 0,
               "%s", err.msg);
  cr_assert(t->was_sp);
  double n = gpp_sp_count_ideals(t);
  *n_layers = L.n;
  for (uint32_t v = 1; v < r.m->n_ops; v++)
    cr_assert_geq(L.of[v], L.of[v - 1]);
  gpp_sp_tree_destroy(t);
  gpp__layers_free(&L);
  real_close(&r);
  return n;
}

Test(planner_real, piper_layer_graphs_of_the_paper_models) {
  /* Piper plans on layers: MMT's 4 branches of 8 Transformer layers (plus
   * an input op each, then the concat and the head) have 10^4 + 2 ideals,
   * under Piper's 40,000;
   * CANDLE-Uno's 7 branches of 4 MLP layers and DLRM's 14 branches are
   * over it (the paper: no Piper plan for DLRM and CANDLE-Uno). */
  uint32_t n;
  double mmt = layer_ideals("configs/models/mmt.yaml", &n);
  cr_expect_eq(mmt, 10002, "%.0f ideals", mmt);
  cr_expect_eq(n, 38, "%u layers", n);
  cr_expect_eq(layer_ideals("configs/models/candle_uno.yaml", &n), 279943);
  cr_expect_eq(n, 42);
  cr_expect_eq(layer_ideals("configs/models/dlrm.yaml", &n), 1801088548.0);
  cr_expect_eq(n, 63);
}

Test(planner_real, baseline_cuts_match_reference_dp_on_mmt) {
  real r;
  real_open(&r, "configs/models/mmt.yaml", NULL, 0, 64, 8);
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  o.micro_batch = 4;
  expect_baseline_cuts_exact("piper", &r.in, o);
  o.micro_batch = 0;
  expect_baseline_cuts_exact("pipedream", &r.in, o);
  real_close(&r);
}

Test(planner_real, piper_plans_mmt_on_layers) {
  real r;
  real_open(&r, "configs/models/mmt.yaml", NULL, 0, 32, 4);
  const gpp_planner_type *t;
  gpp_planner_options o;
  gpp_planner_result res;
  gpp_errctx err = {0};
  gpp_planner_options_default(&o);
  o.micro_batch = 4;
  cr_assert_eq(gpp_planner_find("piper", &t, &err), 0);
  cr_assert_eq(gpp_planner_run(t, &r.in, &o, &res, &err), 0, "%s", err.msg);
  /* Whole Transformer layers: no stage cuts one. */
  for (uint32_t s = 0; s < res.cands[0].n_stages; s++) {
    const gpp_planner_stage *st = &res.cands[0].stages[s];
    const char *last = r.m->ops[st->ops[st->n_ops - 1]].name;
    const char *dot = strrchr(last, '.');
    cr_expect(strstr(last, ".l") == NULL || strcmp(dot, ".add2") == 0,
              "stage %u ends inside a layer at %s", s, last);
  }
  cr_expect_eq(res.cands[0].devices_used, 4);
  gpp_planner_result_free(&res);
  real_close(&r);
}

/* ---- at scale: the cost model against the engine ---- */

static void net_done(void *ctx, uint64_t tag, double t) {
  (void)tag;
  *(double *)ctx = t;
}

/* The engine's `auto` all-reduce (ring inside a node, hierarchical across
 * whole nodes) on GPUs 0..k-1 of an idle network. */
static double net_allreduce(gpp_cluster *cl, uint32_t k, uint32_t stride,
                            double bytes) {
  gpp_errctx err = {0};
  gpp_net *net = NULL;
  uint32_t ranks[64];
  for (uint32_t i = 0; i < k; i++) ranks[i] = i * stride;
  cr_assert_eq(gpp_net_create(cl, &net, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_net_collective(net, 0, GPP_COLL_ALLREDUCE, GPP_COLL_AUTO,
                                  ranks, k, bytes, 1, &err), 0, "%s", err.msg);
  double done = -1;
  for (double t; (t = gpp_net_next_time(net)) < INFINITY;)
    cr_assert_eq(gpp_net_advance(net, t, net_done, &done, &err), 0, "%s",
                 err.msg);
  gpp_net_destroy(net);
  return done;
}

/* The fitted all-reduce of every size from 1 MiB to 1 GiB over GPUs
 * 0 .. k-1 of the cluster file, within 1% of the network's. */
static void expect_allreduce(const char *cluster, const uint32_t *ks,
                             uint32_t n_ks, uint32_t gpus_per_nic) {
  gpp_errctx err = {0};
  gpp_cluster *cl = NULL;
  cr_assert_eq(gpp_cluster_load(src_path(cluster), &cl, &err), 0, "%s",
               err.msg);
  gpp_planner_input in = {.batch = 1, .n_gpus = cl->n_gpus};
  cr_assert_eq(gpp_planner_comm_fit(cl, 0, &in.comm, &err), 0, "%s", err.msg);
  cr_assert_eq(in.comm.gpus_per_nic, gpus_per_nic);
  gpp__pctx c = {.in = &in};
  for (uint32_t i = 0; i < n_ks; i++)
    for (double bytes = 1 << 20; bytes <= (1 << 30); bytes *= 32) {
      double want = net_allreduce(cl, ks[i], 1, bytes);
      double got = gpp__allreduce(&c, bytes, ks[i]);
      cr_expect(fabs(got - want) <= 0.01 * want, "%s, k=%u, %g B: model %g "
                "s, network %g s", cluster, ks[i], bytes, got, want);
    }
  gpp_cluster_destroy(cl);
}

Test(planner_scale, strided_allreduce_matches_the_network) {
  /* The data-parallel all-reduce of a tensor-parallel stage on 4 DGX H100
   * nodes: one GPU of each tensor group of t, so 32 / t members strided by
   * t.  With one member per node (t = 8) a flat ring over the rails; with
   * 2 or 4 per node the engine runs it hierarchically (the flat ring was
   * twice the engine's time there). */
  gpp_errctx err = {0};
  gpp_cluster *cl = NULL;
  cr_assert_eq(gpp_cluster_load(src_path("configs/clusters/dgx-h100.yaml"),
                                &cl, &err), 0, "%s", err.msg);
  gpp_planner_input in = {.batch = 1, .n_gpus = cl->n_gpus};
  cr_assert_eq(gpp_planner_comm_fit(cl, 0, &in.comm, &err), 0, "%s", err.msg);
  gpp__pctx c = {.in = &in};
  for (uint32_t t = 2; t <= 8; t *= 2)
    for (double bytes = 1 << 20; bytes <= (1 << 30); bytes *= 32) {
      double want = net_allreduce(cl, 32 / t, t, bytes);
      double got = gpp__ring(&c, bytes, 32 / t, 32, 2, 1);
      /* The byte terms agree; ring_span_latency (the fitted slowest hop)
       * counts 2.5 us more per hop across nodes than the network's rounds
       * take: 15 us on 6 such hops, at every t. */
      cr_expect(fabs(got - want) <= 0.01 * want + 15.5e-6, "t=%u, %g B: "
                "model %g s, network %g s", t, bytes, got, want);
    }
  gpp_cluster_destroy(cl);
}

Test(planner_scale, allreduce_model_matches_the_network) {
  /* 4 DGX H100 nodes: groups of 2-8 GPUs ring over NVSwitch, 16 and 32
   * run hierarchically over the rails; groups over nodes that are not
   * whole nodes (8 + 4, 8 + 8 + 4) run a flat ring whose slowest hop is a
   * rail.  The fitted model must follow. */
  const uint32_t ks[] = {2, 4, 8, 16, 32, 12, 20};
  expect_allreduce("configs/clusters/dgx-h100.yaml", ks, 7, 1);
}

Test(planner_scale, allreduce_model_shares_a_nic_as_the_network_does) {
  /* Summit-like nodes: 4 GPUs and 2 NICs.  The hierarchical all-reduce
   * over 2-8 nodes runs its 4 rings across the nodes at once, two through
   * each NIC: fitting each ring alone made 32 GPUs 35% too fast. */
  const uint32_t ks[] = {2, 4, 8, 16, 32};
  expect_allreduce("configs/clusters/summit.yaml", ks, 5, 2);
}

Test(planner_scale, mmt_estimate_tracks_the_engine_as_gpus_double) {
  /* MMT on 1, 2 and 4 DGX H100 nodes: the estimate within 10% of the
   * engine's iteration, and more GPUs never simulate slower. */
  real r;
  real_open(&r, "configs/models/mmt.yaml", NULL, 0, 256, 8);
  gpp_errctx err = {0};
  gpp_cluster_destroy(r.cl);
  gpp_costs_destroy(r.costs);
  cr_assert_eq(gpp_cluster_load(src_path("configs/clusters/dgx-h100.yaml"),
                                &r.cl, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_costs_create(r.m, &r.cl->gpu, NULL, &r.costs, &err), 0);
  r.in.op_time_ctx = r.costs;
  r.in.mem_bytes = r.cl->gpu.mem_bytes;
  const gpp_planner_type *t;
  cr_assert_eq(gpp_planner_find("graphpipe", &t, &err), 0);
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  gpp_engine_opts eo = {0};
  double prev = 0;
  for (uint32_t g = 8; g <= r.cl->n_gpus; g *= 2) {
    r.in.n_gpus = g;
    cr_assert_eq(gpp_planner_comm_fit(r.cl, g, &r.in.comm, &err), 0, "%s",
                 err.msg);
    gpp_study_point pt;
    cr_assert_eq(gpp_study_run(t, &r.in, &o, r.costs, r.cl, 0, &eo, &pt,
                               &err), 0, "%u GPUs: %s", g, err.msg);
    double est = pt.res.cands[pt.chosen].iteration;
    double sim = pt.sim->iteration_time, sps = pt.sim->samples_per_s;
    cr_expect(fabs(est - sim) <= 0.1 * sim, "%u GPUs: estimate %g s, "
              "engine %g s", g, est, sim);
    cr_expect_geq(sps, prev, "%u GPUs: %g samples/s, half as many %g", g,
                  sps, prev);
    prev = sps;
    gpp_study_point_free(&pt);
  }
  real_close(&r);
}

Test(planner, beyond_4095_gpus) {
  /* The GraphPipe memo and choices hold device counts up to 65,536: a
   * two-op chain at a batch of 65,536 on every GPU replicates its stages
   * 2^15 or 2^16 ways and the plan reads back the same counts. */
  const double ms[] = {1.0, 1.0};
  tmodel *t = chain(2, ms);
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  o.micro_batch = 1u << 16;
  gpp_planner_result r;
  gpp_errctx err = {0};
  gpp_planner_input in = tm_input(t, 1u << 16, GPP_MAX_GPUS);
  cr_assert_eq(run("graphpipe", &in, &o, &r, &err), 0, "%s", err.msg);
  const gpp_planner_candidate *c = &r.cands[0];
  uint32_t used = 0;
  for (uint32_t q = 0; q < c->n_stages; q++) {
    used += c->stages[q].n_devices;
    cr_expect_geq(c->stages[q].n_devices, 1u << 15);
  }
  cr_expect_eq(used, c->devices_used);
  cr_expect_leq(used, GPP_MAX_GPUS);
  gpp_planner_result_free(&r);
  free(t);
}

/* ---- stage modes: the planner's figures against the engine's ---- */

/* One stage of every op of r's model on k GPUs in mode md at micro-batch
 * b: the planner's memory per GPU (gpp__mode_eval, one micro-batch in
 * flight) against the engine's peak, and its iteration (m micro-batches
 * of forward and backward, the end-of-iteration collective and the
 * optimizer step) against the engine's: equal, on one node. */
static void expect_mode_as_engine(real *r, uint32_t k, uint32_t b,
                                  gpp__mode md) {
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  gpp__pctx c;
  gpp_errctx err = {0};
  cr_assert_eq(gpp__pctx_init(&c, &r->in, &o, &err), 0, "%s", err.msg);
  uint32_t n = r->m->n_ops, rk = gpp__ceil_div(b, k);
  uint32_t *ops = calloc(n, sizeof *ops);
  cr_assert_not_null(ops);
  gpp__stage_sums s = {0};
  const double *t = gpp__times(&c, rk);
  cr_assert_not_null(t);
  for (uint32_t i = 0; i < n; i++) {
    ops[i] = i;
    s.time += t[i];
    s.stat += c.stat[i];
    s.saved += c.saved[i];
    s.param += c.param[i];
  }
  cr_assert_eq(gpp__modes_sum(&c, ops, n, rk, &s), 0, "%s", err.msg);
  gpp__mode_cost mc;
  gpp__mode_eval(&c, &s, b, k, b, md, &mc);
  char text[1024], devs[128] = "";
  for (uint32_t g = 0; g < k; g++)
    snprintf(devs + strlen(devs), sizeof devs - strlen(devs), "%s%u",
             g ? ", " : "", g);
  snprintf(text, sizeof text,
           "batch: %u\nmicro_batch: %u\nschedule: gpp\noptimizer: adam\n"
           "stages:\n  - {name: s0, ops: [\"*\"], devices: [%s], tensor: %u, "
           "sharding: %s, recompute: %s}\n",
           r->in.batch, b, devs, md.tensor, gpp_sharding_name(md.sharding),
           gpp_recompute_name(md.recompute));
  gpp_plan *plan = NULL;
  gpp_result *res = NULL;
  gpp_engine_opts eo = {.allow_oom = true};
  cr_assert_eq(gpp_plan_load_string("modes", text, r->m, r->cl->n_gpus, &plan,
                                    &err), 0, "%s\n%s", err.msg, text);
  cr_assert_eq(gpp_engine_run(plan, r->costs, r->cl, &eo, &res, &err), 0,
               "%s", err.msg);
  double peak = 0;
  for (uint32_t g = 0; g < res->n_devices; g++)
    if (res->devices[g].peak_mem > peak) peak = res->devices[g].peak_mem;
  double m = (double)r->in.batch / b;
  double it = m * mc.compute + mc.sync +
              gpp_stage_optimizer_seconds(&r->cl->gpu, o.optimizer, c.prec,
                                          s.param, s.ms[GPP__MS_COUNT],
                                          md.tensor, k / md.tensor,
                                          md.sharding);
  cr_expect(fabs(mc.mem / peak - 1) <= 1e-9, "t%u %s %s: memory %.6g vs "
            "engine %.6g", md.tensor, gpp_sharding_name(md.sharding),
            gpp_recompute_name(md.recompute), mc.mem, peak);
  cr_expect(fabs(it / res->iteration_time - 1) <= 1e-6, "t%u %s %s: "
            "iteration %.6g s vs engine %.6g s", md.tensor,
            gpp_sharding_name(md.sharding), gpp_recompute_name(md.recompute),
            it, res->iteration_time);
  gpp_result_destroy(res);
  gpp_plan_destroy(plan);
  free(ops);
  gpp__pctx_free(&c);
}

Test(planner_real, stage_modes_priced_as_the_engine_runs_them) {
  gpp_model_param layers = {"layers", 2};
  real r;
  real_open(&r, "configs/models/gpt.yaml", &layers, 1, 16, 4);
  static const gpp__mode modes[] = {
      {1, GPP_SHARD_NONE, GPP_RECOMPUTE_NONE},
      {2, GPP_SHARD_NONE, GPP_RECOMPUTE_NONE},
      {4, GPP_SHARD_NONE, GPP_RECOMPUTE_NONE},
      {1, GPP_SHARD_NONE, GPP_RECOMPUTE_SELECTIVE},
      {1, GPP_SHARD_NONE, GPP_RECOMPUTE_FULL},
      {1, GPP_SHARD_OPTIMIZER, GPP_RECOMPUTE_NONE},
      {1, GPP_SHARD_GRADIENTS, GPP_RECOMPUTE_NONE},
      {1, GPP_SHARD_FULL, GPP_RECOMPUTE_NONE},
      {2, GPP_SHARD_GRADIENTS, GPP_RECOMPUTE_SELECTIVE},
      {2, GPP_SHARD_FULL, GPP_RECOMPUTE_FULL},
      {4, GPP_SHARD_NONE, GPP_RECOMPUTE_FULL}};
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
    expect_mode_as_engine(&r, 4, 8, modes[i]);
  real_close(&r);
}

/* ---- transfers between stages of unequal replica counts ---- */

#include "planner/transfer.h"

/* The engine's time for micro-batch 0's activations into stage `to`: the
 * longest, over its replicas, from the first piece's start to the last
 * one's end (the senders may finish their forwards microseconds apart). */
static double sim_act_span(const gpp_result *res, int32_t to) {
  double worst = 0;
  for (size_t i = 0; i < res->n_tasks; i++) {
    const gpp_task_rec *a = &res->tasks[i];
    if (a->kind != GPP_TASK_ACT || a->stage != to || a->micro_batch != 0)
      continue;
    double lo = a->start, hi = a->end;
    for (size_t j = 0; j < res->n_tasks; j++) {
      const gpp_task_rec *b = &res->tasks[j];
      if (b->kind != GPP_TASK_ACT || b->stage != to || b->micro_batch != 0 ||
          b->peer != a->peer)
        continue;
      if (b->start < lo) lo = b->start;
      if (b->end > hi) hi = b->end;
    }
    if (hi - lo > worst) worst = hi - lo;
  }
  cr_assert_gt(worst, 0, "no activations into stage %d", to);
  return worst;
}

/* Runs the plan text on t on the DGX H100 cluster file: the engine's
 * result (the caller destroys it), the cluster's communication fit and
 * GPU count. */
static gpp_result *run_on_dgx(tmodel *t, const char *text,
                              const gpp_engine_opts *eo, gpp_planner_comm *cm,
                              uint32_t *n_gpus) {
  gpp_errctx err = {0};
  gpp_cluster *cl = NULL;
  gpp_plan *plan = NULL;
  gpp_costs *costs = NULL;
  gpp_result *res = NULL;
  cr_assert_eq(gpp_cluster_load(src_path("configs/clusters/dgx-h100.yaml"),
                                &cl, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_plan_load_string("t.yaml", text, &t->m, cl->n_gpus, &plan,
                                    &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_costs_create(&t->m, &cl->gpu, NULL, &costs, &err), 0);
  cr_assert_eq(gpp_engine_run(plan, costs, cl, eo, &res, &err), 0, "%s",
               err.msg);
  cr_assert_eq(gpp_planner_comm_fit(cl, 0, cm, &err), 0, "%s", err.msg);
  *n_gpus = cl->n_gpus;
  gpp_costs_destroy(costs);
  gpp_plan_destroy(plan);
  gpp_cluster_destroy(cl);
  return res;
}

Test(planner_transfer, unequal_replicas_across_nodes_match_the_engine) {

  /* A chain on 4 DGX H100 nodes, one stage per node: 3 -> 4 -> 8 -> 2
   * replicas, 1 MiB per sample, one micro-batch of 24.  3 -> 4: each
   * sender's 8 samples leave through its one NIC to two receivers (the
   * old model charged the receivers' 6); 8 -> 2: each receiver takes 12
   * samples from four senders through its NIC (the old model charged the
   * senders' 3 as their transfer out).  The estimate (transfer.c, on
   * the communication fit) must match the engine's spans within 2%. */
  const uint32_t k[4] = {3, 4, 8, 2}, first[4] = {0, 8, 16, 24}, b = 24;
  const double bytes = 1 << 20;
  tmodel *t = tm_new("chain");
  for (uint32_t i = 0; i < 4; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "L%u", i);
    tm_op(t, nm, 0.01, 0.02, 0, 1000, bytes);
    if (i) tm_edge(t, i - 1, i);
  }
  char text[1024];
  int n = snprintf(text, sizeof text, "batch: %u\nmicro_batch: %u\nschedule: "
                   "1f1b\noptimizer: sgd\nprecision: full\nstages:\n", b, b);
  for (uint32_t s = 0; s < 4; s++) {
    n += snprintf(text + n, sizeof text - (size_t)n,
                  "  - {name: s%u, ops: [L%u], devices: [", s, s);
    for (uint32_t r = 0; r < k[s]; r++)
      n += snprintf(text + n, sizeof text - (size_t)n, "%s%u", r ? ", " : "",
                    first[s] + r);
    n += snprintf(text + n, sizeof text - (size_t)n, "]}\n");
  }
  gpp_errctx err = {0};
  gpp_engine_opts eo = {.record = true};
  gpp_planner_comm cm;
  uint32_t n_gpus;
  gpp_result *res = run_on_dgx(t, text, &eo, &cm, &n_gpus);
  cr_expect_eq(cm.gpus_per_nic, 1); /* one NIC per GPU on a DGX H100 */
  gpp__xfer_stage st[4];
  for (uint32_t s = 0; s < 4; s++) st[s] = (gpp__xfer_stage){first[s], k[s], b, 1};
  const gpp__xfer_edge e[3] = {{0, 1, bytes}, {1, 2, bytes}, {2, 3, bytes}};
  gpp__xfer_ports x;
  cr_assert_eq(gpp__xfer_init(&x, &cm, st, n_gpus, &err), 0);
  double lat;
  bool intra;
  double in1 = gpp__xfer_time(&x, e, 3, 1, true, &lat, &intra);
  double out0 = gpp__xfer_time(&x, e, 3, 0, false, &lat, &intra);
  double out2 = gpp__xfer_time(&x, e, 3, 2, false, &lat, &intra);
  double in3 = gpp__xfer_time(&x, e, 3, 3, true, &lat, &intra);
  gpp__xfer_free(&x);
  double sim01 = sim_act_span(res, 1), sim23 = sim_act_span(res, 3);
  cr_expect(fabs(in1 - sim01) <= 0.02 * sim01 &&
            fabs(out0 - sim01) <= 0.02 * sim01, "3 -> 4: estimate in %g s, "
            "out %g s; engine %g s", in1, out0, sim01);
  cr_expect(fabs(out2 - sim23) <= 0.02 * sim23 &&
            fabs(in3 - sim23) <= 0.02 * sim23, "8 -> 2: estimate out %g s, "
            "in %g s; engine %g s", out2, in3, sim23);
  /* The model before (each side its own replicas' share, on the average
   * route) misses both by far more than the bound. */
  gpp_planner_input in = {.comm = cm};
  gpp__pctx c = {.in = &in};
  cr_expect_gt(fabs(gpp__transfer(&c, bytes * (b / k[1])) - sim01),
               0.1 * sim01);
  cr_expect_gt(fabs(gpp__transfer(&c, bytes * (b / k[2])) - sim23),
               0.1 * sim23);
  gpp_result_destroy(res);
  free(t);
}

#include "planner/replay.h"

/* A 1F1B chain of one-GPU stages, one op each (fwd, bwd ms per sample,
 * out bytes per sample), run by the engine on DGX H100 nodes with stage s
 * on GPU gpu[s]: the iteration time. */
static double chain_engine(uint32_t n, const double *fwd, const double *bwd,
                           double out_bytes, const uint32_t *gpu,
                           uint32_t batch, uint32_t micro, bool ideal,
                           gpp_planner_comm *cm) {
  tmodel *t = tm_new("chain");
  for (uint32_t i = 0; i < n; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "L%u", i);
    tm_op(t, nm, fwd[i], bwd[i], 0, 1000, out_bytes);
    if (i) tm_edge(t, i - 1, i);
  }
  char text[2048];
  int w = snprintf(text, sizeof text, "batch: %u\nmicro_batch: %u\nschedule: "
                   "1f1b\noptimizer: sgd\nprecision: full\nstages:\n", batch,
                   micro);
  for (uint32_t s = 0; s < n; s++)
    w += snprintf(text + w, sizeof text - (size_t)w,
                  "  - {name: s%u, ops: [L%u], devices: [%u]}\n", s, s,
                  gpu[s]);
  gpp_engine_opts eo = {.ideal_network = ideal};
  uint32_t n_gpus;
  gpp_result *res = run_on_dgx(t, text, &eo, cm, &n_gpus);
  double it = res->iteration_time;
  gpp_result_destroy(res);
  free(t);
  return it;
}

/* The replay's input for that chain: caps n - s, transfers xin, xout. */
static double chain_replay(uint32_t n, const double *fwd, const double *bwd,
                           uint32_t batch, uint32_t micro, const double *xin,
                           const double *xout, const double *lat_in,
                           const double *lat_out) {
  uint32_t off[2][9], nb[8], cap[8], mb[8];
  double f[8], b[8], zero[8] = {0};
  bool nic[8] = {false};
  cr_assert_leq(n, 8);
  for (uint32_t s = 0; s < n; s++) {
    f[s] = fwd[s] * 1e-3 * micro;
    b[s] = bwd[s] * 1e-3 * micro;
    cap[s] = n - s;
    mb[s] = micro;
  }
  /* Edge j joins stage j to j + 1: stage s's predecessor is edge s - 1's
   * start, its successor edge s's end. */
  uint32_t succ[8];
  for (uint32_t j = 0; j + 1 < n; j++) {
    nb[j] = j;
    succ[j] = j + 1;
  }
  for (uint32_t s = 0; s <= n; s++) {
    off[0][s] = s == 0 ? 0 : s - 1;
    off[1][s] = s < n ? s : n - 1;
  }
  gpp__replay_in in = {n, batch, off[0], nb, off[1], succ, f, b,
                       xin ? xin : zero, xout ? xout : zero,
                       lat_in ? lat_in : zero, lat_out ? lat_out : zero,
                       zero, nic, nic, cap, mb};
  double end = 0;
  gpp_errctx err = {0};
  cr_assert_eq(gpp__replay(&in, &end, &err), 0, "%s", err.msg);
  return end;
}

Test(planner_replay, backward_first_paces_a_chain_as_the_engine_runs_it) {
  /* Three stages with cheap forwards and costly backwards (embedding-like)
   * between two even ones, 16 micro-batches of one sample, free network:
   * a forward waits behind each backward the rule runs first, so the
   * iteration is 78.3 ms where (m + D - 1) x the slowest stage's f + b
   * gives 64.05.  The replay is the engine's schedule: equal to 1e-9. */
  const double fwd[6] = {1, 0.05, 0.05, 0.05, 1, 1};
  const double bwd[6] = {1, 3, 3, 3, 1, 1};
  const uint32_t gpu[6] = {0, 1, 2, 3, 4, 5};
  gpp_planner_comm cm;
  double sim = chain_engine(6, fwd, bwd, 0, gpu, 16, 1, true, &cm);
  double est = chain_replay(6, fwd, bwd, 16, 1, NULL, NULL, NULL, NULL);
  expect_near(est, sim, "replay vs engine");
  cr_expect_gt(sim, 1.2 * (16 + 6 - 1) * 3.05e-3);
}

Test(planner_replay, micro_batches_share_a_port_as_the_engine_shares_it) {
  /* Two stages on two nodes, 4 MiB per micro-batch through one NIC
   * (about 84 us) where the first stage makes one every 40 us: the
   * micro-batches under way share the NIC's sending side, and the
   * gradients coming back share it with nothing (full duplex).  Within 2%
   * of the engine. */
  const double fwd[2] = {0.01, 0.01}, bwd[2] = {0.02, 0.02};
  const uint32_t gpu[2] = {0, 8};
  gpp_planner_comm cm;
  double sim = chain_engine(2, fwd, bwd, 1 << 20, gpu, 32, 4, false, &cm);
  gpp__xfer_stage st[2] = {{0, 1, 4, 1}, {8, 1, 4, 1}};
  const gpp__xfer_edge e[1] = {{0, 1, 1 << 20}};
  gpp__xfer_ports x;
  gpp_errctx err = {0};
  cr_assert_eq(gpp__xfer_init(&x, &cm, st, 16, &err), 0);
  x.own = true; /* each side on its own ports, as candidate.c prices them */
  double xin[2], xout[2], lin[2], lout[2];
  bool intra;
  for (uint32_t s = 0; s < 2; s++) {
    xin[s] = gpp__xfer_time(&x, e, 1, s, true, &lin[s], &intra);
    xout[s] = gpp__xfer_time(&x, e, 1, s, false, &lout[s], &intra);
  }
  gpp__xfer_free(&x);
  cr_assert_gt(xout[0], 2 * fwd[0] * 4e-3);
  double est = chain_replay(2, fwd, bwd, 32, 4, xin, xout, lin, lout);
  cr_expect(fabs(est - sim) <= 0.02 * sim, "replay %g s, engine %g s", est,
            sim);
}
