/* kmodel.c -- the GEMM model: CTA tiles in waves over the SMs, the fastest
 * candidate tile and split-K, compulsory HBM traffic (kmodel.h). */
#include "kernels_profile/kmodel.h"

#include <math.h>
#include <string.h>

static const struct {
  const char *name;
  int bytes;
} dtypes[] = {
#define GPP__DT(name, str, bytes) {str, bytes},
    GPP_DTYPE_MAP(GPP__DT)
#undef GPP__DT
};

const char *gpp_dtype_name(gpp_dtype d) {
  return (unsigned)d < GPP_DT__N ? dtypes[d].name : "?";
}

int gpp_dtype_from_name(const char *name) {
  for (int d = 0; d < GPP_DT__N; d++)
    if (strcmp(name, dtypes[d].name) == 0) return d;
  return -1;
}

int gpp_dtype_bytes(gpp_dtype d) {
  return (unsigned)d < GPP_DT__N ? dtypes[d].bytes : 0;
}

bool gpp_dtype_tensor(gpp_dtype d) { return d != GPP_DT_FP32; }

double gpp_dtype_peak(const gpp_gpu_spec *g, gpp_dtype d) {
  switch (d) {
  case GPP_DT_FP32: return g->peak_fp32;
  case GPP_DT_TF32: return g->peak_tf32;
  case GPP_DT_FP16: return g->peak_fp16;
  case GPP_DT_BF16: return g->peak_bf16;
  case GPP_DT_FP8: return g->peak_fp8;
  default: return 0;
  }
}

/* Candidate CTA tiles (bm x bn), the sizes cuBLAS/CUTLASS kernels use:
 * tensor-core kernels from 256x128 down to 64x64, SIMT sgemm from 128x128
 * down to 32x32.  bk is one K step of 64 bytes per row for tensor cores
 * (32 fp16/bf16, 16 tf32, 64 fp8) and 8 elements for SIMT. */
static const int tensor_tiles[][2] = {{256, 128}, {128, 256}, {128, 128},
                                      {128, 64},  {64, 128},  {64, 64}};
static const int simt_tiles[][2] = {{128, 128}, {128, 64}, {64, 128},
                                    {64, 64},   {64, 32},  {32, 32}};
static const int splits[] = {1, 2, 4, 8, 16};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

size_t gpp_gemm_candidates(gpp_dtype d, const int (**tiles)[2]) {
  bool tc = gpp_dtype_tensor(d);
  *tiles = tc ? tensor_tiles : simt_tiles;
  return tc ? N_OF(tensor_tiles) : N_OF(simt_tiles);
}

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

typedef struct gemm_env {
  const gpp_gpu_spec *g;
  const gpp_kparams *p;
  const gpp_gemm *x;
  double peak_sm, l2_sm, hbm, e, eff;
} gemm_env;

/* One candidate: tile bm x bn x bk with s K slices. */
static gpp_gemm_plan candidate(const gemm_env *v, int bm, int bn, int bk,
                               int s) {
  const gpp_gemm *x = v->x;
  gpp_gemm_plan r = {.bm = bm, .bn = bn, .bk = bk, .split = s};
  int sm = v->g->sm_count;
  r.tiles = x->batch * cdiv(x->m, bm) * cdiv(x->n, bn) * s;
  r.waves = cdiv(r.tiles, sm);
  r.wave_eff = (double)r.tiles / ((double)r.waves * sm);
  int64_t k_iters = cdiv(cdiv(x->k, s), bk);
  double t_step = fmax(2.0 * bm * bn * bk / (v->peak_sm * v->eff),
                       (double)(bm + bn) * bk * v->e / v->l2_sm);
  double t_tile = (double)k_iters * t_step + v->p->tile_cycles /
                                                 v->g->clock_hz;
  r.t_math = (double)r.waves * t_tile;
  double mn = (double)x->batch * (double)x->m * (double)x->n;
  r.bytes = (double)x->batch * ((double)x->m * x->k + (double)x->k * x->n) *
                v->e + mn * v->e;
  if (s > 1) r.bytes += 2.0 * s * mn * 4; /* fp32 partials out and back */
  r.t_mem = r.bytes / v->hbm;
  r.memory_bound = r.t_mem > r.t_math;
  r.flops = 2.0 * mn * (double)x->k;
  r.time = fmax(r.t_math, r.t_mem) +
           (s > 1 ? 2 : 1) * v->g->launch_overhead;
  return r;
}

static void consider(const gemm_env *v, int bm, int bn, int bk,
                     gpp_gemm_plan *best) {
  const gpp_gemm *x = v->x;
  int64_t base = x->batch * cdiv(x->m, bm) * cdiv(x->n, bn);
  for (size_t i = 0; i < N_OF(splits); i++) {
    int s = splits[i];
    if (s > 1 && (base >= v->g->sm_count || cdiv(x->k, s) < bk)) break;
    gpp_gemm_plan c = candidate(v, bm, bn, bk, s);
    if (best->time <= 0 || c.time < best->time) *best = c;
  }
}

static int check_gemm(const gpp_gpu_spec *g, const gpp_gemm *x,
                      gpp_errctx *err) {
  if (x->batch < 1 || x->m < 1 || x->n < 1 || x->k < 1)
    GPP_RAISE(err, GPP_EINVAL, "GEMM %lld x %lld x %lld (batch %lld): "
              "sizes must be positive", (long long)x->m, (long long)x->n,
              (long long)x->k, (long long)x->batch);
  if ((unsigned)x->dtype >= GPP_DT__N || gpp_dtype_peak(g, x->dtype) <= 0)
    GPP_RAISE(err, GPP_EINVAL, "GPU %s has no %s peak FLOP/s",
              g->name ? g->name : "?", gpp_dtype_name(x->dtype));
  if (g->sm_count < 1 || g->clock_hz <= 0 || g->l2_bandwidth <= 0 ||
      g->mem_bandwidth <= 0 || g->hbm_efficiency <= 0)
    GPP_RAISE(err, GPP_EINVAL, "GPU %s lacks its microarchitecture "
              "(sm_count, sm_clock_mhz, l2_bandwidth, memory_bandwidth, "
              "hbm_efficiency)", g->name ? g->name : "?");
  return 0;
}

static gemm_env env_of(const gpp_gpu_spec *g, const gpp_kparams *p,
                       const gpp_gemm *x) {
  bool tc = gpp_dtype_tensor(x->dtype);
  return (gemm_env){g, p, x, gpp_dtype_peak(g, x->dtype) / g->sm_count,
                    g->l2_bandwidth / g->sm_count,
                    g->mem_bandwidth * g->hbm_efficiency * p->mem_eff,
                    gpp_dtype_bytes(x->dtype),
                    tc ? p->math_eff_tensor : p->math_eff_simt};
}

static int k_step(gpp_dtype d) {
  return gpp_dtype_tensor(d) ? 64 / gpp_dtype_bytes(d) : 8;
}

int gpp_gemm_tile(const gpp_gpu_spec *g, const gpp_kparams *p,
                  const gpp_gemm *x, int bm, int bn, int split,
                  gpp_gemm_plan *out, gpp_errctx *err) {
  GPP_TRY(check_gemm(g, x, err));
  if (bm < 1 || bn < 1 || split < 1)
    GPP_RAISE(err, GPP_EINVAL, "tile %d x %d, split %d: must be positive",
              bm, bn, split);
  gemm_env v = env_of(g, p, x);
  *out = candidate(&v, bm, bn, k_step(x->dtype), split);
  return 0;
}

int gpp_gemm_time(const gpp_gpu_spec *g, const gpp_kparams *p,
                  const gpp_gemm *x, gpp_gemm_plan *out, gpp_errctx *err) {
  GPP_TRY(check_gemm(g, x, err));
  gemm_env v = env_of(g, p, x);
  gpp_gemm_plan best = {0};
  const int(*tiles)[2];
  size_t n = gpp_gemm_candidates(x->dtype, &tiles);
  for (size_t i = 0; i < n; i++)
    consider(&v, tiles[i][0], tiles[i][1], k_step(x->dtype), &best);
  *out = best;
  return 0;
}

double gpp_kmodel_stream(const gpp_gpu_spec *g, const gpp_kparams *p,
                         double bytes, int launches) {
  double bw = g->mem_bandwidth * g->hbm_efficiency * p->mem_eff;
  return bytes / bw + launches * g->launch_overhead;
}

/* Fitted by `gppsim validate kernels --fit` to the published GEMM rows in
 * validate/published/kernels/deepbench-v100-gemm.fit.csv (DeepBench, V100,
 * fp32 and fp16) and xla-h100-gemm.fit.csv (XLA's sm_90 table, bf16 and
 * tf32): 245 rows, chosen by split.py's rule; the held-back rows are the
 * validation (README there; tests/cli_validate_kernels.sh checks these
 * values are the fit's). */
const gpp_kparams gpp_kparams_default = {
    .math_eff_tensor = 0.735783,
    .math_eff_simt = 0.853349,
    .tile_cycles = 2967.73,
    .mem_eff = 0.687922,
};
