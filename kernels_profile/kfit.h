/* kfit.h -- fits the kernel model's efficiency parameters (kmodel.h) to
 * measured times: GSL's nonlinear least squares (trust region,
 * Levenberg-Marquardt, finite-difference Jacobian) on the log ratio of
 * modelled to measured time, so the residual is the relative error.  The
 * parameters are fitted in log space (they stay positive); a parameter no
 * measurement depends on (its change moves no modelled time) keeps its
 * starting value and is reported as not fitted.  Used by `validate kernels
 * --fit` on published GEMM times and by the cost model on a profile.
 */
#ifndef GPP_KERNELS_PROFILE_KFIT_H
#define GPP_KERNELS_PROFILE_KFIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "kernels_profile/kmodel.h"
#include "sim/common/err.h"

#define GPP_KPARAMS_N 4

/* The modelled time of measurement i under p. */
typedef int (*gpp_kfit_eval)(void *ctx, size_t i, const gpp_kparams *p,
                             double *seconds, gpp_errctx *err);

typedef struct gpp_kfit_report {
  size_t n_points;
  bool fitted[GPP_KPARAMS_N]; /* math_eff_tensor, _simt, tile_cycles, mem */
  bool converged;
  double median_before, max_before; /* |relative error| at the start */
  double median_after, max_after;   /* and with the fitted parameters */
} gpp_kfit_report;

const char *gpp_kparams_name(int i);
double gpp_kparams_get(const gpp_kparams *p, int i);

/* Fits from start over n measurements (seconds, > 0).  With fewer
 * measurements than free parameters nothing is fitted (out = start). */
int gpp_kparams_fit(size_t n, const double *measured, gpp_kfit_eval eval,
                    void *ctx, const gpp_kparams *start, gpp_kparams *out,
                    gpp_kfit_report *rep, gpp_errctx *err);

/* Median and maximum |modelled / measured - 1| under p. */
int gpp_kfit_errors(size_t n, const double *measured, gpp_kfit_eval eval,
                    void *ctx, const gpp_kparams *p, double *median,
                    double *max, gpp_errctx *err);

/* One line per parameter and the errors before and after. */
void gpp_kfit_print(const gpp_kparams *p, const gpp_kfit_report *rep,
                    FILE *out);

#endif
