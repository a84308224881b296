/* sched_pick.c -- choosing the next task for an idle device.
 *
 * Dynamic policies scan the device's stage replicas: a backward is ready
 * when its dependencies are met (and, for GPipe, all the replica's forwards
 * have run); a forward when its inputs have arrived and the replica has
 * fewer than its stage's cap of micro-batches in flight.  Backwards are
 * tried first (latest stage first) unless the schedule prefers forwards;
 * the optimizer step runs when nothing else is ready.  Static policies run
 * the device's fixed order, waiting for its head.  Before the run, each
 * schedule fills the caps or the orders (gpp__sched_prepare).
 */
#include "sim/engine/engine_internal.h"
#include "sim/engine/sched_internal.h"
#include "sim/plan/sched.h"

static int (*const prepare[GPP_SCHED_COUNT])(gpp__eng *, gpp_errctx *) = {
    [GPP_SCHED_GPP] = gpp__prepare_gpp,
    [GPP_SCHED_GPIPE] = gpp__prepare_gpipe,
    [GPP_SCHED_1F1B] = gpp__prepare_1f1b,
    [GPP_SCHED_INTERLEAVED] = gpp__prepare_interleaved};

int gpp__sched_prepare(gpp__eng *e, gpp_errctx *err) {
  return prepare[e->plan->schedule->id](e, err);
}

static uint32_t ready_bwd(const gpp__eng *e, uint32_t slot) {
  const gpp__slot *s = &e->slots[slot];
  const gpp__stage *st = &e->stages[s->stage];
  if (s->nb >= st->m) return GPP__NONE;
  if (e->plan->schedule->flush_forwards && s->nf < st->m) return GPP__NONE;
  uint32_t t = s->task_base + 2 * s->nb + 1;
  return e->deps_left[t] == 0 ? t : GPP__NONE;
}

static uint32_t ready_fwd(const gpp__eng *e, uint32_t slot) {
  const gpp__slot *s = &e->slots[slot];
  const gpp__stage *st = &e->stages[s->stage];
  if (s->nf >= st->m || s->nf - s->nb >= st->cap) return GPP__NONE;
  uint32_t t = s->task_base + 2 * s->nf;
  return e->deps_left[t] == 0 ? t : GPP__NONE;
}

static uint32_t ready_opt(const gpp__eng *e, uint32_t slot) {
  const gpp__slot *s = &e->slots[slot];
  uint32_t t = s->task_base + 2 * e->stages[s->stage].m;
  return !s->opt_started && e->deps_left[t] == 0 ? t : GPP__NONE;
}

static uint32_t scan_bwd(const gpp__eng *e, const gpp__dev *d) {
  for (uint32_t i = d->n; i-- > 0;) {
    uint32_t t = ready_bwd(e, e->dev_slots[d->first + i]);
    if (t != GPP__NONE) return t;
  }
  return GPP__NONE;
}

static uint32_t scan(const gpp__eng *e, const gpp__dev *d,
                     uint32_t (*ready)(const gpp__eng *, uint32_t)) {
  for (uint32_t i = 0; i < d->n; i++) {
    uint32_t t = ready(e, e->dev_slots[d->first + i]);
    if (t != GPP__NONE) return t;
  }
  return GPP__NONE;
}

static uint32_t pick_static(gpp__eng *e, gpp__dev *d) {
  if (d->order_pos >= d->order_len) return GPP__NONE;
  uint32_t t = d->order[d->order_pos];
  if (e->deps_left[t] != 0) return GPP__NONE;
  d->order_pos++;
  return t;
}

uint32_t gpp__sched_pick(gpp__eng *e, uint32_t dev) {
  gpp__dev *d = &e->devs[dev];
  const gpp_sched_type *ty = e->plan->schedule;
  if (ty->static_order) return pick_static(e, d);
  uint32_t t;
  if (ty->forward_first) {
    t = scan(e, d, ready_fwd);
    if (t == GPP__NONE) t = scan_bwd(e, d);
  } else {
    t = scan_bwd(e, d);
    if (t == GPP__NONE) t = scan(e, d, ready_fwd);
  }
  return t != GPP__NONE ? t : scan(e, d, ready_opt);
}
