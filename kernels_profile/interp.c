/* interp.c -- log-log interpolation of profiled times across micro-batch
 * sizes (the rationale is in interp.h). */
#include "kernels_profile/interp.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_interp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct gpp_interp {
  size_t n;
  double *b, *t;       /* profiled points */
  double *lb, *lt;     /* their logarithms */
  gsl_interp *interp;  /* NULL when n == 1 */
};

static int check_points(const double *b, const double *t, size_t n,
                        gpp_errctx *err) {
  if (n == 0) GPP_RAISE(err, GPP_EINVAL, "interpolation needs a point");
  for (size_t i = 0; i < n; i++) {
    if (!(isfinite(b[i]) && b[i] > 0 && isfinite(t[i]) && t[i] > 0))
      GPP_RAISE(err, GPP_EINVAL,
                "interpolation point %zu (b=%g, t=%g) is not positive", i,
                b[i], t[i]);
    if (i > 0 && !(b[i] > b[i - 1]))
      GPP_RAISE(err, GPP_EINVAL,
                "interpolation sizes must increase (b=%g after %g)", b[i],
                b[i - 1]);
  }
  return 0;
}

static int fill(gpp_interp *ip, const double *b, const double *t,
                gpp_errctx *err) {
  size_t n = ip->n;
  double *mem = gpp_calloc(err, 4 * n, sizeof *mem);
  if (mem == NULL) return err->code;
  ip->b = mem;
  ip->t = mem + n;
  ip->lb = mem + 2 * n;
  ip->lt = mem + 3 * n;
  for (size_t i = 0; i < n; i++) {
    ip->b[i] = b[i];
    ip->t[i] = t[i];
    ip->lb[i] = log(b[i]);
    ip->lt[i] = log(t[i]);
  }
  if (n < 2) return 0;
  ip->interp = gsl_interp_alloc(gsl_interp_linear, n);
  if (ip->interp == NULL ||
      gsl_interp_init(ip->interp, ip->lb, ip->lt, n) != GSL_SUCCESS)
    GPP_RAISE(err, GPP_EINTERNAL, "GSL interpolation set-up failed");
  return 0;
}

int gpp_interp_create(const double *b, const double *t, size_t n,
                      gpp_interp **out, gpp_errctx *err) {
  *out = NULL;
  GPP_TRY(check_points(b, t, n, err));
  gpp_interp *ip = gpp_calloc(err, 1, sizeof *ip);
  if (ip == NULL) return err->code;
  ip->n = n;
  int rc = fill(ip, b, t, err);
  if (rc != 0) {
    gpp_interp_destroy(ip);
    return rc;
  }
  *out = ip;
  return 0;
}

void gpp_interp_destroy(gpp_interp *ip) {
  if (ip == NULL) return;
  if (ip->interp) gsl_interp_free(ip->interp);
  free(ip->b);
  free(ip);
}

/* Linear in b through points i and j; proportional from i when that is not
 * positive. */
static double extrapolate(const gpp_interp *ip, size_t i, size_t j,
                          double b) {
  double slope = (ip->t[j] - ip->t[i]) / (ip->b[j] - ip->b[i]);
  double t = ip->t[i] + slope * (b - ip->b[i]);
  return t > 0 ? t : ip->t[i] * b / ip->b[i];
}

double gpp_interp_eval(const gpp_interp *ip, double b, bool *extrapolated) {
  size_t n = ip->n;
  bool outside = b < ip->b[0] || b > ip->b[n - 1];
  if (extrapolated) *extrapolated = outside && b > 0;
  if (!(b > 0)) return 0;
  if (n == 1) return ip->t[0] * b / ip->b[0];
  if (b < ip->b[0]) return extrapolate(ip, 0, 1, b);
  if (b > ip->b[n - 1]) return extrapolate(ip, n - 1, n - 2, b);
  return exp(gsl_interp_eval(ip->interp, ip->lb, ip->lt, log(b), NULL));
}

/* ---- every signature of a database ----------------------------------- */

typedef struct sig_curves {
  const char *sig; /* points into the database */
  gpp_interp *fwd, *bwd;
} sig_curves;

struct gpp_profile_costs {
  sig_curves *sigs;
  size_t n_sigs;
};

static int curves_of(const gpp_profile_row *rows, size_t n, sig_curves *sc,
                     gpp_errctx *err) {
  double *v = gpp_calloc(err, 3 * n, sizeof *v);
  if (v == NULL) return err->code;
  for (size_t i = 0; i < n; i++) {
    v[i] = (double)rows[i].micro_batch;
    v[n + i] = rows[i].fwd.median;
    v[2 * n + i] = rows[i].bwd.median;
  }
  sc->sig = rows[0].signature;
  int rc = gpp_interp_create(v, v + n, n, &sc->fwd, err);
  if (rc == 0) rc = gpp_interp_create(v, v + 2 * n, n, &sc->bwd, err);
  free(v);
  if (rc != 0) gpp_error_prefix(err, "profile of %s", rows[0].signature);
  return rc;
}

static int build_curves(gpp_profile_costs *pc, const gpp_profile_db *db,
                        gpp_errctx *err) {
  size_t i = 0;
  while (i < db->n_rows) {
    const gpp_profile_row *first;
    size_t n = gpp_profile_db_rows_of(db, db->rows[i].signature, &first);
    GPP_TRY(curves_of(first, n, &pc->sigs[pc->n_sigs], err));
    pc->n_sigs++;
    i += n;
  }
  return 0;
}

int gpp_profile_costs_create(const gpp_profile_db *db,
                             gpp_profile_costs **out, gpp_errctx *err) {
  *out = NULL;
  gpp_profile_costs *pc = gpp_calloc(err, 1, sizeof *pc);
  if (pc == NULL) return err->code;
  pc->sigs = gpp_calloc(err, db->n_rows ? db->n_rows : 1, sizeof *pc->sigs);
  int rc = pc->sigs == NULL ? err->code : build_curves(pc, db, err);
  if (rc != 0) {
    gpp_profile_costs_destroy(pc);
    return rc;
  }
  *out = pc;
  return 0;
}

void gpp_profile_costs_destroy(gpp_profile_costs *pc) {
  if (pc == NULL) return;
  for (size_t i = 0; i < pc->n_sigs; i++) {
    gpp_interp_destroy(pc->sigs[i].fwd);
    gpp_interp_destroy(pc->sigs[i].bwd);
  }
  free(pc->sigs);
  free(pc);
}

static int cmp_sig(const void *key, const void *elem) {
  return strcmp(key, ((const sig_curves *)elem)->sig);
}

int gpp_profile_costs_eval(const gpp_profile_costs *pc, const char *sig,
                           double b, double *fwd, double *bwd,
                           bool *extrapolated) {
  const sig_curves *sc =
      bsearch(sig, pc->sigs, pc->n_sigs, sizeof *pc->sigs, cmp_sig);
  if (sc == NULL) return GPP_ENOENT;
  *fwd = gpp_interp_eval(sc->fwd, b, extrapolated);
  *bwd = gpp_interp_eval(sc->bwd, b, NULL);
  return 0;
}
