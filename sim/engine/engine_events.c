/* engine_events.c -- the engine's primitive actions, shared by tasks
 * (engine_task.c), communication (engine_comm.c) and the event loop
 * (engine_run.c): recording a task's span, and counting down a task's
 * dependencies, which asks for a dispatch of its device when none are left
 * (a device that finished a task asks for one too). */
#include "sim/engine/engine_internal.h"

int gpp__eng_record(gpp__eng *e, const gpp_task_rec *r) {
  if (!e->opts.record) return 0;
  if (e->n_recs == e->cap_recs)
    GPP_RAISE(e->err, GPP_EINTERNAL, "task record array overflow");
  e->recs[e->n_recs++] = *r;
  return 0;
}

int gpp__request_dispatch(gpp__eng *e, uint32_t dev) {
  gpp__dev *d = &e->devs[dev];
  if (d->running != GPP__NONE || d->dispatch_pending) return 0;
  d->dispatch_pending = true;
  return gpp_evq_push(&e->q, e->now, GPP__PACK(EV_DISPATCH, dev), e->err);
}

int gpp__dep_done(gpp__eng *e, uint32_t task) {
  if (--e->deps_left[task] != 0) return 0;
  return gpp__request_dispatch(e, e->slots[e->task_slot[task]].device);
}
