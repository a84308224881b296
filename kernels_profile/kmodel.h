/* kmodel.h -- the hardware-aware kernel model: op times from the GPU's
 * microarchitecture (configs/hardware/NAME.yaml) when no profile measured them.
 *
 * GEMM (C = A x B, C of m x n, inner dimension k, `batch` independent
 * problems): the output is cut into bm x bn CTA tiles, one CTA per SM at a
 * time, so tiles run in waves of sm_count (wave quantization: the last wave
 * may leave SMs idle).  A tile walks k in steps of bk; each step takes
 *     max(2 bm bn bk / (peak_sm * math_eff),  (bm + bn) bk e / l2_bw_sm)
 * (math on the SM, or its operand tiles from L2 at the SM's share of the L2
 * bandwidth; e bytes per element), and the tile adds tile_cycles of K-loop
 * prologue and epilogue.  The kernel needs at least its compulsory HBM
 * traffic, A, B and C once, at the achievable HBM bandwidth:
 *     t = max(waves * t_tile, bytes / (mem_bandwidth * hbm_efficiency))
 *         + launch_overhead.
 * Split-K (only when the m x n tiles leave SMs idle) cuts k into s slices,
 * multiplying the tiles by s, and pays s fp32 partial tiles written and
 * read back plus a second (reduction) launch.  The kernel picks the fastest
 * tile and split from a small set of candidates per dtype, as cuBLAS's
 * heuristics would; ties go to the first candidate.
 *
 * The peak is per dtype: tensor cores for tf32, fp16, bf16 and fp8, the
 * SIMT pipes for fp32.  math_eff (per kind of pipe) and tile_cycles are the
 * model's efficiency parameters; their defaults are fitted to published
 * measurements (validate/published/kernels/README.md says which rows).
 */
#ifndef GPP_KERNELS_PROFILE_KMODEL_H
#define GPP_KERNELS_PROFILE_KMODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/common/err.h"
#include "sim/model/model.h"
#include "topology/topology.h"

#define GPP_DTYPE_MAP(XX)                                                     \
  XX(FP32, "fp32", 4)                                                         \
  XX(TF32, "tf32", 4)                                                         \
  XX(FP16, "fp16", 2)                                                         \
  XX(BF16, "bf16", 2)                                                         \
  XX(FP8, "fp8", 1)

typedef enum {
#define GPP__DT(name, str, bytes) GPP_DT_##name,
  GPP_DTYPE_MAP(GPP__DT)
#undef GPP__DT
  GPP_DT__N
} gpp_dtype;

const char *gpp_dtype_name(gpp_dtype d);
/* -1 when unknown. */
int gpp_dtype_from_name(const char *name);
int gpp_dtype_bytes(gpp_dtype d);
/* Whether d runs on tensor cores (else on the SIMT pipes). */
bool gpp_dtype_tensor(gpp_dtype d);
/* The GPU's dense peak FLOP/s for d; 0 when it has none. */
double gpp_dtype_peak(const gpp_gpu_spec *g, gpp_dtype d);

/* The model's efficiency parameters. */
typedef struct gpp_kparams {
  double math_eff_tensor; /* fraction of the tensor-core peak in the K loop */
  double math_eff_simt;   /* fraction of the SIMT peak in the K loop */
  double tile_cycles;     /* K-loop prologue and epilogue per tile, cycles */
  double mem_eff;         /* scales the spec's hbm_efficiency (fitted) */
} gpp_kparams;

/* Fitted to validate/published/kernels/ (its README names the rows). */
extern const gpp_kparams gpp_kparams_default;

typedef struct gpp_gemm {
  int64_t batch, m, n, k;
  gpp_dtype dtype;
} gpp_gemm;

/* What the model chose for one GEMM, and why it takes the time it does. */
typedef struct gpp_gemm_plan {
  int bm, bn, bk;       /* the CTA tile */
  int split;            /* split-K slices; 1: none */
  int64_t tiles, waves; /* tiles (all slices and batches) and waves */
  double wave_eff;      /* tiles / (waves * sm_count) */
  double t_math;        /* waves * tile time, seconds */
  double t_mem;         /* compulsory HBM traffic time, seconds */
  double time;          /* the kernel(s), launches included, seconds */
  double flops, bytes;  /* useful FLOPs, HBM bytes */
  bool memory_bound;    /* t_mem > t_math */
} gpp_gemm_plan;

/* Fails (GPP_EINVAL) when the GPU has no peak for the dtype or the sizes
 * are not positive. */
int gpp_gemm_time(const gpp_gpu_spec *g, const gpp_kparams *p,
                  const gpp_gemm *x, gpp_gemm_plan *out, gpp_errctx *err);

/* The same with the tile bm x bn and split-K slices fixed (no choice):
 * the wave arithmetic on its own. */
int gpp_gemm_tile(const gpp_gpu_spec *g, const gpp_kparams *p,
                  const gpp_gemm *x, int bm, int bn, int split,
                  gpp_gemm_plan *out, gpp_errctx *err);

/* The tiles gpp_gemm_time chooses from for dtype d (n pairs bm, bn); it
 * tries split-K factors 1, 2, 4, 8, 16 when the tiles leave SMs idle. */
size_t gpp_gemm_candidates(gpp_dtype d, const int (**tiles)[2]);

/* A memory-bound kernel moving `bytes` at the achievable HBM bandwidth,
 * plus its launches. */
double gpp_kmodel_stream(const gpp_gpu_spec *g, const gpp_kparams *p,
                         double bytes, int launches);


/* ---- ops ---------------------------------------------------------------- */

/* How an attention op's core (scores, softmax, context) runs. */
typedef enum {
  GPP_ATTN_UNFUSED, /* two batched GEMMs and a softmax through HBM */
  GPP_ATTN_FLASH    /* one fused kernel: GEMM math, HBM traffic Q K V O */
} gpp_attn_impl;

/* One op's forward or backward under the kernel model: its time and the
 * costliest GEMM (when it has one), for `costs --explain`. */
typedef struct gpp_kop {
  double time;         /* seconds for the micro-batch */
  double flops, bytes; /* FLOPs and HBM bytes of all its kernels */
  int kernels;         /* launches */
  bool has_gemm;
  gpp_gemm main;       /* its costliest GEMM ... */
  gpp_gemm_plan plan;  /* ... and what the model chose for it */
  bool memory_bound;   /* the costliest kernel is memory-bound */
} gpp_kop;

/* op for a micro-batch of b samples (b > 0) in dtype dt. */
int gpp_kmodel_op(const gpp_gpu_spec *g, const gpp_kparams *p,
                  const gpp_op *op, gpp_dtype dt, gpp_attn_impl attn,
                  double b, bool backward, gpp_kop *out, gpp_errctx *err);

#endif
