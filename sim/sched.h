/* sched.h -- pipeline schedules as a const table of named policies.
 *
 * A schedule decides, for one device whose compute stream is free, which of
 * its ready tasks runs next.  Policies share one shape: a per-stage cap on
 * in-flight micro-batches (forwards done, backwards not yet done) and a
 * preference between ready backwards and forwards, or a fixed per-device
 * order (interleaved).  check() validates a plan's shape against the
 * schedule at load time, with the plan's file positions.
 */
#ifndef GPP_SIM_SCHED_H
#define GPP_SIM_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/common/err.h"

struct gpp_plan;
struct gpp__eng;

typedef struct gpp_sched_type {
  const char *name;
  const char *summary;
  /* Validates the plan's structure; may be NULL. */
  int (*check)(const struct gpp_plan *plan, gpp_errctx *err);
  /* Fills each stage's in-flight cap (micro-batches), or builds a static
   * per-device order; called once per run. */
  int (*prepare)(struct gpp__eng *e, gpp_errctx *err);
  /* Backwards gated on all of the stage's forwards (GPipe). */
  bool flush_forwards;
  /* Ready forwards run before ready backwards (GPipe); otherwise a ready
   * backward always runs first. */
  bool forward_first;
  /* Runs a fixed per-device order instead of picking (interleaved). */
  bool static_order;
  /* A sequential pipeline: the plan's stages become a chain in topological
   * order that relays every tensor crossing a cut (sim/plan_graph.c). */
  bool sequential;
} gpp_sched_type;

/* NULL-terminated list of schedule names, in table order. */
const char *const *gpp_sched_names(void);
/* NULL when unknown. */
const gpp_sched_type *gpp_sched_find(const char *name);

#endif
