/* stage_modes.c -- what the stage cost model (stage_cost.c) needs to price
 * a stage's modes (tensor degree, sharding, recompute) in O(1) from sums:
 * per-op quantities from the engine's own layer formulas (sim/engine/
 * engine.h: gpp_layer_stash, gpp_selective_drop, gpp_layer_input_bytes),
 * each layer's figures put on its first op, and per micro-batch size the
 * rows of forward and re-run seconds.  Layers are the engine's (ops with
 * one name prefix, consecutive in model order), so a stage holding whole
 * layers sums to exactly what the engine simulates for it. */
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"
#include "sim/engine/engine.h"

/* One layer ops[first .. first + n): its per-layer GPP__MS_* figures
 * added to v (KEEP_SEL and COUNT are per op, added by the callers), the
 * bytes it saves, its weights, and whether recompute full re-runs it. */
static bool layer_figs(const gpp_model *m, const uint32_t *ops, uint32_t first,
                       uint32_t n, double *v, double *saved_out,
                       double *params_out) {
  double saved = 0, sel = 0, params = 0, frac;
  for (uint32_t i = first; i < first + n; i++) {
    const gpp_op *op = &m->ops[ops[i]];
    saved += op->saved_bytes;
    sel += op->saved_bytes - gpp_selective_drop(op, &frac);
    params += op->param_bytes;
  }
  double in = gpp_layer_input_bytes(m, ops, first, n);
  bool rerun;
  double full = gpp_layer_stash(in, saved, GPP_RECOMPUTE_FULL, 1, true, &rerun);
  v[GPP__MS_KEEP_FULL] += full;
  v[GPP__MS_REP_NONE] += in < saved ? in : saved;
  v[GPP__MS_REP_SEL] += in < sel ? in : sel;
  v[GPP__MS_REP_FULL] += in < full ? in : full;
  if (params > 0) {
    v[GPP__MS_TP_IN] += in;
    v[GPP__MS_TP_N] += 1;
    v[GPP__MS_TP_IN_RR] += rerun ? in : 0;
    v[GPP__MS_TP_N_RR] += rerun;
  }
  *saved_out = saved;
  *params_out = params;
  return rerun;
}

/* An op's own figures: its parameters and what selective recompute keeps
 * (the share of its forward re-run in *frac). */
static void op_figs(const gpp_op *op, double *v, double *frac) {
  v[GPP__MS_COUNT] += op->param_count;
  v[GPP__MS_KEEP_SEL] += op->saved_bytes - gpp_selective_drop(op, frac);
}

/* One layer [first, first + n) of the model's ops, its figures on its
 * first op (the DP's prefix sums). */
static void layer_ops(gpp__pctx *c, const uint32_t *ident, uint32_t first,
                      uint32_t n) {
  double saved, params;
  for (uint32_t i = first; i < first + n; i++)
    op_figs(&c->m->ops[i], &c->mop[(size_t)i * GPP__MS_N], &c->frac[i]);
  bool rerun = layer_figs(c->m, ident, first, n,
                          &c->mop[(size_t)first * GPP__MS_N], &saved, &params);
  for (uint32_t i = first; i < first + n; i++) c->rerun[i] = rerun;
  if (rerun && saved > c->max_layer_saved) c->max_layer_saved = saved;
  if (params > c->max_layer_param) c->max_layer_param = params;
}

void gpp__modes_stage(const gpp__pctx *c, const uint32_t *ops, uint32_t n,
                      gpp__stage_sums *s, bool *rerun) {
  double frac, saved, params;
  memset(s->ms, 0, sizeof s->ms);
  s->lay_saved = s->lay_param = s->first_param = 0;
  for (uint32_t q = 0; q < n; q++) op_figs(&c->m->ops[ops[q]], s->ms, &frac);
  for (uint32_t i = 0, j; i < n; i = j) {
    for (j = i + 1; j < n && gpp_same_layer(c->m->ops[ops[j - 1]].name,
                                            c->m->ops[ops[j]].name);)
      j++;
    bool rr = layer_figs(c->m, ops, i, j - i, s->ms, &saved, &params);
    for (uint32_t q = i; q < j; q++) rerun[q] = rr;
    if (rr && saved > s->lay_saved) s->lay_saved = saved;
    if (params > s->lay_param) s->lay_param = params;
    if (s->first_param == 0) s->first_param = params;
  }
}

int gpp__modes_init(gpp__pctx *c) {
  c->mop = gpp_calloc(c->err, (size_t)c->n * GPP__MS_N, sizeof *c->mop);
  c->frac = gpp_calloc(c->err, c->n, sizeof *c->frac);
  c->rerun = gpp_calloc(c->err, c->n, sizeof *c->rerun);
  c->xrows = gpp_calloc(c->err, (size_t)c->B + 1, sizeof *c->xrows);
  uint32_t *ident = gpp_calloc(c->err, c->n, sizeof *ident);
  if (!(c->mop && c->frac && c->rerun && c->xrows && ident)) {
    free(ident);
    return c->err->code;
  }
  for (uint32_t i = 0; i < c->n; i++) ident[i] = i;
  for (uint32_t i = 0, j; i < c->n; i = j) {
    for (j = i + 1; j < c->n && gpp_same_layer(c->m->ops[j - 1].name,
                                               c->m->ops[j].name);)
      j++;
    layer_ops(c, ident, i, j - i);
  }
  free(ident);
  return 0;
}

void gpp__rows_free(double **rows, uint32_t n) {
  for (uint32_t r = 0; rows && r < n; r++) free(rows[r]);
  free(rows);
}

void gpp__modes_free(gpp__pctx *c) {
  gpp__rows_free(c->xrows, c->B + 1);
  free(c->mop);
  free(c->frac);
  free(c->rerun);
  c->xrows = NULL;
  c->mop = c->frac = NULL;
  c->rerun = NULL;
}

void gpp__modes_row(gpp__pctx *c, uint32_t i, double fwd, double *x) {
  x[i] = fwd;
  x[c->n + i] = c->frac[i] * fwd;
  x[2 * (size_t)c->n + i] = c->rerun[i] ? fwd : 0;
}

void gpp__modes_add(const gpp__pctx *c, uint32_t i, double *ms) {
  const double *v = &c->mop[(size_t)i * GPP__MS_N];
  for (int j = 0; j < GPP__MS_N; j++) ms[j] += v[j];
}
