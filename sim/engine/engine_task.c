/* engine_task.c -- what happens when a task starts or ends: durations,
 * dependency counting, activation and gradient transfers; a task's
 * collectives and the per-stage gradient synchronisation are in
 * engine_comm.c. */
#include "sim/engine/engine_internal.h"

static double task_seconds(const gpp__eng *e, uint32_t task) {
  const gpp__slot *s = &e->slots[e->task_slot[task]];
  if (gpp__task_is_opt(e, task)) return s->t_opt;
  bool last = gpp__is_last(e, s, gpp__task_k(e, task));
  if (gpp__task_is_bwd(e, task)) return last ? s->t_bwd_last : s->t_bwd;
  return last ? s->t_fwd_last : s->t_fwd;
}

int gpp__task_start(gpp__eng *e, uint32_t dev, uint32_t task) {
  gpp__slot *s = &e->slots[e->task_slot[task]];
  gpp__dev *d = &e->devs[dev];
  if (gpp__task_is_opt(e, task))
    s->opt_started = true;
  else if (gpp__task_is_bwd(e, task))
    s->nb++;
  else
    s->nf++;
  gpp__memory_on_start(e, dev, task);
  d->running = task;
  d->run_start = e->now;
  return gpp__comm_start(e, dev, task, task_seconds(e, task));
}

static int record_compute(gpp__eng *e, uint32_t task, double start) {
  const gpp__slot *s = &e->slots[e->task_slot[task]];
  bool opt = gpp__task_is_opt(e, task), bwd = gpp__task_is_bwd(e, task);
  gpp_task_rec r = {
      .start = start, .end = e->now, .device = s->device, .peer = s->device,
      .stage = (int32_t)s->stage,
      .micro_batch = opt ? -1 : (int32_t)gpp__task_k(e, task),
      .replica = s->replica,
      .kind = opt ? GPP_TASK_OPT : bwd ? GPP_TASK_BWD : GPP_TASK_FWD,
      .task = task, .src_task = GPP__NONE};
  return gpp__eng_record(e, &r);
}

static int record_xfer(gpp__eng *e, const gpp__xfer *x) {
  const gpp__slot *s = &e->slots[e->task_slot[x->dst_task]];
  bool grad = gpp__task_is_bwd(e, x->dst_task);
  gpp_task_rec r = {
      .start = x->start, .end = e->now, .device = x->src, .peer = x->dst,
      .stage = (int32_t)s->stage,
      .micro_batch = (int32_t)gpp__task_k(e, x->dst_task),
      .replica = s->replica, .kind = grad ? GPP_TASK_GRAD : GPP_TASK_ACT,
      .bytes = x->bytes, .task = x->dst_task, .src_task = x->src_task};
  return gpp__eng_record(e, &r);
}

int gpp__xfer_done(gpp__eng *e, uint32_t xi, double t) {
  gpp__xfer *x = &e->xfers[xi];
  e->now = t;
  GPP_TRY(record_xfer(e, x));
  uint32_t dst_task = x->dst_task;
  x->next_free = e->xfer_free;
  e->xfer_free = xi;
  return gpp__dep_done(e, dst_task);
}

/* Moves bytes from src_task's device to dst_task's; same-device moves and
 * the ideal network complete at once. */
static int send(gpp__eng *e, uint32_t src_task, uint32_t dst_task,
                double bytes) {
  uint32_t src = e->slots[e->task_slot[src_task]].device;
  uint32_t dst = e->slots[e->task_slot[dst_task]].device;
  if (src == dst) return gpp__dep_done(e, dst_task);
  uint32_t xi = e->xfer_free;
  if (xi == GPP__NONE)
    GPP_RAISE(e->err, GPP_EINTERNAL, "transfer pool exhausted");
  gpp__xfer *x = &e->xfers[xi];
  e->xfer_free = x->next_free;
  *x = (gpp__xfer){src_task, dst_task, src, dst, bytes, e->now, GPP__NONE};
  e->n_transfers++;
  if (e->net == NULL) return gpp__xfer_done(e, xi, e->now);
  return gpp_net_flow(e->net, e->now, src, dst, bytes,
                      GPP__PACK(TAG_XFER, xi), e->err);
}

/* Sends slot's share of micro-batch k to every overlapping replica of
 * stage `other`; task offset 0 targets forwards, 1 backwards. */
static int send_to_stage(gpp__eng *e, uint32_t task, uint32_t slot,
                         uint32_t k, uint32_t other, uint32_t offset,
                         double bytes_per_sample) {
  const gpp__stage *ot = &e->stages[other];
  gpp__piece_it it = {0, 0, ot->b, ot->d, ot->bl, ot->m};
  gpp__slot_interval(e, slot, k, &it.x, &it.hi);
  uint32_t kk, r, n;
  while (gpp__piece_next(&it, &kk, &r, &n)) {
    uint32_t dst = e->slots[ot->slot_base + r].task_base + 2 * kk + offset;
    GPP_TRY(send(e, task, dst, n * bytes_per_sample));
  }
  return 0;
}

static int fwd_done(gpp__eng *e, uint32_t task, uint32_t slot, uint32_t k) {
  const gpp_plan_stage *ps = &e->plan->stages[e->slots[slot].stage];
  GPP_TRY(gpp__dep_done(e, task + 1));
  for (uint32_t i = 0; i < ps->n_out; i++) {
    const gpp_plan_edge *ed = &e->plan->edges[ps->out_edges[i]];
    GPP_TRY(send_to_stage(e, task, slot, k, ed->to, 0, ed->bytes_per_sample));
  }
  return 0;
}

static int bwd_done(gpp__eng *e, uint32_t task, uint32_t slot, uint32_t k) {
  gpp__slot *s = &e->slots[slot];
  const gpp_plan_stage *ps = &e->plan->stages[s->stage];
  e->devs[s->device].stash -= gpp__slot_stash(e, s, k);
  gpp__memory_after_bwd(e, s->device, s);
  for (uint32_t i = 0; i < ps->n_in; i++) {
    const gpp_plan_edge *ed = &e->plan->edges[ps->in_edges[i]];
    GPP_TRY(send_to_stage(e, task, slot, k, ed->from, 1,
                          ed->bytes_per_sample));
  }
  gpp__stage *st = &e->stages[s->stage];
  if (k + 1 < st->m || ++st->replicas_done < st->d) return 0;
  return gpp__stage_sync(e, s->stage);
}

int gpp__task_end(gpp__eng *e, uint32_t task) {
  uint32_t slot = e->task_slot[task];
  gpp__slot *s = &e->slots[slot];
  gpp__dev *d = &e->devs[s->device];
  d->busy += e->now - d->run_start;
  s->busy += e->now - d->run_start;
  d->running = GPP__NONE;
  e->tasks_done++;
  GPP_TRY(record_compute(e, task, d->run_start));
  int rc = 0;
  if (!gpp__task_is_opt(e, task))
    rc = gpp__task_is_bwd(e, task) ? bwd_done(e, task, slot, gpp__task_k(e, task))
                                   : fwd_done(e, task, slot, gpp__task_k(e, task));
  if (rc != 0) return rc;
  return gpp__request_dispatch(e, s->device);
}
