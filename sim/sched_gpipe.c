/* sched_gpipe.c -- GPipe: every forward of the iteration, then every
 * backward; no cap on in-flight micro-batches (all m are stashed). */
#include "sim/engine_internal.h"
#include "sim/sched_internal.h"

static int prepare(gpp__eng *e, gpp_errctx *err) {
  (void)err;
  for (uint32_t s = 0; s < e->plan->n_stages; s++)
    e->stages[s].cap = e->stages[s].m;
  return 0;
}

const gpp_sched_type gpp__sched_gpipe = {
    .name = "gpipe",
    .summary = "all forwards, then all backwards",
    .prepare = prepare,
    .flush_forwards = true,
    .forward_first = true,
    .sequential = true,
};
