/* stage_cost.c -- the planners' shared cost cache and stage cost model
 * (formulas in planner/internal.h), so that GraphPipe, PipeDream and Piper
 * rank stages identically and differ only in the partitions they search. */
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"
#include "sim/engine/engine.h"

/* The plan trains in the model's precision (gpp_precision_of_model). */
static double static_bytes(const gpp_op *op, const gpp_planner_options *o,
                           bool master) {
  double s = 2 * op->param_bytes;
  if (o->optimizer == GPP_OPTIM_ADAM) s += 8 * op->param_count;
  if (master) s += 4 * op->param_count;
  return s;
}

static int per_op_arrays(gpp__pctx *c) {
  c->stat = gpp_calloc(c->err, c->n, sizeof *c->stat);
  c->saved = gpp_calloc(c->err, c->n, sizeof *c->saved);
  c->outb = gpp_calloc(c->err, c->n, sizeof *c->outb);
  c->param = gpp_calloc(c->err, c->n, sizeof *c->param);
  c->rows = gpp_calloc(c->err, (size_t)c->B + 1, sizeof *c->rows);
  if (!(c->stat && c->saved && c->outb && c->param && c->rows))
    return c->err->code;
  bool master = gpp_precision_master(gpp_precision_of_model(c->m));
  for (uint32_t i = 0; i < c->n; i++) {
    const gpp_op *op = &c->m->ops[i];
    c->stat[i] = static_bytes(op, c->opt, master);
    c->saved[i] = op->saved_bytes;
    c->outb[i] = op->out_bytes;
    c->param[i] = op->param_bytes;
    if (op->out_bytes > c->ws_per_sample) c->ws_per_sample = op->out_bytes;
  }
  return 0;
}

int gpp__pctx_init(gpp__pctx *c, const gpp_planner_input *in,
                   const gpp_planner_options *opt, gpp_errctx *err) {
  memset(c, 0, sizeof *c);
  c->in = in;
  c->opt = opt;
  c->m = in->model;
  c->n = in->model->n_ops;
  c->B = in->batch;
  c->G = in->n_gpus;
  c->err = err;
  c->mem_cap = in->mem_bytes > 0 ? in->mem_bytes : INFINITY;
  c->max_k = opt->max_stage_devices ? opt->max_stage_devices : c->G;
  c->modes = !opt->no_stage_modes;
  c->prec = gpp_precision_of_model(c->m);
  int rc = per_op_arrays(c);
  if (rc == 0) rc = gpp__modes_init(c);
  if (rc != 0) gpp__pctx_free(c);
  return rc;
}

void gpp__pctx_free(gpp__pctx *c) {
  gpp__rows_free(c->rows, c->B + 1);
  free(c->stat);
  free(c->saved);
  free(c->outb);
  free(c->param);
  gpp__modes_free(c);
  c->rows = NULL;
  c->stat = c->saved = c->outb = c->param = NULL;
}

const double *gpp__times(gpp__pctx *c, uint32_t r) {
  if (r == 0 || r > c->B) {
    GPP_ERR(c->err, GPP_EINTERNAL, "cost asked for %u samples", r);
    return NULL;
  }
  if (c->rows[r]) return c->rows[r];
  double *row = gpp_calloc(c->err, c->n, sizeof *row), *x = NULL;
  if (row == NULL) return NULL;
  /* The re-run row whenever modes may be priced: a planner may toggle
   * c->modes between its searches over the same rows. */
  if (!c->opt->no_stage_modes &&
      (x = gpp_calloc(c->err, 3 * (size_t)c->n, sizeof *x)) == NULL) {
    free(row);
    return NULL;
  }
  for (uint32_t i = 0; i < c->n; i++) {
    double f = 0, b = 0;
    if (c->in->op_time(c->in->op_time_ctx, i, r, &f, &b, c->err) != 0) {
      free(row);
      free(x);
      return NULL;
    }
    row[i] = f + b;
    if (x) gpp__modes_row(c, i, f, x);
  }
  c->xrows[r] = x;
  return c->rows[r] = row;
}

const double *gpp__xtimes(gpp__pctx *c, uint32_t r) {
  if (gpp__times(c, r) == NULL) return NULL;
  if (c->xrows[r] == NULL)
    GPP_ERR(c->err, GPP_EINTERNAL, "no re-run row without stage modes");
  return c->xrows[r];
}

int gpp__modes_sum(gpp__pctx *c, const uint32_t *ops, uint32_t n_ops,
                   uint32_t r, gpp__stage_sums *s) {
  s->modes = false;
  if (!c->modes) return 0;
  bool *rerun = gpp_calloc(c->err, n_ops ? n_ops : 1, sizeof *rerun);
  if (rerun == NULL) return c->err->code;
  gpp__modes_stage(c, ops, n_ops, s, rerun);
  for (uint32_t j = 0; j < GPP__MAX_TP_LOG2; j++) {
    uint32_t rt = r << j;
    s->at[j][0] = NAN;
    if (rt > c->B) continue;
    const double *t = gpp__times(c, rt), *x = gpp__xtimes(c, rt);
    if (t == NULL || x == NULL) {
      free(rerun);
      return c->err->code;
    }
    memset(s->at[j], 0, sizeof s->at[j]);
    for (uint32_t q = 0; q < n_ops; q++) {
      uint32_t i = ops[q];
      s->at[j][GPP__AT_TIME] += t[i];
      s->at[j][GPP__AT_FWD] += x[i];
      s->at[j][GPP__AT_SEL] += x[c->n + i];
      s->at[j][GPP__AT_FULL] += rerun[q] ? x[i] : 0;
    }
  }
  free(rerun);
  s->modes = true;
  return 0;
}

uint32_t gpp__log2(uint32_t x) {
  return x > 1 ? 31u - (uint32_t)__builtin_clz(x) : 0;
}

/* Ring all-reduce: 2(k-1)/k * S * beta + 2(k-1) * alpha, with the
 * parameters of the smallest modelled power-of-two group holding k GPUs,
 * or, for a group over several nodes that is not whole nodes, of a flat
 * ring across nodes, as the engine runs it (topology/coll_run.c). */
static void ring_params(const gpp__pctx *c, uint32_t k, double *a,
                        double *b) {
  uint32_t j = gpp__log2(k);
  const gpp_planner_comm *cm = &c->in->comm;
  if ((1u << j) < k && cm->gpus_per_node > 1 && k > cm->gpus_per_node &&
      k % cm->gpus_per_node != 0 && cm->ring_span_sec_per_byte > 0) {
    *a = cm->ring_span_latency;
    *b = cm->ring_span_sec_per_byte;
  } else {
    if ((1u << j) < k && j + 1 < GPP_PLANNER_MAX_LOG2) j++;
    *a = cm->ar_latency[j];
    *b = cm->ar_sec_per_byte[j];
  }
}

double gpp__allreduce(const gpp__pctx *c, double bytes, uint32_t k) {
  if (k <= 1 || bytes <= 0) return 0;
  double a, b;
  ring_params(c, k, &a, &b);
  return 2.0 * (k - 1) / k * bytes * b + 2.0 * (k - 1) * a;
}

double gpp__ring(const gpp__pctx *c, double bytes, uint32_t n, uint32_t span,
                 double steps, double count) {
  if (n <= 1 || count <= 0) return 0;
  const gpp_planner_comm *cm = &c->in->comm;
  double a, b;
  /* A strided group (one GPU per tensor group) over several nodes has one
   * member per node and ring hops over the nodes' NICs, not the fitted
   * hierarchical all-reduce of whole nodes: a flat ring across nodes
   * (candle_uno on 64 DGX H100 GPUs: a tensor-8 stage's gradient sync
   * took 1.8 ms in the engine where the hierarchical fit gave a fraction). */
  if (n < span && cm->gpus_per_node > 0 && span > cm->gpus_per_node &&
      cm->ring_span_sec_per_byte > 0) {
    /* With several members on each of whole nodes, the engine's `auto`
     * runs an all-reduce hierarchically (topology/coll_run.c): a ring of the g
     * members inside each node around rings of the N nodes on S / g each,
     * through the members' own NICs (tp4 x 8 replicas on DGX H100: 0.61
     * ms in the engine where the flat ring gave 1.28). */
    uint32_t nodes = span / cm->gpus_per_node, g = n / nodes;
    if (steps == 2 && g > 1 && g * nodes == n &&
        nodes * cm->gpus_per_node == span) {
      double share = cm->gpus_per_nic > span / n ? cm->gpus_per_nic * n / span
                                                 : 1;
      return 2 * ((g - 1.0) / g * bytes * cm->p2p_intra_sec_per_byte +
                  (nodes - 1.0) / n * bytes * cm->ring_span_sec_per_byte *
                      share) +
             count * 2 * ((g - 1) * cm->p2p_intra_latency +
                          (nodes - 1) * cm->ring_span_latency);
    }
    a = cm->ring_span_latency;
    b = cm->ring_span_sec_per_byte;
  } else {
    ring_params(c, span, &a, &b);
  }
  return steps * ((double)(n - 1) / n * bytes * b + count * (n - 1) * a);
}

double gpp__transfer(const gpp__pctx *c, double bytes) {
  const gpp_planner_comm *cm = &c->in->comm;
  if (bytes <= 0) return 0;
  return cm->p2p_latency + bytes * cm->p2p_sec_per_byte;
}

/* A stage's transfers in and out for r samples per replica. */
static double stage_comm(const gpp__pctx *c, const gpp__stage_sums *s,
                         uint32_t r) {
  return gpp__transfer(c, s->in_bytes * r) + gpp__transfer(c, s->out_bytes * r);
}

/* The transfers are charged in full, not overlapped with compute: under
 * 1F1B-style in-flight limits a stage's period is its round trip (the
 * work and both transfers of every hop downstream) over its in-flight
 * micro-batches, i.e. the path's average of work + C(in) + C(out).  Its
 * GPU's link also carries the activations out and the gradients back in
 * the same direction, (in + out) bytes, which this sum covers. */
double gpp__stage_tps_plain(const gpp__pctx *c, const gpp__stage_sums *s,
                           uint32_t b, uint32_t k) {
  uint32_t r = gpp__ceil_div(b, k);
  double m = (double)c->B / b;
  double work = s->time + gpp__allreduce(c, s->param, k) / m;
  return (work + stage_comm(c, s, r)) / b;
}

static double plain_mem(const gpp__pctx *c, const gpp__stage_sums *s,
                        uint32_t b, uint32_t k, double inflight_samples) {
  double stash = inflight_samples < c->B ? inflight_samples : c->B;
  double r = gpp__ceil_div(b, k);
  return s->stat + stash / k * s->saved + c->ws_per_sample * r;
}

double gpp__stage_tps(const gpp__pctx *c, const gpp__stage_sums *s,
                      uint32_t b, uint32_t k) {
  if (!c->modes || !s->modes) return gpp__stage_tps_plain(c, s, b, k);
  return gpp__stage_best(c, s, b, k, b, NULL, NULL);
}

double gpp__stage_mem(const gpp__pctx *c, const gpp__stage_sums *s,
                      uint32_t b, uint32_t k, double inflight_samples) {
  return plain_mem(c, s, b, k, inflight_samples);
}

static bool tensor_ok(const gpp__pctx *c, const gpp__stage_sums *s,
                      uint32_t t, uint32_t k);
static bool mode_ok(const gpp__stage_sums *s, uint32_t k, uint32_t t, int sh,
                    int rc);
static double mode_mem(const gpp__pctx *c, const gpp__stage_sums *s,
                       gpp__mode md, uint32_t k, uint32_t r, double infl);

/* With modes: whether some mode gpp__stage_best prices holds the samples
 * (exactly when it is finite), from the memory alone. */
bool gpp__stage_fits(const gpp__pctx *c, const gpp__stage_sums *s,
                     uint32_t b, uint32_t k, double inflight_samples) {
  if (plain_mem(c, s, b, k, inflight_samples) <= c->mem_cap) return true;
  if (!c->modes || !s->modes) return false;
  for (uint32_t t = 8; t >= 1; t /= 2) {
    if (!tensor_ok(c, s, t, k)) continue;
    uint32_t r = gpp__ceil_div(b, k / t);
    for (int sh = 0; sh <= GPP_SHARD_FULL; sh++)
      for (int rc = 0; rc <= GPP_RECOMPUTE_FULL; rc++) {
        gpp__mode md = {t, (gpp_sharding)sh, (gpp_recompute)rc};
        if (mode_ok(s, k, t, sh, rc) &&
            mode_mem(c, s, md, k, r, inflight_samples) <= c->mem_cap)
          return true;
      }
  }
  return false;
}

/* ---- stage modes (internal.h) ---- */

/* One micro-batch's forward and backward under a mode, with the tensor
 * collectives after the compute and the sharding chain alongside it
 * (sim/engine/engine_comm.c), and the end-of-iteration collective. */
static void mode_run(const gpp__pctx *c, const gpp__stage_sums *s,
                     gpp__mode md, uint32_t k, uint32_t r,
                     gpp__mode_cost *out) {
  uint32_t t = md.tensor, d = k / t;
  const double *at = s->at[gpp__log2(t)], *ms = s->ms;
  bool full = md.recompute == GPP_RECOMPUTE_FULL;
  double rr = full ? at[GPP__AT_FULL]
            : md.recompute == GPP_RECOMPUTE_SELECTIVE ? at[GPP__AT_SEL] : 0;
  double fwd = at[GPP__AT_FWD] / t;
  double bwd = (at[GPP__AT_TIME] - at[GPP__AT_FWD] + rr) / t;
  double nl = ms[GPP__MS_TP_N], in = 2 * ms[GPP__MS_TP_IN] * r;
  double rin = full ? 2 * ms[GPP__MS_TP_IN_RR] * r : 0;
  double rn = full ? 2 * ms[GPP__MS_TP_N_RR] : 0;
  double F = fwd + gpp__ring(c, in, t, t, 2, 2 * nl);
  double B = bwd + gpp__ring(c, in + rin, t, t, 2, 2 * nl + rn);
  double P = s->param / t, ag = gpp__ring(c, P, d, k, 1, nl);
  if (md.sharding == GPP_SHARD_FULL && d > 1 && nl > 0) {
    /* The compute waits for the first layer's gather: at most the
     * largest layer's (which the sums cannot place). */
    double first = s->first_param < s->param ? s->first_param : s->param;
    double g1 = gpp__ring(c, first / t, d, k, 1, 1);
    F = fmax(g1 + F, ag + fwd / nl);
    B = fmax(g1 + B, 2 * ag + bwd / nl);
  } else if (md.sharding == GPP_SHARD_GRADIENTS && d > 1 && nl > 0) {
    B = fmax(B, ag + bwd / nl);
  }
  out->compute = F + B;
  out->fwd = F;
  out->sync = md.sharding == GPP_SHARD_NONE ? gpp__ring(c, P, d, k, 2, 1)
            : md.sharding == GPP_SHARD_OPTIMIZER ? 2 * gpp__ring(c, P, d, k, 1, 1)
            : md.sharding == GPP_SHARD_GRADIENTS ? gpp__ring(c, P, d, k, 1, 1)
                                                 : 0;
}

/* A mode's memory: fixed (static + workspace) + per x stashed samples. */
static void mode_mem_parts(const gpp__pctx *c, const gpp__stage_sums *s,
                           gpp__mode md, uint32_t k, uint32_t r,
                           double *fixed, double *per_sample) {
  uint32_t t = md.tensor, d = k / t;
  const double *ms = s->ms;
  int rc = md.recompute;
  double keep = rc == 0 ? s->saved : ms[GPP__MS_KEEP_SEL + (rc - 1)];
  double rep = ms[GPP__MS_REP_NONE + rc], per = keep;
  bool no;
  if (t > 1) per = gpp_layer_stash(rep, keep, GPP_RECOMPUTE_NONE, t, false, &no);
  double stat = gpp_stage_static_bytes(c->opt->optimizer, c->prec, s->param,
                                       ms[GPP__MS_COUNT], t, d, md.sharding);
  double ws = c->ws_per_sample * r;
  if (rc == GPP_RECOMPUTE_FULL && s->lay_saved * r / t > ws)
    ws = s->lay_saved * r / t;
  if (md.sharding == GPP_SHARD_FULL) ws += 2 * s->lay_param / t;
  *fixed = stat + ws;
  *per_sample = per / d;
}

static double mode_mem(const gpp__pctx *c, const gpp__stage_sums *s,
                       gpp__mode md, uint32_t k, uint32_t r, double infl) {
  double fixed, per;
  mode_mem_parts(c, s, md, k, r, &fixed, &per);
  return fixed + (infl < c->B ? infl : c->B) * per;
}

/* The mode's TPS at r samples per replica. */
static double mode_tps(const gpp__pctx *c, const gpp__stage_sums *s,
                       gpp__mode md, uint32_t b, uint32_t k, uint32_t r,
                       gpp__mode_cost *mc) {
  double m = (double)c->B / b;
  mode_run(c, s, md, k, r, mc);
  return mc->tps = (mc->compute + mc->sync / m + stage_comm(c, s, r)) / b;
}

double gpp__mode_eval(const gpp__pctx *c, const gpp__stage_sums *s,
                      uint32_t b, uint32_t k, double inflight_samples,
                      gpp__mode md, gpp__mode_cost *out) {
  uint32_t r = gpp__ceil_div(b, k / md.tensor);
  out->mem = mode_mem(c, s, md, k, r, inflight_samples);
  return mode_tps(c, s, md, b, k, r, out);
}

/* Whether tensor degree t may split a stage on k devices: it divides k,
 * the node holds whole groups, and the costs at r * t samples exist. */
bool gpp__tensor_fits(const gpp__pctx *c, uint32_t t, uint32_t k) {
  uint32_t g = c->in->comm.gpus_per_node;
  return t == 1 || (t <= 8 && k % t == 0 && g >= t && g % t == 0);
}

static bool tensor_ok(const gpp__pctx *c, const gpp__stage_sums *s,
                      uint32_t t, uint32_t k) {
  if (t == 1) return true;
  return gpp__tensor_fits(c, t, k) &&
         !isnan(s->at[gpp__log2(t)][GPP__AT_TIME]);
}

/* Whether recompute mode rc keeps less than the stash without it. */
static bool recompute_saves(const gpp__stage_sums *s, int rc) {
  return rc == 0 || s->ms[GPP__MS_KEEP_SEL + (rc - 1)] < s->saved;
}

/* Takes md when it fits and beats *best; the memory is checked first
 * (it is the cheaper half).  Sharding and recompute count no faster than
 * their tensor degree without them (bar): they are taken for memory. */
static void consider(const gpp__pctx *c, const gpp__stage_sums *s,
                     uint32_t b, uint32_t k, double infl, gpp__mode md,
                     double bar, double *best, gpp__mode *bm) {
  uint32_t r = gpp__ceil_div(b, k / md.tensor);
  if (mode_mem(c, s, md, k, r, infl) > c->mem_cap) return;
  gpp__mode_cost mc;
  double tps = fmax(mode_tps(c, s, md, b, k, r, &mc), bar);
  if (tps < *best) {
    *best = tps;
    *bm = md;
  }
}

/* A floor under every mode of tensor degree t: its compute and its
 * transfers. */
static double tensor_floor(const gpp__pctx *c, const gpp__stage_sums *s,
                           uint32_t b, uint32_t k, uint32_t t) {
  uint32_t r = gpp__ceil_div(b, k / t);
  return (s->at[gpp__log2(t)][GPP__AT_TIME] / t +
          gpp__transfer(c, s->in_bytes * r) +
          gpp__transfer(c, s->out_bytes * r)) / b;
}

/* Whether (t, sh, rc) is a mode to price for a stage on k devices (t = 1,
 * none, none is the plain estimate, priced apart). */
static bool mode_ok(const gpp__stage_sums *s, uint32_t k, uint32_t t, int sh,
                    int rc) {
  if (t == 1 && sh == 0 && rc == 0) return false;
  return (sh == 0 || k / t >= 2) && recompute_saves(s, rc);
}

/* The TPS of tensor degree t without sharding or recompute (t = 1: the
 * plain estimate). */
static double tensor_tps(const gpp__pctx *c, const gpp__stage_sums *s,
                         uint32_t b, uint32_t k, uint32_t t) {
  if (t == 1) return gpp__stage_tps_plain(c, s, b, k);
  gpp__mode_cost mc;
  gpp__mode md = {t, GPP_SHARD_NONE, GPP_RECOMPUTE_NONE};
  return mode_tps(c, s, md, b, k, gpp__ceil_div(b, k / t), &mc);
}

/* Every mode of tensor degree t that may beat *best. */
static void modes_at(const gpp__pctx *c, const gpp__stage_sums *s, uint32_t b,
                     uint32_t k, double infl, uint32_t t, double *best,
                     gpp__mode *bm) {
  if (tensor_floor(c, s, b, k, t) >= *best) return;
  double bar = tensor_tps(c, s, b, k, t);
  if (bar >= *best) return;
  /* When t alone fits, it takes *best at bar, and sharding or recompute,
   * counted no faster than bar, cannot beat it: skip pricing them. */
  gpp__mode plain_t = {t, GPP_SHARD_NONE, GPP_RECOMPUTE_NONE};
  if (t > 1 && mode_mem(c, s, plain_t, k, gpp__ceil_div(b, k / t), infl) <=
                   c->mem_cap) {
    consider(c, s, b, k, infl, plain_t, bar, best, bm);
    return;
  }
  for (int sh = 0; sh <= GPP_SHARD_FULL; sh++)
    for (int rc = 0; rc <= GPP_RECOMPUTE_FULL; rc++)
      if (mode_ok(s, k, t, sh, rc))
        consider(c, s, b, k, infl, (gpp__mode){t, (gpp_sharding)sh,
                                                (gpp_recompute)rc},
                 bar, best, bm);
}

double gpp__stage_best(const gpp__pctx *c, const gpp__stage_sums *s,
                       uint32_t b, uint32_t k, double inflight_samples,
                       gpp__mode *mode, double *mem) {
  gpp__mode bm = {1, GPP_SHARD_NONE, GPP_RECOMPUTE_NONE};
  double m0 = plain_mem(c, s, b, k, inflight_samples);
  double best = m0 <= c->mem_cap ? gpp__stage_tps_plain(c, s, b, k) : INFINITY;
  /* The largest degree first: it is usually the fastest, and the bar it
   * sets lets the floors skip the rest. */
  for (uint32_t t = 8; c->modes && s->modes && t >= 1; t /= 2)
    if (tensor_ok(c, s, t, k))
      modes_at(c, s, b, k, inflight_samples, t, &best, &bm);
  if (mode) *mode = bm;
  if (mem) {
    gpp__mode_cost mc;
    bool plain = bm.tensor == 1 && bm.sharding == 0 && bm.recompute == 0;
    *mem = plain || !s->modes ? m0
         : (gpp__mode_eval(c, s, b, k, inflight_samples, bm, &mc), mc.mem);
  }
  return best;
}

void gpp__boundary(const gpp__pctx *c, const uint32_t *ops, uint32_t n_ops,
                   const uint32_t *member, uint32_t tag, double *in,
                   double *out, uint32_t *seen, uint32_t *seen_tag) {
  *in = *out = 0;
  uint32_t st = ++*seen_tag;
  for (uint32_t q = 0; q < n_ops; q++) {
    const gpp_op *op = &c->m->ops[ops[q]];
    for (uint32_t j = 0; j < op->n_outputs; j++)
      if (member[op->outputs[j]] != tag) {
        *out += c->outb[ops[q]];
        break;
      }
    for (uint32_t j = 0; j < op->n_inputs; j++) {
      uint32_t u = op->inputs[j];
      if (member[u] == tag || seen[u] == st) continue;
      seen[u] = st;
      *in += c->outb[u];
    }
  }
}

void gpp__progress(const gpp__pctx *c, const char *who, double fraction) {
  if (c->opt->progress) c->opt->progress(c->opt->progress_ctx, who, fraction);
}

uint32_t gpp__micro_batches(const gpp__pctx *c, uint32_t out[32]) {
  if (c->opt->micro_batch) {
    out[0] = c->opt->micro_batch;
    return 1;
  }
  uint32_t n = 0;
  for (uint32_t b = 1; b <= c->B && n < 32; b *= 2) {
    if (c->B % b == 0) out[n++] = b;
    if (b > UINT32_MAX / 2) break;
  }
  return n;
}

/* The samples a mode's memory holds in flight: INFINITY when its stash
 * of the whole batch fits, below 0 when not even none does. */
static double mode_room(const gpp__pctx *c, const gpp__stage_sums *s,
                        gpp__mode md, uint32_t k, uint32_t r) {
  double fixed, per;
  mode_mem_parts(c, s, md, k, r, &fixed, &per);
  if (fixed + c->B * per <= c->mem_cap) return INFINITY;
  return per > 0 ? (c->mem_cap - fixed) / per : -1;
}

double gpp__stage_room(const gpp__pctx *c, const gpp__stage_sums *s,
                       uint32_t b, uint32_t k, double tmax) {
  double most = -1;
  for (uint32_t t = 1; t <= 8; t *= 2) {
    if (!tensor_ok(c, s, t, k) || tensor_floor(c, s, b, k, t) > tmax ||
        tensor_tps(c, s, b, k, t) > tmax) /* the bar of consider */
      continue;
    uint32_t r = gpp__ceil_div(b, k / t);
    for (int sh = 0; sh <= GPP_SHARD_FULL; sh++)
      for (int rc = 0; rc <= GPP_RECOMPUTE_FULL; rc++) {
        if (!mode_ok(s, k, t, sh, rc) && !(t == 1 && sh == 0 && rc == 0))
          continue;
        gpp__mode md = {t, (gpp_sharding)sh, (gpp_recompute)rc};
        double room = mode_room(c, s, md, k, r);
        gpp__mode_cost cost;
        if (room <= most || mode_tps(c, s, md, b, k, r, &cost) > tmax)
          continue;
        most = room;
      }
  }
  return most;
}

double gpp__stage_tps_floor(const gpp__pctx *c, const gpp__stage_sums *s,
                            uint32_t b, uint32_t k) {
  if (!c->modes || !s->modes) return gpp__stage_tps_plain(c, s, b, k);
  double least = INFINITY;
  for (uint32_t t = 1; t <= 8; t *= 2)
    if (tensor_ok(c, s, t, k) && tensor_floor(c, s, b, k, t) < least)
      least = tensor_floor(c, s, b, k, t);
  return least;
}

double gpp__stage_work_floor(const gpp__pctx *c, const gpp__stage_sums *s,
                             uint32_t k) {
  if (!c->modes || !s->modes) return s->time;
  double least = INFINITY;
  for (uint32_t t = 1; t <= 8; t *= 2)
    if (tensor_ok(c, s, t, k) && s->at[gpp__log2(t)][GPP__AT_TIME] / t < least)
      least = s->at[gpp__log2(t)][GPP__AT_TIME] / t;
  return least;
}
