/* fit.c -- least-squares roofline efficiencies per op kind and the
 * calibration errors of the result (the method is in fit.h). */
#include "kernels_profile/fit.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUNDS 50

/* One measured call: its roofline terms at efficiency 1, and its time. */
typedef struct point {
  int kind;
  double tc, tm; /* F/P and B/W, seconds */
  double t;      /* measured median, seconds */
  bool compute;  /* current class */
} point;

typedef struct kind_state {
  double xc, xm, launch; /* 1/eff_c, 1/eff_m, seconds */
  bool fit_launch;
} kind_state;

static void add_point(point *p, size_t *n, int kind, double peak, double bw,
                      double flops, double bytes, double t) {
  if (flops <= 0 && bytes <= 0) return;
  p[*n] = (point){kind, flops / peak, bytes / bw, t, false};
  (*n)++;
}

static size_t collect(const gpp_profile_db *db, const gpp_roofline_hw *hw,
                      point *p) {
  size_t n = 0;
  for (size_t i = 0; i < db->n_rows; i++) {
    const gpp_profile_row *r = &db->rows[i];
    int dt = gpp_signature_dtype(r->signature);
    int kind = gpp_signature_kind(r->signature);
    if (kind < 0 || dt <= 0 || dt > GPP_DTYPE_MAX || !(hw->peak[dt] > 0))
      continue;
    add_point(p, &n, kind, hw->peak[dt], hw->mem_bandwidth, r->flops_fwd,
              r->bytes_fwd, r->fwd.median);
    add_point(p, &n, kind, hw->peak[dt], hw->mem_bandwidth, r->flops_bwd,
              r->bytes_bwd, r->bwd.median);
  }
  return n;
}

/* Reclassifies; returns whether any point changed side. */
static bool classify(point *p, size_t n, const kind_state *s) {
  bool changed = false;
  for (size_t i = 0; i < n; i++) {
    bool c = p[i].tc * s->xc >= p[i].tm * s->xm;
    changed |= c != p[i].compute;
    p[i].compute = c;
  }
  return changed;
}

/* Column j of the design matrix for point p: 0 compute, 1 memory, 2 one. */
static double design(const point *p, int j) {
  if (j == 0) return p->compute ? p->tc : 0;
  if (j == 1) return p->compute ? 0 : p->tm;
  return 1;
}

/* Weighted least squares of t - shift over the columns in cols; c receives
 * the coefficients.  Returns 0 or -1 (GSL failure). */
static int solve(const point *p, size_t n, const int *cols, size_t nc,
                 double shift, double *c) {
  gsl_matrix *X = gsl_matrix_alloc(n, nc), *cov = gsl_matrix_alloc(nc, nc);
  gsl_vector *y = gsl_vector_alloc(n), *w = gsl_vector_alloc(n);
  gsl_vector *cv = gsl_vector_alloc(nc);
  gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(n, nc);
  int st = -1;
  if (X && cov && y && w && cv && ws) {
    for (size_t i = 0; i < n; i++) {
      for (size_t j = 0; j < nc; j++)
        gsl_matrix_set(X, i, j, design(&p[i], cols[j]));
      gsl_vector_set(y, i, p[i].t - shift);
      gsl_vector_set(w, i, 1 / (p[i].t * p[i].t));
    }
    double chisq;
    st = gsl_multifit_wlinear(X, w, y, cv, cov, &chisq, ws) ? -1 : 0;
    for (size_t j = 0; st == 0 && j < nc; j++) c[j] = gsl_vector_get(cv, j);
  }
  gsl_multifit_linear_free(ws);
  gsl_vector_free(cv);
  gsl_vector_free(w);
  gsl_vector_free(y);
  gsl_matrix_free(cov);
  gsl_matrix_free(X);
  return st;
}

/* One least-squares step under the current classes. */
static int fit_step(const point *p, size_t n, kind_state *s, size_t nc_pts,
                    size_t nm_pts) {
  int cols[3];
  size_t nc = 0;
  if (nc_pts) cols[nc++] = 0;
  if (nm_pts) cols[nc++] = 1;
  bool launch = s->fit_launch && n > nc + 1;
  if (launch) cols[nc++] = 2;
  double c[3] = {0, 0, 0};
  if (solve(p, n, cols, nc, launch ? 0 : s->launch, c) != 0) return -1;
  for (size_t j = 0; j < nc; j++) {
    if (cols[j] == 0) s->xc = c[j];
    if (cols[j] == 1) s->xm = c[j];
    if (cols[j] == 2) s->launch = c[j];
  }
  s->fit_launch = launch;
  return 0;
}

static void count_classes(const point *p, size_t n, size_t *nc, size_t *nm) {
  *nc = *nm = 0;
  for (size_t i = 0; i < n; i++) (p[i].compute ? (*nc)++ : (*nm)++);
}

/* Alternates classification and least squares until stable. */
static int fit_kind(point *p, size_t n, double spec_launch, kind_state *s) {
  *s = (kind_state){1, 1, spec_launch, true};
  size_t nc, nm;
  for (int round = 0; round < MAX_ROUNDS; round++) {
    if (!classify(p, n, s) && round > 0) break;
    count_classes(p, n, &nc, &nm);
    kind_state prev = *s;
    if (fit_step(p, n, s, nc, nm) != 0) return -1;
    if (s->fit_launch && s->launch < 0) { /* refit with the spec launch */
      *s = prev;
      s->launch = spec_launch;
      s->fit_launch = false;
      if (fit_step(p, n, s, nc, nm) != 0) return -1;
    }
    if (!(s->xc > 0) || !(s->xm > 0)) return -1;
  }
  return 0;
}

static void summarise(const point *p, size_t n, const kind_state *s,
                      gpp_kind_fit *f, double *scratch) {
  count_classes(p, n, &f->n_compute, &f->n_memory);
  f->n_points = n;
  f->has_compute = f->n_compute > 0;
  f->has_memory = f->n_memory > 0;
  f->eff_compute = f->has_compute ? 1 / s->xc : 1;
  f->eff_memory = f->has_memory ? 1 / s->xm : 1;
  f->launch = s->launch;
  f->launch_fitted = s->fit_launch;
  for (size_t i = 0; i < n; i++) {
    double pred = fmax(p[i].tc * s->xc, p[i].tm * s->xm) + s->launch;
    scratch[i] = fabs(pred - p[i].t) / p[i].t;
  }
  gsl_sort(scratch, 1, n);
  f->median_rel_err = gsl_stats_median_from_sorted_data(scratch, 1, n);
  f->max_rel_err = scratch[n - 1];
}

/* Gathers kind k's points to the front of p[0..n); returns their count. */
static size_t gather(point *p, size_t n, int k) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (p[i].kind == k) {
      point tmp = p[m];
      p[m++] = p[i];
      p[i] = tmp;
    }
  return m;
}

static void fit_all(point *p, size_t n, const gpp_roofline_hw *hw,
                    gpp_fit_result *out, double *scratch) {
  for (int k = 0; k < GPP_OP__NKINDS; k++) {
    size_t m = gather(p, n, k);
    if (m == 0) continue;
    kind_state s;
    gpp_kind_fit *f = &out->kind[k];
    f->failed = fit_kind(p, m, hw->launch_overhead, &s) != 0;
    if (f->failed) s = (kind_state){1, 1, hw->launch_overhead, false};
    summarise(p, m, &s, f, scratch);
    if (f->failed) f->has_compute = f->has_memory = false;
  }
}

int gpp_fit_efficiencies_hw(const gpp_profile_db *db,
                            const gpp_roofline_hw *hw, gpp_fit_result *out,
                            gpp_errctx *err) {
  memset(out, 0, sizeof *out);
  if (!(hw->mem_bandwidth > 0))
    GPP_RAISE(err, GPP_EINVAL, "roofline fit needs a memory bandwidth");
  size_t cap = 2 * db->n_rows + 1;
  point *p = gpp_calloc(err, cap, sizeof *p);
  double *scratch = gpp_calloc(err, cap, sizeof *scratch);
  int rc = p && scratch ? 0 : err->code;
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  if (rc == 0) fit_all(p, collect(db, hw, p), hw, out, scratch);
  gsl_set_error_handler(old);
  free(scratch);
  free(p);
  return rc;
}

double gpp_fit_roofline(const gpp_kind_fit *f, const gpp_roofline_hw *hw,
                        int dtype_bytes, double flops, double bytes) {
  bool fitted = f != NULL && f->n_points > 0;
  double ec = fitted ? f->eff_compute : 1, em = fitted ? f->eff_memory : 1;
  double launch = fitted ? f->launch : hw->launch_overhead;
  double peak = dtype_bytes > 0 && dtype_bytes <= GPP_DTYPE_MAX
                    ? hw->peak[dtype_bytes] : 0;
  double tc = flops > 0 && peak > 0 ? flops / (peak * ec) : 0;
  double tm = bytes > 0 ? bytes / (hw->mem_bandwidth * em) : 0;
  return fmax(tc, tm) + launch;
}

void gpp_fit_report(const gpp_fit_result *fit, FILE *out) {
  fprintf(out, "%-12s %6s %5s %5s %10s %10s %10s %9s %9s\n", "kind",
          "points", "comp", "mem", "eff_comp", "eff_mem", "launch_us",
          "med_err%", "max_err%");
  for (int k = 0; k < GPP_OP__NKINDS; k++) {
    const gpp_kind_fit *f = &fit->kind[k];
    if (f->n_points == 0) continue;
    fprintf(out,
            "%-12s %6zu %5zu %5zu %10.4g%s %9.4g%s %9.3f%s %9.2f %9.2f%s\n",
            gpp_signature_kind_name(k), f->n_points, f->n_compute,
            f->n_memory, f->eff_compute, f->has_compute ? " " : "*",
            f->eff_memory, f->has_memory ? " " : "*", f->launch * 1e6,
            f->launch_fitted ? " " : "*", 100 * f->median_rel_err,
            100 * f->max_rel_err,
            f->failed ? "  fit failed: times do not grow with the work" : "");
  }
  fprintf(out, "(* not determined by the profile: plain roofline value or "
               "the GPU spec's launch overhead)\n");
}
