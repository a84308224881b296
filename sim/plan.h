/* plan.h -- a parallelisation plan, loaded and checked against its model.
 *
 * A plan file (DESIGN.md "Plan") names a model, the mini-batch, the default
 * micro-batch, a schedule, the optimizer and precision, and stages: each a
 * set of ops (fnmatch globs over op names) on a list of devices (data-
 * parallel replicas), optionally with its own micro-batch.  Loading assigns
 * every op to exactly one stage, derives the stage graph from op edges
 * (bytes per sample on each edge), orders it topologically and rejects
 * cycles, out-of-range devices and indivisible batches with file:line:col.
 */
#ifndef GPP_SIM_PLAN_H
#define GPP_SIM_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/common/err.h"
#include "sim/common/yaml.h"
#include "sim/model.h"

typedef enum { GPP_OPTIM_SGD, GPP_OPTIM_ADAM } gpp_optimizer;
typedef enum { GPP_PREC_FULL, GPP_PREC_MIXED } gpp_precision;

const char *gpp_optimizer_name(gpp_optimizer o);
const char *gpp_precision_name(gpp_precision p);

typedef struct gpp_plan_stage {
  const char *name;
  const char **patterns; /* as written */
  uint32_t n_patterns;
  uint32_t *ops;         /* op indices, ascending (topological) */
  uint32_t n_ops;
  uint32_t *devices;     /* data-parallel replicas, as listed */
  uint32_t n_devices;
  uint32_t micro_batch;  /* effective */
  uint32_t n_micro;      /* batch / micro_batch */
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
  gpp_precision precision;
  gpp_plan_stage *stages;
  uint32_t n_stages;
  gpp_plan_edge *edges;
  uint32_t n_edges;
  uint32_t *topo;          /* stage indices, topological, ties by plan order */
  uint32_t n_gpus;         /* of the cluster it was checked against */
  gpp_mark schedule_mark;
  /* Owned. */
  gpp_model *own_model;
  gpp_ydoc *doc;
  struct gpp_arena *arena;
} gpp_plan;

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
