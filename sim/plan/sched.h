/* sched.h -- the pipeline schedules a plan may name, as a const table.
 *
 * A schedule decides, for one device whose compute stream is free, which of
 * its ready tasks runs next.  Policies share one shape: a per-stage cap on
 * in-flight micro-batches (forwards done, backwards not yet done) and a
 * preference between ready backwards and forwards, or a fixed per-device
 * order (interleaved).  This table holds what a plan needs to know: the
 * name, the policy's flags and check(), which validates a plan's shape
 * against the schedule at load time, with the plan's file positions.  The
 * engine fills the caps and orders per schedule id (sim/engine/sched_*.c).
 */
#ifndef GPP_SIM_PLAN_SCHED_H
#define GPP_SIM_PLAN_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/common/err.h"

struct gpp_plan;

typedef enum gpp_sched_id {
  GPP_SCHED_GPP,
  GPP_SCHED_GPIPE,
  GPP_SCHED_1F1B,
  GPP_SCHED_INTERLEAVED,
  GPP_SCHED_COUNT
} gpp_sched_id;

typedef struct gpp_sched_type {
  gpp_sched_id id;
  const char *name;
  const char *summary;
  /* Validates the plan's structure; may be NULL. */
  int (*check)(const struct gpp_plan *plan, gpp_errctx *err);
  /* Backwards gated on all of the stage's forwards (GPipe). */
  bool flush_forwards;
  /* Ready forwards run before ready backwards (GPipe); otherwise a ready
   * backward always runs first. */
  bool forward_first;
  /* Runs a fixed per-device order instead of picking (interleaved). */
  bool static_order;
  /* A sequential pipeline: the plan's stages become a chain in topological
   * order that relays every tensor crossing a cut (sim/plan/plan_graph.c). */
  bool sequential;
} gpp_sched_type;

/* NULL-terminated list of schedule names, in table order. */
const char *const *gpp_sched_names(void);
/* NULL when unknown. */
const gpp_sched_type *gpp_sched_find(const char *name);

#endif
