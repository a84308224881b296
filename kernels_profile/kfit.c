/* kfit.c -- least-squares fit of the kernel model's parameters (kfit.h). */
#include "kernels_profile/kfit.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdlib.h>

static const char *const names[GPP_KPARAMS_N] = {
    "math_eff_tensor", "math_eff_simt", "tile_cycles", "mem_eff"};

const char *gpp_kparams_name(int i) {
  return i >= 0 && i < GPP_KPARAMS_N ? names[i] : "?";
}

static double *slot(gpp_kparams *p, int i) {
  switch (i) {
  case 0: return &p->math_eff_tensor;
  case 1: return &p->math_eff_simt;
  case 2: return &p->tile_cycles;
  default: return &p->mem_eff;
  }
}

double gpp_kparams_get(const gpp_kparams *p, int i) {
  return *slot((gpp_kparams *)p, i);
}

typedef struct fit_ctx {
  size_t n;
  const double *measured;
  gpp_kfit_eval eval;
  void *ctx;
  gpp_kparams base;
  int free_idx[GPP_KPARAMS_N], n_free;
  gpp_errctx *err;
  int rc;
} fit_ctx;

static gpp_kparams unpack(const fit_ctx *f, const gsl_vector *x) {
  gpp_kparams p = f->base;
  for (int j = 0; j < f->n_free; j++)
    *slot(&p, f->free_idx[j]) = exp(gsl_vector_get(x, (size_t)j));
  return p;
}

static int residuals(const gsl_vector *x, void *data, gsl_vector *r) {
  fit_ctx *f = data;
  gpp_kparams p = unpack(f, x);
  for (size_t i = 0; i < f->n; i++) {
    double t;
    if (f->rc == 0) f->rc = f->eval(f->ctx, i, &p, &t, f->err);
    gsl_vector_set(r, i, f->rc == 0 ? log(t / f->measured[i]) : 0);
  }
  return f->rc == 0 ? GSL_SUCCESS : GSL_EBADFUNC;
}

int gpp_kfit_errors(size_t n, const double *measured, gpp_kfit_eval eval,
                    void *ctx, const gpp_kparams *p, double *median,
                    double *max, gpp_errctx *err) {
  double *e = gpp_calloc(err, n ? n : 1, sizeof *e);
  if (e == NULL) return err->code;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    double t;
    rc = eval(ctx, i, p, &t, err);
    e[i] = fabs(t / measured[i] - 1);
  }
  if (rc == 0 && n > 0) {
    gsl_sort(e, 1, n);
    *median = gsl_stats_median_from_sorted_data(e, 1, n);
    *max = e[n - 1];
  } else if (rc == 0) {
    *median = *max = 0;
  }
  free(e);
  return rc;
}

/* Free parameters: those some modelled time depends on. */
static int find_free(fit_ctx *f, gpp_errctx *err) {
  f->n_free = 0;
  for (int j = 0; j < GPP_KPARAMS_N; j++) {
    gpp_kparams q = f->base;
    *slot(&q, j) *= 1.25;
    for (size_t i = 0; i < f->n; i++) {
      double a, b;
      GPP_TRY(f->eval(f->ctx, i, &f->base, &a, err));
      GPP_TRY(f->eval(f->ctx, i, &q, &b, err));
      if (fabs(a - b) > 1e-9 * a) {
        f->free_idx[f->n_free++] = j;
        break;
      }
    }
  }
  return 0;
}

static int solve(fit_ctx *f, gpp_kparams *out, bool *converged) {
  const gsl_multifit_nlinear_type *T = gsl_multifit_nlinear_trust;
  gsl_multifit_nlinear_parameters prm = gsl_multifit_nlinear_default_parameters();
  gsl_multifit_nlinear_fdf fdf = {residuals, NULL, NULL, f->n,
                                  (size_t)f->n_free, f, 0, 0, 0};
  gsl_multifit_nlinear_workspace *w =
      gsl_multifit_nlinear_alloc(T, &prm, f->n, (size_t)f->n_free);
  gsl_vector *x = gsl_vector_alloc((size_t)f->n_free);
  if (w == NULL || x == NULL) {
    gsl_multifit_nlinear_free(w);
    gsl_vector_free(x);
    GPP_RAISE(f->err, GPP_ENOMEM, "out of memory in the kernel-model fit");
  }
  for (int j = 0; j < f->n_free; j++)
    gsl_vector_set(x, (size_t)j, log(*slot(&f->base, f->free_idx[j])));
  gsl_multifit_nlinear_init(x, &fdf, w);
  int info, st = gsl_multifit_nlinear_driver(200, 1e-8, 1e-8, 1e-8, NULL,
                                             NULL, &info, w);
  *converged = st == GSL_SUCCESS;
  *out = unpack(f, gsl_multifit_nlinear_position(w));
  gsl_multifit_nlinear_free(w);
  gsl_vector_free(x);
  return f->rc;
}

int gpp_kparams_fit(size_t n, const double *measured, gpp_kfit_eval eval,
                    void *ctx, const gpp_kparams *start, gpp_kparams *out,
                    gpp_kfit_report *rep, gpp_errctx *err) {
  *rep = (gpp_kfit_report){.n_points = n};
  *out = *start;
  fit_ctx f = {n, measured, eval, ctx, *start, {0}, 0, err, 0};
  GPP_TRY(gpp_kfit_errors(n, measured, eval, ctx, start, &rep->median_before,
                          &rep->max_before, err));
  GPP_TRY(find_free(&f, err));
  if (f.n_free > 0 && n >= (size_t)f.n_free) {
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int rc = solve(&f, out, &rep->converged);
    gsl_set_error_handler(old);
    GPP_TRY(rc);
    for (int j = 0; j < f.n_free; j++) rep->fitted[f.free_idx[j]] = true;
  }
  return gpp_kfit_errors(n, measured, eval, ctx, out, &rep->median_after,
                         &rep->max_after, err);
}

void gpp_kfit_print(const gpp_kparams *p, const gpp_kfit_report *rep,
                    FILE *out) {
  fprintf(out, "kernel model fitted to %zu measured times%s:\n",
          rep->n_points, rep->converged ? "" : " (did not converge)");
  for (int j = 0; j < GPP_KPARAMS_N; j++)
    fprintf(out, "  %-16s %.6g%s\n", names[j], gpp_kparams_get(p, j),
            rep->fitted[j] ? "" : "  (not fitted: no measurement depends "
                                  "on it)");
  fprintf(out, "  |relative error|: median %.1f%% max %.1f%% before, "
          "median %.1f%% max %.1f%% after\n", 100 * rep->median_before,
          100 * rep->max_before, 100 * rep->median_after,
          100 * rep->max_after);
}
