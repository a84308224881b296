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
 *
 * Stage modes (gpp__stage_best, unless the options turn them off): a stage
 * on k devices may run as d = k / t replicas of a tensor group of t in
 * {1, 2, 4, 8} GPUs inside one node, each replica on r = ceil(b / d)
 * samples, with sharding over its d replicas and a recompute mode, priced
 * with the engine's formulas (sim/engine/engine.h):
 *   compute  = (fwd + bwd at r, plus what recompute re-runs) / t
 *   tensor   = per layer with weights, 4 all-reduces (6 when recompute
 *              full re-runs it) of its input x r over the t GPUs
 *   sharding = per layer with weights, all-gathers (full: forward and
 *              backward) and reduce-scatters (gradients, full) of its
 *              weights / t over the d replicas, alongside the compute as
 *              the engine runs them; at the end of the iteration the
 *              all-reduce (none), reduce-scatter + all-gather (optimizer),
 *              all-gather (gradients) or nothing (full)
 *   memory   = gpp_stage_static_bytes + min(batch, inflight) / d x the
 *              layers' stash (gpp_layer_stash) + workspace (recompute full:
 *              the largest re-run layer; sharding full: two layers'
 *              weights / t)
 * The fastest mode that fits is taken, sharding and recompute counting
 * no faster than their tensor degree without them (they are taken for
 * memory, not speed).  Without either reason the stage keeps t = 1, none,
 * none and exactly the estimate above.  Layers are the engine's; a stage
 * that cuts one is priced with the layer's figures on its first op.
 * Each planner searches with modes and again without, keeping per size
 * the plain plan and the modes' one where it uses a mode or is estimated
 * faster (a lower bottleneck may come with a deeper, slower pipeline;
 * gpp__modes_plan_kept).  The baselines' cuts use bounds valid over every
 * mode (gpp__stage_work_floor, gpp__stage_tps_floor, GPU-seconds of
 * tensor groups); PipeDream's modes search takes whole nodes from 128
 * GPUs and Piper's runs where the plain plan shows modes may gain
 * (pipedream.c, piper.c).
 */
#ifndef GPP_PLANNER_INTERNAL_H
#define GPP_PLANNER_INTERNAL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "planner/planner.h"

#define GPP__INF_U32 UINT32_MAX

/* Per-op sums a stage's modes need (stage_modes.c): parameter count; the
 * stash per sample kept under recompute selective and full; the part of
 * it a tensor group replicates (the layer's input) under none, selective,
 * full; the input bytes and number of layers with weights (tensor and
 * sharding collectives per layer), and of those that recompute full
 * re-runs. */
enum {
  GPP__MS_COUNT, GPP__MS_KEEP_SEL, GPP__MS_KEEP_FULL, GPP__MS_REP_NONE,
  GPP__MS_REP_SEL, GPP__MS_REP_FULL, GPP__MS_TP_IN, GPP__MS_TP_N,
  GPP__MS_TP_IN_RR, GPP__MS_TP_N_RR, GPP__MS_N
};
/* Tensor degrees 1, 2, 4, 8; per degree the seconds at r * t samples of
 * forward + backward, forward, selective and full re-runs. */
#define GPP__MAX_TP_LOG2 4
enum { GPP__AT_TIME, GPP__AT_FWD, GPP__AT_SEL, GPP__AT_FULL, GPP__AT_N };

/* A stage's mode (gpp__stage_best). */
typedef struct gpp__mode {
  uint32_t tensor;
  gpp_sharding sharding;
  gpp_recompute recompute;
} gpp__mode;

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
  /* Stage modes (stage_modes.c): on unless the options turn them off or
   * the planner's search does not price them. */
  bool modes;
  double *mop;           /* n x GPP__MS_N */
  double *frac;          /* per op: share of its forward selective re-runs */
  bool *rerun;           /* per op: recompute full re-runs its layer */
  double **xrows;        /* xrows[r]: fwd, selective, full re-run (3 x n) */
  double max_layer_saved, max_layer_param;
  gpp_precision prec;    /* the model's (gpp_precision_of_model) */
} gpp__pctx;

int gpp__pctx_init(gpp__pctx *c, const gpp_planner_input *in,
                   const gpp_planner_options *opt, gpp_errctx *err);
void gpp__pctx_free(gpp__pctx *c);
/* Per-op fwd+bwd seconds at r samples (1 <= r <= batch), computed once. */
const double *gpp__times(gpp__pctx *c, uint32_t r);

/* What one stage's cost needs; time is at r = ceil(b / k) samples.  With
 * modes, also ms (GPP__MS_*) and at[j] (GPP__AT_* at r << j samples; at[j]
 * [0] NAN where r << j exceeds the batch). */
typedef struct gpp__stage_sums {
  double time, stat, saved, param, in_bytes, out_bytes;
  bool modes;
  double ms[GPP__MS_N];
  double at[GPP__MAX_TP_LOG2][GPP__AT_N];
  /* Bytes of its largest re-run layer's stash and largest layer's weights,
   * and of its first layer's weights (the DP: the model's largest). */
  double lay_saved, lay_param, first_param;
} gpp__stage_sums;

/* stage_modes.c: the per-op arrays, their rows and sums. */
int gpp__modes_init(gpp__pctx *c);
/* Frees rows[0 .. n) and rows (NULL: nothing). */
void gpp__rows_free(double **rows, uint32_t n);
void gpp__modes_free(gpp__pctx *c);
/* Op i's entries of an xrows row from its forward seconds. */
void gpp__modes_row(gpp__pctx *c, uint32_t i, double fwd, double *x);
/* The stage's GPP__MS_* figures and layer maxima from its own layers, as
 * the engine forms them (ops ascending); rerun[q]: ops[q]'s layer is
 * re-run under recompute full. */
void gpp__modes_stage(const gpp__pctx *c, const uint32_t *ops, uint32_t n,
                      gpp__stage_sums *s, bool *rerun);
/* Adds op i's GPP__MS_* values to ms. */
void gpp__modes_add(const gpp__pctx *c, uint32_t i, double *ms);
/* Fills s->ms, s->at and the layer maxima for the ops (ascending) at
 * r = ceil(b / k) samples, exactly as the engine forms the stage's layers
 * (a no-op without c->modes). */
int gpp__modes_sum(gpp__pctx *c, const uint32_t *ops, uint32_t n_ops,
                   uint32_t r, gpp__stage_sums *s);
/* The xrows row at r samples (computed with gpp__times). */
const double *gpp__xtimes(gpp__pctx *c, uint32_t r);

/* Prefix sums over an op order, for the planners whose stages are ranges
 * of it (GraphPipe's leaf positions, PipeDream's chain): the GPP__MS_*
 * values and, per r, the forward and re-run rows (stage_modes.c). */
typedef struct gpp__mpre {
  const uint32_t *ord;   /* the op at position q; NULL: op q */
  double *ms;            /* (n + 1) x GPP__MS_N */
  double **x;            /* x[r]: 3 x (n + 1), lazily */
} gpp__mpre;
/* The planner's prefix sums of the op times at r samples (same order). */
typedef const double *(*gpp__pre_time_fn)(void *ctx, uint32_t r);
int gpp__mpre_init(gpp__pctx *c, gpp__mpre *p, const uint32_t *ord);
void gpp__mpre_free(const gpp__pctx *c, gpp__mpre *p);
/* s->ms and s->at of positions [L, H) and [L2, H2) at r samples, the
 * layer maxima the model's (upper bounds: a range may cut layers), in two
 * halves: _times the compute at each tensor degree (GPP__AT_TIME, what
 * gpp__stage_tps_floor and gpp__stage_work_floor read) and the layer
 * maxima, setting s->modes; _rest s->ms and the forward and re-run
 * seconds (what memory and the modes' prices read too). */
int gpp__mpre_times(gpp__pctx *c, gpp__pre_time_fn time, void *ctx,
                    uint32_t L, uint32_t H, uint32_t L2, uint32_t H2,
                    uint32_t r, gpp__stage_sums *s);
int gpp__mpre_rest(gpp__pctx *c, gpp__mpre *p, uint32_t L, uint32_t H,
                   uint32_t L2, uint32_t H2, uint32_t r, gpp__stage_sums *s);
int gpp__mpre_range(gpp__pctx *c, gpp__mpre *p, gpp__pre_time_fn time,
                    void *ctx, uint32_t L, uint32_t H, uint32_t L2,
                    uint32_t H2, uint32_t r, gpp__stage_sums *s);

static inline uint32_t gpp__ceil_div(uint32_t a, uint32_t b) {
  return (a + b - 1) / b;
}

double gpp__allreduce(const gpp__pctx *c, double bytes, uint32_t k);
/* A point-to-point transfer of bytes on the average route (planner.h,
 * gpp_planner_comm); the iteration estimate prices transfers as the
 * engine routes them instead (planner/transfer.c). */
double gpp__transfer(const gpp__pctx *c, double bytes);
double gpp__stage_tps(const gpp__pctx *c, const gpp__stage_sums *s,
                      uint32_t b, uint32_t k);
/* The estimate above in the default mode (t = 1, none, none). */
double gpp__stage_tps_plain(const gpp__pctx *c, const gpp__stage_sums *s,
                            uint32_t b, uint32_t k);
/* Per-replica bytes with inflight_samples samples stashed. */
double gpp__stage_mem(const gpp__pctx *c, const gpp__stage_sums *s,
                      uint32_t b, uint32_t k, double inflight_samples);
bool gpp__stage_fits(const gpp__pctx *c, const gpp__stage_sums *s,
                     uint32_t b, uint32_t k, double inflight_samples);
/* The least TPS of the stage over its modes whose memory holds
 * inflight_samples (INFINITY when none does), the mode in *mode and its
 * memory in *mem (either may be NULL).  Without modes: the estimate above
 * when it fits.  With modes, gpp__stage_tps is this at the least stash (b
 * samples) and gpp__stage_fits whether it is finite. */
double gpp__stage_best(const gpp__pctx *c, const gpp__stage_sums *s,
                       uint32_t b, uint32_t k, double inflight_samples,
                       gpp__mode *mode, double *mem);
/* A lower bound on the stage's TPS in any mode (its compute and
 * transfers); without modes, gpp__stage_tps_plain. */
double gpp__stage_tps_floor(const gpp__pctx *c, const gpp__stage_sums *s,
                            uint32_t b, uint32_t k);
/* Whether a tensor group of t GPUs may split a stage on k devices: t
 * divides k and a node holds whole groups (at most 8). */
bool gpp__tensor_fits(const gpp__pctx *c, uint32_t t, uint32_t k);
/* With modes, a lower bound on the seconds per micro-batch of the
 * stage's compute in any mode (min over tensor degrees t of its forward
 * and backward at r * t samples over t), which grows with the stage;
 * without, s->time. */
double gpp__stage_work_floor(const gpp__pctx *c, const gpp__stage_sums *s,
                             uint32_t k);
/* With modes: the most samples in flight that some mode of TPS at most
 * tmax holds in memory (INFINITY: the whole batch; below 0: none). */
double gpp__stage_room(const gpp__pctx *c, const gpp__stage_sums *s,
                       uint32_t b, uint32_t k, double tmax);
/* A mode's cost: one micro-batch's forward and backward on a replica
 * (with the tensor and sharding collectives, without the transfers), the
 * end-of-iteration collective, per-device memory and the TPS. */
/* A mode's seconds per micro-batch: compute (forward and backward, with
 * their collectives), of which fwd the forward; sync, the collective at
 * the end of the iteration; memory per device; TPS. */
typedef struct gpp__mode_cost {
  double compute, fwd, sync, mem, tps;
} gpp__mode_cost;
/* The cost of the stage in mode md; returns the TPS. */
double gpp__mode_eval(const gpp__pctx *c, const gpp__stage_sums *s,
                      uint32_t b, uint32_t k, double inflight_samples,
                      gpp__mode md, gpp__mode_cost *out);
/* A ring of n members whose parameters are those of the group of span
 * GPUs (as gpp__allreduce picks them): steps x ((n-1)/n bytes x sec/byte
 * + (n-1) latency); count collectives of bytes in all add their latency. */
double gpp__ring(const gpp__pctx *c, double bytes, uint32_t n, uint32_t span,
                 double steps, double count);
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
 * number of stages), in-flight counts, per-stage TPS and memory and, with
 * est, the iteration estimate (else NAN: a search that compares
 * bottlenecks does without the replay it costs).  Takes ownership of
 * each spec's ops. */
int gpp__candidate_build(gpp__pctx *c, gpp__stage_spec *specs, uint32_t n,
                         bool gpp, bool est, gpp_planner_candidate *out);
/* Builds cand again from its stages, with the iteration estimate. */
int gpp__candidate_estimate(gpp__pctx *c, gpp_planner_candidate *cand);
void gpp__candidate_free(gpp_planner_candidate *cand);
/* Whether some stage of c runs in a mode other than the default. */
bool gpp__uses_modes(const gpp_planner_candidate *c);
/* Whether the plan of a search with stage modes (found) joins the plan of
 * the search without them as a candidate: it uses a mode, is estimated
 * faster, or is the only one (GraphPipe, PipeDream, Piper). */
bool gpp__modes_plan_kept(const gpp_planner_candidate *modes, bool found,
                          const gpp_planner_candidate *plain,
                          bool found_plain);
/* When rc is 0, appends the plain search's plan (found_plain) and the
 * modes' one where gpp__modes_plan_kept, in that order; frees both.
 * Returns rc or the first error. */
int gpp__add_plans(gpp_planner_result *out, int rc,
                   gpp_planner_candidate *plain, bool found_plain,
                   gpp_planner_candidate *modes, bool found, gpp_errctx *err);
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
