/* model_derive.c -- shape inference and per-sample costs of each op.
 *
 * Shapes flow from inputs in topological order: an op's output is
 * tokens x width elements per sample.  FLOPs count multiply-adds as two.
 * Matmul and attention count their GEMMs only (the Megatron-LM convention:
 * bias adds and the softmax are memory-bound and appear in bytes); a GEMM's
 * backward is two GEMMs (dX and dW), twice its forward.  Bytes are
 * activation bytes read plus written per sample (weights are counted once
 * per micro-batch, as param_bytes, by the cost model).  Saved bytes are what
 * the backward needs from the forward.  Elementwise FLOP counts per element
 * come from the op's arithmetic (noted at each case).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/model/model_internal.h"

static int shape_error(const gpp__mspec *s, gpp_errctx *err, const char *what) {
  GPP_RAISE_AT(err, GPP_EGRAPH, &s->mark, "op '%s' (%s): %s", s->name,
               gpp_op_kind_name(s->kind), what);
}

static int need_inputs(const gpp__mspec *s, const gpp_op *op, uint32_t lo,
                       uint32_t hi, gpp_errctx *err) {
  if (op->n_inputs >= lo && op->n_inputs <= hi) return 0;
  char what[128];
  if (lo == hi)
    snprintf(what, sizeof what, "expected %u input%s, found %u", lo,
             lo == 1 ? "" : "s", op->n_inputs);
  else
    snprintf(what, sizeof what, "expected at least %u inputs, found %u", lo,
             op->n_inputs);
  return shape_error(s, err, what);
}

static int need(const gpp__mspec *s, int64_t v, const char *key,
                gpp_errctx *err) {
  if (v > 0) return 0;
  char what[128];
  snprintf(what, sizeof what, "missing required key '%s' (expected a "
           "positive size)", key);
  return shape_error(s, err, what);
}

static int64_t elems(const gpp_op *op) {
  return op->shape.tokens * op->shape.width;
}

static int same_shapes(const gpp_model *m, const gpp_op *op) {
  const gpp_op *a = &m->ops[op->inputs[0]];
  for (uint32_t j = 1; j < op->n_inputs; j++) {
    const gpp_op *x = &m->ops[op->inputs[j]];
    if (x->shape.tokens != a->shape.tokens || x->shape.width != a->shape.width)
      return 0;
  }
  return 1;
}

/* The first input whose `dim` (tokens or width) differs from input 0's. */
static int64_t first_mismatch(const gpp_model *m, const gpp_op *op,
                              bool tokens, uint32_t *at) {
  const gpp_op_shape *a = &m->ops[op->inputs[0]].shape;
  for (uint32_t j = 1; j < op->n_inputs; j++) {
    const gpp_op_shape *x = &m->ops[op->inputs[j]].shape;
    if (tokens ? x->tokens != a->tokens : x->width != a->width) {
      *at = j;
      return tokens ? x->tokens : x->width;
    }
  }
  return -1;
}

static int concat_mismatch(const gpp_model *m, const gpp_op *op, uint32_t j,
                           const gpp__mspec *s, gpp_errctx *err) {
  const gpp_op *a = &m->ops[op->inputs[0]], *x = &m->ops[op->inputs[j]];
  bool tok = s->along == GPP__ALONG_WIDTH;
  char what[512];
  snprintf(what, sizeof what, "inputs '%s' (%lld x %lld) and '%s' (%lld x "
           "%lld, tokens x width) differ in %s; %s", a->name,
           (long long)a->shape.tokens, (long long)a->shape.width, x->name,
           (long long)x->shape.tokens, (long long)x->shape.width,
           tok ? "tokens" : "width",
           tok ? "say how to join them: `along: tokens` (same width), "
                 "`along: flatten` (one token of all elements), or a `pool` "
                 "item before the concat"
               : "`along: tokens` needs the same width");
  return shape_error(s, err, what);
}

static int shape_concat(const gpp_model *m, gpp_op *op, const gpp__mspec *s,
                        gpp_errctx *err) {
  int64_t t = 0, w = 0, all = 0;
  for (uint32_t j = 0; j < op->n_inputs; j++) {
    const gpp_op *x = &m->ops[op->inputs[j]];
    t += x->shape.tokens;
    w += x->shape.width;
    all += elems(x);
  }
  const gpp_op_shape *a = &m->ops[op->inputs[0]].shape;
  uint32_t bad = 0;
  switch (s->along) {
  case GPP__ALONG_FLATTEN: op->shape.tokens = 1, op->shape.width = all; break;
  case GPP__ALONG_TOKENS:
    if (first_mismatch(m, op, false, &bad) >= 0)
      return concat_mismatch(m, op, bad, s, err);
    op->shape.tokens = t, op->shape.width = a->width;
    break;
  default:
    if (first_mismatch(m, op, true, &bad) >= 0)
      return concat_mismatch(m, op, bad, s, err);
    op->shape.tokens = a->tokens, op->shape.width = w;
  }
  return 0;
}

/* DLRM's dot interaction: F features of d elements; the output is the
 * first feature followed by the F(F-1)/2 pairwise dot products. */
static int shape_interaction(const gpp_model *m, gpp_op *op,
                             const gpp__mspec *s, gpp_errctx *err) {
  int64_t d = elems(&m->ops[op->inputs[0]]), f = op->n_inputs;
  for (uint32_t j = 1; j < op->n_inputs; j++)
    if (elems(&m->ops[op->inputs[j]]) != d)
      return shape_error(s, err, "inputs must all have the same size");
  op->shape.tokens = 1;
  op->shape.heads = f;
  op->shape.in_width = d;
  op->shape.width = d + f * (f - 1) / 2;
  return 0;
}

static int shape_matmul(const gpp_model *m, gpp_op *op, const gpp__mspec *s,
                        gpp_errctx *err) {
  const gpp_op *x = &m->ops[op->inputs[0]];
  int64_t width = s->shape.width;
  const gpp_op *up = x;
  for (int h = 1; h < s->mirror_hops && up->n_inputs == 1; h++)
    up = &m->ops[up->inputs[0]];
  if (s->mirror_hops > 0 && up->kind == GPP_OP_MATMUL)
    width = up->shape.in_width;
  GPP_TRY(need(s, width, s->mirror_hops ? "ffn" : "out", err));
  if (s->shape.in_width && s->shape.in_width != x->shape.width)
    return shape_error(s, err, "in_width differs from its input's width");
  op->shape.tokens = x->shape.tokens;
  op->shape.in_width = x->shape.width;
  op->shape.width = width;
  return 0;
}

static int shape_attention(const gpp_model *m, gpp_op *op,
                           const gpp__mspec *s, gpp_errctx *err) {
  const gpp_op *x = &m->ops[op->inputs[0]];
  GPP_TRY(need(s, s->shape.heads, "heads", err));
  op->shape = x->shape;
  op->shape.heads = s->shape.heads;
  op->shape.in_width = x->shape.width;
  if (x->shape.width % s->shape.heads != 0) {
    char what[128];
    snprintf(what, sizeof what, "expected heads (%lld) to divide the input's "
             "width (%lld)", (long long)s->shape.heads,
             (long long)x->shape.width);
    return shape_error(s, err, what);
  }
  return 0;
}

static int shape_embedding(const gpp_model *m, gpp_op *op,
                           const gpp__mspec *s, gpp_errctx *err) {
  GPP_TRY(need(s, s->shape.rows, "rows", err));
  GPP_TRY(need(s, s->shape.width, "dim", err));
  op->shape.rows = s->shape.rows;
  op->shape.bag = s->shape.bag ? s->shape.bag : 1;
  op->shape.width = s->shape.width;
  op->shape.tokens = s->shape.tokens ? s->shape.tokens
                     : op->n_inputs ? m->ops[op->inputs[0]].shape.tokens : 1;
  return 0;
}

static int shape_given(gpp_op *op, const gpp__mspec *s, gpp_errctx *err) {
  GPP_TRY(need(s, s->shape.width, "width", err));
  op->shape.tokens = s->shape.tokens ? s->shape.tokens : 1;
  op->shape.width = s->shape.width;
  return 0;
}

/* A shape-preserving op's given tokens / width (a Transformer's seq and
 * hidden) must match what flows in. */
static int check_given(const gpp_op *op, const gpp__mspec *s,
                       gpp_errctx *err) {
  int64_t t = s->shape.tokens ? s->shape.tokens : op->shape.tokens;
  int64_t w = s->shape.width ? s->shape.width : op->shape.width;
  if (t == op->shape.tokens && w == op->shape.width) return 0;
  char what[160];
  snprintf(what, sizeof what, "expected an input of %lld x %lld (tokens x "
           "width as given), found %lld x %lld", (long long)t, (long long)w,
           (long long)op->shape.tokens, (long long)op->shape.width);
  return shape_error(s, err, what);
}

static int shape_by_kind(gpp_model *m, gpp_op *op, const gpp__mspec *s,
                         gpp_errctx *err) {
  switch (op->kind) {
  case GPP_OP_INPUT:
    GPP_TRY(need_inputs(s, op, 0, 0, err));
    return shape_given(op, s, err);
  case GPP_OP_MATMUL:
    GPP_TRY(need_inputs(s, op, 1, 1, err));
    return shape_matmul(m, op, s, err);
  case GPP_OP_ATTENTION:
    GPP_TRY(need_inputs(s, op, 1, 1, err));
    return shape_attention(m, op, s, err);
  case GPP_OP_EMBEDDING:
    GPP_TRY(need_inputs(s, op, 0, 1, err));
    return shape_embedding(m, op, s, err);
  case GPP_OP_CONCAT:
    GPP_TRY(need_inputs(s, op, 1, UINT32_MAX, err));
    return shape_concat(m, op, s, err);
  case GPP_OP_POOL: /* mean over the input's tokens */
    GPP_TRY(need_inputs(s, op, 1, 1, err));
    op->shape.in_tokens = m->ops[op->inputs[0]].shape.tokens;
    op->shape.tokens = 1;
    op->shape.width = m->ops[op->inputs[0]].shape.width;
    return 0;
  case GPP_OP_INTERACTION:
    GPP_TRY(need_inputs(s, op, 2, UINT32_MAX, err));
    return shape_interaction(m, op, s, err);
  case GPP_OP_ELEMENTWISE:
    GPP_TRY(need_inputs(s, op, 1, UINT32_MAX, err));
    if (!same_shapes(m, op))
      return shape_error(s, err, "inputs must all have the same shape");
    op->shape = m->ops[op->inputs[0]].shape;
    return 0;
  case GPP_OP_LOSS:
    GPP_TRY(need_inputs(s, op, 1, 1, err));
    op->shape.tokens = 1;
    op->shape.in_width = elems(&m->ops[op->inputs[0]]);
    op->shape.width = 1;
    return 0;
  case GPP_OP_CUSTOM:
    if (s->shape.width) return shape_given(op, s, err);
    GPP_TRY(need_inputs(s, op, 1, UINT32_MAX, err));
    op->shape = m->ops[op->inputs[0]].shape;
    return 0;
  default: /* layernorm, softmax, gelu, relu: shape-preserving */
    GPP_TRY(need_inputs(s, op, 1, 1, err));
    op->shape = m->ops[op->inputs[0]].shape;
    return check_given(op, s, err);
  }
}

int gpp__model_shape_op(gpp_model *m, uint32_t i, const gpp__mspec *s,
                        gpp_errctx *err) {
  gpp_op *op = &m->ops[i];
  GPP_TRY(shape_by_kind(m, op, s, err));
  double total = (double)op->shape.tokens * (double)op->shape.width;
  if (total > 1e12)
    return shape_error(s, err, "output larger than 1e12 elements per sample");
  return 0;
}

/* ---- costs ------------------------------------------------------------- */

/* Shape-preserving elementwise kinds: FLOPs per element forward and
 * backward, and elements moved (read + written) forward and backward. */
typedef struct ew_cost {
  double f, b, bytes_f, bytes_b;
  bool saves_input;
} ew_cost;

static ew_cost ew_table(gpp_op_kind k, uint32_t n_inputs) {
  switch (k) {
  /* mean, variance, normalise, scale, shift ~ 8 per element; backward
   * recomputes the normalised value and two reductions ~ 12. */
  case GPP_OP_LAYERNORM: return (ew_cost){8, 12, 2, 3, true};
  /* max, subtract, exp, sum, divide; backward: dot, subtract, multiply. */
  case GPP_OP_SOFTMAX: return (ew_cost){5, 4, 2, 3, true};
  /* tanh approximation: x^3, 2 multiply-adds, tanh, add, 2 multiplies = 9;
   * its derivative about twice that. */
  case GPP_OP_GELU: return (ew_cost){9, 18, 2, 3, true};
  case GPP_OP_RELU: return (ew_cost){1, 1, 2, 3, true};
  /* k-way sum: k-1 adds; the gradient passes through to each input. */
  default:
    return (ew_cost){(double)n_inputs - 1, 0, (double)n_inputs + 1,
                     (double)n_inputs + 1, false};
  }
}

static void cost_elementwise(gpp_op *op) {
  double n = (double)elems(op), dt = op->dtype_bytes;
  ew_cost c = ew_table(op->kind, op->n_inputs);
  op->flops_fwd = c.f * n;
  op->flops_bwd = c.b * n;
  op->bytes_fwd = c.bytes_f * n * dt;
  op->bytes_bwd = c.bytes_b * n * dt;
  op->saved_bytes = c.saves_input ? n * dt : 0;
  if (op->kind == GPP_OP_LAYERNORM) {
    op->param_count = 2.0 * (double)op->shape.width; /* gain and bias */
    op->saved_bytes += 2.0 * (double)op->shape.tokens * 4; /* mean, rstd */
  }
}

static void cost_matmul(gpp_op *op, bool bias) {
  double t = (double)op->shape.tokens, in = (double)op->shape.in_width;
  double w = (double)op->shape.width, dt = op->dtype_bytes;
  op->flops_fwd = 2 * t * in * w;
  op->flops_bwd = 4 * t * in * w;
  op->param_count = in * w + (bias ? w : 0);
  op->bytes_fwd = (t * in + t * w) * dt;
  op->bytes_bwd = (t * w + 2 * t * in) * dt; /* read dY and X, write dX */
  op->saved_bytes = t * in * dt;
}

/* Multi-head self-attention with its projections: QKV and output (4 GEMMs
 * of S x h x h: 8 S h^2) and scores QK^T and context PV (2 GEMMs of
 * S x S x h over all heads: 4 S^2 h).  The softmax over hd x S x S scores
 * is memory traffic.  A fused (flash) core never writes the scores: it
 * keeps Q, K, V, the context and one fp32 log-sum-exp per head and row for
 * the backward, which recomputes the scores. */
static void cost_attention(gpp_op *op, bool bias, bool flash) {
  double s = (double)op->shape.tokens, h = (double)op->shape.width;
  double hd = (double)op->shape.heads, dt = op->dtype_bytes;
  double proj = 8 * s * h * h, core = 4 * s * s * h, soft = hd * s * s;
  op->flops_fwd = proj + core;
  op->flops_bwd = 2 * (proj + core);
  op->param_count = 4 * h * h + (bias ? 4 * h : 0);
  /* x, Q, K, V written and read, scores and probabilities, context, out */
  op->bytes_fwd = (10 * s * h + (flash ? 0 : 4 * soft)) * dt;
  op->bytes_bwd = 2 * op->bytes_fwd;
  op->saved_bytes = flash ? 5 * s * h * dt + 4 * hd * s
                          : (5 * s * h + soft) * dt; /* x Q K V (P) ctx */
}

static void cost_embedding(gpp_op *op) {
  double lookups = (double)op->shape.tokens * (double)op->shape.bag;
  double w = (double)op->shape.width, dt = op->dtype_bytes;
  op->flops_fwd = lookups * w; /* bag sums */
  op->flops_bwd = lookups * w; /* scatter-add of the gradient */
  op->param_count = (double)op->shape.rows * w;
  op->bytes_fwd = (lookups * w + (double)op->shape.tokens * w) * dt
                  + lookups * 8; /* gathered rows, output, int64 indices */
  op->bytes_bwd = op->bytes_fwd;
  op->saved_bytes = lookups * 8;
}

static void cost_other(gpp_op *op) {
  double dt = op->dtype_bytes, out = (double)elems(op);
  double f = (double)op->shape.heads, d = (double)op->shape.in_width;
  switch (op->kind) {
  case GPP_OP_CONCAT:
    op->bytes_fwd = op->bytes_bwd = 2 * out * dt;
    break;
  case GPP_OP_INTERACTION: /* Z Z^T over F features of d */
    op->flops_fwd = 2 * f * f * d;
    op->flops_bwd = 4 * f * f * d;
    op->bytes_fwd = (f * d + f * f + out) * dt;
    op->bytes_bwd = 2 * op->bytes_fwd;
    op->saved_bytes = f * d * dt;
    break;
  case GPP_OP_LOSS: /* subtract, square, sum; gradient 2(y - t) */
    op->flops_fwd = 3 * d;
    op->flops_bwd = 2 * d;
    op->bytes_fwd = d * dt;
    op->bytes_bwd = 2 * d * dt;
    op->saved_bytes = d * dt;
    break;
  case GPP_OP_CUSTOM:
    op->bytes_fwd = op->bytes_bwd = 2 * out * dt;
    break;
  case GPP_OP_POOL: { /* T x w in, w out: T adds and one scale per column;
                         backward spreads dY / T over the T tokens */
    double in = (double)op->shape.in_tokens * (double)op->shape.width;
    op->flops_fwd = in + out;
    op->flops_bwd = in;
    op->bytes_fwd = op->bytes_bwd = (in + out) * dt;
    break;
  }
  default: /* input: data arrives, nothing is computed */
    break;
  }
}

/* A training framework that evaluates its loss metrics on every
 * micro-batch (Composer 0.16's trainer updates each train metric after the
 * backward: llm-foundry's MPT has two, LanguageCrossEntropy and
 * LanguagePerplexity, each torch.nn.CrossEntropyLoss over the logits)
 * runs n unfused cross-entropies without gradient.  Under autocast each
 * casts the logits to fp32 (read dt, write 4 bytes) and log-softmaxes them
 * (read 4, write 4; max, subtract, exp and sum: 4 FLOPs); the NLL gather
 * reads one logit per row.  They run one after another once the backward
 * has freed the stash, the trainer still holding the logits: their working
 * memory is the logits plus the fp32 copy and its log-softmax, 8 bytes per
 * logit. */
static void cost_loss_evals(gpp_op *op, int64_t n) {
  double d = (double)op->shape.in_width;
  op->bytes_fwd += (double)n * d * (op->dtype_bytes + 12);
  op->flops_fwd += (double)n * d * 4;
  op->eval_bytes = n > 0 ? d * (op->dtype_bytes + 8) : 0;
}

static void apply_overrides(gpp_op *op, const gpp__mspec *s) {
  if (s->flops_fwd >= 0) op->flops_fwd = s->flops_fwd;
  if (s->flops_bwd >= 0) op->flops_bwd = s->flops_bwd;
  if (s->act_override >= 0) op->saved_bytes = s->act_override;
  if (s->param_override >= 0) {
    op->param_bytes = s->param_override;
    op->param_count = s->param_override / op->dtype_bytes;
  }
  op->has_time = s->has_time;
  op->flash = op->kind == GPP_OP_ATTENTION && s->flash;
  op->time_fwd = s->time_fwd;
  op->time_bwd = s->time_bwd;
}

void gpp__model_derive_op(gpp_op *op, const gpp__mspec *s) {
  switch (op->kind) {
  case GPP_OP_MATMUL: cost_matmul(op, s->bias); break;
  case GPP_OP_ATTENTION: cost_attention(op, s->bias, s->flash); break;
  case GPP_OP_EMBEDDING: cost_embedding(op); break;
  case GPP_OP_LAYERNORM:
  case GPP_OP_SOFTMAX:
  case GPP_OP_GELU:
  case GPP_OP_RELU:
  case GPP_OP_ELEMENTWISE: cost_elementwise(op); break;
  case GPP_OP_LOSS:
    cost_other(op);
    cost_loss_evals(op, s->loss_evals);
    break;
  default: cost_other(op); break;
  }
  op->out_bytes = (double)elems(op) * op->dtype_bytes;
  op->param_bytes = op->param_count * op->dtype_bytes;
  apply_overrides(op, s);
}
