/* engine.h -- the discrete-event replay of one training iteration of a plan.
 *
 * The engine expands a plan into tasks -- F(stage, micro-batch) and
 * B(stage, micro-batch) per data-parallel replica, activation and gradient
 * transfers on stage-graph edges, one gradient all-reduce per stage and one
 * optimizer step per replica -- and runs them: each GPU's compute stream
 * runs one task at a time, chosen by the plan's schedule among its ready
 * tasks; transfers and collectives go through the flow network
 * (topology/network.h), or complete instantly with `ideal_network`.
 *
 * A stage on n devices with tensor degree t has d = n/t data-parallel
 * replicas, replica r on the tensor group devices[r*t .. r*t+t); the
 * group's first GPU runs its tasks and the others mirror its compute and
 * memory (their timing is identical by symmetry).  Tensor-parallel and
 * sharding collectives run per layer inside F and B (engine_comm.c).
 *
 * A replica r of a stage on d replicas holds samples [r*b/d, (r+1)*b/d) of
 * each of the stage's micro-batches (b the micro-batch's size, smaller for
 * the last one when the batch is not a multiple); a transfer goes from every producer
 * replica to every consumer replica whose samples overlap, carrying the
 * overlap times the edge's bytes per sample, so stages of different
 * data-parallel degrees or micro-batch sizes split and gather exactly.
 */
#ifndef GPP_SIM_ENGINE_H
#define GPP_SIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels_profile/cost.h"
#include "sim/common/err.h"
#include "sim/plan/plan.h"
#include "topology/topology.h"

#define GPP_TASK_KIND_MAP(XX)                                                 \
  XX(FWD, "forward")                                                          \
  XX(BWD, "backward")                                                         \
  XX(OPT, "optimizer")                                                        \
  XX(ACT, "activation")                                                       \
  XX(GRAD, "gradient")                                                        \
  XX(ALLREDUCE, "allreduce")                                                   \
  XX(ALLGATHER, "allgather")                                                  \
  XX(REDUCESCATTER, "reducescatter")

typedef enum {
#define GPP__TK(name, str) GPP_TASK_##name,
  GPP_TASK_KIND_MAP(GPP__TK)
#undef GPP__TK
  GPP_TASK__NKINDS
} gpp_task_kind;

const char *gpp_task_kind_name(gpp_task_kind k);

/* One executed task.  Compute tasks: device == peer.  Transfers: device is
 * the sender, peer the receiver, src_task/dst_task the compute tasks they
 * connect.  All-reduce: device is the stage's first replica's GPU.  Per-
 * layer collectives of tensor parallelism and sharding (all three
 * collective kinds, micro_batch >= 0): device is the replica's first GPU,
 * task the compute task they belong to; a sharding collective is issued by
 * each of the dp replicas with bytes / dp (so they sum to the layer's). */
typedef struct gpp_task_rec {
  double start, end;
  uint32_t device, peer;
  int32_t stage, micro_batch; /* micro_batch -1 for OPT and ALLREDUCE */
  uint32_t replica;
  uint32_t kind;              /* gpp_task_kind */
  double bytes;               /* transfers and all-reduce */
  uint32_t task;              /* compute: its id; transfers: dst_task */
  uint32_t src_task;          /* transfers: the producing task's id */
} gpp_task_rec;

typedef struct gpp_device_result {
  bool used;
  double busy;          /* seconds of compute */
  double static_mem;    /* weights + grads + optimizer state + master */
  double peak_mem;      /* static + peak of stash + workspace */
  double peak_stash;    /* bytes of stashed activations at the peak */
  uint32_t n_stages;    /* stage replicas hosted */
} gpp_device_result;

typedef struct gpp_stage_result {
  double t_fwd, t_bwd, t_opt; /* per micro-batch, replica 0 */
  double busy_fraction;       /* mean over replicas of (F+B)/iteration */
  uint32_t peak_inflight;     /* max over replicas, micro-batches */
  uint32_t cap;               /* the schedule's in-flight cap */
  double allreduce_bytes;
} gpp_stage_result;

typedef struct gpp_result {
  double iteration_time, samples_per_s, bubble_fraction;
  /* Throughput a buyer reads: tokens per second (samples/s times the
   * model's tokens per sample, gpp_model_tokens_per_sample); the model's
   * FLOPs per iteration (forward and backward, GEMMs as Megatron counts
   * them) and those the GPUs run (plus recomputation); the peak FLOP/s
   * of one GPU at the dtype the model's matmuls run in; MFU and HFU:
   * those FLOPs per second per used GPU over that peak. */
  double tokens_per_sample, tokens_per_s;
  double model_flops, hw_flops, peak_flops, mfu, hfu;
  uint32_t n_devices, n_used;
  gpp_device_result *devices;
  uint32_t n_stages;
  gpp_stage_result *stages;
  double link_bytes[GPP_LINK__NCLASSES];
  uint32_t cost_sources[GPP_COST__NSOURCES];
  uint64_t events;          /* heap events + network completions */
  uint64_t n_compute_tasks, n_transfers;
  bool oom;                 /* some device exceeds its memory */
  uint32_t oom_device;
  double oom_shortfall;     /* bytes */
  double loop_seconds;      /* wall time of the event loop (not written) */
  gpp_task_rec *tasks;      /* with opts.record, in completion order */
  size_t n_tasks;
} gpp_result;

typedef struct gpp_engine_opts {
  bool allow_oom;     /* report OOM in the result instead of failing */
  bool ideal_network; /* transfers and collectives take no time */
  bool record;        /* keep the per-task records */
  /* The most tasks the plan may expand into; 0 means GPP_MAX_TASKS
   * (sim/common/limits.h).  A plan beyond it is refused before any
   * allocation, at its `batch` line. */
  uint64_t max_tasks;
  /* Called from the event loop every 2^16 events with the tasks done and
   * the total, so a command can report progress on long runs. */
  void (*progress)(void *ctx, uint32_t done, uint32_t total);
  void *progress_ctx;
} gpp_engine_opts;

/* Runs one iteration.  cluster supplies the GPU spec and n_gpus, and the
 * network unless opts->ideal_network.  The plan must have been checked for
 * cluster->n_gpus.  Fails with GPP_EOOM naming the device and the shortfall
 * when a device's peak exceeds its memory (unless allow_oom). */
int gpp_engine_run(const gpp_plan *plan, const gpp_costs *costs,
                   gpp_cluster *cluster, const gpp_engine_opts *opts,
                   gpp_result **out, gpp_errctx *err);
void gpp_result_destroy(gpp_result *r);

/* How the engine splits activations between two stages (engine_setup.c):
 * replica r of a stage that splits micro-batches of b samples over d
 * replicas holds samples [r b / d, (r + 1) b / d) of its first one, and
 * sends each replica of the other stage (micro-batches of b2 over d2) that
 * holds some of them one piece: visit(ctx, replica, samples) for each, in
 * order.  The planners' iteration estimate prices transfers by them. */
typedef void (*gpp_piece_fn)(void *ctx, uint32_t replica, uint32_t samples);
void gpp_engine_pieces(uint32_t b, uint32_t d, uint32_t r, uint32_t b2,
                       uint32_t d2, gpp_piece_fn visit, void *ctx);

/* Seconds of the optimizer step over param_bytes of weights (param_count
 * parameters) on g, its state divided by divisor (tensor degree times the
 * sharded data-parallel degree; 1: none): memory-bound, it reads the
 * gradients, reads and writes the weights, the optimizer state and the
 * master copy at the GPU's HBM bandwidth, plus one launch (sim/engine/memory.c).
 * The planners' iteration estimate uses it too. */
double gpp_optimizer_step_seconds(const gpp_gpu_spec *g, gpp_optimizer opt,
                                  gpp_precision prec, double param_bytes,
                                  double param_count, double divisor);

/* The modes of a stage, as the engine simulates them, for the planners
 * (which must not copy the formulas).  Per-device static bytes of one
 * stage replica holding param_bytes of weights (param_count parameters)
 * under tensor degree t and sharding sh over d data-parallel replicas:
 * weights, gradients, optimizer state and master copy, each divided by t
 * and, as far as sh shards it, by d (sim/engine/memory.c). */
double gpp_stage_static_bytes(gpp_optimizer opt, gpp_precision prec,
                              double param_bytes, double param_count,
                              uint32_t t, uint32_t d, gpp_sharding sh);
/* The optimizer step of such a replica's shard of the state on one device
 * (gpp_optimizer_step_seconds divided as the state is). */
double gpp_stage_optimizer_seconds(const gpp_gpu_spec *g, gpp_optimizer opt,
                                   gpp_precision prec, double param_bytes,
                                   double param_count, uint32_t t, uint32_t d,
                                   gpp_sharding sh);
/* Whether two ops, consecutive in a stage, belong to one layer: their
 * names share the prefix before the last '.' (sim/engine/engine_layers.c). */
bool gpp_same_layer(const char *a, const char *b);
/* Bytes per sample of the distinct outputs of ops outside the layer
 * ops[first .. first + n) that its ops read: the layer's input. */
double gpp_layer_input_bytes(const gpp_model *m, const uint32_t *ops,
                             uint32_t first, uint32_t n);
/* Selective recomputation of op: the score bytes per sample an attention
 * op drops, and in *frac the share of its forward its backward re-runs
 * (0 and 0 for other ops and for attention that saves no scores). */
double gpp_selective_drop(const gpp_op *op, double *frac);
/* A layer's stashed bytes per sample on one device of its tensor group of
 * t, given its input in_bytes and what it keeps without recompute full
 * (stash: its saved bytes less the selective drops): recompute full keeps
 * min(input, stash) and sets *rerun when that is less (the backward re-runs
 * the layer's forward); without sequence parallelism the kept input is
 * replicated on the group, the rest split t ways. */
double gpp_layer_stash(double in_bytes, double stash, gpp_recompute rc,
                       uint32_t t, bool sequence_parallel, bool *rerun);

/* Time (seconds) to train `tokens` tokens at tokens_per_s, and its cost:
 * that time in hours times price_per_gpu_hour times gpus (the GPUs rented);
 * NaN when tokens or the price is not positive. */
void gpp_train_time_cost(double tokens_per_s, double tokens,
                         double price_per_gpu_hour, uint32_t gpus,
                         double *seconds, double *cost);

#endif
