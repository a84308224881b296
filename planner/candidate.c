/* candidate.c -- turns a planner's stages into a candidate plan and
 * evaluates it the same way for every planner: the real stage graph from
 * op edges, its depth, in-flight counts, per-stage TPS and memory, and the
 * iteration estimate on the stages' placement (estimate(), below); also
 * the sorted result list. */
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"
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

/* First devices of the stages: in stage order (neighbours in the stage
 * graph stay on nearby GPUs), each at the lowest free GPU that is a
 * multiple of its group size when that is a power of two, as the
 * all-reduce model assumes (planner/comm.c): a group of 4 on a 4-GPU node
 * stays inside the node rather than straddling two, which would move its
 * all-reduce onto the inter-node network.  Returns false when the gaps
 * left leave no room. */
static bool first_fit(const gpp__stage_spec *sp, uint32_t n, bool *used,
                      uint32_t G, uint32_t *first) {
  for (uint32_t s = 0; s < n; s++) {
    uint32_t k = sp[s].k, step = (k & (k - 1)) == 0 ? k : 1, o = 0;
    for (; o + k <= G; o += step) {
      uint32_t f = 0;
      while (f < k && !used[o + f]) f++;
      if (f == k) break;
    }
    if (o + k > G) return false;
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
  if (!first_fit(sp, n, used, G, first)) by_size(sp, n, first);
  free(used);
  return 0;
}

/* Per stage, the seconds of one micro-batch without the all-reduce (run)
 * and of the all-reduce, once per iteration (sync). */
typedef struct stage_times {
  double *run, *sync;
} stage_times;

/* The node holding all of stage s's devices; GPP__INF_U32 when they span
 * nodes or the node size is unknown. */
static uint32_t stage_node(const gpp__pctx *c, const uint32_t *first,
                           const gpp__stage_spec *sp, uint32_t s) {
  uint32_t g = c->in->comm.gpus_per_node;
  if (g == 0) return GPP__INF_U32;
  uint32_t a = first[s] / g, b = (first[s] + sp[s].k - 1) / g;
  return a == b ? a : GPP__INF_U32;
}

/* Whether every transfer into (out: out of) stage s stays in its node. */
static bool stays_in_node(const gpp__pctx *c, const sgraph *g,
                          const uint32_t *first, const gpp__stage_spec *sp,
                          uint32_t s, bool out) {
  uint32_t node = stage_node(c, first, sp, s);
  if (node == GPP__INF_U32) return false;
  if (out) {
    for (uint32_t j = g->succ_off[s]; j < g->succ_off[s + 1]; j++)
      if (stage_node(c, first, sp, g->succ[j]) != node) return false;
    return true;
  }
  for (uint32_t u = 0; u < g->n; u++) /* predecessors: no list of them */
    for (uint32_t j = g->succ_off[u]; j < g->succ_off[u + 1]; j++)
      if (g->succ[j] == s && stage_node(c, first, sp, u) != node)
        return false;
  return true;
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

/* One micro-batch of stage s on its placement: compute (work) and
 * transfers. */
static double stage_run(const gpp__pctx *c, const sgraph *g,
                        const uint32_t *first, const gpp__stage_spec *sp,
                        uint32_t s, const gpp__stage_sums *sums,
                        uint32_t t, double work) {
  double r = gpp__ceil_div(sp[s].b, sp[s].k / t);
  return work +
         gpp__transfer(c, sums->in_bytes * r,
                       stays_in_node(c, g, first, sp, s, false)) +
         gpp__transfer(c, sums->out_bytes * r,
                       stays_in_node(c, g, first, sp, s, true));
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
  mc->sync = gpp__allreduce(c, sums->param, sp->k);
}

static int fill_stages(gpp__pctx *c, const sgraph *g, gpp__stage_spec *sp,
                       const double *samples, stage_times *st_t,
                       gpp_planner_candidate *out) {
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
    if (rc != 0) break;
    st->ops = sp[s].ops;
    st->n_ops = sp[s].n_ops;
    sp[s].ops = NULL;
    st->first_device = first[s];
    st->n_devices = sp[s].k;
    st->micro_batch = sp[s].b;
    st->inflight = (uint32_t)gpp__ceil_div((uint32_t)samples[s], sp[s].b);
    stage_mode(c, &sums, &sp[s], samples[s], st, &mc);
    st_t->sync[s] = mc.sync + optimizer_step(c, st, sums.param);
    st_t->run[s] = stage_run(c, g, first, sp, s, &sums, st->tensor,
                             mc.compute);
    dev += sp[s].k;
    if (st->tps > out->tps) out->tps = st->tps;
    if (sp[s].b > out->micro_batch) out->micro_batch = sp[s].b;
  }
  out->devices_used = dev;
  free(seen);
  free(first);
  return rc;
}

/* The iteration estimate.  The first micro-batch crosses the stage graph
 * along its costliest path, fill (gpp; 1f1b: every stage in order), and
 * each stage runs its other micro-batches at its own pace, the slowest
 * setting the steady part.  A stage's all-reduce and optimizer step
 * start after its last backward, which comes fill - down(s) before the
 * end, down(s) the costliest path from s to a sink: the iteration ends
 * with the one that sticks out furthest.  With uniform stages and no
 * all-reduce this is the closed form (m + D - 1) * b * TPS. */
static double estimate(gpp__pctx *c, const sgraph *g,
                       const gpp__stage_spec *sp, const stage_times *t,
                       bool gpp, double *down) {
  double steady = 0, fill = 0, tail = 0;
  for (uint32_t q = g->n; q-- > 0;) {
    uint32_t s = gpp ? g->topo[q] : q;
    double next = !gpp && s + 1 < g->n ? down[s + 1] : 0;
    for (uint32_t j = g->succ_off[s]; gpp && j < g->succ_off[s + 1]; j++)
      if (down[g->succ[j]] > next) next = down[g->succ[j]];
    down[s] = t->run[s] + next;
    double rest = ((double)c->B / sp[s].b - 1) * t->run[s];
    if (rest > steady) steady = rest;
    if (down[s] > fill) fill = down[s];
  }
  for (uint32_t s = 0; s < g->n; s++)
    if (t->sync[s] - (fill - down[s]) > tail)
      tail = t->sync[s] - (fill - down[s]);
  return steady + fill + tail;
}

static int evaluate(gpp__pctx *c, gpp__stage_spec *sp, uint32_t n, bool gpp,
                    gpp_planner_candidate *out) {
  sgraph g = {0};
  double *samples = gpp_calloc(c->err, 4 * (size_t)n, sizeof *samples);
  uint32_t *depth = gpp_calloc(c->err, n, sizeof *depth);
  int rc = (samples && depth) ? sgraph_build(c, sp, n, &g) : c->err->code;
  stage_times t = {samples ? samples + n : NULL, samples ? samples + 2 * n : NULL};
  if (rc == 0) {
    out->depth = inflight_gpp(&g, sp, samples, depth);
    if (!gpp) {
      out->depth = n;
      for (uint32_t s = 0; s < n; s++) samples[s] = (double)(n - s) * sp[s].b;
    }
    rc = fill_stages(c, &g, sp, samples, &t, out);
  }
  if (rc == 0) out->iteration = estimate(c, &g, sp, &t, gpp, samples + 3 * n);
  sgraph_free(&g);
  free(samples);
  free(depth);
  return rc;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

int gpp__candidate_build(gpp__pctx *c, gpp__stage_spec *sp, uint32_t n,
                         bool gpp, gpp_planner_candidate *out) {
  memset(out, 0, sizeof *out);
  for (uint32_t s = 0; s < n; s++)
    qsort(sp[s].ops, sp[s].n_ops, sizeof *sp[s].ops, cmp_u32);
  out->schedule = gpp ? "gpp" : "1f1b";
  out->stages = gpp_calloc(c->err, n, sizeof *out->stages);
  int rc = out->stages ? evaluate(c, sp, n, gpp, out) : c->err->code;
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

void gpp__candidate_free(gpp_planner_candidate *cand) {
  for (uint32_t s = 0; cand->stages && s < cand->n_stages; s++)
    free(cand->stages[s].ops);
  free(cand->stages);
  cand->stages = NULL;
  cand->n_stages = 0;
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
