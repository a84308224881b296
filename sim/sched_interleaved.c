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
 * taking the chunks in reverse.  m must be a multiple of p.
 */
#include <stdlib.h>

#include "sim/engine_internal.h"
#include "sim/plan.h"
#include "sim/sched_internal.h"

static bool same_devices(const gpp_plan_stage *a, const gpp_plan_stage *b) {
  if (a->n_devices != b->n_devices) return false;
  for (uint32_t i = 0; i < a->n_devices; i++)
    if (a->devices[i] != b->devices[i]) return false;
  return true;
}

static int check_stage(const gpp_plan *pl, uint32_t j, uint32_t p,
                       gpp_errctx *err) {
  const gpp_plan_stage *s = &pl->stages[pl->topo[j]];
  const gpp_plan_stage *r = &pl->stages[pl->topo[j % p]];
  if (s->micro_batch != pl->micro_batch)
    GPP_RAISE_AT(err, GPP_EINVAL, &s->mark, "interleaved: stage '%s' has "
                 "its own micro_batch; all stages must use %u", s->name,
                 pl->micro_batch);
  if (!same_devices(s, r))
    GPP_RAISE_AT(err, GPP_EINVAL, &s->devices_mark, "interleaved: stage "
                 "'%s' (chunk %u of rank %u) must list the devices of stage "
                 "'%s'", s->name, j / p, j % p, r->name);
  for (uint32_t i = 0; i < p && j < p; i++)
    for (uint32_t a = 0; i != j && a < s->n_devices; a++)
      for (uint32_t b = 0; b < pl->stages[pl->topo[i]].n_devices; b++)
        if (s->devices[a] == pl->stages[pl->topo[i]].devices[b])
          GPP_RAISE_AT(err, GPP_EINVAL, &s->devices_mark, "interleaved: "
                       "device %u serves two pipeline ranks", s->devices[a]);
  return 0;
}

static int check(const gpp_plan *pl, gpp_errctx *err) {
  uint32_t v = pl->chunks, n = pl->n_stages;
  if (n % v != 0)
    GPP_RAISE_AT(err, GPP_EINVAL, &pl->schedule_mark, "interleaved with %u "
                 "chunks needs a multiple of %u stages, not %u", v, v, n);
  uint32_t p = n / v, m = pl->stages[0].n_micro;
  if (m % p != 0)
    GPP_RAISE_AT(err, GPP_EINVAL, &pl->schedule_mark, "interleaved: %u "
                 "micro-batches is not a multiple of the %u pipeline ranks",
                 m, p);
  for (uint32_t j = 0; j < n; j++) GPP_TRY(check_stage(pl, j, p, err));
  return 0;
}

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

static int prepare(gpp__eng *e, gpp_errctx *err) {
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

const gpp_sched_type gpp__sched_interleaved = {
    .name = "interleaved",
    .summary = "Megatron interleaved 1F1B with `chunks` stages per device",
    .check = check,
    .prepare = prepare,
    .static_order = true,
    .sequential = true,
};
