/* memory.c -- per-device memory accounting and the optimizer step's cost.
 *
 * Static per hosted stage replica (pure data parallelism: every replica
 * holds the whole stage; tensor parallelism divides all of it by t, and
 * sharding divides by the data-parallel degree d what its ZeRO stage
 * shards, see shard_div):
 *   weights      param_bytes (the model's element size)
 *   gradients    param_bytes
 *   optimizer    sgd: none (plain SGD, no momentum);
 *                adam: two fp32 moments, 8 bytes per parameter
 *   master copy  precision mixed, fp16, bf16, fp8: fp32 weights, 4 bytes
 *                per parameter (gpp_precision_master)
 * Dynamic: the saved activations of in-flight micro-batches (saved_bytes
 * per sample times the replica's slice), taken when a forward starts and
 * released when its backward ends, plus the workspace of the running task
 * (the largest output buffer of its ops for its slice); after a backward
 * has released its stash, the loss evaluations' working memory (op
 * eval_bytes: train metrics over the logits).
 *
 * The optimizer step is memory-bound: it reads the gradients, reads and
 * writes the weights, the optimizer state and the master copy, at the GPU's
 * HBM bandwidth, plus one kernel launch.
 */
#include <math.h>

#include "sim/common/units.h"
#include "sim/engine/engine_internal.h"

static double optim_state(gpp_optimizer opt, double param_count) {
  return opt == GPP_OPTIM_ADAM ? 8.0 * param_count : 0.0;
}

static double master_copy(gpp_precision prec, double param_count) {
  return gpp_precision_master(prec) ? 4.0 * param_count : 0.0;
}

/* The divisors of a stage replica's weights, gradients and optimizer
 * state (with the master copy) on each of its devices: all by the tensor
 * degree t; by the data-parallel degree d from ZeRO-1 (optimizer state),
 * ZeRO-2 (and gradients), ZeRO-3 (and weights). */
static void shard_div(gpp_sharding sh, double t, double d, double *w,
                      double *g, double *o) {
  *w = sh == GPP_SHARD_FULL ? t * d : t;
  *g = sh >= GPP_SHARD_GRADIENTS ? t * d : t;
  *o = sh >= GPP_SHARD_OPTIMIZER ? t * d : t;
}

double gpp_stage_static_bytes(gpp_optimizer opt, gpp_precision prec,
                              double param_bytes, double param_count,
                              uint32_t t, uint32_t d, gpp_sharding sh) {
  double w, g, o;
  shard_div(sh, t, d, &w, &g, &o);
  if (w == 1 && g == 1 && o == 1)
    return 2 * param_bytes + optim_state(opt, param_count) +
           master_copy(prec, param_count);
  return param_bytes / w + param_bytes / g +
         (optim_state(opt, param_count) + master_copy(prec, param_count)) / o;
}

void gpp__memory_static(gpp__eng *e) {
  for (uint32_t i = 0; i < e->n_slots; i++) {
    const gpp__stage *st = &e->stages[e->slots[i].stage];
    gpp__dev *d = &e->devs[e->slots[i].device];
    d->static_mem += gpp_stage_static_bytes(
        e->plan->optimizer, e->plan->precision, st->param_bytes,
        st->param_count, st->t, st->d,
        e->plan->stages[st - e->stages].sharding);
    d->peak_mem = d->static_mem;
  }
}

double gpp_optimizer_step_seconds(const gpp_gpu_spec *g, gpp_optimizer opt,
                                  gpp_precision prec, double param_bytes,
                                  double param_count, double divisor) {
  if (param_count <= 0 && param_bytes <= 0) return 0;
  double traffic = (3 * param_bytes + 2 * optim_state(opt, param_count) +
                    2 * master_copy(prec, param_count)) / divisor;
  double bw = g->mem_bandwidth > 0 ? g->mem_bandwidth : INFINITY;
  return traffic / bw + g->launch_overhead;
}

double gpp_stage_optimizer_seconds(const gpp_gpu_spec *g, gpp_optimizer opt,
                                   gpp_precision prec, double param_bytes,
                                   double param_count, uint32_t t, uint32_t d,
                                   gpp_sharding sh) {
  double w, gr, o;
  shard_div(sh, t, d, &w, &gr, &o);
  return gpp_optimizer_step_seconds(g, opt, prec, param_bytes, param_count,
                                    o);
}

/* The step updates the device's shard of the stage's state. */
double gpp__optimizer_seconds(const gpp__eng *e, const gpp__stage *st) {
  return gpp_stage_optimizer_seconds(
      &e->cluster->gpu, e->plan->optimizer, e->plan->precision,
      st->param_bytes, st->param_count, st->t, st->d,
      e->plan->stages[st - e->stages].sharding);
}

void gpp__memory_on_start(gpp__eng *e, uint32_t dev, uint32_t task) {
  gpp__slot *s = &e->slots[e->task_slot[task]];
  gpp__dev *d = &e->devs[dev];
  if (!gpp__task_is_opt(e, task) && !gpp__task_is_bwd(e, task)) {
    d->stash += gpp__slot_stash(e, s, gpp__task_k(e, task));
    if (d->stash > d->peak_stash) d->peak_stash = d->stash;
    if (s->nf - s->nb > s->peak_inflight) s->peak_inflight = s->nf - s->nb;
  }
  double now = d->static_mem + d->stash + s->workspace;
  if (now > d->peak_mem) d->peak_mem = now;
}

void gpp__memory_after_bwd(gpp__eng *e, uint32_t dev, const gpp__slot *s) {
  gpp__dev *d = &e->devs[dev];
  double now = d->static_mem + d->stash + s->post_work;
  if (now > d->peak_mem) d->peak_mem = now;
}

int gpp__memory_check(const gpp__eng *e, gpp_result *r, gpp_errctx *err) {
  double cap = e->cluster->gpu.mem_bytes, worst = 0;
  for (uint32_t d = 0; d < e->n_devs; d++) {
    double short_by = e->devs[d].peak_mem - cap;
    if (short_by <= worst) continue;
    worst = short_by;
    r->oom = true;
    r->oom_device = d;
    r->oom_shortfall = short_by;
  }
  if (!r->oom || e->opts.allow_oom) return 0;
  char need[32], have[32], miss[32];
  GPP_RAISE(err, GPP_EOOM, "device %u needs %s at its peak but the %s has "
            "%s: short by %s (static %s); use --allow-oom to report anyway",
            r->oom_device,
            gpp_units_format(e->devs[r->oom_device].peak_mem, GPP_Q_BYTES,
                             need, sizeof need),
            e->cluster->gpu.name ? e->cluster->gpu.name : "GPU",
            gpp_units_format(cap, GPP_Q_BYTES, have, sizeof have),
            gpp_units_format(r->oom_shortfall, GPP_Q_BYTES, miss, sizeof miss),
            gpp_units_format(e->devs[r->oom_device].static_mem, GPP_Q_BYTES,
                             (char[32]){0}, 32));
}
