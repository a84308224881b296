/* engine_comm.c -- the collectives of tensor parallelism and sharded data
 * parallelism, all through the flow network's collective API.
 *
 * Per layer with parameters (engine_layers.c defines layers), on a stage
 * with tensor degree t and d data-parallel replicas:
 * - tensor parallelism (t > 1), over the replica's t GPUs, on the layer's
 *   input bytes x slice (Megatron, Shoeybi et al. 2019): forward 2
 *   all-reduces (after the row-parallel attention output and MLP GEMMs),
 *   backward 2 (the column-parallel inputs' gradients), so 4 per layer;
 *   with sequence parallelism each all-reduce is an all-gather plus a
 *   reduce-scatter of the same size (Korthikanti et al. 2022).  With
 *   recompute full, the backward repeats the re-run forward's ones.  They
 *   are not overlapped: the task's compute runs, then its chain.
 * - sharding full (ZeRO-3 / FSDP FULL_SHARD), over the d replicas:
 *   forward all-gathers each layer's parameters (param_bytes / t), the
 *   backward all-gathers them again and reduce-scatters the layer's
 *   gradients; gradients (ZeRO-2 / SHARD_GRAD_OP): the backward
 *   reduce-scatters each layer's gradients.  The chain runs back to back
 *   alongside the compute (prefetch of the next layer); with full the
 *   compute waits for the first layer's gather, and the task ends at the
 *   later of compute end and chain end plus one layer's compute.  In a
 *   one-stage plan (FSDP as usually run) the replicas meet at each
 *   collective: it starts when the last replica reaches it, as NCCL's
 *   does, and is one collective of the layer's bytes over the d replicas
 *   (d flows per ring step, not d^2).  In a multi-stage plan, where a
 *   dynamic schedule may order two replicas' tasks differently (a barrier
 *   could then deadlock), each replica issues its own collective with
 *   bytes / d: when the replicas run together the d concurrent collectives
 *   move exactly the traffic of one and take its time.
 * - end of iteration, once per stage after its last backward: none: the
 *   gradient all-reduce; optimizer (ZeRO-1): reduce-scatter of the
 *   gradients then all-gather of the parameters; gradients: the all-gather
 *   of the parameters; full: nothing left.
 * Gradient collectives move the plan's reduce_dtype (gpp_plan_grad_scale).
 */
#include "sim/engine/engine_internal.h"

static gpp__cstep step(gpp_coll_op op, bool per_sample, double bytes) {
  return (gpp__cstep){(uint32_t)op, per_sample, bytes};
}

/* The tensor-parallel collectives of layer l, forward or backward. */
static uint32_t tp_steps(const gpp_plan_stage *ps, const gpp__layer *l,
                         bool bwd, gpp__cstep *out) {
  uint32_t n = 0, reps = 1;
  if (bwd && ps->recompute == GPP_RECOMPUTE_FULL && l->in_bytes < l->saved)
    reps = 2;
  for (uint32_t r = 0; r < reps; r++)
    for (int i = 0; i < 2; i++) {
      if (!ps->sequence_parallel) {
        out[n++] = step(GPP_COLL_ALLREDUCE, true, l->in_bytes);
        continue;
      }
      out[n++] = step(GPP_COLL_ALLGATHER, true, l->in_bytes);
      out[n++] = step(GPP_COLL_REDUCE_SCATTER, true, l->in_bytes);
    }
  return n;
}

static uint32_t shard_steps(const gpp_plan *p, const gpp_plan_stage *ps,
                            const gpp__stage *st, const gpp__layer *l,
                            bool bwd, gpp__cstep *out) {
  double bytes = l->param_bytes / st->t / st->d;
  uint32_t n = 0;
  if (st->d < 2) return 0;
  if (ps->sharding == GPP_SHARD_FULL)
    out[n++] = step(GPP_COLL_ALLGATHER, false, bytes);
  if (bwd && (ps->sharding == GPP_SHARD_FULL ||
              ps->sharding == GPP_SHARD_GRADIENTS))
    out[n++] = step(GPP_COLL_REDUCE_SCATTER, false,
                    bytes * gpp_plan_grad_scale(p, l->param_count,
                                                l->param_bytes));
  return n;
}

static int fill_chain(gpp__eng *e, uint32_t si, int ch, gpp_errctx *err) {
  const gpp_plan_stage *ps = &e->plan->stages[si];
  gpp__stage *st = &e->stages[si];
  bool bwd = ch == CH_TP_BWD || ch == CH_SH_BWD, tp = ch <= CH_TP_BWD;
  gpp__cstep tmp[8];
  uint32_t n = 0;
  for (uint32_t i = 0; i < st->n_player; i++) {
    const gpp__layer *l = &st->layers[st->player[i]];
    n += tp ? (st->t > 1 ? tp_steps(ps, l, bwd, tmp) : 0)
            : shard_steps(e->plan, ps, st, l, bwd, tmp);
  }
  st->n_chain[ch] = 0;
  if (n == 0) return 0;
  st->chain[ch] = gpp_calloc(err, n, sizeof *st->chain[ch]);
  if (st->chain[ch] == NULL) return err->code;
  for (uint32_t i = 0; i < st->n_player; i++) {
    const gpp__layer *l = &st->layers[st->player[i]];
    uint32_t k = tp ? (st->t > 1 ? tp_steps(ps, l, bwd, tmp) : 0)
                    : shard_steps(e->plan, ps, st, l, bwd, tmp);
    for (uint32_t j = 0; j < k; j++) st->chain[ch][st->n_chain[ch]++] = tmp[j];
  }
  return 0;
}

int gpp__stage_chains(gpp__eng *e, uint32_t si, gpp_errctx *err) {
  for (int ch = 0; ch < CH__N; ch++) GPP_TRY(fill_chain(e, si, ch, err));
  return 0;
}

static uint32_t kind_of(uint32_t op) {
  return op == GPP_COLL_ALLGATHER        ? GPP_TASK_ALLGATHER
         : op == GPP_COLL_REDUCE_SCATTER ? GPP_TASK_REDUCESCATTER
                                         : GPP_TASK_ALLREDUCE;
}

/* Chain ch's step i of dev's running task: its op and bytes. */
static gpp__cstep task_step(const gpp__eng *e, uint32_t dev, int ch,
                            uint32_t i) {
  uint32_t task = e->devs[dev].running;
  const gpp__slot *s = &e->slots[e->task_slot[task]];
  gpp__cstep c = e->stages[s->stage].chain[ch][i];
  if (c.per_sample)
    c.bytes *= gpp__is_last(e, s, gpp__task_k(e, task)) ? s->slice_last
                                                        : s->slice;
  return c;
}

static int record_step(gpp__eng *e, uint32_t dev, int ch, uint32_t i,
                       double start) {
  uint32_t task = e->devs[dev].running;
  const gpp__slot *s = &e->slots[e->task_slot[task]];
  gpp__cstep c = task_step(e, dev, ch, i);
  gpp_task_rec r = {.start = start, .end = e->now, .device = dev,
                    .peer = dev, .stage = (int32_t)s->stage,
                    .micro_batch = (int32_t)gpp__task_k(e, task),
                    .replica = s->replica, .kind = kind_of(c.op),
                    .bytes = c.bytes, .task = task, .src_task = GPP__NONE};
  return gpp__eng_record(e, &r);
}

/* A replica reached the stage's joined sharding collective c (its share
 * of the bytes); the last one to arrive starts it for all. */
static int join(gpp__eng *e, uint32_t si, gpp__cstep c) {
  gpp__stage *st = &e->stages[si];
  if (++st->arrived < st->d) return 0;
  st->arrived = 0;
  return gpp_net_collective(e->net, e->now, (gpp_coll_op)c.op, GPP_COLL_AUTO,
                            st->dp_ranks, st->d, c.bytes * st->d,
                            GPP__PACK(TAG_SHARD_JOINED, si), e->err);
}

static int launch(gpp__eng *e, uint32_t dev, bool tp) {
  gpp__dev *d = &e->devs[dev];
  uint32_t task = d->running;
  const gpp__slot *s = &e->slots[e->task_slot[task]];
  const gpp__stage *st = &e->stages[s->stage];
  int ch = (tp ? CH_TP_FWD : CH_SH_FWD) + gpp__task_is_bwd(e, task);
  gpp__cstep c = task_step(e, dev, ch, tp ? d->tp_i : d->sh_i);
  *(tp ? &d->tp_start : &d->sh_start) = e->now;
  uint32_t kind = tp ? TAG_TP : TAG_SHARD;
  if (e->net == NULL) return gpp__comm_event(e, kind, dev, e->now);
  if (!tp && e->plan->n_stages == 1) return join(e, s->stage, c); /* above */
  const uint32_t *ranks =
      tp ? &e->plan->stages[s->stage].devices[s->replica * st->t]
         : st->dp_ranks;
  return gpp_net_collective(e->net, e->now, (gpp_coll_op)c.op, GPP_COLL_AUTO,
                            ranks, tp ? st->t : st->d, c.bytes,
                            GPP__PACK(kind, dev), e->err);
}

static int part_done(gpp__eng *e, uint32_t dev, double t) {
  gpp__dev *d = &e->devs[dev];
  if (t > d->end) d->end = t;
  if (--d->parts > 0) return 0;
  return gpp_evq_push(&e->q, d->end, GPP__PACK(EV_TASK_END, d->running),
                      e->err);
}

int gpp__comm_start(gpp__eng *e, uint32_t dev, uint32_t task, double secs) {
  gpp__dev *d = &e->devs[dev];
  const gpp__slot *s = &e->slots[e->task_slot[task]];
  const gpp__stage *st = &e->stages[s->stage];
  bool opt = gpp__task_is_opt(e, task), bwd = gpp__task_is_bwd(e, task);
  d->tp_n = opt ? 0 : st->n_chain[CH_TP_FWD + bwd];
  d->sh_n = opt ? 0 : st->n_chain[CH_SH_FWD + bwd];
  if (d->tp_n == 0 && d->sh_n == 0)
    return gpp_evq_push(&e->q, e->now + secs, GPP__PACK(EV_TASK_END, task),
                        e->err);
  d->tp_i = d->sh_i = 0;
  d->compute = secs;
  d->end = e->now;
  d->parts = 1 + (d->sh_n > 0);
  d->gated = d->sh_n > 0 && e->plan->stages[s->stage].sharding ==
                                GPP_SHARD_FULL;
  d->tail = st->n_player ? secs / st->n_player : 0;
  if (!d->gated)
    GPP_TRY(gpp_evq_push(&e->q, e->now + secs,
                         GPP__PACK(EV_COMPUTE_END, dev), e->err));
  return d->sh_n > 0 ? launch(e, dev, false) : 0;
}

static int shard_done(gpp__eng *e, uint32_t dev) {
  gpp__dev *d = &e->devs[dev];
  GPP_TRY(record_step(e, dev, CH_SH_FWD + gpp__task_is_bwd(e, d->running),
                      d->sh_i, d->sh_start));
  if (d->gated && d->sh_i == 0)
    GPP_TRY(gpp_evq_push(&e->q, e->now + d->compute,
                         GPP__PACK(EV_COMPUTE_END, dev), e->err));
  if (++d->sh_i < d->sh_n) return launch(e, dev, false);
  return part_done(e, dev, e->now + d->tail);
}

int gpp__comm_event(gpp__eng *e, uint32_t kind, uint32_t dev, double t) {
  e->now = t;
  if (kind == TAG_SHARD_JOINED) { /* dev is the stage */
    const gpp__stage *st = &e->stages[dev];
    for (uint32_t r = 0; r < st->d; r++)
      GPP_TRY(shard_done(e, e->slots[st->slot_base + r].device));
    return 0;
  }
  gpp__dev *d = &e->devs[dev];
  if (kind == TAG_SHARD) return shard_done(e, dev);
  if (kind == TAG_TP) {
    GPP_TRY(record_step(e, dev, CH_TP_FWD + gpp__task_is_bwd(e, d->running),
                        d->tp_i, d->tp_start));
    d->tp_i++;
  }
  if (d->tp_i < d->tp_n) return launch(e, dev, true);
  return part_done(e, dev, t);
}

/* ---- end of iteration --------------------------------------------------- */

static uint32_t sync_count(gpp_sharding s) {
  return s == GPP_SHARD_NONE ? 1 : s == GPP_SHARD_OPTIMIZER ? 2
       : s == GPP_SHARD_GRADIENTS ? 1 : 0;
}

/* The stage's end-of-iteration collective still to run. */
static gpp__cstep sync_step(const gpp__eng *e, uint32_t si) {
  const gpp__stage *st = &e->stages[si];
  gpp_sharding sh = e->plan->stages[si].sharding;
  if (sh == GPP_SHARD_NONE)
    return step(GPP_COLL_ALLREDUCE, false, st->grad_bytes);
  if (sh == GPP_SHARD_OPTIMIZER && st->sync_left == 2)
    return step(GPP_COLL_REDUCE_SCATTER, false, st->grad_bytes);
  return step(GPP_COLL_ALLGATHER, false, st->param_bytes / st->t);
}

static int sync_next(gpp__eng *e, uint32_t si) {
  gpp__stage *st = &e->stages[si];
  if (st->sync_left == 0) {
    for (uint32_t r = 0; r < st->d; r++)
      GPP_TRY(gpp__dep_done(e, e->slots[st->slot_base + r].task_base +
                                   2 * st->m));
    return 0;
  }
  st->xfer_start = e->now;
  gpp__cstep c = sync_step(e, si);
  if (st->d < 2 || e->net == NULL || c.bytes <= 0)
    return gpp__allreduce_done(e, si);
  return gpp_net_collective(e->net, e->now, (gpp_coll_op)c.op, GPP_COLL_AUTO,
                            st->dp_ranks, st->d, c.bytes,
                            GPP__PACK(TAG_ALLREDUCE, si), e->err);
}

int gpp__stage_sync(gpp__eng *e, uint32_t si) {
  e->stages[si].sync_left = sync_count(e->plan->stages[si].sharding);
  return sync_next(e, si);
}

int gpp__allreduce_done(gpp__eng *e, uint32_t si) {
  gpp__stage *st = &e->stages[si];
  const gpp__slot *s0 = &e->slots[st->slot_base];
  if (st->d > 1) {
    gpp__cstep c = sync_step(e, si);
    gpp_task_rec r = {.start = st->xfer_start, .end = e->now,
                      .device = s0->device, .peer = s0->device,
                      .stage = (int32_t)si, .micro_batch = -1,
                      .kind = kind_of(c.op), .bytes = c.bytes,
                      .task = GPP__NONE, .src_task = GPP__NONE};
    GPP_TRY(gpp__eng_record(e, &r));
  }
  st->sync_left--;
  return sync_next(e, si);
}
