/* kmodel_ops.c -- ops as kernels of the kernel model (kmodel.h): a matmul
 * is its GEMMs (forward Y = XW; backward dX = dY W^T and dW = X^T dY), an
 * attention its projection GEMMs plus an unfused or flash core, a DLRM
 * interaction a batched GEMM, everything else a memory-bound kernel over
 * the op's activation and weight traffic. */
#include <math.h>

#include "kernels_profile/kmodel.h"

typedef struct kacc {
  const gpp_gpu_spec *g;
  const gpp_kparams *p;
  gpp_dtype dt;
  gpp_kop *out;
  double worst; /* time of the costliest kernel so far */
} kacc;

static void note(kacc *a, double t, bool memory_bound) {
  a->out->time += t;
  if (t > a->worst) {
    a->worst = t;
    a->out->memory_bound = memory_bound;
  }
}

static int gemm(kacc *a, int64_t batch, int64_t m, int64_t n, int64_t k,
                gpp_errctx *err) {
  gpp_gemm x = {batch, m, n, k, a->dt};
  gpp_gemm_plan r;
  GPP_TRY(gpp_gemm_time(a->g, a->p, &x, &r, err));
  bool worst = r.time > a->worst;
  note(a, r.time, r.memory_bound);
  a->out->flops += r.flops;
  a->out->bytes += r.bytes;
  a->out->kernels += r.split > 1 ? 2 : 1;
  if (worst) {
    a->out->has_gemm = true;
    a->out->main = x;
    a->out->plan = r;
  }
  return 0;
}

static void stream(kacc *a, double bytes, int launches) {
  note(a, gpp_kmodel_stream(a->g, a->p, bytes, launches), true);
  a->out->bytes += bytes;
  a->out->kernels += launches;
}

/* Rows of a micro-batch of b samples of `tokens` rows each. */
static int64_t rows(double b, int64_t tokens) {
  double r = ceil(b * (double)tokens - 1e-9);
  return r < 1 ? 1 : (int64_t)r;
}

static int matmul(kacc *a, const gpp_op *op, double b, bool bwd,
                  gpp_errctx *err) {
  int64_t m = rows(b, op->shape.tokens), in = op->shape.in_width,
          w = op->shape.width;
  if (!bwd) return gemm(a, 1, m, w, in, err);
  GPP_TRY(gemm(a, 1, m, in, w, err)); /* dX = dY W^T */
  return gemm(a, 1, in, w, m, err);   /* dW = X^T dY */
}

/* Scores Q K^T (S x S over d) and context P V (S x d over S) per head. */
static int core_gemms(kacc *a, int64_t bh, int64_t s, int64_t d, bool bwd,
                      gpp_errctx *err) {
  if (!bwd) {
    GPP_TRY(gemm(a, bh, s, s, d, err));
    return gemm(a, bh, s, d, s, err);
  }
  GPP_TRY(gemm(a, bh, s, d, s, err)); /* dQ = dS K */
  GPP_TRY(gemm(a, bh, s, d, s, err)); /* dK = dS^T Q */
  GPP_TRY(gemm(a, bh, s, s, d, err)); /* dP = dO V^T */
  return gemm(a, bh, s, d, s, err);   /* dV = P^T dO */
}

/* The flash core (FlashAttention-2, Dao 2023): one CTA per 128 query rows
 * of a head holds its Q tile and streams K and V in blocks, so its tiles
 * are those of the context GEMM P V (s x d over s, batch b x heads) and
 * each K step does the scores' and the context's math (2 GEMM steps)
 * forward; backward re-forms the scores and computes dP, dV, dK and dQ (5
 * GEMM steps).  The K-loop prologue and epilogue is paid once per CTA, not
 * per scores tile.  HBM traffic: Q, K, V, O (and their gradients and dO
 * backward). */
static int flash_core(kacc *a, int64_t bh, int64_t s, int64_t d, bool bwd,
                      double e, gpp_errctx *err) {
  gpp_gemm x = {bh, s, d, s, a->dt};
  gpp_gemm_plan pl;
  int bn = d < 128 ? (int)d : 128;
  GPP_TRY(gpp_gemm_tile(a->g, a->p, &x, 128, bn, 1, &pl, err));
  double steps = bwd ? 5.0 : 2.0;
  double tile_fixed = (double)pl.waves * a->p->tile_cycles / a->g->clock_hz;
  double math = steps * (pl.t_math - tile_fixed) + tile_fixed;
  double bytes = (bwd ? 8.0 : 4.0) * (double)bh * s * d * e;
  double mem = gpp_kmodel_stream(a->g, a->p, bytes, 0);
  note(a, fmax(math, mem) + a->g->launch_overhead, mem > math);
  a->out->flops += steps * pl.flops;
  a->out->bytes += bytes;
  a->out->kernels += 1;
  if (!a->out->has_gemm) {
    a->out->has_gemm = true;
    a->out->main = x;
    a->out->plan = pl;
  }
  return 0;
}

static int attention(kacc *a, const gpp_op *op, double b, bool bwd,
                     gpp_attn_impl impl, gpp_errctx *err) {
  int64_t s = op->shape.tokens, h = op->shape.width, hd = op->shape.heads;
  int64_t m = rows(b, s), bh = rows(b, hd), d = h / hd;
  double e = gpp_dtype_bytes(a->dt);
  if (!bwd) {
    GPP_TRY(gemm(a, 1, m, 3 * h, h, err)); /* QKV projection */
    GPP_TRY(gemm(a, 1, m, h, h, err));     /* output projection */
  } else {
    GPP_TRY(gemm(a, 1, m, h, 3 * h, err));
    GPP_TRY(gemm(a, 1, 3 * h, h, m, err));
    GPP_TRY(gemm(a, 1, m, h, h, err));
    GPP_TRY(gemm(a, 1, h, h, m, err));
  }
  if (impl == GPP_ATTN_FLASH) return flash_core(a, bh, s, d, bwd, e, err);
  GPP_TRY(core_gemms(a, bh, s, d, bwd, err));
  /* softmax over the scores: read + write, backward P, dP read, dS written */
  stream(a, (bwd ? 3.0 : 2.0) * (double)bh * s * s * e, 1);
  return 0;
}

/* Weights are read once per micro-batch forward, read and their gradient
 * written backward; an embedding table is only touched where gathered
 * (forward) and has its dense gradient written (backward). */
static double weight_traffic(const gpp_op *op, bool bwd) {
  if (op->kind == GPP_OP_EMBEDDING) return bwd ? op->param_bytes : 0;
  return (bwd ? 2 : 1) * op->param_bytes;
}

/* At the achievable HBM bandwidth, or at the SIMT rate when its
 * arithmetic takes longer (fp16 on the half2 pipes, else fp32). */
static void memory_op(kacc *a, const gpp_op *op, double b, bool bwd) {
  double bytes = (bwd ? op->bytes_bwd : op->bytes_fwd) * b +
                 weight_traffic(op, bwd);
  double flops = (bwd ? op->flops_bwd : op->flops_fwd) * b;
  int launches = bwd && op->param_bytes > 0 ? 2 : 1;
  double simt = gpp_dtype_bytes(a->dt) == 2 && a->g->peak_fp16_simt > 0
                    ? a->g->peak_fp16_simt : a->g->peak_fp32;
  double t_mem = gpp_kmodel_stream(a->g, a->p, bytes, 0);
  double t_math = flops > 0 && simt > 0
                      ? flops / (simt * a->p->math_eff_simt) : 0;
  note(a, fmax(t_mem, t_math) + launches * a->g->launch_overhead,
       t_mem >= t_math);
  a->out->bytes += bytes;
  a->out->flops += flops;
  a->out->kernels += launches;
}

int gpp_kmodel_op(const gpp_gpu_spec *g, const gpp_kparams *p,
                  const gpp_op *op, gpp_dtype dt, gpp_attn_impl attn,
                  double b, bool backward, gpp_kop *out, gpp_errctx *err) {
  *out = (gpp_kop){0};
  kacc a = {g, p, dt, out, 0};
  switch (op->kind) {
  case GPP_OP_INPUT: return 0;
  case GPP_OP_MATMUL: return matmul(&a, op, b, backward, err);
  case GPP_OP_ATTENTION: return attention(&a, op, b, backward, attn, err);
  case GPP_OP_INTERACTION: { /* Z Z^T: F x F over d per sample */
    int64_t f = op->shape.heads, d = op->shape.in_width, n = rows(b, 1);
    GPP_TRY(gemm(&a, n, f, f, d, err));
    if (backward) GPP_TRY(gemm(&a, n, f, d, f, err));
    return 0;
  }
  default: memory_op(&a, op, b, backward); return 0;
  }
}
