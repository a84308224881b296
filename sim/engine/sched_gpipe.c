/* sched_gpipe.c -- GPipe: every forward of the iteration, then every
 * backward; no cap on in-flight micro-batches (all m are stashed). */
#include "sim/engine/engine_internal.h"
#include "sim/engine/sched_internal.h"

int gpp__prepare_gpipe(gpp__eng *e, gpp_errctx *err) {
  (void)err;
  for (uint32_t s = 0; s < e->plan->n_stages; s++)
    e->stages[s].cap = e->stages[s].m;
  return 0;
}
