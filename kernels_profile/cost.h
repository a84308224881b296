/* cost.h -- per-op compute costs as the engine and the planner see them.
 *
 * For an op and a micro-batch size b, the forward and backward seconds and
 * where they came from.  Sources, in order of preference:
 *   override  -- the model's `time_per_sample` (seconds per sample * b);
 *   profile   -- a profile database (profile_db.h) has rows for the op's
 *                signature: the measured medians, interpolated across the
 *                profiled micro-batch sizes in log-log space and
 *                extrapolated (and flagged) outside them (interp.h);
 *   roofline  -- max(flops*b / (peak(dtype)*eff_flops),
 *                    traffic / (mem_bandwidth*eff_mem)) + launches.
 * Forward traffic is bytes_fwd*b + param_bytes (weights read once per
 * micro-batch); backward traffic is bytes_bwd*b + 2*param_bytes (weights
 * read, weight gradients written).  A forward is one kernel launch, a
 * backward two when the op has parameters (input and weight gradients).
 *
 * The efficiencies eff_flops/eff_mem per op kind are 1.0 (the plain
 * roofline, no tuned constants) unless a profile is given: then they are
 * fitted to it by least squares (fit.h), per kind, for the bound (compute
 * or memory) the profile's points of that kind determine; the rest stay 1.
 * The roofline's launch overhead is always the GPU spec's.
 */
#ifndef GPP_KERNELS_PROFILE_COST_H
#define GPP_KERNELS_PROFILE_COST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kernels_profile/fit.h"
#include "kernels_profile/profile_db.h"
#include "sim/common/err.h"
#include "sim/model.h"
#include "topology/topology.h"

#define GPP_COST_SOURCE_MAP(XX)                                               \
  XX(OVERRIDE, "override")                                                    \
  XX(PROFILE, "profile")                                                      \
  XX(ROOFLINE, "roofline")

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
  double eff_flops[GPP_OP__NKINDS]; /* fraction of peak reached */
  double eff_mem[GPP_OP__NKINDS];   /* fraction of HBM bandwidth */
  gpp_cost_source *source;          /* per op */
  /* With a profile only (else NULL / zero): */
  const gpp_profile_db *profile;
  struct gpp_profile_costs *curves; /* per signature, fwd and bwd */
  char (*sig)[GPP_SIG_MAX];         /* per op; "" unless source PROFILE */
  gpp_fit_result fit;               /* the efficiencies' calibration */
  const double *scale;              /* NULL, or gpp_costs_set_scale's */
} gpp_costs;

typedef struct gpp_op_cost {
  double fwd, bwd; /* seconds for the whole micro-batch */
  gpp_cost_source source;
  bool extrapolated; /* profile: b lies outside the profiled sizes */
} gpp_op_cost;

/* model, gpu and profile must outlive the result; profile may be NULL (no
 * profile: overrides and the plain roofline).  Fails when an op needs the
 * roofline but the GPU has no peak for its element size. */
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

/* Cost of op for a micro-batch of b samples; b == 0 costs nothing. */
gpp_op_cost gpp_costs_op(const gpp_costs *c, uint32_t op, double b);

/* Variability studies: from now on op i's forward and backward times are
 * multiplied by scale[2i] and scale[2i+1] (n_ops pairs, owned by the
 * caller, outliving its use); NULL restores the nominal costs. */
void gpp_costs_set_scale(gpp_costs *c, const double *scale);

/* Number of ops whose cost comes from each source. */
void gpp_costs_source_counts(const gpp_costs *c,
                             uint32_t counts[GPP_COST__NSOURCES]);

#endif
