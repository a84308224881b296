/* sweep.h -- what-if sweeps: an experiment file expands into points (a
 * model, a cluster, a GPU count, a batch, planner settings); each point is
 * planned and simulated (planner/study.h) and appended as one row to an
 * HDF5 results file.  `gppsim sweep` and `gppsim reproduce` both run
 * experiments through this interface.
 *
 * Experiment file (YAML; paths are relative to the experiment file, then
 * to the repository root):
 *
 *   name: a100-vs-h100                 # required, [A-Za-z0-9_.-]+
 *   description: free text
 *   models:                            # one or more; a label names each
 *     - configs/models/mmt.yaml        #   label defaults to the model name
 *     - {path: configs/models/candle_uno.yaml, label: candle4,
 *        set: {branches: 4},           #   model parameters (--set)
 *        precision: bf16}              #   trained in (sim/plan-format.md;
 *                                      #   default: the model file's)
 *   clusters:                          # one or more base clusters
 *     - configs/clusters/dgx-a100.yaml #   (a path, or an inline mapping)
 *   grid:                              # cartesian product of these lists
 *     gpus: [64, 128, 256, 512]        #   GPUs used (cluster resized: see below)
 *     batch: [512]
 *     planner: [graphpipe, pipedream]  #   planners
 *     micro_batch: [0]                 #   0: the planner searches it
 *     max_stage_devices: [1]           #   data-parallel limit (0: none)
 *     model.branches: [2, 4, 8, 16]    #   model.<param>: a model parameter
 *     cluster.gpu: [a100-sxm-80gb, h100-sxm-80gb]   # cluster.<key>: any
 *     cluster.inter_node.nic_bandwidth: [200 Gb/s]  #   cluster field
 *     cluster.price_per_gpu_hour: [1.8]
 *   points:                            # or/and listed points: mappings
 *     - {gpus: 8, planner: piper}      #   of the same keys
 *   compare: each                      # each: one row per planner;
 *                                      # best: one row, fastest planner
 *   refine: 0                          # simulate the K best candidates
 *   samples_to_train: 1e9              # for time_to_train_s
 *   train_tokens: 1e12                 # for time/cost_to_train_tokens
 *   replications: 1                    # > 1 with jitter: mean and CI
 *   jitter: none                       # or profile: kernel times drawn
 *   seed: 1                            #   from the profile's p10..p90
 *
 * Points are numbered in expansion order: listed points first, then the
 * grid with the LAST key varying fastest, models outermost, then clusters
 * (for each model, for each cluster: every listed point in order; then
 * for each model, for each cluster: the grid).  A listed point's values
 * may be lists too (a small product of its own).  `batch` is required in
 * the grid or in every listed point; `gpus` defaults to the base cluster,
 * `planner` to graphpipe.  With compare: best, `planner` is not a product
 * key: its values are the planners tried at each point.  With `gpus`
 * larger than the base cluster, the cluster's `nodes` is set to
 * ceil(gpus / gpus_per_node); a smaller count uses the first GPUs.
 * Rows of points without a plan (no_plan) or whose planner or replay
 * failed (error, with the message) hold NaN figures.  Every distinct
 * model and cluster of the points is built at load, so a bad input (a
 * cluster override the cluster rejects, a model parameter out of range)
 * fails before any point runs, at its file:line:column in the experiment
 * file.
 *
 * While it runs, rows go to OUT.partial (flushed after each point; the
 * file is written whole and renamed into place before the first point,
 * so it is a valid sweep file from its first byte on disk); OUT is
 * written in point order at the end and the working file removed.
 * --resume starts from OUT.partial (one that cannot be read counts as
 * empty, with a warning), or from a finished OUT.
 *
 * Results file (HDF5):
 *   /experiment        attributes: name, n_points; string dataset text:
 *                      the experiment file's text (a resumed sweep must
 *                      match it)
 *   /points            compound table, one row per finished point, in
 *                      point order (a resumed or MPI sweep writes exactly
 *                      the rows of a single uninterrupted run):
 *     point (u32), model (str), cluster (str), gpu (str), planner (str),
 *     gpus, batch, micro_batch (u32), params (str: "k=v,..." of the point's
 *     grid values; the planner's micro_batch), status (str: ok | no_plan
 *     | oom | error),
 *     message (str), throughput (samples/s), iteration_s, bubble,
 *     peak_mem_bytes (max over devices), n_stages, depth (u32),
 *     planner_estimate_s, cost_per_million_samples (currency units; NaN
 *     without a price), time_to_train_s, throughput_ci_lo/hi (95% CI over
 *     replications; equal to throughput with 1), replications (u32),
 *     precision (str: the dtype the model trained in), tokens_per_s
 *     (samples/s times the model's tokens per sample:
 *     gpp_model_tokens_per_sample), mfu and hfu (fractions: the model's
 *     FLOPs per second per used GPU, HFU with recomputation, over the GPU's
 *     peak at the matmuls' dtype; sim/engine.h), time_to_train_tokens_s
 *     and cost_to_train_tokens (train_tokens at tokens_per_s; the cost at
 *     the cluster's price_per_gpu_hour times the point's GPUs; NaN without
 *     train_tokens or a price)
 *   /plans/<point>     the chosen plan's text (string dataset)
 *   /timing            table (point, search_s, wall_s): wall-clock figures
 *                      kept apart so /points is bit-identical across runs
 */
#ifndef GPP_SIM_SWEEP_H
#define GPP_SIM_SWEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/common/err.h"
#include "sim/common/yaml.h"
#include "topology/topology.h"

typedef struct gpp_sweep gpp_sweep;   /* a loaded, expanded experiment */

int gpp_sweep_load(const char *path, gpp_sweep **out, gpp_errctx *err);
void gpp_sweep_destroy(gpp_sweep *s);
uint32_t gpp_sweep_n_points(const gpp_sweep *s);
const char *gpp_sweep_name(const gpp_sweep *s);
/* The experiment's `description` ("" when it has none). */
const char *gpp_sweep_description(const gpp_sweep *s);

/* Called after each finished point (done of total, the point's label). */
typedef void (*gpp_sweep_progress_fn)(void *ctx, uint32_t done,
                                      uint32_t total, const char *label);

typedef struct gpp_sweep_opts {
  bool resume;          /* keep the finished rows of an existing file */
  gpp_sweep_progress_fn progress;
  void *progress_ctx;
} gpp_sweep_opts;

/* Runs every point not yet in `out` and appends its row.  Under MPI
 * (several ranks) every rank takes points dynamically from a shared counter
 * and rank 0 writes the file; the call is collective, and every rank
 * returns rank 0's status and message. */
int gpp_sweep_run(gpp_sweep *s, const char *out, const gpp_sweep_opts *o,
                  gpp_errctx *err);

/* MPI, when built with it and launched by mpirun or srun (the launcher's
 * environment names a world size): initialises MPI and returns this
 * process's rank.  Otherwise MPI is never touched and the rank is 0. */
int gpp_sweep_mpi_begin(int *argc, char ***argv);
void gpp_sweep_mpi_end(void);

/* The cluster of root (a cluster file's document) with its `gpu` replaced
 * (NULL: kept) and, when it has fewer than gpus GPUs, its `nodes` raised to
 * hold them, as sweeps resize a cluster for a point. */
int gpp_cluster_resized(gpp_ynode root, const char *gpu, uint32_t gpus,
                        gpp_cluster **out, gpp_errctx *err);

#endif
