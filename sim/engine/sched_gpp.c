/* sched_gpp.c -- graph pipeline parallelism: 1F1B on the stage graph.
 *
 * inflight(s) = 1 + max over successors t of inflight(t), sinks 1 (paper
 * notes 1.5).  With per-stage micro-batch sizes the rule is kept in
 * samples -- samples(s) = b_s + max_t samples(t) -- and the cap is
 * ceil(samples(s) / b_s) micro-batches, which is the rule above when every
 * stage has the same size.  A ready backward always runs before a forward.
 */
#include <stdlib.h>

#include "sim/engine/engine_internal.h"
#include "sim/engine/sched_internal.h"

int gpp__prepare_gpp(gpp__eng *e, gpp_errctx *err) {
  const gpp_plan *p = e->plan;
  uint64_t *samples = gpp_calloc(err, p->n_stages, sizeof *samples);
  if (samples == NULL) return err->code;
  for (uint32_t o = p->n_stages; o-- > 0;) {
    uint32_t s = p->topo[o];
    uint64_t most = 0;
    for (uint32_t i = 0; i < p->stages[s].n_out; i++) {
      uint64_t t = samples[p->edges[p->stages[s].out_edges[i]].to];
      if (t > most) most = t;
    }
    uint32_t b = e->stages[s].b;
    samples[s] = b + most;
    e->stages[s].cap = (uint32_t)((samples[s] + b - 1) / b);
  }
  free(samples);
  return 0;
}
