/* sched_interleaved.c -- Megatron-LM's interleaved 1F1B with v chunks.
 *
 * The plan has p*v stages, taken as a chain in topological order (the plan
 * loader relays tensors along it, as for every sequential schedule); stage j
 * runs on pipeline rank j mod p, so stage j and stage j+p list the same
 * devices.  Each device runs Megatron's fixed order
 * (megatron/core/pipeline_parallel/schedules.py): W warm-up forwards with
 * W = 2(p-i-1) + (v-1)p (all m*v when m == p), then one forward and one
 * backward alternately, then the remaining backwards; virtual micro-batch x
 * is micro-batch (x / pv)*p + x mod p of chunk (x mod pv)/p, backwards
 * taking the chunks in reverse.  The plan loader has checked the shape
 * (sim/plan/sched_table.c): m is a multiple of p.
 */
#include <stdlib.h>

#include "sim/engine/engine_internal.h"
#include "sim/engine/sched_internal.h"

typedef struct order_ctx {
  const gpp__eng *e;
  uint32_t p, v, rank, replica;
} order_ctx;

static uint32_t virtual_task(const order_ctx *c, uint32_t x, bool bwd) {
  uint32_t pv = c->p * c->v;
  uint32_t chunk = (x % pv) / c->p, mb = (x / pv) * c->p + x % c->p;
  if (bwd) chunk = c->v - 1 - chunk;
  const gpp__stage *st = &c->e->stages[c->e->plan->topo[chunk * c->p + c->rank]];
  return c->e->slots[st->slot_base + c->replica].task_base + 2 * mb + bwd;
}

static void fill_order(const order_ctx *c, uint32_t m, uint32_t *o) {
  uint32_t total = m * c->v, n = 0;
  uint32_t warm = (c->p - c->rank - 1) * 2 + (c->v - 1) * c->p;
  if (m == c->p || warm > total) warm = total;
  for (uint32_t x = 0; x < warm; x++) o[n++] = virtual_task(c, x, false);
  for (uint32_t x = 0; x < total - warm; x++) {
    o[n++] = virtual_task(c, x + warm, false);
    o[n++] = virtual_task(c, x, true);
  }
  for (uint32_t x = total - warm; x < total; x++)
    o[n++] = virtual_task(c, x, true);
  for (uint32_t k = 0; k < c->v; k++) {
    const gpp__stage *st = &c->e->stages[c->e->plan->topo[k * c->p + c->rank]];
    o[n++] = c->e->slots[st->slot_base + c->replica].task_base + 2 * m;
  }
}

int gpp__prepare_interleaved(gpp__eng *e, gpp_errctx *err) {
  const gpp_plan *pl = e->plan;
  uint32_t v = pl->chunks, p = pl->n_stages / v, m = pl->stages[0].n_micro;
  for (uint32_t s = 0; s < pl->n_stages; s++) e->stages[s].cap = m;
  for (uint32_t i = 0; i < p; i++) {
    const gpp_plan_stage *s = &pl->stages[pl->topo[i]];
    for (uint32_t r = 0; r < s->dp; r++) { /* replicas' first GPUs */
      gpp__dev *d = &e->devs[s->devices[r * s->tensor]];
      d->order_len = 2 * m * v + v;
      d->order = gpp_calloc(err, d->order_len, sizeof *d->order);
      if (d->order == NULL) return err->code;
      fill_order(&(order_ctx){e, p, v, i, r}, m, d->order);
    }
  }
  return 0;
}
