/* plan.h -- a parallelisation plan, loaded and checked against its model.
 *
 * A plan file (configs/experiments/plans/README.md) names a model, the
 * mini-batch, the default micro-batch, a schedule, the optimizer and
 * precision, and stages: each a set of ops (fnmatch globs over op names)
 * on a list of devices (data-parallel replicas), optionally with its own
 * micro-batch.  Loading assigns every op to exactly one stage, derives the
 * stage graph from op edges (bytes per sample on each edge), orders it
 * topologically and rejects cycles, out-of-range devices and bad keys with
 * file:line:col.
 *
 * The batch need not be a multiple of the micro-batch: a stage runs
 * ceil(batch / micro_batch) micro-batches, the last one smaller (48 with
 * micro-batch 11: 11, 11, 11, 11, 4), so gradient accumulation steps =
 * n_micro.
 *
 * Parallelism inside a stage (keys of a stage; the defaults are not written
 * back by gpp_plan_format, so older plans format unchanged):
 *   tensor: t             (>= 1, default 1) the stage's device list is cut
 *                         into consecutive groups of t devices, each one
 *                         tensor-parallel group (Megatron column/row split);
 *                         n_devices must be a multiple of t and the
 *                         data-parallel degree is dp = n_devices / t.  A
 *                         group's devices other than its first may appear
 *                         in no other stage.
 *   sequence_parallel: b  (default false; needs t > 1) the tensor group's
 *                         all-reduces become reduce-scatter + all-gather.
 *   sharding: none | optimizer | gradients | full   (default none) ZeRO-1,
 *                         ZeRO-2 (FSDP SHARD_GRAD_OP), ZeRO-3 (FSDP
 *                         FULL_SHARD), over the stage's dp replicas.
 *   recompute: none | selective | full   (default none) activation
 *                         checkpointing: full keeps each layer's input and
 *                         re-runs its forward in the backward; selective
 *                         re-runs the attention core (Korthikanti 2022).
 * A top-level `reduce_dtype: fp32 | bf16 | fp16` (default: the weights'
 * dtype) sets the dtype of every gradient collective (all-reduce and
 * reduce-scatter), as FSDP's MixedPrecision.reduce_dtype does: Composer's
 * `mixed_precision: DEFAULT` reduces bf16 gradients in fp32.
 * sim/engine/engine_layers.c defines a "layer" and the work of each,
 * sim/engine/engine_comm.c the collectives.
 */
#ifndef GPP_SIM_PLAN_H
#define GPP_SIM_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/common/err.h"
#include "sim/common/yaml.h"
#include "sim/model/model.h"

typedef enum { GPP_OPTIM_SGD, GPP_OPTIM_ADAM } gpp_optimizer;
/* How the plan trains (the table in configs/experiments/plans/README.md):
 * full, the model file's dtype, no master copy; mixed, the file's 2-byte
 * dtype or fp16, with an fp32 master copy; or a dtype: fp32 and tf32
 * without a master copy, fp16, bf16 and fp8 with one. */
typedef enum {
  GPP_PREC_FULL, GPP_PREC_MIXED, GPP_PREC_FP32, GPP_PREC_TF32,
  GPP_PREC_FP16, GPP_PREC_BF16, GPP_PREC_FP8, GPP_PREC__N
} gpp_precision;

typedef enum {
  GPP_SHARD_NONE, GPP_SHARD_OPTIMIZER, GPP_SHARD_GRADIENTS, GPP_SHARD_FULL
} gpp_sharding;
typedef enum {
  GPP_RECOMPUTE_NONE, GPP_RECOMPUTE_SELECTIVE, GPP_RECOMPUTE_FULL
} gpp_recompute;

const char *gpp_optimizer_name(gpp_optimizer o);
const char *gpp_precision_name(gpp_precision p);
/* -1 when unknown. */
int gpp_precision_from_name(const char *name);
/* The names, NULL-terminated (for gpp_yscalar_enum). */
const char *const *gpp_precision_names(void);
/* The precision to load the model in (gpp_model_load_as): NULL for full. */
const char *gpp_precision_model_dtype(gpp_precision p);
/* Whether it keeps an fp32 master copy of the weights (4 B/parameter). */
bool gpp_precision_master(gpp_precision p);
/* The model's own precision as a plan precision (fp32 .. fp8; a model
 * built without a precision name: mixed when 2-byte, else full). */
gpp_precision gpp_precision_of_model(const gpp_model *m);
const char *gpp_sharding_name(gpp_sharding s);
const char *gpp_recompute_name(gpp_recompute r);

typedef struct gpp_plan_stage {
  const char *name;
  const char **patterns; /* as written */
  uint32_t n_patterns;
  uint32_t *ops;         /* op indices, ascending (topological) */
  uint32_t n_ops;
  uint32_t *devices;     /* as listed: dp groups of `tensor` devices */
  uint32_t n_devices;
  uint32_t micro_batch;  /* effective */
  uint32_t n_micro;      /* ceil(batch / micro_batch) */
  uint32_t last_micro;   /* size of the last micro-batch (<= micro_batch) */
  uint32_t tensor;       /* tensor-parallel degree t */
  uint32_t dp;           /* data-parallel degree, n_devices / tensor */
  bool sequence_parallel;
  gpp_sharding sharding;
  gpp_recompute recompute;
  uint32_t *out_edges, n_out; /* indices into plan->edges */
  uint32_t *in_edges, n_in;
  uint32_t order;        /* position in plan->topo */
  gpp_mark mark;         /* the stage's mapping */
  gpp_mark devices_mark;
} gpp_plan_stage;

/* A stage-graph edge: activations of bytes_per_sample flow from -> to in
 * the forward pass, gradients of the same size to -> from in the backward. */
typedef struct gpp_plan_edge {
  uint32_t from, to;
  double bytes_per_sample;
} gpp_plan_edge;

typedef struct gpp_plan {
  const char *path;
  const char *model_path;  /* resolved */
  const gpp_model *model;
  uint32_t batch, micro_batch;
  const struct gpp_sched_type *schedule;
  uint32_t chunks;         /* interleaved: model chunks per device */
  gpp_optimizer optimizer;
  gpp_precision precision;  /* without the key: the model's */
  bool precision_given;     /* the plan has a precision key */
  int reduce_dtype;         /* gradients' reduction dtype; -1: the weights' */
  gpp_plan_stage *stages;
  uint32_t n_stages;
  gpp_plan_edge *edges;
  uint32_t n_edges;
  uint32_t *topo;          /* stage indices, topological, ties by plan order */
  uint32_t n_gpus;         /* of the cluster it was checked against */
  gpp_mark schedule_mark;
  gpp_mark batch_mark;     /* where batch was read, for limits on the work */
  /* Owned. */
  gpp_model *own_model;
  gpp_ydoc *doc;
  struct gpp_arena *arena;
} gpp_plan;

/* The plan's reduce_dtype key (fp32, bf16, fp16), NULL when absent. */
const char *gpp_reduce_dtype_name(const gpp_plan *p);
/* Bytes of the reduced gradients per byte of weights, for weights of
 * param_count parameters in param_bytes: 1 without reduce_dtype. */
double gpp_plan_grad_scale(const gpp_plan *p, double param_count,
                           double param_bytes);

/* Loads path, its model (resolved against the working directory, then the
 * plan's directory, then the source tree) and checks it for a cluster of
 * n_gpus GPUs. */
int gpp_plan_load(const char *path, uint32_t n_gpus, gpp_plan **out,
                  gpp_errctx *err);
/* The same from text, against a model the caller owns (the `model` key is
 * then optional and not loaded).  name is used in messages. */
int gpp_plan_load_string(const char *name, const char *text,
                         const gpp_model *model, uint32_t n_gpus,
                         gpp_plan **out, gpp_errctx *err);
void gpp_plan_destroy(gpp_plan *p);

/* The effective plan (defaults filled in) as YAML, allocated in the plan's
 * arena; NULL with err set on failure. */
const char *gpp_plan_format(gpp_plan *p, gpp_errctx *err);

#endif
