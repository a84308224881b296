/* internal.h -- what the three planners share: the cost cache, the stage
 * cost model (time per sample and memory of one stage), a small hash map,
 * and plan evaluation.  Not installed; names are gpp__.
 *
 * Stage cost model, for a stage with ops O on k replicas at micro-batch b
 * (each replica runs r = ceil(b / k) samples; m = batch / b micro-batches):
 *   compute  = sum over O of fwd + bwd at r samples
 *   sync     = all-reduce of O's weight bytes over k GPUs (ring, or
 *              hierarchical over whole nodes as the engine runs it), once
 *              per iteration, so sync / m per micro-batch
 *   comm     = C(in) + C(out), C(x) = latency + x * r * sec_per_byte:
 *              with the in-flight counts 1F1B allows, every transfer lies
 *              on a round trip that bounds the stage's period, so it is
 *              not hidden behind compute
 *   TPS      = (compute + sync / m + comm) / b
 *   memory   = static(O) + min(batch, inflight samples) / k * saved(O)
 *              + workspace, static as the engine counts it (sim/engine/memory.c:
 *              2 x param bytes, Adam 8 B/param, fp32 master 4 B/param),
 *              workspace the model's largest output buffer for r samples.
 */
#ifndef GPP_PLANNER_INTERNAL_H
#define GPP_PLANNER_INTERNAL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "planner/planner.h"

#define GPP__INF_U32 UINT32_MAX

typedef struct gpp__pctx {
  const gpp_planner_input *in;
  const gpp_planner_options *opt;
  const gpp_model *m;
  uint32_t n, B, G;
  double **rows;         /* rows[r]: per-op fwd+bwd seconds at r samples */
  double *stat, *saved, *outb, *param;
  double ws_per_sample;  /* largest out_bytes of any op */
  double mem_cap;        /* INFINITY when unlimited */
  uint32_t max_k;        /* data-parallel degree cap */
  uint64_t states;
  gpp_errctx *err;
} gpp__pctx;

int gpp__pctx_init(gpp__pctx *c, const gpp_planner_input *in,
                   const gpp_planner_options *opt, gpp_errctx *err);
void gpp__pctx_free(gpp__pctx *c);
/* Per-op fwd+bwd seconds at r samples (1 <= r <= batch), computed once. */
const double *gpp__times(gpp__pctx *c, uint32_t r);

/* What one stage's cost needs; time is at r = ceil(b / k) samples. */
typedef struct gpp__stage_sums {
  double time, stat, saved, param, in_bytes, out_bytes;
} gpp__stage_sums;

static inline uint32_t gpp__ceil_div(uint32_t a, uint32_t b) {
  return (a + b - 1) / b;
}

double gpp__allreduce(const gpp__pctx *c, double bytes, uint32_t k);
/* A point-to-point transfer of bytes; intra: inside one node (the route
 * between GPUs 0 and 1) when the node size is known, else the average
 * route (planner.h, gpp_planner_comm). */
double gpp__transfer(const gpp__pctx *c, double bytes, bool intra);
double gpp__stage_tps(const gpp__pctx *c, const gpp__stage_sums *s,
                      uint32_t b, uint32_t k);
/* Per-replica bytes with inflight_samples samples stashed. */
double gpp__stage_mem(const gpp__pctx *c, const gpp__stage_sums *s,
                      uint32_t b, uint32_t k, double inflight_samples);
bool gpp__stage_fits(const gpp__pctx *c, const gpp__stage_sums *s,
                     uint32_t b, uint32_t k, double inflight_samples);
/* Exact boundary bytes per sample of a set of ops given by a membership
 * predicate: in = distinct outside producers read, out = ops read outside.
 * member[op] == tag marks the set. */
void gpp__boundary(const gpp__pctx *c, const uint32_t *ops, uint32_t n_ops,
                   const uint32_t *member, uint32_t tag, double *in,
                   double *out, uint32_t *seen, uint32_t *seen_tag);

/* Open-addressing map from 128-bit keys (two words, the first not
 * UINT64_MAX) to four words. */
typedef struct gpp__hslot {
  uint64_t key[2], val[4];
} gpp__hslot;

typedef struct gpp__hmap {
  gpp__hslot *slots;
  size_t cap, len;
} gpp__hmap;

int gpp__hmap_init(gpp__hmap *h, size_t cap, gpp_errctx *err);
void gpp__hmap_free(gpp__hmap *h);
void gpp__hmap_clear(gpp__hmap *h);
/* NULL when absent. */
uint64_t *gpp__hmap_get2(const gpp__hmap *h, uint64_t k0, uint64_t k1);
/* The value slot for (k0, k1), inserted (zeroed) when absent; NULL on
 * ENOMEM. */
uint64_t *gpp__hmap_put2(gpp__hmap *h, uint64_t k0, uint64_t k1,
                         gpp_errctx *err);
/* One-word keys: (key, 0). */
static inline uint64_t *gpp__hmap_get(const gpp__hmap *h, uint64_t key) {
  return gpp__hmap_get2(h, key, 0);
}
static inline uint64_t *gpp__hmap_put(gpp__hmap *h, uint64_t key,
                                      gpp_errctx *err) {
  return gpp__hmap_put2(h, key, 0, err);
}

/* A stage under construction: ops, replicas, micro-batch. */
typedef struct gpp__stage_spec {
  uint32_t *ops, n_ops;
  uint32_t k, b;
} gpp__stage_spec;

/* Builds a candidate from stage specs (devices assigned in order), derives
 * the stage graph from op edges, the depth (gpp: longest path; 1f1b: the
 * number of stages), in-flight counts, per-stage TPS and memory and the
 * iteration estimate.  Takes ownership of each spec's ops. */
int gpp__candidate_build(gpp__pctx *c, gpp__stage_spec *specs, uint32_t n,
                         bool gpp, gpp_planner_candidate *out);
void gpp__candidate_free(gpp_planner_candidate *cand);
/* Appends cand to r (moved); keeps r sorted by iteration estimate. */
int gpp__result_add(gpp_planner_result *r, gpp_planner_candidate *cand,
                    gpp_errctx *err);

/* The sequential baselines' DP order (PipeDream, Piper): a suffix plan of
 * bottleneck val and `stages` stages beats (cur, cur_stages) by the least
 * bottleneck then the fewest stages, or, in the second pass that keeps
 * every stage within a cap (stages_first), by the fewest stages then the
 * least bottleneck. */
static inline bool gpp__seq_better(double val, uint32_t stages, double cur,
                                   uint32_t cur_stages, bool stages_first) {
  if (stages_first && stages != cur_stages) return stages < cur_stages;
  return val < cur || (val == cur && stages < cur_stages);
}

/* The baselines' first passes run under caps on the stage time (the
 * least bottleneck found within a cap is exact): from a lower bound, each
 * miss multiplies the cap by this factor (pipedream.c, piper.c).  Squaring
 * it after every miss took mmt at 1,024 GPUs from 14.2 s to 18.6 s of CPU
 * and candle_uno at 256 from 14.4 s to 11.6 s (PipeDream, 2026-12-05). */
#define GPP__CAP_GROWTH 1.1

/* Whether stage costs only grow with the stage (no negative memory,
 * weight bytes or communication parameter), as the baselines' cuts need
 * (pipedream.c). */
bool gpp__costs_grow(const gpp__pctx *c);

/* The micro-batch sizes to try: opt->micro_batch, or every power of two
 * dividing the batch.  Returns their number (<= 32). */
uint32_t gpp__micro_batches(const gpp__pctx *c, uint32_t out[32]);
uint32_t gpp__log2(uint32_t x);

void gpp__progress(const gpp__pctx *c, const char *who, double fraction);

/* The layer graph (planner/layers.c): ops grouped into layers by the
 * model generators' names; edges from[e] -> to[e] are distinct and sorted
 * by consumer, layer b's inputs are from[in_off[b] .. in_off[b + 1]). */
typedef struct gpp__layers {
  uint32_t n;       /* layers */
  uint32_t *of;     /* per op: its layer */
  uint32_t *from, *to, *in_off;
  size_t n_edges;
} gpp__layers;

int gpp__layers_build(const gpp_model *m, gpp__layers *L, gpp_errctx *err);
void gpp__layers_free(gpp__layers *L);

#endif
