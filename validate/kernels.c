/* kernels.c -- `gppsim validate kernels`: the kernel model's GEMM times
 * (kernels_profile/kmodel.h) against published measurements, and `--fit`,
 * which fits the model's efficiency parameters to such a table (the
 * defaults in kmodel.c come from it: validate/published/kernels/README.md).
 *
 * A table (format: validate/published/kernels/README.md) has the columns
 * gpu, dtype, M, N, K, transA, transB, measured_seconds and optionally
 * batch; C = op(A) x op(B) is M x N with inner dimension K.  The model does
 * not distinguish operand layouts; transA/transB are checked (N or T) and
 * carried into the output only.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "kernels_profile/kfit.h"
#include "kernels_profile/kmodel.h"
#include "sim/common/arena.h"
#include "sim/common/csv.h"
#include "topology/topology.h"
#include "validate/validate.h"

#define MAX_GPUS 32

typedef struct krow {
  const gpp_gpu_spec *gpu;
  gpp_gemm gemm;
  char trans[3];
  double measured, predicted;
  gpp_gemm_plan plan;
} krow;

typedef struct ktable {
  krow *rows;
  size_t n, cap;
  gpp_gpu_spec gpus[MAX_GPUS];
  size_t n_gpus;
  gpp_arena *arena;
} ktable;

/* The GPU spec named in a row, loaded once. */
static int gpu_of(ktable *t, const gpp_csv *c, size_t r, int col,
                  const gpp_gpu_spec **out, gpp_errctx *err) {
  const char *name = gpp_csv_cell(c, r, col);
  for (size_t i = 0; i < t->n_gpus; i++)
    if (strcmp(t->gpus[i].name, name) == 0) {
      *out = &t->gpus[i];
      return 0;
    }
  gpp_mark m = gpp_csv_mark(c, r, col);
  if (t->n_gpus == MAX_GPUS)
    GPP_RAISE_AT(err, GPP_ERANGE, &m, "more than %d GPU types", MAX_GPUS);
  if (gpp_gpu_spec_load(name, &t->gpus[t->n_gpus], t->arena, err) != 0) {
    gpp_error_prefix(err, "%s:%d:%d: gpu '%s'", m.file, m.line, m.column,
                     name);
    return err->code;
  }
  *out = &t->gpus[t->n_gpus++];
  return 0;
}

static int dtype_of(const gpp_csv *c, size_t r, int col, const gpp_gpu_spec *g,
                    gpp_dtype *out, gpp_errctx *err) {
  const char *s = gpp_csv_cell(c, r, col);
  int d = gpp_dtype_from_name(s);
  gpp_mark m = gpp_csv_mark(c, r, col);
  if (d < 0)
    GPP_RAISE_AT(err, GPP_EPARSE, &m, "dtype '%s': expected fp32, tf32, "
                 "fp16, bf16 or fp8", s);
  if (gpp_dtype_peak(g, (gpp_dtype)d) <= 0)
    GPP_RAISE_AT(err, GPP_EINVAL, &m, "GPU %s has no %s peak", g->name, s);
  *out = (gpp_dtype)d;
  return 0;
}

static int trans_of(const gpp_csv *c, size_t r, int col, char *out,
                    gpp_errctx *err) {
  const char *s = gpp_csv_cell(c, r, col);
  gpp_mark m = gpp_csv_mark(c, r, col);
  if (strcmp(s, "N") != 0 && strcmp(s, "T") != 0)
    GPP_RAISE_AT(err, GPP_EPARSE, &m, "%s: '%s', expected N or T",
                 c->header[col], s);
  *out = s[0];
  return 0;
}

enum { C_GPU, C_DTYPE, C_M, C_N, C_K, C_TA, C_TB, C_SECONDS, C_BATCH, C__N };
static const char *const col_names[C__N] = {
    "gpu", "dtype", "M", "N", "K", "transA", "transB", "measured_seconds",
    "batch"};

static int read_row(ktable *t, const gpp_csv *c, size_t r, const int *col,
                    krow *k, gpp_errctx *err) {
  double v[4] = {1, 1, 1, 1};
  GPP_TRY(gpu_of(t, c, r, col[C_GPU], &k->gpu, err));
  GPP_TRY(dtype_of(c, r, col[C_DTYPE], k->gpu, &k->gemm.dtype, err));
  const int which[4] = {C_M, C_N, C_K, C_BATCH};
  for (int j = 0; j < 4; j++) {
    if (col[which[j]] < 0) continue;
    GPP_TRY(gpp_csv_number(c, r, col[which[j]], 1, 1e7, &v[j], err));
    if (v[j] != floor(v[j])) {
      gpp_mark m = gpp_csv_mark(c, r, col[which[j]]);
      GPP_RAISE_AT(err, GPP_EPARSE, &m, "%s: %g is not a whole number",
                   col_names[which[j]], v[j]);
    }
  }
  k->gemm.m = (int64_t)v[0];
  k->gemm.n = (int64_t)v[1];
  k->gemm.k = (int64_t)v[2];
  k->gemm.batch = (int64_t)v[3];
  GPP_TRY(trans_of(c, r, col[C_TA], &k->trans[0], err));
  GPP_TRY(trans_of(c, r, col[C_TB], &k->trans[1], err));
  return gpp_csv_number(c, r, col[C_SECONDS], 1e-9, 1e4, &k->measured, err);
}

static int load_table(const char *path, ktable *t, gpp_errctx *err) {
  gpp_csv *c;
  GPP_TRY(gpp_csv_load(path, &c, err));
  int col[C__N], rc = 0;
  for (int j = 0; j < C__N && rc == 0; j++) {
    col[j] = gpp_csv_column(c, col_names[j], j != C_BATCH, err);
    rc = col[j] < 0 && j != C_BATCH ? err->code : 0;
  }
  if (rc == 0 && t->n + c->n_rows > t->cap) {
    size_t cap = t->n + c->n_rows;
    krow *rows = gpp_realloc_array(err, t->rows, cap, sizeof *rows);
    if (rows == NULL) rc = err->code;
    else t->rows = rows, t->cap = cap;
  }
  for (size_t r = 0; r < c->n_rows && rc == 0; r++) {
    t->rows[t->n] = (krow){0};
    rc = read_row(t, c, r, col, &t->rows[t->n], err);
    t->n += rc == 0;
  }
  gpp_csv_free(c);
  return rc;
}

static int eval(void *ctx, size_t i, const gpp_kparams *p, double *seconds,
                gpp_errctx *err) {
  krow *k = &((ktable *)ctx)->rows[i];
  GPP_TRY(gpp_gemm_time(k->gpu, p, &k->gemm, &k->plan, err));
  *seconds = k->plan.time;
  return 0;
}

static double row_error(const krow *k) {
  return k->predicted / k->measured - 1;
}

/* Median and max |error| over the rows matching gpu and dtype (NULL / -1:
 * any); the count in *n. */
static int summary(const ktable *t, const gpp_gpu_spec *g, int dt, double *e,
                   gpp_errstats *s, gpp_errctx *err) {
  size_t n = 0;
  for (size_t i = 0; i < t->n; i++)
    if ((g == NULL || t->rows[i].gpu == g) &&
        (dt < 0 || (int)t->rows[i].gemm.dtype == dt))
      e[n++] = row_error(&t->rows[i]);
  return gpp_errstats_of(e, n, s, err);
}

static int print_text(const ktable *t, double *e, gpp_errctx *err) {
  printf("%-16s %-5s %6s %6s %6s %5s %2s %13s %13s %8s %9s %5s %6s\n", "gpu",
         "dtype", "M", "N", "K", "batch", "tr", "measured_us", "predicted_us",
         "error%", "tile", "waves", "splitK");
  for (size_t i = 0; i < t->n; i++) {
    const krow *k = &t->rows[i];
    char tile[24];
    snprintf(tile, sizeof tile, "%dx%d", k->plan.bm, k->plan.bn);
    printf("%-16s %-5s %6lld %6lld %6lld %5lld %2s %13.2f %13.2f %+8.1f "
           "%9s %5lld %6d\n", k->gpu->name, gpp_dtype_name(k->gemm.dtype),
           (long long)k->gemm.m, (long long)k->gemm.n, (long long)k->gemm.k,
           (long long)k->gemm.batch, k->trans, 1e6 * k->measured,
           1e6 * k->predicted, 100 * row_error(k), tile,
           (long long)k->plan.waves, k->plan.split);
  }
  printf("\n%-16s %-5s %5s %16s %13s\n", "gpu", "dtype", "rows",
         "median |error|", "max |error|");
  for (size_t g = 0; g < t->n_gpus; g++)
    for (int d = 0; d < GPP_DT__N; d++) {
      gpp_errstats s;
      GPP_TRY(summary(t, &t->gpus[g], d, e, &s, err));
      if (s.n > 0)
        printf("%-16s %-5s %5zu %15.1f%% %12.1f%%\n", t->gpus[g].name,
               gpp_dtype_name((gpp_dtype)d), s.n, 100 * s.median,
               100 * s.max);
    }
  gpp_errstats s;
  GPP_TRY(summary(t, NULL, -1, e, &s, err));
  printf("%-16s %-5s %5zu %15.1f%% %12.1f%%\n", "all", "", s.n,
         100 * s.median, 100 * s.max);
  return 0;
}

static json_t *rows_json(const ktable *t) {
  json_t *rows = json_array();
  for (size_t i = 0; i < t->n; i++) {
    const krow *k = &t->rows[i];
    json_array_append_new(rows, json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:s, s:f, s:f, s:f}", "gpu", k->gpu->name,
        "M", (json_int_t)k->gemm.m, "N", (json_int_t)k->gemm.n, "K",
        (json_int_t)k->gemm.k, "batch", (json_int_t)k->gemm.batch, "dtype",
        gpp_dtype_name(k->gemm.dtype), "measured", k->measured, "predicted",
        k->predicted, "error", row_error(k)));
  }
  return rows;
}

static int print_json(const ktable *t, double *e, gpp_errctx *err) {
  gpp_errstats s;
  GPP_TRY(summary(t, NULL, -1, e, &s, err));
  json_t *doc = json_pack("{s:o, s:f, s:f}", "rows", rows_json(t),
                          "median_abs_error", s.median, "max_abs_error",
                          s.max);
  return gpp__validate_print_json(doc, err);
}

static int predict(ktable *t, const gpp_kparams *p, gpp_errctx *err) {
  for (size_t i = 0; i < t->n; i++)
    GPP_TRY(eval(t, i, p, &t->rows[i].predicted, err));
  return 0;
}

static int fit(ktable *t, bool json, gpp_errctx *err) {
  double *measured = gpp_calloc(err, t->n, sizeof *measured);
  if (measured == NULL) return err->code;
  for (size_t i = 0; i < t->n; i++) measured[i] = t->rows[i].measured;
  gpp_kparams p;
  gpp_kfit_report rep;
  int rc = gpp_kparams_fit(t->n, measured, eval, t, &gpp_kparams_default, &p,
                           &rep, err);
  free(measured);
  if (rc != 0) return rc;
  if (!json) {
    gpp_kfit_print(&p, &rep, stdout);
    return 0;
  }
  json_t *params = json_object();
  for (int j = 0; j < GPP_KPARAMS_N; j++)
    json_object_set_new(params, gpp_kparams_name(j),
                        json_real(gpp_kparams_get(&p, j)));
  json_t *doc = json_pack("{s:o, s:I, s:b, s:f, s:f, s:f, s:f}", "params",
                          params, "points", (json_int_t)rep.n_points,
                          "converged", rep.converged, "median_before",
                          rep.median_before, "max_before", rep.max_before,
                          "median_after", rep.median_after, "max_after",
                          rep.max_after);
  return gpp__validate_print_json(doc, err);
}

int gpp_validate_kernels(char *const *paths, size_t n_paths, bool json,
                         bool do_fit, gpp_errctx *err) {
  ktable t = {0};
  double *e = NULL;
  int rc = (t.arena = gpp_arena_create(err)) ? 0 : err->code;
  for (size_t i = 0; i < n_paths && rc == 0; i++)
    rc = load_table(paths[i], &t, err);
  if (rc == 0 && t.n == 0)
    rc = GPP_ERR(err, GPP_EINVAL, "%s: no rows", paths[0]);
  if (rc == 0) rc = (e = gpp_calloc(err, t.n, sizeof *e)) ? 0 : err->code;
  if (rc == 0 && do_fit) rc = fit(&t, json, err);
  if (rc == 0 && !do_fit) rc = predict(&t, &gpp_kparams_default, err);
  if (rc == 0 && !do_fit)
    rc = json ? print_json(&t, e, err) : print_text(&t, e, err);
  free(e);
  free(t.rows);
  gpp_arena_destroy(t.arena);
  return rc;
}
