/* fit.h -- roofline efficiencies fitted to a profile, and how well they fit.
 *
 * The roofline of an op of kind k is
 *     t = max(F / (P * eff_c[k]), B / (W * eff_m[k])) + launch[k]
 * with F FLOPs and B bytes of one call, P the GPU's peak FLOP/s for the
 * op's element size and W its memory bandwidth.  Every profiled row gives
 * two points (fwd and bwd).  Per kind, the fit alternates two steps until
 * no point changes side: (1) classify each point as compute- or
 * memory-bound under the current efficiencies (start: 1), (2) solve the
 * linear weighted least-squares problem
 *     t_i = x_c * [compute_i] F_i/P + x_m * [memory_i] B_i/W + launch
 * with GSL's gsl_multifit_wlinear and weights 1/t_i^2 (so the residual
 * minimised is the relative error, the figure the calibration reports);
 * eff_c = 1/x_c, eff_m = 1/x_m.  A class with no points leaves its
 * efficiency at 1 (the plain roofline) and flagged undetermined; with fewer
 * points than unknowns, or a negative fitted launch, the launch is taken
 * from the GPU spec instead of fitted.  A kind whose times do not grow with
 * its work (a non-positive fitted coefficient) is marked failed and keeps
 * the plain roofline; its errors are still reported.
 */
#ifndef GPP_KERNELS_PROFILE_FIT_H
#define GPP_KERNELS_PROFILE_FIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "kernels_profile/profile_db.h"
#include "sim/model.h"
#include "topology/topology.h"

#define GPP_DTYPE_MAX 8

/* The GPU as the roofline sees it. */
typedef struct gpp_roofline_hw {
  double peak[GPP_DTYPE_MAX + 1]; /* FLOP/s by element size; 0: none */
  double mem_bandwidth;           /* bytes/s */
  double launch_overhead;         /* seconds */
} gpp_roofline_hw;

/* From a GPU spec (peaks through gpp_gpu_peak_for_dtype). */
void gpp_roofline_hw_from_spec(const gpp_gpu_spec *g, gpp_roofline_hw *hw);

typedef struct gpp_kind_fit {
  size_t n_points, n_compute, n_memory; /* points used; their classes */
  bool failed; /* times do not grow with the work: plain roofline kept */
  bool has_compute, has_memory;         /* efficiency determined by data */
  bool launch_fitted;                   /* else the spec's launch */
  double eff_compute, eff_memory;       /* 1 when undetermined */
  double launch;                        /* seconds */
  double median_rel_err, max_rel_err;   /* of the fitted roofline */
} gpp_kind_fit;

typedef struct gpp_fit_result {
  gpp_kind_fit kind[GPP_OP__NKINDS]; /* n_points == 0: no data */
} gpp_fit_result;

/* Fits every kind that has points in db.  Rows whose element size has no
 * peak in hw are skipped. */
int gpp_fit_efficiencies_hw(const gpp_profile_db *db,
                            const gpp_roofline_hw *hw, gpp_fit_result *out,
                            gpp_errctx *err);
/* The same from a GPU spec. */
int gpp_fit_efficiencies(const gpp_profile_db *db, const gpp_gpu_spec *gpu,
                         gpp_fit_result *out, gpp_errctx *err);

/* The fitted roofline time of one call; f == NULL or a kind without points
 * gives the plain roofline (efficiencies 1, the spec's launch). */
double gpp_fit_roofline(const gpp_kind_fit *f, const gpp_roofline_hw *hw,
                        int dtype_bytes, double flops, double bytes);

/* A plain-text calibration report (one line per fitted kind). */
void gpp_fit_report(const gpp_fit_result *fit, FILE *out);

#endif
