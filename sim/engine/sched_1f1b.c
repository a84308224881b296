/* sched_1f1b.c -- 1F1B (PipeDream-Flush) on the plan's stages taken as a
 * sequence in topological order: stage i of p keeps at most p - i
 * micro-batches in flight (p - i - 1 warm-up forwards, then one forward per
 * backward), and a ready backward runs before a forward. */
#include "sim/engine/engine_internal.h"
#include "sim/engine/sched_internal.h"

int gpp__prepare_1f1b(gpp__eng *e, gpp_errctx *err) {
  (void)err;
  uint32_t p = e->plan->n_stages;
  for (uint32_t s = 0; s < p; s++)
    e->stages[s].cap = p - e->plan->stages[s].order;
  return 0;
}
