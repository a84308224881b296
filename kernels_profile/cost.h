/* cost.h -- per-op compute costs as the engine and the planner see them.
 *
 * For an op and a micro-batch size b, the forward and backward seconds and
 * where they came from.  Sources, in order of preference:
 *   override  -- the model's `time_per_sample` (seconds per sample * b);
 *   profile   -- a profile database (profile_db.h) has rows for the op's
 *                signature: the measured medians, interpolated across the
 *                profiled micro-batch sizes in log-log space and
 *                extrapolated (and flagged) outside them (interp.h);
 *   model     -- the hardware-aware kernel model (kmodel.h): GEMMs as CTA
 *                tiles in waves over the SMs, attention unfused or flash,
 *                memory-bound ops at the achievable HBM bandwidth, each
 *                kernel with its launch.
 * The op's dtype (gpp_costs_op_dtype) picks the peak: tensor cores or SIMT.
 * The kernel model's efficiency parameters are gpp_kparams_default unless a
 * profile is given: then they are fitted to the profiled ops of the model
 * (kfit.h) and used for the ops the profile lacks.
 */
#ifndef GPP_KERNELS_PROFILE_COST_H
#define GPP_KERNELS_PROFILE_COST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kernels_profile/kfit.h"
#include "kernels_profile/kmodel.h"
#include "kernels_profile/profile_db.h"
#include "sim/common/err.h"
#include "sim/model/model.h"
#include "topology/topology.h"

#define GPP_COST_SOURCE_MAP(XX)                                               \
  XX(OVERRIDE, "override")                                                    \
  XX(PROFILE, "profile")                                                      \
  XX(MODEL, "model")

typedef enum {
#define GPP__CSRC(name, str) GPP_COST_##name,
  GPP_COST_SOURCE_MAP(GPP__CSRC)
#undef GPP__CSRC
  GPP_COST__NSOURCES
} gpp_cost_source;

const char *gpp_cost_source_name(gpp_cost_source s);

struct gpp_profile_costs;

typedef struct gpp_costs {
  const gpp_model *model;
  gpp_gpu_spec gpu;
  gpp_kparams kp;                   /* the kernel model's parameters */
  gpp_cost_source *source;          /* per op */
  /* With a profile only (else NULL / zero): */
  const gpp_profile_db *profile;
  struct gpp_profile_costs *curves; /* per signature, fwd and bwd */
  char (*sig)[GPP_SIG_MAX];         /* per op; "" unless source PROFILE */
  gpp_kfit_report fit;              /* kp's calibration to the profile */
  const double *scale;              /* NULL, or gpp_costs_set_scale's */
} gpp_costs;

typedef struct gpp_op_cost {
  double fwd, bwd; /* seconds for the whole micro-batch */
  gpp_cost_source source;
  bool extrapolated; /* profile: b lies outside the profiled sizes */
} gpp_op_cost;

/* model, gpu and profile must outlive the result; profile may be NULL (no
 * profile: overrides and the kernel model).  Fails when an op needs the
 * kernel model but the GPU has no peak for its dtype. */
int gpp_costs_create(const gpp_model *model, const gpp_gpu_spec *gpu,
                     const gpp_profile_db *profile, gpp_costs **out,
                     gpp_errctx *err);
void gpp_costs_destroy(gpp_costs *c);

/* Prints a warning on f when profile was measured on another GPU family
 * than gpu (the family is the spec name's first word: "h100" of
 * "h100-sxm-80gb" must appear in the profile's "NVIDIA H100 80GB HBM3"):
 * its times are used all the same.  Returns whether it warned. */
bool gpp_costs_warn_gpu(const gpp_profile_db *profile,
                        const gpp_gpu_spec *gpu, FILE *f);

/* What the commands do (costs, plan, simulate): opens the profile at
 * profile_path into *db (NULL path: none), warns on stderr when it was
 * measured on another GPU family (gpp_costs_warn_gpu), then creates the
 * costs.  *db and *out are the caller's to free, also after a failure. */
int gpp_costs_open(const gpp_model *model, const gpp_gpu_spec *gpu,
                   const char *profile_path, gpp_profile_db **db,
                   gpp_costs **out, gpp_errctx *err);

/* Cost of op for a micro-batch of b samples; b == 0 costs nothing. */
gpp_op_cost gpp_costs_op(const gpp_costs *c, uint32_t op, double b);

/* Variability studies: from now on op i's forward and backward times are
 * multiplied by scale[2i] and scale[2i+1] (n_ops pairs, owned by the
 * caller, outliving its use); NULL restores the nominal costs. */
void gpp_costs_set_scale(gpp_costs *c, const double *scale);

/* The dtype op runs in, from the model's precision (the table in
 * configs/experiments/plans/README.md): fp32, fp16 and bf16 as they are;
 * tf32 runs the GEMM-like ops (matmul, attention, interaction) on TF32 tensor cores and
 * the rest in fp32; fp8 runs matmuls in FP8 and the rest in bf16.  An op
 * whose element size is not the model's runs at fp8 / fp16 / fp32 by its
 * size.  The one place a precision choice enters the kernel model. */
gpp_dtype gpp_costs_op_dtype(const gpp_model *m, const gpp_op *op);

/* The peak FLOP/s of c's GPU at the dtype the model's matmuls run in
 * (MFU's denominator); 0 when it has none. */
double gpp_costs_gemm_peak(const gpp_costs *c);

/* How an attention op's core runs: the model file's choice (op->flash). */
gpp_attn_impl gpp_costs_op_attn(const gpp_op *op);

/* The kernel model's account of op i at micro-batch b (whatever source
 * the op's cost comes from), for `costs --explain`. */
int gpp_costs_explain(const gpp_costs *c, uint32_t i, double b,
                      bool backward, gpp_kop *out, gpp_errctx *err);

/* Internal: fits c->kp to the profiled ops (kfit.c). */
int gpp__costs_calibrate(gpp_costs *c, gpp_errctx *err);

/* Number of ops whose cost comes from each source. */
void gpp_costs_source_counts(const gpp_costs *c,
                             uint32_t counts[GPP_COST__NSOURCES]);

#endif
