/* test_kmodel.c -- the hardware-aware kernel model: the wave arithmetic of
 * one tile choice on hand-computed cases (one full wave, one tile over a
 * wave, split-K, an L2-bound step), the choice of the fastest candidate,
 * the ops built on it, the bundled GPUs' figures the issue pins (H100 bf16
 * linear efficiency, MMT/V100 per-sample ratio), and the least-squares fit
 * recovering known parameters. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "kernels_profile/kfit.h"
#include "kernels_profile/kmodel.h"
#include "sim/common/arena.h"

/* 4 SMs at 1 GHz; one 2*128*128*32-FLOP step of a 128x128 fp16 tile takes
 * exactly 1 us at full rate; L2 and HBM so fast they never bind unless a
 * test says so; 5 us per launch. */
static gpp_gpu_spec toy_gpu(void) {
  return (gpp_gpu_spec){.name = "toy", .peak_fp16 = 4 * 1.048576e12,
                        .peak_fp32 = 4 * 1.048576e11, .mem_bytes = 1e10,
                        .mem_bandwidth = 1e18, .launch_overhead = 5e-6,
                        .sm_count = 4, .clock_hz = 1e9, .l2_bytes = 1e6,
                        .l2_bandwidth = 1e18, .hbm_efficiency = 1,
                        .smem_per_sm = 1e5};
}

/* Full rate; 1000 cycles (1 us) of prologue and epilogue per tile. */
static const gpp_kparams toy_params = {1, 1, 1000, 1};

static gpp_gemm_plan tile(const gpp_gpu_spec *g, gpp_gemm x, int bm, int bn,
                          int split) {
  gpp_gemm_plan r;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_gemm_tile(g, &toy_params, &x, bm, bn, split, &r, &err),
               0, "%s", err.msg);
  return r;
}

#define CLOSE(a, b) cr_assert_float_eq((a), (b), 1e-9 * fabs(b))

Test(gemm, exactly_one_full_wave) {
  gpp_gpu_spec g = toy_gpu();
  /* 256 x 256 in 128 x 128 tiles: 4 tiles on 4 SMs, 320 / 32 = 10 steps. */
  gpp_gemm_plan r = tile(&g, (gpp_gemm){1, 256, 256, 320, GPP_DT_FP16},
                         128, 128, 1);
  cr_assert_eq(r.tiles, 4);
  cr_assert_eq(r.waves, 1);
  CLOSE(r.wave_eff, 1.0);
  CLOSE(r.t_math, 10e-6 + 1e-6);
  CLOSE(r.time, 11e-6 + 5e-6);
  cr_assert(!r.memory_bound);
  CLOSE(r.flops, 2.0 * 256 * 256 * 320);
}

Test(gemm, one_tile_over_a_wave) {
  gpp_gpu_spec g = toy_gpu();
  /* 640 x 128: 5 tiles on 4 SMs, the fifth alone in a second wave. */
  gpp_gemm_plan r = tile(&g, (gpp_gemm){1, 640, 128, 320, GPP_DT_FP16},
                         128, 128, 1);
  cr_assert_eq(r.tiles, 5);
  cr_assert_eq(r.waves, 2);
  CLOSE(r.wave_eff, 5.0 / 8);
  CLOSE(r.t_math, 2 * 11e-6);
  CLOSE(r.time, 22e-6 + 5e-6);
  /* A partial tile costs a whole one: 600 rows take as long as 640. */
  CLOSE(tile(&g, (gpp_gemm){1, 600, 128, 320, GPP_DT_FP16}, 128, 128, 1)
            .time, r.time);
  /* Batches multiply the tiles: 2 x (256 x 256) is 8 tiles, 2 waves. */
  gpp_gemm_plan b = tile(&g, (gpp_gemm){2, 256, 256, 320, GPP_DT_FP16},
                         128, 128, 1);
  cr_assert_eq(b.tiles, 8);
  cr_assert_eq(b.waves, 2);
}

Test(gemm, split_k) {
  gpp_gpu_spec g = toy_gpu();
  g.mem_bandwidth = 1e11; /* now HBM counts */
  /* 128 x 128 x 3200: one tile, 100 steps.  Split 4: 4 tiles of 25 steps,
   * 4 fp32 partial tiles written and read back, two launches. */
  gpp_gemm x = {1, 128, 128, 3200, GPP_DT_FP16};
  gpp_gemm_plan r = tile(&g, x, 128, 128, 4);
  cr_assert_eq(r.tiles, 4);
  cr_assert_eq(r.waves, 1);
  CLOSE(r.t_math, 25e-6 + 1e-6);
  double bytes = (128.0 * 3200 * 2) * 2 + 128.0 * 128 * 2 +
                 2.0 * 4 * 128 * 128 * 4;
  CLOSE(r.bytes, bytes);
  CLOSE(r.t_mem, bytes / 1e11);
  CLOSE(r.time, 26e-6 + 2 * 5e-6);
  gpp_gemm_plan one = tile(&g, x, 128, 128, 1);
  CLOSE(one.time, 101e-6 + 5e-6);
  /* K = 30 leaves a slice of 8 rows of K: still one whole step. */
  gpp_gemm_plan s = tile(&g, (gpp_gemm){1, 128, 128, 30, GPP_DT_FP16}, 128,
                         128, 4);
  CLOSE(s.t_math, 1e-6 + 1e-6);
}

Test(gemm, l2_bound_step_and_memory_bound_kernel) {
  gpp_gpu_spec g = toy_gpu();
  /* Per SM 1e9 B/s of L2: a step reads (128 + 128) * 32 * 2 B = 16 us. */
  g.l2_bandwidth = 4e9;
  gpp_gemm_plan r = tile(&g, (gpp_gemm){1, 256, 256, 320, GPP_DT_FP16},
                         128, 128, 1);
  CLOSE(r.t_math, 10 * 16.384e-6 + 1e-6);
  g = toy_gpu();
  g.mem_bandwidth = 1e9;
  g.hbm_efficiency = 0.5;
  r = tile(&g, (gpp_gemm){1, 256, 256, 320, GPP_DT_FP16}, 128, 128, 1);
  double bytes = (256.0 * 320 * 2 + 256.0 * 256) * 2;
  CLOSE(r.t_mem, bytes / 0.5e9);
  cr_assert(r.memory_bound);
  CLOSE(r.time, r.t_mem + 5e-6);
}

Test(gemm, picks_the_fastest_candidate) {
  gpp_gpu_spec g = toy_gpu();
  g.mem_bandwidth = 3e11;
  g.l2_bandwidth = 2e11;
  const int64_t sizes[] = {1, 17, 64, 100, 128, 300, 512, 1000, 4096};
  for (size_t a = 0; a < 9; a++)
    for (size_t b = 0; b < 9; b++)
      for (int dt = GPP_DT_FP32; dt <= GPP_DT_FP16; dt += 2) {
        gpp_gemm x = {1 + (int64_t)(a % 3), sizes[a], sizes[b],
                      sizes[(a + b) % 9], (gpp_dtype)dt};
        gpp_gemm_plan best;
        gpp_errctx err = {0};
        cr_assert_eq(gpp_gemm_time(&g, &toy_params, &x, &best, &err), 0);
        const int(*t)[2];
        size_t n = gpp_gemm_candidates(x.dtype, &t);
        for (size_t i = 0; i < n; i++)
          cr_assert_geq(tile(&g, x, t[i][0], t[i][1], 1).time, best.time);
        cr_assert(best.split == 1 || best.tiles / best.split < 4);
      }
}

Test(gemm, errors) {
  gpp_gpu_spec g = toy_gpu();
  gpp_gemm_plan r;
  gpp_errctx err = {0};
  gpp_gemm x = {1, 64, 64, 64, GPP_DT_BF16};
  cr_assert_eq(gpp_gemm_time(&g, &toy_params, &x, &r, &err), GPP_EINVAL);
  cr_assert(strstr(err.msg, "no bf16 peak") != NULL, "%s", err.msg);
  x = (gpp_gemm){1, 0, 64, 64, GPP_DT_FP16};
  cr_assert_eq(gpp_gemm_time(&g, &toy_params, &x, &r, &err), GPP_EINVAL);
  x.m = 64;
  cr_assert_eq(gpp_gemm_tile(&g, &toy_params, &x, 0, 64, 1, &r, &err),
               GPP_EINVAL);
  g.clock_hz = 0;
  cr_assert_eq(gpp_gemm_time(&g, &toy_params, &x, &r, &err), GPP_EINVAL);
  cr_assert(strstr(err.msg, "microarchitecture") != NULL, "%s", err.msg);
  cr_assert_eq(gpp_dtype_from_name("bf16"), GPP_DT_BF16);
  cr_assert_eq(gpp_dtype_from_name("int4"), -1);
  cr_assert_str_eq(gpp_dtype_name(GPP_DT_TF32), "tf32");
  cr_assert_eq(gpp_dtype_bytes(GPP_DT_FP8), 1);
}

/* ---- the bundled GPUs ---------------------------------------------------- */

static gpp_gpu_spec bundled(const char *name, gpp_arena *arena) {
  gpp_gpu_spec g;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_gpu_spec_load(name, &g, arena, &err), 0, "%s", err.msg);
  return g;
}

/* The figure: a bf16 4096 x 4096 linear layer's forward on the
 * H100 reaches 55-85% of the dense peak at 16384 rows, and at 64 rows at
 * most half of that efficiency. */
Test(bundled, h100_bf16_linear_efficiency) {
  gpp_arena *arena = gpp_arena_create(NULL);
  gpp_gpu_spec g = bundled("h100-sxm-80gb", arena);
  double eff[2];
  const int64_t rows[2] = {16384, 64};
  for (int i = 0; i < 2; i++) {
    gpp_gemm x = {1, rows[i], 4096, 4096, GPP_DT_BF16};
    gpp_gemm_plan r;
    gpp_errctx err = {0};
    cr_assert_eq(gpp_gemm_time(&g, &gpp_kparams_default, &x, &r, &err), 0);
    eff[i] = r.flops / r.time / g.peak_bf16;
  }
  cr_assert(eff[0] >= 0.55 && eff[0] <= 0.85, "16384 rows: %.3f", eff[0]);
  cr_assert_leq(eff[1], 0.5 * eff[0], "64 rows: %.3f", eff[1]);
  gpp_arena_destroy(arena);
}

Test(bundled, every_gpu_has_its_microarchitecture) {
  const char *names[] = {"v100-sxm2-16gb", "v100-sxm2-32gb", "a100-sxm-40gb",
                         "a100-sxm-80gb", "h100-sxm-80gb", "h200"};
  gpp_arena *arena = gpp_arena_create(NULL);
  for (int i = 0; i < 6; i++) {
    gpp_gpu_spec g = bundled(names[i], arena);
    cr_assert(g.clock_hz > 1e9 && g.l2_bandwidth > 1e12 &&
              g.l2_bytes >= 6 * 1048576.0 && g.hbm_efficiency > 0.5 &&
              g.smem_per_sm >= 96 * 1024.0 && g.peak_fp16_simt > 0,
              "%s", names[i]);
    /* The tensor peak is SMs x clock x FLOP/clk within 1%. */
    double per_clk = g.peak_fp16 / (g.sm_count * g.clock_hz);
    cr_assert(fabs(per_clk - round(per_clk / 1024) * 1024) < 0.01 * per_clk,
              "%s: %.1f FLOP/clk/SM", names[i], per_clk);
  }
  gpp_arena_destroy(arena);
}

/* ---- the fit ------------------------------------------------------------- */

typedef struct fit_case {
  const gpp_gpu_spec *g;
  gpp_gemm x[24];
} fit_case;

static int eval_gemm(void *ctx, size_t i, const gpp_kparams *p, double *t,
                     gpp_errctx *err) {
  const fit_case *f = ctx;
  gpp_gemm_plan r;
  GPP_TRY(gpp_gemm_time(f->g, p, &f->x[i], &r, err));
  *t = r.time;
  return 0;
}

Test(fit, recovers_known_parameters) {
  gpp_arena *arena = gpp_arena_create(NULL);
  gpp_gpu_spec g = bundled("a100-sxm-80gb", arena);
  fit_case f = {.g = &g};
  const gpp_kparams truth = {0.62, 0.85, 3500, 0.9};
  double t[24];
  for (int i = 0; i < 24; i++) {
    int64_t s = 256 << (i % 6);
    f.x[i] = (gpp_gemm){1, s, 8192 >> (i % 4), 64 << (i % 5),
                        i < 12 ? GPP_DT_FP16 : GPP_DT_FP32};
    gpp_errctx err = {0};
    cr_assert_eq(eval_gemm(&f, (size_t)i, &truth, &t[i], &err), 0);
  }
  gpp_kparams out;
  gpp_kfit_report rep;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_kparams_fit(24, t, eval_gemm, &f, &gpp_kparams_default,
                               &out, &rep, &err), 0, "%s", err.msg);
  cr_assert(rep.fitted[0] && rep.fitted[1] && rep.fitted[2]);
  cr_assert_lt(rep.median_after, 1e-3, "median %g", rep.median_after);
  cr_assert_float_eq(out.math_eff_tensor, truth.math_eff_tensor, 0.01);
  cr_assert_float_eq(out.math_eff_simt, truth.math_eff_simt, 0.01);
  gpp_arena_destroy(arena);
}

Test(fit, too_few_points_fit_nothing) {
  gpp_gpu_spec g = toy_gpu();
  fit_case f = {.g = &g, .x = {{1, 256, 256, 320, GPP_DT_FP16}}};
  double t = 1e-3;
  gpp_kparams out;
  gpp_kfit_report rep;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_kparams_fit(1, &t, eval_gemm, &f, &toy_params, &out,
                               &rep, &err), 0);
  cr_assert(!rep.fitted[0] && !rep.fitted[2]);
  cr_assert_eq(memcmp(&out, &toy_params, sizeof out), 0);
}
