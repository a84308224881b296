/* engine_layers.c -- a stage's layers, and the work of one replica's
 * forward and backward under tensor parallelism and recomputation.
 *
 * A layer is a maximal run of consecutive ops of the stage (model order)
 * whose names share the prefix before their last '.': the transformer
 * generator's "enc.l3.attn" .. "enc.l3.add2" form layer "enc.l3", the MLP
 * generator's layers likewise; an op whose name has no '.' is its own
 * layer.  A layer's input is the distinct outputs of ops outside it that
 * its ops read (a Transformer layer: its s x h input, 2*s*h bytes per
 * sample in bf16); a model input op reads nothing, so its input is 0.
 *
 * Per replica and micro-batch of `slice` samples, with t = tensor degree:
 * - every op's forward and backward time is its cost at the slice over t
 *   (the Megatron split divides each GEMM, attention head and the vocab);
 * - recompute full: a layer keeps only min(its input, its saved bytes)
 *   and, when that is less than its saved bytes, its forward runs again
 *   inside the backward; the backward's workspace holds the re-run layer's
 *   saved activations;
 * - recompute selective: each attention op drops its score/probability
 *   tensor (heads * s^2 elements per sample) and its backward re-runs the
 *   attention core, the 4 s^2 h of its 8 s h^2 + 4 s^2 h forward FLOPs
 *   (Korthikanti et al. 2022, "Reducing Activation Recomputation");
 * - tensor parallelism: a layer's stash is split t ways except, without
 *   sequence parallelism, its input (replicated on the group);
 * - sharding full adds a gather buffer of two layers' parameters (the one
 *   in use and the prefetched next) to the workspace.
 */
#include <string.h>

#include "sim/common/arena.h"
#include "sim/engine/engine_internal.h"

static size_t prefix_len(const char *name) {
  const char *dot = strrchr(name, '.');
  return dot ? (size_t)(dot - name) : 0;
}

bool gpp_same_layer(const char *a, const char *b) {
  size_t n = prefix_len(a);
  return n > 0 && n == prefix_len(b) && strncmp(a, b, n) == 0;
}

static bool in_layer(const uint32_t *ops, uint32_t first, uint32_t n,
                     uint32_t op) {
  for (uint32_t i = first; i < first + n; i++)
    if (ops[i] == op) return true;
  return false;
}

double gpp_layer_input_bytes(const gpp_model *m, const uint32_t *ops,
                             uint32_t first, uint32_t n) {
  double bytes = 0;
  for (uint32_t i = first; i < first + n; i++) {
    const gpp_op *op = &m->ops[ops[i]];
    for (uint32_t j = 0; j < op->n_inputs; j++) {
      uint32_t in = op->inputs[j];
      bool seen = in_layer(ops, first, n, in);
      for (uint32_t q = first; q < i && !seen; q++)
        for (uint32_t r = 0; r < m->ops[ops[q]].n_inputs && !seen; r++)
          seen = m->ops[ops[q]].inputs[r] == in;
      for (uint32_t r = 0; r < j && !seen; r++) seen = op->inputs[r] == in;
      if (!seen) bytes += m->ops[in].out_bytes;
    }
  }
  return bytes;
}

static void layer_sums(const gpp_model *m, const gpp_plan_stage *ps,
                       gpp__layer *l) {
  for (uint32_t i = l->first; i < l->first + l->n; i++) {
    const gpp_op *op = &m->ops[ps->ops[i]];
    l->saved += op->saved_bytes;
    l->param_bytes += op->param_bytes;
    l->param_count += op->param_count;
  }
  l->in_bytes = gpp_layer_input_bytes(m, ps->ops, l->first, l->n);
}

static uint32_t count_layers(const gpp_model *m, const gpp_plan_stage *ps) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < ps->n_ops; i++)
    n += i == 0 || !gpp_same_layer(m->ops[ps->ops[i - 1]].name,
                               m->ops[ps->ops[i]].name);
  return n;
}

static int stage_ranks(gpp__eng *e, uint32_t si, gpp_errctx *err) {
  gpp__stage *st = &e->stages[si];
  const gpp_plan_stage *ps = &e->plan->stages[si];
  st->dp_ranks = gpp_calloc(err, st->d, sizeof *st->dp_ranks);
  if (st->dp_ranks == NULL) return err->code;
  for (uint32_t r = 0; r < st->d; r++) st->dp_ranks[r] = ps->devices[r * st->t];
  return 0;
}

int gpp__stage_layers(gpp__eng *e, uint32_t si, gpp_errctx *err) {
  const gpp_model *m = e->plan->model;
  const gpp_plan_stage *ps = &e->plan->stages[si];
  gpp__stage *st = &e->stages[si];
  uint32_t n = count_layers(m, ps);
  st->layers = gpp_calloc(err, n, sizeof *st->layers);
  st->player = gpp_calloc(err, n, sizeof *st->player);
  if (st->layers == NULL || st->player == NULL) return err->code;
  for (uint32_t i = 0; i < ps->n_ops; i++) {
    if (i > 0 && gpp_same_layer(m->ops[ps->ops[i - 1]].name,
                            m->ops[ps->ops[i]].name)) {
      st->layers[st->n_layers - 1].n++;
      continue;
    }
    st->layers[st->n_layers++] = (gpp__layer){.first = i, .n = 1};
  }
  for (uint32_t l = 0; l < n; l++) {
    gpp__layer *ly = &st->layers[l];
    layer_sums(m, ps, ly);
    if (ly->param_bytes <= 0) continue;
    st->player[st->n_player++] = l;
    if (ly->param_bytes > st->max_layer_params)
      st->max_layer_params = ly->param_bytes;
  }
  return stage_ranks(e, si, err);
}

/* The attention core's share of an attention op's forward FLOPs and the
 * score bytes per sample selective recomputation drops (cost_attention in
 * model_derive.c): what the op saves beyond x, Q, K, V and the context
 * (5 s h elements), at most heads * s^2 elements; an attention that saves
 * no scores (fused) has nothing to drop and re-runs nothing. */
static void attention_core(const gpp_op *op, double *frac, double *scores) {
  double s = (double)op->shape.tokens, h = (double)op->shape.width;
  double core = 4 * s * s * h, all = 8 * s * h * h + core;
  double most = (double)op->shape.heads * s * s * op->dtype_bytes;
  double beyond = op->saved_bytes - 5 * s * h * op->dtype_bytes;
  *scores = beyond < 0 ? 0 : beyond < most ? beyond : most;
  *frac = all > 0 && *scores > 0 ? core / all : 0;
}

double gpp_selective_drop(const gpp_op *op, double *frac) {
  double scores = 0;
  *frac = 0;
  if (op->kind == GPP_OP_ATTENTION) attention_core(op, frac, &scores);
  return scores;
}

/* Selective recomputation of op in stage ps (both 0 when the stage
 * recomputes otherwise). */
static double selective_drop(const gpp_plan_stage *ps, const gpp_op *op,
                             double *frac) {
  *frac = 0;
  if (ps->recompute != GPP_RECOMPUTE_SELECTIVE) return 0;
  return gpp_selective_drop(op, frac);
}

double gpp_layer_stash(double in_bytes, double stash, gpp_recompute rc,
                       uint32_t t, bool sequence_parallel, bool *rerun) {
  *rerun = rc == GPP_RECOMPUTE_FULL && in_bytes < stash;
  if (*rerun) stash = in_bytes;
  double rep = sequence_parallel ? 0 : (in_bytes < stash ? in_bytes : stash);
  return rep + (stash - rep) / t;
}

/* One layer's work at slice samples on one device of the tensor group.
 * Times accumulate op by op (and, without tensor parallelism or
 * recomputation, the stash too), in the order the engine always used. */
static void layer_work(const gpp__eng *e, uint32_t si, const gpp__layer *l,
                       uint32_t slice, gpp__work *w) {
  const gpp_plan_stage *ps = &e->plan->stages[si];
  const gpp_model *m = e->plan->model;
  bool plain = ps->tensor == 1 && ps->recompute == GPP_RECOMPUTE_NONE;
  double t = ps->tensor, fwd = 0, stash = 0;
  for (uint32_t i = l->first; i < l->first + l->n; i++) {
    const gpp_op *op = &m->ops[ps->ops[i]];
    gpp_op_cost c = gpp_costs_op(e->costs, ps->ops[i], slice);
    w->fwd += c.fwd / t;
    fwd += c.fwd / t;
    w->bwd += c.bwd / t;
    if (plain) w->stash += op->saved_bytes * slice;
    stash += op->saved_bytes;
    if (op->out_bytes * slice > w->workspace)
      w->workspace = op->out_bytes * slice;
    if (op->eval_bytes * slice / t > w->post)
      w->post = op->eval_bytes * slice / t;
    double frac;
    stash -= selective_drop(ps, op, &frac);
    w->bwd += frac * c.fwd / t;
  }
  if (plain) return;
  bool rerun;
  double kept = gpp_layer_stash(l->in_bytes, stash, ps->recompute, ps->tensor,
                                ps->sequence_parallel, &rerun);
  if (rerun) {
    w->bwd += fwd;
    if (l->saved * slice / t > w->workspace)
      w->workspace = l->saved * slice / t;
  }
  w->stash += kept * slice;
}

/* Forward FLOPs per sample that layer l's recomputation runs again, as
 * layer_work decides it: the attention cores (selective), or the whole
 * forward when the layer keeps less than its stash (full). */
static double layer_rerun_flops(const gpp_model *m, const gpp_plan_stage *ps,
                                const gpp__layer *l) {
  double fwd = 0, stash = 0, cores = 0;
  for (uint32_t i = l->first; i < l->first + l->n; i++) {
    const gpp_op *op = &m->ops[ps->ops[i]];
    fwd += op->flops_fwd;
    stash += op->saved_bytes;
    double frac;
    stash -= selective_drop(ps, op, &frac);
    cores += frac * op->flops_fwd;
  }
  if (ps->recompute == GPP_RECOMPUTE_FULL) return l->in_bytes < stash ? fwd : 0;
  return cores;
}

double gpp__stage_rerun_flops(const gpp__eng *e, uint32_t si) {
  const gpp__stage *st = &e->stages[si];
  const gpp_plan_stage *ps = &e->plan->stages[si];
  double f = 0;
  for (uint32_t l = 0; ps->recompute != GPP_RECOMPUTE_NONE &&
                       l < st->n_layers; l++)
    f += layer_rerun_flops(e->plan->model, ps, &st->layers[l]);
  return f;
}

gpp__work gpp__slot_work(const gpp__eng *e, uint32_t si, uint32_t slice) {
  const gpp__stage *st = &e->stages[si];
  gpp__work w = {0, 0, 0, 0, 0};
  for (uint32_t l = 0; l < st->n_layers; l++)
    layer_work(e, si, &st->layers[l], slice, &w);
  if (e->plan->stages[si].sharding == GPP_SHARD_FULL)
    w.workspace += 2 * st->max_layer_params / st->t;
  return w;
}
