/* planner.h -- partition planners: GraphPipe, PipeDream and Piper.
 *
 * A planner turns a model (op DAG), a mini-batch, a GPU count, a per-device
 * memory budget, per-op costs and an affine communication model into
 * stages: sets of ops, each on a number of data-parallel replicas, with a
 * micro-batch size and a schedule (gpp for GraphPipe, 1f1b for the
 * sequential baselines).  Every planner reports its own estimate of the
 * bottleneck time per sample (TPS) and of the iteration time (the
 * engine's schedule replayed on the stages, one server per stage, with
 * the transfers priced as the engine routes them and the all-reduce and
 * optimizer step that end last: `(m + D - 1) * b * TPS` on uniform
 * stages without weights or transfers; planner/candidate.c and
 * planner/replay.c), its search time and the states it explored.
 * Planners are a const type table selected by name (gpp_planner_find).
 */
#ifndef GPP_PLANNER_PLANNER_H
#define GPP_PLANNER_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/common/err.h"
#include "sim/common/limits.h"
#include "sim/model/model.h"
#include "sim/plan/plan.h"

/* Data-parallel group sizes modelled for all-reduce: 1, 2, 4, ... 2^31. */
#define GPP_PLANNER_MAX_LOG2 32
/* Piper's hard limit on the number of downsets (msr-fiddle/piper). */
#define GPP_PIPER_IDEALS_LIMIT 40000u

/* Seconds of forward and backward work of op for a micro-batch of b
 * samples (b >= 1); returns 0 or a negative gpp_err. */
typedef int (*gpp_op_time_fn)(void *ctx, uint32_t op, uint32_t b,
                              double *fwd, double *bwd, gpp_errctx *err);

/* Affine communication: a point-to-point transfer of s bytes takes
 * p2p_latency + s * p2p_sec_per_byte; a ring all-reduce over 2^j GPUs uses
 * the latency and seconds per byte of its slowest ring hop.  Where the
 * plan's placement is known (the iteration estimate, planner/transfer.c),
 * the bytes a GPU's link into its node's switch carries (nodes of
 * gpus_per_node GPUs) cost the intra-node route's p2p_intra_latency +
 * s * p2p_intra_sec_per_byte. */
typedef struct gpp_planner_comm {
  double p2p_latency, p2p_sec_per_byte;
  uint32_t gpus_per_node;
  double p2p_intra_latency, p2p_intra_sec_per_byte;
  /* Between two nodes: the mean latency and seconds per byte of the
   * routes from node 1's GPUs to node 0's, and how many GPUs of a node
   * share the link their inter-node routes narrow to (a NIC; 0: unknown,
   * or a single node).  The iteration estimate prices the transfers
   * between stages by the bytes each GPU and NIC carries (candidate.c). */
  double p2p_inter_latency, p2p_inter_sec_per_byte;
  uint32_t gpus_per_nic;
  /* A group of more than gpus_per_node GPUs that is not whole nodes
   * runs as a flat ring whose slowest hop crosses nodes: these (0 when
   * gpus_per_node is). */
  double ring_span_latency, ring_span_sec_per_byte;
  double ar_latency[GPP_PLANNER_MAX_LOG2];
  double ar_sec_per_byte[GPP_PLANNER_MAX_LOG2];
} gpp_planner_comm;

typedef struct gpp_planner_input {
  const gpp_model *model;
  const char *model_path;  /* written into the plan; NULL: model->path */
  uint32_t batch;          /* samples per iteration */
  uint32_t n_gpus;
  double mem_bytes;        /* per device; <= 0 means unlimited */
  gpp_op_time_fn op_time;
  void *op_time_ctx;
  gpp_planner_comm comm;   /* all zero: free communication */
  /* The GPU, for the optimizer step in the iteration estimate
   * (gpp_optimizer_step_seconds); NULL: the step is left out. */
  const struct gpp_gpu_spec *gpu;
} gpp_planner_input;

/* Called between search steps with the fraction done (0..1). */
typedef void (*gpp_planner_progress_fn)(void *ctx, const char *planner,
                                        double fraction);

typedef struct gpp_planner_options {
  bool per_stage_micro_batch; /* GraphPipe: each stage picks its own size */
  uint32_t micro_batch;       /* 0: search powers of two dividing batch */
  uint32_t max_stages;        /* 0: no limit */
  uint32_t max_stage_devices; /* 0: no limit */
  gpp_optimizer optimizer;    /* state bytes, as the engine counts them */
  double tps_tolerance;       /* binary search stops at hi-lo <= tol*hi */
  uint32_t ideals_limit;      /* Piper */
  bool exhaustive;            /* no pruning (GraphPipe: memo per probe;
                                 PipeDream, Piper: the reference DP) */
  /* GraphPipe prices each stage's tensor degree, sharding and recompute
   * (planner/internal.h); true keeps every stage at t = 1, none, none. */
  bool no_stage_modes;
  gpp_planner_progress_fn progress;
  void *progress_ctx;
} gpp_planner_options;

/* Defaults: one micro-batch size searched, Adam, tolerance 1e-3, Piper's
 * limit of 40,000 ideals.  Plans train in the model's precision (load the
 * model with gpp_model_load_as for another). */
void gpp_planner_options_default(gpp_planner_options *o);

typedef struct gpp_planner_stage {
  uint32_t *ops, n_ops;   /* op indices, ascending */
  uint32_t first_device, n_devices;
  uint32_t micro_batch;
  uint32_t inflight;      /* micro-batches, from the stage graph */
  double tps;             /* seconds per sample of this stage */
  double mem_bytes;       /* per device: static + stash + workspace */
  uint32_t tensor;        /* tensor-parallel degree (1: none) */
  gpp_sharding sharding;
  gpp_recompute recompute;
} gpp_planner_stage;

/* One complete plan with the planner's own estimate. */
typedef struct gpp_planner_candidate {
  uint32_t micro_batch;   /* the default (largest stage size) */
  const char *schedule;   /* "gpp" or "1f1b" */
  gpp_planner_stage *stages;
  uint32_t n_stages;
  uint32_t depth;         /* stages on the longest path (1f1b: n_stages) */
  uint32_t devices_used;
  double tps;             /* bottleneck seconds per sample */
  double iteration;       /* estimate, seconds (planner/candidate.c) */
} gpp_planner_candidate;

typedef struct gpp_planner_result {
  const char *planner;
  gpp_planner_candidate *cands; /* best estimate first */
  uint32_t n_cands;
  double search_seconds;
  uint64_t states;        /* GraphPipe: DP states; baselines: stages priced */
  uint32_t sp_added_pairs;/* GraphPipe: dependencies added by sp-ization */
} gpp_planner_result;

void gpp_planner_result_free(gpp_planner_result *r);

typedef struct gpp_planner_type {
  const char *name;
  const char *summary;
  int (*run)(const gpp_planner_input *in, const gpp_planner_options *opt,
             gpp_planner_result *out, gpp_errctx *err);
} gpp_planner_type;

extern const gpp_planner_type gpp_planner_graphpipe;
extern const gpp_planner_type gpp_planner_pipedream;
extern const gpp_planner_type gpp_planner_piper;

/* The planner with that name; an unknown name raises GPP_EINVAL listing the
 * valid ones. */
int gpp_planner_find(const char *name, const gpp_planner_type **out,
                     gpp_errctx *err);
/* NULL-terminated list of planner names. */
const char *const *gpp_planner_names(void);

/* Runs the planner: validates the input, fills out (cleared first) and
 * measures the search time.  No plan within memory: GPP_ENOPLAN. */
int gpp_planner_run(const gpp_planner_type *t, const gpp_planner_input *in,
                    const gpp_planner_options *opt, gpp_planner_result *out,
                    gpp_errctx *err);

/* Fits in->comm-style parameters from a cluster's routes: point-to-point
 * latency and seconds per byte by least squares over the routes between
 * GPU 0 and every other GPU at message sizes 1 KiB .. 1 GiB; all-reduce
 * parameters per power-of-two group of consecutive GPUs among the first
 * n_gpus (0: all), the groups a search on n_gpus may use, so that the fit
 * reads the route tables of those GPUs only and `--gpus 64` costs the same
 * on a 16,384-GPU file as on a 64-GPU one. */
struct gpp_cluster;
int gpp_planner_comm_fit(struct gpp_cluster *c, uint32_t n_gpus,
                         gpp_planner_comm *out, gpp_errctx *err);

/* The plan file (configs/experiments/plans/README.md) for a candidate, written atomically to
 * path, or as text into a malloc'ed string (*text, caller frees). */
int gpp_planner_write_plan(const gpp_planner_input *in,
                           const gpp_planner_options *opt,
                           const gpp_planner_result *r,
                           const gpp_planner_candidate *c, const char *path,
                           gpp_errctx *err);
int gpp_planner_format_plan(const gpp_planner_input *in,
                            const gpp_planner_options *opt,
                            const gpp_planner_result *r,
                            const gpp_planner_candidate *c, char **text,
                            gpp_errctx *err);

#endif
