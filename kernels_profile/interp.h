/* interp.h -- an op's cost at any micro-batch size from the profiled ones.
 *
 * Between profiled sizes the time is interpolated linearly in log-log space
 * (GSL gsl_interp_linear on log b, log t): a piecewise power law.  Profiled
 * sizes are powers of two, evenly spaced in log b, and op times run from a
 * launch-bound floor at small b to proportional growth at large b, which a
 * power law follows piecewise; the interpolant is exact at the profiled
 * sizes, monotone between them, never overshoots noisy medians (a cubic or
 * Steffen spline would add nothing on 5-10 noisy points) and needs only two
 * points where Steffen needs three.  Outside the profiled range the time is
 * extrapolated linearly in b from the two nearest points and flagged; with a
 * single point, or where the line would give a non-positive time, it is
 * scaled proportionally from the nearest point instead.
 */
#ifndef GPP_KERNELS_PROFILE_INTERP_H
#define GPP_KERNELS_PROFILE_INTERP_H

#include <stdbool.h>
#include <stddef.h>

#include "kernels_profile/profile_db.h"
#include "sim/common/err.h"

/* One curve t(b). */
typedef struct gpp_interp gpp_interp;

/* b strictly increasing and positive, t positive, n >= 1. */
int gpp_interp_create(const double *b, const double *t, size_t n,
                      gpp_interp **out, gpp_errctx *err);
void gpp_interp_destroy(gpp_interp *ip);
/* t at b (0 for b <= 0, which costs nothing); *extrapolated says whether b
 * lies outside the profiled sizes (may be NULL). */
double gpp_interp_eval(const gpp_interp *ip, double b, bool *extrapolated);

/* The fwd and bwd curves of every signature of a database. */
typedef struct gpp_profile_costs gpp_profile_costs;

int gpp_profile_costs_create(const gpp_profile_db *db,
                             gpp_profile_costs **out, gpp_errctx *err);
void gpp_profile_costs_destroy(gpp_profile_costs *pc);
/* Median fwd and bwd seconds of the op with signature sig at micro-batch
 * b > 0.  Returns GPP_ENOENT (nothing raised) when sig was not profiled. */
int gpp_profile_costs_eval(const gpp_profile_costs *pc, const char *sig,
                           double b, double *fwd, double *bwd,
                           bool *extrapolated);

#endif
