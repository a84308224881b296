/* compare.c -- measured against predicted: tasks matched by key, relative
 * errors (predicted - measured) / measured per task, per stage and for the
 * iteration, and their |error| distributions (GSL: median, p90, max). */
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>

#include "validate/validate.h"

static const gpp_task_rec *key_rows;

static int key_cmp(const gpp_task_rec *a, const gpp_task_rec *b) {
#define KEY(f) if (a->f != b->f) return a->f < b->f ? -1 : 1
  KEY(device); KEY(peer); KEY(stage); KEY(micro_batch); KEY(replica);
  KEY(kind);
#undef KEY
  return 0;
}

/* By key, equal keys in row order (so that duplicates pair in order). */
static int by_key(const void *a, const void *b) {
  uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
  int c = key_cmp(&key_rows[i], &key_rows[j]);
  return c ? c : (i < j ? -1 : i > j);
}

static uint32_t *sorted_rows(const gpp_vfile *f, gpp_errctx *err) {
  uint32_t *idx = gpp_calloc(err, f->n_tasks ? f->n_tasks : 1, sizeof *idx);
  if (idx == NULL) return NULL;
  for (size_t i = 0; i < f->n_tasks; i++) idx[i] = (uint32_t)i;
  key_rows = f->tasks;
  qsort(idx, f->n_tasks, sizeof *idx, by_key);
  return idx;
}

static int missing(const gpp_task_rec *r, const gpp_vfile *has,
                   const gpp_vfile *lacks, gpp_errctx *err) {
  GPP_RAISE(err, GPP_EINVAL, "mismatched files: the %s task of stage %d, "
            "micro-batch %d, device %u -> %u, replica %u is in %s but not "
            "in %s (results of different plans?)",
            gpp_task_kind_name(r->kind), r->stage, r->micro_batch, r->device,
            r->peer, r->replica, has->path, lacks->path);
}

/* pair[i] = the predicted row matching measured row i. */
static int match(const gpp_vfile *m, const gpp_vfile *p, uint32_t *pair,
                 gpp_errctx *err) {
  uint32_t *a = sorted_rows(m, err), *b = a ? sorted_rows(p, err) : NULL;
  int rc = b ? 0 : err->code;
  size_t i = 0, j = 0;
  while (rc == 0 && (i < m->n_tasks || j < p->n_tasks)) {
    int c = i == m->n_tasks ? 1 : j == p->n_tasks ? -1
            : key_cmp(&m->tasks[a[i]], &p->tasks[b[j]]);
    if (c < 0) rc = missing(&m->tasks[a[i]], m, p, err);
    else if (c > 0) rc = missing(&p->tasks[b[j]], p, m, err);
    else pair[a[i++]] = b[j++];
  }
  free(a);
  free(b);
  return rc;
}

static double rel_err(double predicted, double measured) {
  return measured > 0 ? (predicted - measured) / measured : NAN;
}

static bool is_compute(uint32_t kind) {
  return kind == GPP_TASK_FWD || kind == GPP_TASK_BWD || kind == GPP_TASK_OPT;
}

int gpp_errstats_of(const double *v, size_t n, gpp_errstats *s,
                    gpp_errctx *err) {
  double *a = gpp_calloc(err, n ? n : 1, sizeof *a);
  if (a == NULL) return err->code;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(v[i])) a[k++] = fabs(v[i]);
  *s = (gpp_errstats){.n = k};
  if (k > 0) {
    gsl_sort(a, 1, k);
    s->median = gsl_stats_median_from_sorted_data(a, 1, k);
    s->p90 = gsl_stats_quantile_from_sorted_data(a, 1, k, 0.9);
    s->max = a[k - 1];
  }
  free(a);
  return 0;
}

static void task_errors(const gpp_vfile *m, const gpp_vfile *p,
                        const uint32_t *pair, gpp_comparison *c,
                        double *stage_m, double *stage_p) {
  for (size_t i = 0; i < m->n_tasks; i++) {
    const gpp_task_rec *x = &m->tasks[i], *y = &p->tasks[pair[i]];
    double dm = x->end - x->start, dp = y->end - y->start;
    c->task_err[i] = rel_err(dp, dm);
    c->n_matched++;
    c->n_skipped += !isfinite(c->task_err[i]);
    if (is_compute(x->kind) && x->stage >= 0 &&
        (uint32_t)x->stage < c->n_stages) {
      stage_m[x->stage] += dm;
      stage_p[x->stage] += dp;
    }
  }
}

static int compute(const gpp_vfile *m, const gpp_vfile *p,
                   const uint32_t *pair, gpp_comparison *c, gpp_errctx *err) {
  c->n_stages = m->n_stages;
  c->task_err = gpp_calloc(err, m->n_tasks ? m->n_tasks : 1, sizeof(double));
  c->stage_err = gpp_calloc(err, c->n_stages, sizeof(double));
  double *sm = gpp_calloc(err, 2 * (size_t)c->n_stages, sizeof *sm);
  int rc = c->task_err && c->stage_err && sm ? 0 : err->code;
  if (rc == 0) {
    task_errors(m, p, pair, c, sm, sm + c->n_stages);
    for (uint32_t s = 0; s < c->n_stages; s++)
      c->stage_err[s] = rel_err(sm[c->n_stages + s], sm[s]);
    rc = gpp_errstats_of(c->task_err, m->n_tasks, &c->task, err);
  }
  if (rc == 0) rc = gpp_errstats_of(c->stage_err, c->n_stages, &c->stage, err);
  free(sm);
  return rc;
}

int gpp_compare(const gpp_vfile *measured, const gpp_vfile *predicted,
                gpp_comparison *out, gpp_errctx *err) {
  *out = (gpp_comparison){0};
  if (measured->n_stages != predicted->n_stages)
    GPP_RAISE(err, GPP_EINVAL, "mismatched files: %s has %u stages, %s has %u",
              measured->path, measured->n_stages, predicted->path,
              predicted->n_stages);
  uint32_t *pair = gpp_calloc(err, measured->n_tasks ? measured->n_tasks : 1,
                              sizeof *pair);
  if (pair == NULL) return err->code;
  int rc = match(measured, predicted, pair, err);
  if (rc == 0) rc = compute(measured, predicted, pair, out, err);
  free(pair);
  out->measured_is_run = measured->measured;
  out->iter_measured = measured->iteration_time;
  out->iter_predicted = predicted->iteration_time;
  out->iter_error = rel_err(predicted->iteration_time,
                            measured->iteration_time);
  if (rc != 0) gpp_comparison_free(out);
  return rc;
}

void gpp_comparison_free(gpp_comparison *c) {
  free(c->task_err);
  free(c->stage_err);
  c->task_err = c->stage_err = NULL;
}

int gpp__validate_print_json(json_t *doc, gpp_errctx *err) {
  if (doc == NULL) GPP_RAISE(err, GPP_ENOMEM, "cannot build the JSON output");
  json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  fputc('\n', stdout);
  json_decref(doc);
  return 0;
}
