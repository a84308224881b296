/* candidate.c -- turns a planner's stages into a candidate plan and
 * evaluates it the same way for every planner: the real stage graph from
 * op edges, its depth, in-flight counts, per-stage TPS and memory, and the
 * iteration estimate on the stages' placement (estimate(), below): the
 * engine's schedule replayed on the stages (planner/replay.c), the
 * transfers priced as the engine routes them (planner/transfer.c); also
 * the sorted result list. */
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"
#include "planner/replay.h"
#include "planner/transfer.h"
#include "sim/engine/engine.h"

typedef struct sgraph {
  uint32_t n;
  uint32_t *stage_of;   /* per op */
  uint32_t *succ_off, *succ; /* stage successors (deduplicated) */
  uint32_t *topo;
} sgraph;

static void sgraph_free(sgraph *g) {
  free(g->stage_of);
  free(g->succ_off);
  free(g->succ);
  free(g->topo);
}

static int assign_ops(gpp__pctx *c, const gpp__stage_spec *sp, uint32_t n,
                      uint32_t *stage_of) {
  for (uint32_t i = 0; i < c->n; i++) stage_of[i] = GPP__INF_U32;
  for (uint32_t s = 0; s < n; s++)
    for (uint32_t j = 0; j < sp[s].n_ops; j++) {
      if (stage_of[sp[s].ops[j]] != GPP__INF_U32)
        GPP_RAISE(c->err, GPP_EINTERNAL, "op %u in two stages",
                  sp[s].ops[j]);
      stage_of[sp[s].ops[j]] = s;
    }
  for (uint32_t i = 0; i < c->n; i++)
    if (stage_of[i] == GPP__INF_U32)
      GPP_RAISE(c->err, GPP_EINTERNAL, "op '%s' in no stage",
                c->m->ops[i].name);
  return 0;
}

/* Successor lists: for each stage, the distinct stages its ops feed. */
static int stage_edges(gpp__pctx *c, sgraph *g) {
  uint32_t *seen = gpp_calloc(c->err, g->n, sizeof *seen);
  size_t cap = 0;
  for (uint32_t i = 0; i < c->n; i++) cap += c->m->ops[i].n_outputs;
  g->succ = gpp_calloc(c->err, cap ? cap : 1, sizeof *g->succ);
  if (seen == NULL || g->succ == NULL) {
    free(seen);
    return c->err->code;
  }
  size_t k = 0;
  for (uint32_t s = 0; s < g->n; s++) {
    g->succ_off[s] = (uint32_t)k;
    for (uint32_t i = 0; i < c->n; i++) {
      if (g->stage_of[i] != s) continue;
      const gpp_op *op = &c->m->ops[i];
      for (uint32_t j = 0; j < op->n_outputs; j++) {
        uint32_t t = g->stage_of[op->outputs[j]];
        if (t == s || seen[t] == s + 1) continue;
        seen[t] = s + 1;
        g->succ[k++] = t;
      }
    }
  }
  g->succ_off[g->n] = (uint32_t)k;
  free(seen);
  return 0;
}

static int stage_topo(gpp__pctx *c, sgraph *g) {
  uint32_t *indeg = gpp_calloc(c->err, g->n, sizeof *indeg);
  if (indeg == NULL) return c->err->code;
  for (uint32_t j = 0; j < g->succ_off[g->n]; j++) indeg[g->succ[j]]++;
  uint32_t head = 0, tail = 0;
  for (uint32_t s = 0; s < g->n; s++)
    if (indeg[s] == 0) g->topo[tail++] = s;
  while (head < tail) {
    uint32_t s = g->topo[head++];
    for (uint32_t j = g->succ_off[s]; j < g->succ_off[s + 1]; j++)
      if (--indeg[g->succ[j]] == 0) g->topo[tail++] = g->succ[j];
  }
  free(indeg);
  if (tail < g->n)
    GPP_RAISE(c->err, GPP_EINTERNAL, "the stage graph has a cycle");
  return 0;
}

static int sgraph_build(gpp__pctx *c, const gpp__stage_spec *sp, uint32_t n,
                        sgraph *g) {
  memset(g, 0, sizeof *g);
  g->n = n;
  g->stage_of = gpp_calloc(c->err, c->n, sizeof *g->stage_of);
  g->succ_off = gpp_calloc(c->err, (size_t)n + 1, sizeof *g->succ_off);
  g->topo = gpp_calloc(c->err, n, sizeof *g->topo);
  if (!(g->stage_of && g->succ_off && g->topo)) return c->err->code;
  GPP_TRY(assign_ops(c, sp, n, g->stage_of));
  GPP_TRY(stage_edges(c, g));
  return stage_topo(c, g);
}

/* gpp: samples in flight = own micro-batch + max over successors, taken
 * in reverse topological order; returns the depth in stages. */
static uint32_t inflight_gpp(const sgraph *g, const gpp__stage_spec *sp,
                             double *samples, uint32_t *depth) {
  uint32_t d_max = 0;
  for (uint32_t q = g->n; q-- > 0;) {
    uint32_t s = g->topo[q];
    double most = 0;
    uint32_t d = 0;
    for (uint32_t j = g->succ_off[s]; j < g->succ_off[s + 1]; j++) {
      uint32_t t = g->succ[j];
      if (samples[t] > most) most = samples[t];
      if (depth[t] > d) d = depth[t];
    }
    samples[s] = sp[s].b + most;
    depth[s] = d + 1;
    if (depth[s] > d_max) d_max = depth[s];
  }
  return d_max;
}

static int stage_sums(gpp__pctx *c, const sgraph *g, const gpp__stage_spec *sp,
                      uint32_t s, uint32_t *seen, uint32_t *tag,
                      gpp__stage_sums *out) {
  const double *t = gpp__times(c, gpp__ceil_div(sp->b, sp->k));
  if (t == NULL) return c->err->code;
  memset(out, 0, sizeof *out);
  for (uint32_t j = 0; j < sp->n_ops; j++) {
    uint32_t i = sp->ops[j];
    out->time += t[i];
    out->stat += c->stat[i];
    out->saved += c->saved[i];
    out->param += c->param[i];
  }
  gpp__boundary(c, sp->ops, sp->n_ops, g->stage_of, s, &out->in_bytes,
                &out->out_bytes, seen, tag);
  return gpp__modes_sum(c, sp->ops, sp->n_ops, gpp__ceil_div(sp->b, sp->k),
                        out);
}

/* The lowest offset o <= G - k (stepping by step) where k GPUs are free,
 * and, with node (GPUs per node; 0: any), inside one node; G when none. */
static uint32_t free_run(const bool *used, uint32_t G, uint32_t k,
                         uint32_t step, uint32_t node) {
  for (uint32_t o = 0; o + k <= G; o += step) {
    if (node > 0 && o / node != (o + k - 1) / node) continue;
    uint32_t f = 0;
    while (f < k && !used[o + f]) f++;
    if (f == k) return o;
  }
  return G;
}

/* First devices of the stages: in stage order (neighbours in the stage
 * graph stay on nearby GPUs), each at the lowest free GPU that is a
 * multiple of its group size when that is a power of two, as the
 * all-reduce model assumes (planner/comm.c): a group of 4 on a 4-GPU node
 * stays inside the node rather than straddling two, which would move its
 * all-reduce onto the inter-node network.  Other groups that fit in a
 * node (6 of 8) take the lowest free run inside one when there is one,
 * for the same reason.  Returns false when the gaps left leave no room. */
static bool first_fit(const gpp__stage_spec *sp, uint32_t n, bool *used,
                      uint32_t G, uint32_t node, uint32_t *first) {
  for (uint32_t s = 0; s < n; s++) {
    uint32_t k = sp[s].k, pow2 = (k & (k - 1)) == 0, o = G;
    if (!pow2 && node > 0 && k < node) o = free_run(used, G, k, 1, node);
    if (o == G) o = free_run(used, G, k, pow2 ? k : 1, 0);
    if (o == G) return false;
    for (uint32_t f = 0; f < k; f++) used[o + f] = true;
    first[s] = o;
  }
  return true;
}

/* The fallback: the largest groups first (ties in stage order), which
 * always aligns power-of-two groups. */
static void by_size(const gpp__stage_spec *sp, uint32_t n, uint32_t *first) {
  uint32_t dev = 0, k = UINT32_MAX;
  for (;;) {
    uint32_t next = 0;
    for (uint32_t s = 0; s < n; s++)
      if (sp[s].k < k && sp[s].k > next) next = sp[s].k;
    if (next == 0) return;
    for (uint32_t s = 0; s < n; s++)
      if (sp[s].k == next) {
        first[s] = dev;
        dev += next;
      }
    k = next;
  }
}

static int place_stages(gpp__pctx *c, const gpp__stage_spec *sp, uint32_t n,
                        uint32_t *first) {
  uint32_t G = 0;
  for (uint32_t s = 0; s < n; s++) G += sp[s].k;
  if (G < c->G) G = c->G;
  bool *used = gpp_calloc(c->err, G ? G : 1, sizeof *used);
  if (used == NULL) return c->err->code;
  if (!first_fit(sp, n, used, G, c->in->comm.gpus_per_node, first))
    by_size(sp, n, first);
  free(used);
  return 0;
}

/* Per stage, the seconds of one micro-batch's forward (f) and backward
 * (b) work, of its transfers in and out (xin, xout: planner/transfer.c)
 * and their routes' latency (lat_in, lat_out), and of the all-reduce and
 * optimizer step once per iteration (sync). */
typedef struct stage_times {
  double *f, *b, *xin, *xout, *lat_in, *lat_out, *sync;
  bool *intra_in, *intra_out; /* the most loaded port is intra-node */
} stage_times;
#define N_STAGE_TIMES 7

/* The stage edges as the engine builds them (sim/plan/plan_graph.c), with
 * their bytes per sample: gpp, each op's output once to each other stage
 * consuming it; 1f1b, the chain of stages in order, the edge after stage
 * c carrying every output made at or before c and read after it. */
static int stage_edge_list(gpp__pctx *c, const sgraph *g, bool gpp,
                           gpp__xfer_edge **out, uint32_t *n_out) {
  uint32_t n = gpp ? g->succ_off[g->n] : (g->n ? g->n - 1 : 0);
  gpp__xfer_edge *e = gpp_calloc(c->err, n ? n : 1, sizeof *e);
  if (e == NULL) return c->err->code;
  for (uint32_t s = 0; gpp && s < g->n; s++)
    for (uint32_t j = g->succ_off[s]; j < g->succ_off[s + 1]; j++)
      e[j] = (gpp__xfer_edge){s, g->succ[j], 0};
  for (uint32_t s = 0; !gpp && s + 1 < g->n; s++)
    e[s] = (gpp__xfer_edge){s, s + 1, 0};
  for (uint32_t u = 0; u < c->n; u++) {
    const gpp_op *op = &c->m->ops[u];
    uint32_t s = g->stage_of[u], hi = s;
    for (uint32_t q = 0; q < op->n_outputs; q++) {
      uint32_t t = g->stage_of[op->outputs[q]];
      if (t > hi) hi = t;
      bool seen = t == s;
      for (uint32_t r = 0; r < q && !seen; r++)
        seen = g->stage_of[op->outputs[r]] == t;
      for (uint32_t j = g->succ_off[s]; gpp && !seen && j < g->succ_off[s + 1];
           j++)
        if (e[j].to == t) e[j].bytes += c->outb[u];
    }
    for (uint32_t q = s; !gpp && q < hi; q++) e[q].bytes += c->outb[u];
  }
  *out = e;
  *n_out = n;
  return 0;
}

/* The stage's optimizer step, as the engine times it (none without a
 * GPU spec). */
static double optimizer_step(const gpp__pctx *c, const gpp_planner_stage *st,
                             double param_bytes) {
  if (c->in->gpu == NULL) return 0;
  double count = 0;
  for (uint32_t j = 0; j < st->n_ops; j++)
    count += c->m->ops[st->ops[j]].param_count;
  return gpp_stage_optimizer_seconds(
      c->in->gpu, c->opt->optimizer, gpp_precision_of_model(c->m),
      param_bytes, count, st->tensor, st->n_devices / st->tensor,
      st->sharding);
}

/* The transfers of each stage on its placement, as the engine routes
 * them (planner/transfer.c), on the stage's own ports: xin[s] the edges
 * into s (activations received, gradients sent back), xout[s] out of it
 * (activations sent, gradients received); the replay takes an edge's
 * transfer as done when both its sides are. */
static int stage_xfers(gpp__pctx *c, const sgraph *g, const gpp__stage_spec *sp,
                       const gpp_planner_stage *st, bool gpp,
                       stage_times *tt) {
  gpp__xfer_edge *e = NULL;
  gpp__xfer_stage *xs = gpp_calloc(c->err, g->n ? g->n : 1, sizeof *xs);
  uint32_t n_e = 0, gpus = c->G;
  if (xs == NULL) return c->err->code;
  for (uint32_t s = 0; s < g->n; s++) {
    uint32_t f = st[s].first_device, t = st[s].tensor;
    xs[s] = (gpp__xfer_stage){f, sp[s].k / t, sp[s].b, t};
    if (f + sp[s].k > gpus) gpus = f + sp[s].k;
  }
  gpp__xfer_ports x = {0};
  int rc = stage_edge_list(c, g, gpp, &e, &n_e);
  if (rc == 0) rc = gpp__xfer_init(&x, &c->in->comm, xs, gpus, c->err);
  x.own = true; /* the replay shares each side's ports (replay.c) */
  for (uint32_t s = 0; rc == 0 && s < g->n; s++) {
    tt->xin[s] = gpp__xfer_time(&x, e, n_e, s, true, &tt->lat_in[s],
                                &tt->intra_in[s]);
    tt->xout[s] = gpp__xfer_time(&x, e, n_e, s, false, &tt->lat_out[s],
                                 &tt->intra_out[s]);
  }
  gpp__xfer_free(&x);
  free(e);
  free(xs);
  return rc;
}

/* The stage's forward seconds at its replicas' share of a micro-batch. */
static int forward_seconds(gpp__pctx *c, const gpp__stage_spec *sp,
                           double *out) {
  uint32_t r = gpp__ceil_div(sp->b, sp->k);
  *out = 0;
  for (uint32_t j = 0; j < sp->n_ops; j++) {
    double f = 0, b = 0;
    GPP_TRY(c->in->op_time(c->in->op_time_ctx, sp->ops[j], r, &f, &b, c->err));
    *out += f;
  }
  return 0;
}

/* The stage's mode (the default without stage modes or when none fits:
 * the search kept the stage, so it is costed as it found it) and its
 * cost. */
static void stage_mode(const gpp__pctx *c, const gpp__stage_sums *sums,
                       const gpp__stage_spec *sp, double samples,
                       gpp_planner_stage *st, gpp__mode_cost *mc) {
  gpp__mode md = {1, GPP_SHARD_NONE, GPP_RECOMPUTE_NONE};
  double mem = 0, tps = INFINITY;
  if (c->modes && sums->modes)
    tps = gpp__stage_best(c, sums, sp->b, sp->k, samples, &md, &mem);
  st->tensor = md.tensor;
  st->sharding = md.sharding;
  st->recompute = md.recompute;
  if (tps < INFINITY && (md.tensor > 1 || md.sharding || md.recompute)) {
    gpp__mode_eval(c, sums, sp->b, sp->k, samples, md, mc);
    st->tps = mc->tps;
    st->mem_bytes = mc->mem;
    return;
  }
  st->tps = gpp__stage_tps_plain(c, sums, sp->b, sp->k);
  st->mem_bytes = gpp__stage_mem(c, sums, sp->b, sp->k, samples);
  mc->compute = sums->time;
  mc->fwd = NAN; /* the caller sums the plain forward */
  mc->sync = gpp__allreduce(c, sums->param, sp->k);
}

static int fill_stages(gpp__pctx *c, const sgraph *g, gpp__stage_spec *sp,
                       const double *samples, bool gpp, bool est,
                       stage_times *st_t, gpp_planner_candidate *out) {
  uint32_t *seen = gpp_calloc(c->err, c->n, sizeof *seen), tag = 0;
  uint32_t *first = gpp_calloc(c->err, g->n ? g->n : 1, sizeof *first);
  if (seen == NULL || first == NULL) {
    free(seen);
    free(first);
    return c->err->code;
  }
  uint32_t dev = 0;
  int rc = place_stages(c, sp, g->n, first);
  for (uint32_t s = 0; s < g->n && rc == 0; s++) {
    gpp_planner_stage *st = &out->stages[s];
    gpp__stage_sums sums;
    gpp__mode_cost mc;
    rc = stage_sums(c, g, &sp[s], s, seen, &tag, &sums);
    if (rc == 0) rc = forward_seconds(c, &sp[s], &st_t->f[s]);
    if (rc != 0) break;
    st->ops = sp[s].ops;
    st->n_ops = sp[s].n_ops;
    sp[s].ops = NULL;
    st->first_device = first[s];
    st->n_devices = sp[s].k;
    st->micro_batch = sp[s].b;
    st->inflight = (uint32_t)gpp__ceil_div((uint32_t)samples[s], sp[s].b);
    stage_mode(c, &sums, &sp[s], samples[s], st, &mc);
    if (st->tensor > 1 || st->sharding || st->recompute)
      st_t->f[s] = mc.fwd;
    st_t->b[s] = mc.compute - st_t->f[s];
    st_t->sync[s] = mc.sync + optimizer_step(c, st, sums.param);
    dev += sp[s].k;
    if (st->tps > out->tps) out->tps = st->tps;
    if (sp[s].b > out->micro_batch) out->micro_batch = sp[s].b;
  }
  out->devices_used = dev;
  if (rc == 0 && est)
    rc = stage_xfers(c, g, sp, out->stages, gpp, st_t);
  free(seen);
  free(first);
  return rc;
}

/* The stage graph as the replay reads it (pred and succ offsets into
 * nb): gpp, the graph's edges; 1f1b, the chain of stages in order (the
 * engine relays every tensor along it). */
static int neighbours(gpp__pctx *c, const sgraph *g, bool gpp, uint32_t *off,
                      uint32_t **nb) {
  uint32_t n = g->n, e = gpp ? g->succ_off[n] : (n ? n - 1 : 0);
  uint32_t *pred_off = off, *succ_off = off + n + 1, *fill = off + 2 * n + 2;
  *nb = gpp_calloc(c->err, 2 * (size_t)e + 1, sizeof **nb);
  if (*nb == NULL) return c->err->code;
  uint32_t *pred = *nb, *succ = *nb + e;
  for (uint32_t s = 0; s <= n; s++) {
    succ_off[s] = gpp ? g->succ_off[s] : (s < n ? s : e);
    pred_off[s] = 0;
  }
  for (uint32_t j = 0; j < e; j++) {
    succ[j] = gpp ? g->succ[j] : j + 1;
    pred_off[succ[j] + 1]++;
  }
  for (uint32_t s = 0; s < n; s++) {
    pred_off[s + 1] += pred_off[s];
    fill[s] = pred_off[s];
  }
  for (uint32_t s = 0; s < n; s++)
    for (uint32_t j = succ_off[s]; j < succ_off[s + 1]; j++)
      pred[fill[succ[j]]++] = s;
  return 0;
}

/* The iteration estimate: the engine's schedule replayed on the stages
 * (planner/replay.c), every transfer priced as the engine routes it
 * (planner/transfer.c).  With uniform stages and no all-reduce or
 * transfers this is the closed form (m + D - 1) * b * TPS. */
static int estimate(gpp__pctx *c, const sgraph *g, const gpp__stage_spec *sp,
                    const gpp_planner_candidate *cand, const stage_times *t,
                    bool gpp, double *end) {
  uint32_t n = g->n, *nb = NULL;
  uint32_t *u = gpp_calloc(c->err, 5 * (size_t)n + 3, sizeof *u);
  int rc = u ? neighbours(c, g, gpp, u, &nb) : c->err->code;
  uint32_t *cap = u + 3 * n + 2, *mb = u + 4 * n + 2;
  for (uint32_t s = 0; rc == 0 && s < n; s++) {
    cap[s] = cand->stages[s].inflight;
    mb[s] = sp[s].b;
  }
  uint32_t e = gpp ? g->succ_off[n] : (n ? n - 1 : 0);
  gpp__replay_in in = {n, c->B, u, nb, u + n + 1, nb ? nb + e : NULL,
                       t->f, t->b, t->xin, t->xout, t->lat_in, t->lat_out,
                       t->sync, t->intra_in, t->intra_out, cap, mb};
  if (rc == 0) rc = gpp__replay(&in, end, c->err);
  free(nb);
  free(u);
  return rc;
}

static int evaluate(gpp__pctx *c, gpp__stage_spec *sp, uint32_t n, bool gpp,
                    bool est, gpp_planner_candidate *out) {
  sgraph g = {0};
  double *samples = gpp_calloc(c->err, (1 + N_STAGE_TIMES) * (size_t)n + 1,
                               sizeof *samples);
  uint32_t *depth = gpp_calloc(c->err, n, sizeof *depth);
  int rc = (samples && depth) ? sgraph_build(c, sp, n, &g) : c->err->code;
  bool *intra = gpp_calloc(c->err, 2 * (size_t)n + 1, sizeof *intra);
  if (intra == NULL) rc = c->err->code;
  stage_times t = {0};
  if (samples) {
    double *tt = samples + n;
    t = (stage_times){tt,         tt + n,     tt + 2 * n, tt + 3 * n,
                      tt + 4 * n, tt + 5 * n, tt + 6 * n, intra, intra + n};
  }
  if (rc == 0) {
    out->depth = inflight_gpp(&g, sp, samples, depth);
    if (!gpp) {
      out->depth = n;
      for (uint32_t s = 0; s < n; s++) samples[s] = (double)(n - s) * sp[s].b;
    }
    rc = fill_stages(c, &g, sp, samples, gpp, est, &t, out);
  }
  out->iteration = NAN;
  if (rc == 0 && est) rc = estimate(c, &g, sp, out, &t, gpp, &out->iteration);
  sgraph_free(&g);
  free(samples);
  free(intra);
  free(depth);
  return rc;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

int gpp__candidate_build(gpp__pctx *c, gpp__stage_spec *sp, uint32_t n,
                         bool gpp, bool est, gpp_planner_candidate *out) {
  memset(out, 0, sizeof *out);
  for (uint32_t s = 0; s < n; s++)
    qsort(sp[s].ops, sp[s].n_ops, sizeof *sp[s].ops, cmp_u32);
  out->schedule = gpp ? "gpp" : "1f1b";
  out->stages = gpp_calloc(c->err, n, sizeof *out->stages);
  int rc = out->stages ? evaluate(c, sp, n, gpp, est, out) : c->err->code;
  for (uint32_t s = 0; s < n; s++) {
    free(sp[s].ops);
    sp[s].ops = NULL;
  }
  out->n_stages = n;
  if (rc != 0) {
    gpp__candidate_free(out);
    return rc;
  }
  return 0;
}

int gpp__candidate_estimate(gpp__pctx *c, gpp_planner_candidate *cand) {
  uint32_t n = cand->n_stages;
  gpp__stage_spec *sp = gpp_calloc(c->err, n ? n : 1, sizeof *sp);
  int rc = sp ? 0 : c->err->code;
  for (uint32_t s = 0; rc == 0 && s < n; s++) {
    const gpp_planner_stage *st = &cand->stages[s];
    sp[s] = (gpp__stage_spec){NULL, st->n_ops, st->n_devices, st->micro_batch};
    sp[s].ops = gpp_calloc(c->err, st->n_ops ? st->n_ops : 1,
                           sizeof *sp[s].ops);
    if (sp[s].ops == NULL) rc = c->err->code;
    else memcpy(sp[s].ops, st->ops, st->n_ops * sizeof *sp[s].ops);
  }
  gpp_planner_candidate next;
  bool gpp = strcmp(cand->schedule, "gpp") == 0;
  if (rc == 0) rc = gpp__candidate_build(c, sp, n, gpp, true, &next);
  for (uint32_t s = 0; rc != 0 && sp && s < n; s++) free(sp[s].ops);
  free(sp);
  if (rc != 0) return rc;
  gpp__candidate_free(cand);
  *cand = next;
  return 0;
}

void gpp__candidate_free(gpp_planner_candidate *cand) {
  for (uint32_t s = 0; cand->stages && s < cand->n_stages; s++)
    free(cand->stages[s].ops);
  free(cand->stages);
  cand->stages = NULL;
  cand->n_stages = 0;
}

bool gpp__uses_modes(const gpp_planner_candidate *c) {
  for (uint32_t s = 0; s < c->n_stages; s++)
    if (c->stages[s].tensor > 1 || c->stages[s].sharding ||
        c->stages[s].recompute)
      return true;
  return false;
}

bool gpp__modes_plan_kept(const gpp_planner_candidate *modes, bool found,
                          const gpp_planner_candidate *plain,
                          bool found_plain) {
  return found && (!found_plain || gpp__uses_modes(modes) ||
                   modes->iteration < plain->iteration);
}

int gpp__add_plans(gpp_planner_result *out, int rc,
                   gpp_planner_candidate *plain, bool found_plain,
                   gpp_planner_candidate *modes, bool found, gpp_errctx *err) {
  bool both = gpp__modes_plan_kept(modes, found, plain, found_plain);
  if (rc == 0 && found_plain) rc = gpp__result_add(out, plain, err);
  if (rc == 0 && both) rc = gpp__result_add(out, modes, err);
  gpp__candidate_free(modes);
  gpp__candidate_free(plain);
  return rc;
}

int gpp__result_add(gpp_planner_result *r, gpp_planner_candidate *cand,
                    gpp_errctx *err) {
  gpp_planner_candidate *a =
      gpp_realloc_array(err, r->cands, r->n_cands + 1, sizeof *a);
  if (a == NULL) {
    gpp__candidate_free(cand);
    return err->code;
  }
  r->cands = a;
  uint32_t at = r->n_cands;
  while (at > 0 && a[at - 1].iteration > cand->iteration) {
    a[at] = a[at - 1];
    at--;
  }
  a[at] = *cand;
  r->n_cands++;
  memset(cand, 0, sizeof *cand);
  return 0;
}
