/* cost_fit.c -- the kernel model's parameters fitted to a profile: every
 * profiled op of the model gives its measured forward and backward medians
 * at each profiled micro-batch size (kfit.h does the fit). */
#include <stdlib.h>

#include "kernels_profile/cost.h"

typedef struct point {
  uint32_t op;
  double b;
  bool bwd;
} point;

typedef struct calib {
  const gpp_costs *c;
  point *pts;
  double *measured;
  size_t n;
} calib;

static int eval(void *ctx, size_t i, const gpp_kparams *p, double *t,
                gpp_errctx *err) {
  const calib *k = ctx;
  const point *q = &k->pts[i];
  const gpp_op *op = &k->c->model->ops[q->op];
  gpp_kop r;
  GPP_TRY(gpp_kmodel_op(&k->c->gpu, p, op,
                        gpp_costs_op_dtype(k->c->model, op),
                        gpp_costs_op_attn(op),
                        q->b, q->bwd, &r, err));
  *t = r.time;
  return 0;
}

/* A point the kernel model cannot cost (no peak for its dtype) or without
 * a positive time is left out. */
static void add(calib *k, uint32_t op, double b, bool bwd, double t) {
  if (t <= 0) return;
  k->pts[k->n] = (point){op, b, bwd};
  k->measured[k->n] = t;
  double m;
  gpp_errctx err = {0};
  if (eval(k, k->n, &k->c->kp, &m, &err) == 0) k->n++;
}

static size_t collect(const gpp_costs *c, calib *k) {
  size_t n = 0;
  for (uint32_t i = 0; i < c->model->n_ops; i++) {
    if (c->source[i] != GPP_COST_PROFILE) continue;
    const gpp_profile_row *r;
    size_t m = gpp_profile_db_rows_of(c->profile, c->sig[i], &r);
    for (size_t j = 0; j < m; j++) {
      if (k->pts != NULL) {
        add(k, i, (double)r[j].micro_batch, false, r[j].fwd.median);
        add(k, i, (double)r[j].micro_batch, true, r[j].bwd.median);
      }
      n += 2;
    }
  }
  return n;
}

int gpp__costs_calibrate(gpp_costs *c, gpp_errctx *err) {
  calib k = {c, NULL, NULL, 0};
  size_t n = collect(c, &k);
  if (n == 0) return 0;
  k.pts = gpp_calloc(err, n, sizeof *k.pts);
  k.measured = gpp_calloc(err, n, sizeof *k.measured);
  int rc = k.pts && k.measured ? 0 : err->code;
  if (rc == 0) {
    collect(c, &k);
    gpp_kparams start = c->kp;
    rc = gpp_kparams_fit(k.n, k.measured, eval, &k, &start, &c->kp, &c->fit,
                         err);
  }
  free(k.pts);
  free(k.measured);
  return rc;
}
