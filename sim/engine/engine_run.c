/* engine_run.c -- the event loop and the public entry point.
 *
 * The loop interleaves two clocks: the engine's heap (task ends and
 * dispatch decisions) and the flow network's next internal event.  On a
 * tie the network goes first, so data that arrives at time t is visible to
 * every dispatch decision taken at t.  Dispatches are themselves events,
 * pushed after the completions that caused them, so a device chooses among
 * everything that became ready at the same instant.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/clock.h"
#include "sim/engine/engine_internal.h"
#include "sim/plan/sched.h"

static const char *const kind_names[] = {
#define GPP__TK(name, str) str,
    GPP_TASK_KIND_MAP(GPP__TK)
#undef GPP__TK
};

const char *gpp_task_kind_name(gpp_task_kind k) {
  return (unsigned)k < GPP_TASK__NKINDS ? kind_names[k] : "?";
}

static void on_net_done(void *ctx, uint64_t tag, double t) {
  gpp__eng *e = ctx;
  if (e->cb_rc != 0) return;
  e->events++;
  e->now = t;
  if (GPP__KIND(tag) == TAG_XFER)
    e->cb_rc = gpp__xfer_done(e, GPP__INDEX(tag), t);
  else if (GPP__KIND(tag) == TAG_SHARD || GPP__KIND(tag) == TAG_TP ||
           GPP__KIND(tag) == TAG_SHARD_JOINED)
    e->cb_rc = gpp__comm_event(e, GPP__KIND(tag), GPP__INDEX(tag), t);
  else
    e->cb_rc = gpp__allreduce_done(e, GPP__INDEX(tag));
}

static int dispatch(gpp__eng *e, uint32_t dev) {
  gpp__dev *d = &e->devs[dev];
  d->dispatch_pending = false;
  if (d->running != GPP__NONE) return 0;
  uint32_t task = gpp__sched_pick(e, dev);
  return task == GPP__NONE ? 0 : gpp__task_start(e, dev, task);
}

static int handle(gpp__eng *e, uint64_t data) {
  if (GPP__KIND(data) == EV_TASK_END)
    return gpp__task_end(e, GPP__INDEX(data));
  if (GPP__KIND(data) == EV_COMPUTE_END)
    return gpp__comm_event(e, EV_COMPUTE_END, GPP__INDEX(data), e->now);
  return dispatch(e, GPP__INDEX(data));
}

int gpp__eng_loop(gpp__eng *e, gpp_errctx *err) {
  gpp_event ev;
  for (;;) {
    double tn = e->net ? gpp_net_next_time(e->net) : INFINITY;
    double th = gpp_evq_peek_time(&e->q);
    if (tn == INFINITY && th == INFINITY) return 0;
    if (tn <= th) {
      GPP_TRY(gpp_net_advance(e->net, tn, on_net_done, e, err));
      GPP_TRY(e->cb_rc);
      continue;
    }
    gpp_evq_pop(&e->q, &ev);
    e->now = ev.time;
    e->events++;
    GPP_TRY(handle(e, ev.data));
    if ((e->events & 0xffff) == 0 && e->opts.progress)
      e->opts.progress(e->opts.progress_ctx, e->tasks_done, e->n_tasks);
  }
}

static int deadlock_error(const gpp__eng *e, gpp_errctx *err) {
  for (uint32_t t = 0; t < e->n_tasks; t++) {
    const gpp__slot *s = &e->slots[e->task_slot[t]];
    uint32_t k = gpp__task_k(e, t);
    bool bwd = gpp__task_is_bwd(e, t), opt = gpp__task_is_opt(e, t);
    bool ran = opt ? s->opt_started : bwd ? k < s->nb : k < s->nf;
    if (ran) continue;
    GPP_RAISE_AT(err, GPP_EINVAL, &e->plan->schedule_mark,
                 "schedule '%s' cannot complete this plan: %u of %u tasks "
                 "never ran, first %s of stage '%s' micro-batch %u on device "
                 "%u (%u dependencies left)", e->plan->schedule->name,
                 e->n_tasks - e->tasks_done, e->n_tasks,
                 opt ? "the optimizer step" : bwd ? "the backward"
                                                  : "the forward",
                 e->plan->stages[s->stage].name, k, s->device,
                 e->deps_left[t]);
  }
  GPP_RAISE(err, GPP_EINTERNAL, "task count mismatch");
}

static int run_loop(gpp__eng *e, gpp_result *r, gpp_errctx *err) {
  for (uint32_t d = 0; d < e->n_devs; d++)
    if (e->devs[d].n > 0)
      GPP_TRY(gpp_evq_push(&e->q, 0.0, GPP__PACK(EV_DISPATCH, d), err));
  double t0 = gpp_clock_seconds();
  GPP_TRY(gpp__eng_loop(e, err));
  r->loop_seconds = gpp_clock_seconds() - t0;
  if (e->tasks_done != e->n_tasks) return deadlock_error(e, err);
  return 0;
}

static void fill_stages(const gpp__eng *e, gpp_result *r) {
  for (uint32_t si = 0; si < r->n_stages; si++) {
    const gpp__stage *st = &e->stages[si];
    gpp_stage_result *o = &r->stages[si];
    const gpp__slot *s0 = &e->slots[st->slot_base];
    *o = (gpp_stage_result){s0->t_fwd, s0->t_bwd, s0->t_opt, 0, 0, st->cap,
                            st->d > 1 ? st->grad_bytes : 0};
    for (uint32_t k = 0; k < st->d; k++) {
      const gpp__slot *s = &e->slots[st->slot_base + k];
      o->busy_fraction += s->busy / st->d;
      if (s->peak_inflight > o->peak_inflight)
        o->peak_inflight = s->peak_inflight;
    }
    if (r->iteration_time > 0) o->busy_fraction /= r->iteration_time;
  }
}

static void fill_devices(const gpp__eng *e, gpp_result *r) {
  double busy = 0;
  for (uint32_t d = 0; d < e->n_devs; d++) {
    const gpp__dev *dv = &e->devs[d];
    r->devices[d] = (gpp_device_result){dv->n > 0, dv->busy, dv->static_mem,
                                        dv->peak_mem, dv->peak_stash, dv->n};
    r->n_used += dv->n > 0;
    busy += dv->busy;
  }
  double cap = r->iteration_time * r->n_used;
  /* Devices busy the whole iteration sum to cap up to rounding: no
   * negative bubble ("-0.0000"). */
  r->bubble_fraction = cap > 0 ? fmax(0.0, 1.0 - busy / cap) : 0;
}

void gpp_train_time_cost(double tokens_per_s, double tokens,
                         double price_per_gpu_hour, uint32_t gpus,
                         double *seconds, double *cost) {
  *seconds = tokens > 0 && tokens_per_s > 0 ? tokens / tokens_per_s : NAN;
  *cost = price_per_gpu_hour > 0 ? *seconds / 3600 * price_per_gpu_hour * gpus
                                 : NAN;
}

/* Tokens/s, model and hardware FLOPs, MFU and HFU (engine.h). */
static void fill_utilization(const gpp__eng *e, gpp_result *r) {
  const gpp_model *m = e->plan->model;
  gpp_model_stats ms;
  gpp_model_stats_compute(m, &ms);
  double rerun = 0;
  for (uint32_t si = 0; si < e->plan->n_stages; si++)
    rerun += gpp__stage_rerun_flops(e, si);
  double batch = e->plan->batch;
  r->tokens_per_sample = gpp_model_tokens_per_sample(m);
  r->tokens_per_s = r->samples_per_s * r->tokens_per_sample;
  r->model_flops = batch * (ms.flops_fwd + ms.flops_bwd);
  r->hw_flops = r->model_flops + batch * rerun;
  r->peak_flops = gpp_costs_gemm_peak(e->costs);
  double cap = r->iteration_time * r->n_used * r->peak_flops;
  r->mfu = cap > 0 ? r->model_flops / cap : NAN;
  r->hfu = cap > 0 ? r->hw_flops / cap : NAN;
}

static int fill_result(gpp__eng *e, gpp_result *r, gpp_errctx *err) {
  r->iteration_time = e->now;
  r->samples_per_s = e->now > 0 ? e->plan->batch / e->now : INFINITY;
  r->n_devices = e->n_devs;
  r->n_stages = e->plan->n_stages;
  r->devices = gpp_calloc(err, e->n_devs, sizeof *r->devices);
  r->stages = gpp_calloc(err, r->n_stages, sizeof *r->stages);
  if (r->devices == NULL || r->stages == NULL) return err->code;
  fill_devices(e, r);
  fill_stages(e, r);
  fill_utilization(e, r);
  gpp_net_class_stats cls[GPP_LINK__NCLASSES];
  memset(cls, 0, sizeof cls);
  if (e->net) gpp_net_class_stats_get(e->net, cls);
  for (int c = 0; c < GPP_LINK__NCLASSES; c++) r->link_bytes[c] = cls[c].bytes;
  gpp_costs_source_counts(e->costs, r->cost_sources);
  r->events = e->events;
  r->n_compute_tasks = e->n_tasks;
  r->n_transfers = e->n_transfers;
  r->tasks = e->recs;
  r->n_tasks = e->n_recs;
  e->recs = NULL;
  return gpp__memory_check(e, r, err);
}

/* A tensor group's other devices mirror its first one (engine.h). */
static void mirror_groups(gpp__eng *e) {
  for (uint32_t si = 0; si < e->plan->n_stages; si++) {
    const gpp_plan_stage *ps = &e->plan->stages[si];
    for (uint32_t q = 0; ps->tensor > 1 && q < ps->n_devices; q++) {
      if (q % ps->tensor == 0) continue;
      const gpp__dev *src = &e->devs[ps->devices[q - q % ps->tensor]];
      gpp__dev *dst = &e->devs[ps->devices[q]];
      dst->busy = src->busy;
      dst->static_mem = src->static_mem;
      dst->peak_mem = src->peak_mem;
      dst->peak_stash = src->peak_stash;
      dst->n = src->n;
    }
  }
}

static int run(gpp__eng *e, gpp_result *r, gpp_errctx *err) {
  GPP_TRY(gpp__eng_setup(e, err));
  if (!e->opts.ideal_network)
    GPP_TRY(gpp_net_create(e->cluster, &e->net, err));
  GPP_TRY(run_loop(e, r, err));
  mirror_groups(e);
  return fill_result(e, r, err);
}

int gpp_engine_run(const gpp_plan *plan, const gpp_costs *costs,
                   gpp_cluster *cluster, const gpp_engine_opts *opts,
                   gpp_result **out, gpp_errctx *err) {
  *out = NULL;
  if (plan->n_gpus > cluster->n_gpus)
    GPP_RAISE(err, GPP_EINVAL, "plan %s was checked for %u GPUs but the "
              "cluster has %u", plan->path, plan->n_gpus, cluster->n_gpus);
  gpp_result *r = gpp_calloc(err, 1, sizeof *r);
  if (r == NULL) return err->code;
  gpp__eng e = {.plan = plan, .costs = costs, .cluster = cluster,
                .opts = *opts, .err = err};
  int rc = run(&e, r, err);
  gpp__eng_free(&e);
  if (rc != 0) {
    gpp_result_destroy(r);
    return rc;
  }
  *out = r;
  return 0;
}

void gpp_result_destroy(gpp_result *r) {
  if (r == NULL) return;
  free(r->devices);
  free(r->stages);
  free(r->tasks);
  free(r);
}
