/* stage_cost.c -- the planners' shared cost cache and stage cost model
 * (formulas in planner/internal.h), so that GraphPipe, PipeDream and Piper
 * rank stages identically and differ only in the partitions they search. */
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

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
  int rc = per_op_arrays(c);
  if (rc != 0) gpp__pctx_free(c);
  return rc;
}

void gpp__pctx_free(gpp__pctx *c) {
  if (c->rows)
    for (uint32_t r = 0; r <= c->B; r++) free(c->rows[r]);
  free(c->rows);
  free(c->stat);
  free(c->saved);
  free(c->outb);
  free(c->param);
  c->rows = NULL;
  c->stat = c->saved = c->outb = c->param = NULL;
}

const double *gpp__times(gpp__pctx *c, uint32_t r) {
  if (r == 0 || r > c->B) {
    GPP_ERR(c->err, GPP_EINTERNAL, "cost asked for %u samples", r);
    return NULL;
  }
  if (c->rows[r]) return c->rows[r];
  double *row = gpp_calloc(c->err, c->n, sizeof *row);
  if (row == NULL) return NULL;
  for (uint32_t i = 0; i < c->n; i++) {
    double f = 0, b = 0;
    if (c->in->op_time(c->in->op_time_ctx, i, r, &f, &b, c->err) != 0) {
      free(row);
      return NULL;
    }
    row[i] = f + b;
  }
  return c->rows[r] = row;
}

uint32_t gpp__log2(uint32_t x) {
  return x > 1 ? 31u - (uint32_t)__builtin_clz(x) : 0;
}

/* Ring all-reduce: 2(k-1)/k * S * beta + 2(k-1) * alpha, with the
 * parameters of the smallest modelled power-of-two group holding k GPUs,
 * or, for a group over several nodes that is not whole nodes, of a flat
 * ring across nodes, as the engine runs it (topology/coll_run.c). */
double gpp__allreduce(const gpp__pctx *c, double bytes, uint32_t k) {
  if (k <= 1 || bytes <= 0) return 0;
  uint32_t j = gpp__log2(k);
  const gpp_planner_comm *cm = &c->in->comm;
  double a, b;
  if ((1u << j) < k && cm->gpus_per_node > 1 && k > cm->gpus_per_node &&
      k % cm->gpus_per_node != 0 && cm->ring_span_sec_per_byte > 0) {
    a = cm->ring_span_latency;
    b = cm->ring_span_sec_per_byte;
  } else {
    if ((1u << j) < k && j + 1 < GPP_PLANNER_MAX_LOG2) j++;
    a = cm->ar_latency[j];
    b = cm->ar_sec_per_byte[j];
  }
  return 2.0 * (k - 1) / k * bytes * b + 2.0 * (k - 1) * a;
}

double gpp__transfer(const gpp__pctx *c, double bytes, bool intra) {
  const gpp_planner_comm *cm = &c->in->comm;
  if (bytes <= 0) return 0;
  if (intra && cm->gpus_per_node > 0)
    return cm->p2p_intra_latency + bytes * cm->p2p_intra_sec_per_byte;
  return cm->p2p_latency + bytes * cm->p2p_sec_per_byte;
}

/* The transfers are charged in full, not overlapped with compute: under
 * 1F1B-style in-flight limits a stage's period is its round trip (the
 * work and both transfers of every hop downstream) over its in-flight
 * micro-batches, i.e. the path's average of work + C(in) + C(out).  Its
 * GPU's link also carries the activations out and the gradients back in
 * the same direction, (in + out) bytes, which this sum covers. */
double gpp__stage_tps(const gpp__pctx *c, const gpp__stage_sums *s,
                      uint32_t b, uint32_t k) {
  uint32_t r = gpp__ceil_div(b, k);
  double m = (double)c->B / b;
  double work = s->time + gpp__allreduce(c, s->param, k) / m;
  double comm = gpp__transfer(c, s->in_bytes * r, false) +
                gpp__transfer(c, s->out_bytes * r, false);
  return (work + comm) / b;
}

double gpp__stage_mem(const gpp__pctx *c, const gpp__stage_sums *s,
                      uint32_t b, uint32_t k, double inflight_samples) {
  double stash = inflight_samples < c->B ? inflight_samples : c->B;
  double r = gpp__ceil_div(b, k);
  return s->stat + stash / k * s->saved + c->ws_per_sample * r;
}

bool gpp__stage_fits(const gpp__pctx *c, const gpp__stage_sums *s,
                     uint32_t b, uint32_t k, double inflight_samples) {
  return gpp__stage_mem(c, s, b, k, inflight_samples) <= c->mem_cap;
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
