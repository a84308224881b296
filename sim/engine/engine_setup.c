/* engine_setup.c -- expanding a plan into slots, tasks and dependency
 * counts before the event loop starts; every array the loop touches is
 * sized here, so the loop itself allocates nothing. */
#include <stdlib.h>
#include <string.h>

#include "sim/common/limits.h"
#include "sim/engine/engine_internal.h"
#include "sim/plan/sched.h"

void gpp__slot_interval(const gpp__eng *e, uint32_t slot, uint32_t k,
                        uint64_t *lo, uint64_t *hi) {
  const gpp__slot *s = &e->slots[slot];
  const gpp__stage *st = &e->stages[s->stage];
  uint64_t base = (uint64_t)k * st->b, b = k + 1 == st->m ? st->bl : st->b;
  *lo = base + (uint64_t)s->replica * b / st->d;
  *hi = base + (uint64_t)(s->replica + 1) * b / st->d;
}

bool gpp__piece_next(gpp__piece_it *it, uint32_t *k, uint32_t *r,
                     uint32_t *n) {
  if (it->x >= it->hi) return false;
  uint64_t kk = it->x / it->b, o = it->x - kk * it->b;
  uint64_t b = kk + 1 == it->m ? it->bl : it->b;
  uint64_t rr = ((o + 1) * it->d - 1) / b;
  uint64_t end = kk * it->b + (rr + 1) * b / it->d;
  if (end > it->hi) end = it->hi;
  *k = (uint32_t)kk;
  *r = (uint32_t)rr;
  *n = (uint32_t)(end - it->x);
  it->x = end;
  return true;
}

void gpp_engine_pieces(uint32_t b, uint32_t d, uint32_t r, uint32_t b2,
                       uint32_t d2, gpp_piece_fn visit, void *ctx) {
  gpp__piece_it it = {(uint64_t)r * b / d, (uint64_t)(r + 1) * b / d, b2, d2,
                      b2, UINT32_MAX};
  uint32_t k, rr, n;
  while (gpp__piece_next(&it, &k, &rr, &n)) visit(ctx, rr, n);
}

/* Pieces of stage `other`'s partition overlapping slot's micro-batch k. */
static uint32_t count_pieces(const gpp__eng *e, uint32_t slot, uint32_t k,
                             uint32_t other) {
  const gpp__stage *ot = &e->stages[other];
  gpp__piece_it it = {0, 0, ot->b, ot->d, ot->bl, ot->m};
  gpp__slot_interval(e, slot, k, &it.x, &it.hi);
  uint32_t kk, r, n, count = 0;
  while (gpp__piece_next(&it, &kk, &r, &n)) count++;
  return count;
}

/* Dependency counts of slot's tasks; returns the activation pieces in. */
static uint32_t count_deps(gpp__eng *e, uint32_t slot) {
  const gpp__slot *s = &e->slots[slot];
  const gpp_plan_stage *ps = &e->plan->stages[s->stage];
  uint32_t m = e->stages[s->stage].m, pieces = 0;
  for (uint32_t k = 0; k < m; k++) {
    uint32_t in = 0, out = 0;
    for (uint32_t i = 0; i < ps->n_in; i++)
      in += count_pieces(e, slot, k, e->plan->edges[ps->in_edges[i]].from);
    for (uint32_t i = 0; i < ps->n_out; i++)
      out += count_pieces(e, slot, k, e->plan->edges[ps->out_edges[i]].to);
    e->deps_left[s->task_base + 2 * k] = in;
    e->deps_left[s->task_base + 2 * k + 1] = 1 + out;
    pieces += in;
  }
  e->deps_left[s->task_base + 2 * m] = 1;
  return pieces;
}

/* One stage's slot work by slice size: its replicas' slices take at most
 * four values (floor and ceiling of the micro-batch and of the last one
 * over the replicas), so thousands of replicas cost the op costs of four,
 * not one op-cost pass (a GEMM model per op) each. */
#define WORK_MEMO 4
typedef struct work_memo {
  uint32_t n, slice[WORK_MEMO];
  gpp__work work[WORK_MEMO];
} work_memo;

static gpp__work memo_work(const gpp__eng *e, uint32_t si, uint32_t slice,
                           work_memo *memo) {
  for (uint32_t i = 0; i < memo->n; i++)
    if (memo->slice[i] == slice) return memo->work[i];
  gpp__work w = gpp__slot_work(e, si, slice);
  if (memo->n == WORK_MEMO) return w;
  memo->slice[memo->n] = slice;
  memo->work[memo->n++] = w;
  return w;
}

/* The slot's work per micro-batch (the last one may be smaller); the
 * workspace is the larger of the two. */
static void slot_costs(gpp__eng *e, gpp__slot *s, work_memo *memo) {
  gpp__work w = memo_work(e, s->stage, s->slice, memo), l = w;
  if (s->slice_last != s->slice)
    l = memo_work(e, s->stage, s->slice_last, memo);
  s->t_fwd = w.fwd;
  s->t_bwd = w.bwd;
  s->stash_bytes = w.stash;
  s->t_fwd_last = l.fwd;
  s->t_bwd_last = l.bwd;
  s->stash_last = l.stash;
  s->workspace = w.workspace > l.workspace ? w.workspace : l.workspace;
  s->post_work = w.post > l.post ? w.post : l.post;
  s->t_opt = gpp__optimizer_seconds(e, &e->stages[s->stage]);
}

static uint32_t share(uint32_t r, uint32_t b, uint32_t d) {
  return (uint32_t)((uint64_t)(r + 1) * b / d - (uint64_t)r * b / d);
}

static void stage_params(gpp__eng *e, uint32_t si) {
  const gpp_plan_stage *ps = &e->plan->stages[si];
  gpp__stage *st = &e->stages[si];
  for (uint32_t i = 0; i < ps->n_ops; i++) {
    const gpp_op *op = &e->plan->model->ops[ps->ops[i]];
    st->param_count += op->param_count;
    st->param_bytes += op->param_bytes;
  }
  st->grad_bytes = st->param_bytes / st->t *
                   gpp_plan_grad_scale(e->plan, st->param_count,
                                       st->param_bytes);
}

static int init_stages(gpp__eng *e, gpp_errctx *err) {
  uint32_t slot = 0, task = 0;
  for (uint32_t si = 0; si < e->plan->n_stages; si++) {
    const gpp_plan_stage *ps = &e->plan->stages[si];
    gpp__stage *st = &e->stages[si];
    *st = (gpp__stage){.slot_base = slot, .d = ps->dp, .b = ps->micro_batch,
                       .m = ps->n_micro, .bl = ps->last_micro,
                       .t = ps->tensor};
    stage_params(e, si);
    GPP_TRY(gpp__stage_layers(e, si, err));
    GPP_TRY(gpp__stage_chains(e, si, err));
    work_memo memo = {0};
    for (uint32_t r = 0; r < st->d; r++, slot++) {
      gpp__slot *s = &e->slots[slot];
      *s = (gpp__slot){.stage = si, .replica = r,
                       .device = ps->devices[r * st->t], .task_base = task};
      s->slice = share(r, st->b, st->d);
      s->slice_last = share(r, st->bl, st->d);
      slot_costs(e, s, &memo);
      for (uint32_t t = 0; t < 2 * st->m + 1; t++) e->task_slot[task++] = slot;
    }
  }
  return 0;
}

/* Groups slots by device, each device's in stage topological order. */
static void group_slots(gpp__eng *e) {
  for (uint32_t i = 0; i < e->n_slots; i++) e->devs[e->slots[i].device].n++;
  uint32_t first = 0;
  for (uint32_t d = 0; d < e->n_devs; d++) {
    e->devs[d].first = first;
    first += e->devs[d].n;
    e->devs[d].n = 0;
    e->devs[d].running = GPP__NONE;
  }
  for (uint32_t o = 0; o < e->plan->n_stages; o++) {
    const gpp__stage *st = &e->stages[e->plan->topo[o]];
    for (uint32_t r = 0; r < st->d; r++) {
      gpp__dev *dv = &e->devs[e->slots[st->slot_base + r].device];
      e->dev_slots[dv->first + dv->n++] = st->slot_base + r;
    }
  }
}

static int alloc_core(gpp__eng *e, gpp_errctx *err) {
  const gpp_plan *p = e->plan;
  size_t tasks = 0;
  e->n_slots = 0;
  for (uint32_t s = 0; s < p->n_stages; s++) {
    e->n_slots += p->stages[s].dp;
    tasks += (size_t)p->stages[s].dp * (2 * p->stages[s].n_micro + 1);
  }
  uint64_t limit = e->opts.max_tasks ? e->opts.max_tasks : GPP_MAX_TASKS;
  if (limit > GPP__NONE - 1) limit = GPP__NONE - 1;
  if (tasks > limit)
    GPP_RAISE_AT(err, GPP_ERANGE, &p->batch_mark, "batch %u expands into "
                 "%zu tasks (micro-batches x replicas x forward and "
                 "backward); the limit is %llu%s", p->batch, tasks,
                 (unsigned long long)limit,
                 limit < GPP__NONE - 1 ? " (raise it with --max-tasks)" : "");
  e->n_tasks = (uint32_t)tasks;
  e->n_devs = e->cluster->n_gpus;
  e->stages = gpp_calloc(err, p->n_stages, sizeof *e->stages);
  e->slots = gpp_calloc(err, e->n_slots, sizeof *e->slots);
  e->devs = gpp_calloc(err, e->n_devs, sizeof *e->devs);
  e->dev_slots = gpp_calloc(err, e->n_slots, sizeof *e->dev_slots);
  e->deps_left = gpp_calloc(err, tasks, sizeof *e->deps_left);
  e->task_slot = gpp_calloc(err, tasks, sizeof *e->task_slot);
  return err->code;
}

static int alloc_transfers(gpp__eng *e, uint64_t pieces, gpp_errctx *err) {
  /* Every activation piece has one gradient piece going back. */
  uint64_t n = 2 * pieces + 1;
  if (n >= GPP__NONE)
    GPP_RAISE(err, GPP_ERANGE, "the plan needs %llu transfers; at most %u "
              "are supported", (unsigned long long)n, GPP__NONE - 1);
  e->n_xfers = (uint32_t)n;
  e->xfers = gpp_calloc(err, n, sizeof *e->xfers);
  if (e->xfers == NULL) return err->code;
  for (uint32_t i = 0; i < e->n_xfers; i++) e->xfers[i].next_free = i + 1;
  e->xfers[e->n_xfers - 1].next_free = GPP__NONE;
  e->xfer_free = 0;
  if (!e->opts.record) return 0;
  e->cap_recs = (size_t)e->n_tasks + n + 2 * (size_t)e->plan->n_stages;
  for (uint32_t si = 0; si < e->plan->n_stages; si++) {
    const gpp__stage *st = &e->stages[si];
    for (int ch = 0; ch < CH__N; ch++)
      e->cap_recs += (size_t)st->d * st->m * st->n_chain[ch];
  }
  e->recs = gpp_calloc(err, e->cap_recs, sizeof *e->recs);
  return e->recs ? 0 : err->code;
}

int gpp__eng_setup(gpp__eng *e, gpp_errctx *err) {
  GPP_TRY(alloc_core(e, err));
  GPP_TRY(init_stages(e, err));
  group_slots(e);
  uint64_t pieces = 0;
  for (uint32_t i = 0; i < e->n_slots; i++) pieces += count_deps(e, i);
  GPP_TRY(alloc_transfers(e, pieces, err));
  gpp__memory_static(e);
  GPP_TRY(gpp__sched_prepare(e, err));
  return gpp_evq_init(&e->q, 2 * (size_t)e->n_devs + 16, err);
}

void gpp__eng_free(gpp__eng *e) {
  for (uint32_t d = 0; d < e->n_devs && e->devs; d++) free(e->devs[d].order);
  for (uint32_t s = 0; s < e->plan->n_stages && e->stages; s++) {
    gpp__stage *st = &e->stages[s];
    free(st->layers);
    free(st->player);
    free(st->dp_ranks);
    for (int ch = 0; ch < CH__N; ch++) free(st->chain[ch]);
  }
  free(e->stages);
  free(e->slots);
  free(e->devs);
  free(e->dev_slots);
  free(e->deps_left);
  free(e->task_slot);
  free(e->xfers);
  free(e->recs);
  gpp_evq_fini(&e->q);
  gpp_net_destroy(e->net);
}
