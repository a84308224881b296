/* stage_prefix.c -- prefix sums of the stage modes' figures over an op
 * order (internal.h, gpp__mpre), for the planners whose stages are ranges
 * of it: GraphPipe's leaf positions and PipeDream's chain.  Above both
 * stage_cost.c (the re-run rows) and stage_modes.c (the per-op figures). */
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

int gpp__mpre_init(gpp__pctx *c, gpp__mpre *p, const uint32_t *ord) {
  memset(p, 0, sizeof *p);
  p->ord = ord;
  p->ms = gpp_calloc(c->err, (size_t)(c->n + 1) * GPP__MS_N, sizeof *p->ms);
  p->x = gpp_calloc(c->err, (size_t)c->B + 1, sizeof *p->x);
  if (!(p->ms && p->x)) return c->err->code;
  for (uint32_t q = 0; q < c->n; q++) {
    double *ms = &p->ms[(size_t)(q + 1) * GPP__MS_N];
    memcpy(ms, ms - GPP__MS_N, GPP__MS_N * sizeof *ms);
    gpp__modes_add(c, ord ? ord[q] : q, ms);
  }
  return 0;
}

void gpp__mpre_free(const gpp__pctx *c, gpp__mpre *p) {
  gpp__rows_free(p->x, p->x ? c->B + 1 : 0);
  free(p->ms);
  p->x = NULL;
  p->ms = NULL;
}

/* The prefix sums of the forward and re-run rows at r samples. */
static const double *mpre_x(gpp__pctx *c, gpp__mpre *p, uint32_t r) {
  if (p->x[r]) return p->x[r];
  uint32_t n = c->n;
  const double *x = gpp__xtimes(c, r);
  double *q = x ? gpp_calloc(c->err, 3 * ((size_t)n + 1), sizeof *q) : NULL;
  if (q == NULL) return NULL;
  for (int a = 0; a < 3; a++)
    for (uint32_t i = 0; i < n; i++)
      q[a * ((size_t)n + 1) + i + 1] =
          q[a * ((size_t)n + 1) + i] +
          x[(size_t)a * n + (p->ord ? p->ord[i] : i)];
  return p->x[r] = q;
}

/* Adds positions [L, H) and [L2, H2) of the prefix sums pre (stride w,
 * from entry a) to *v. */
static void mpre_add(const double *pre, size_t w, size_t a, uint32_t L,
                     uint32_t H, uint32_t L2, uint32_t H2, double *v) {
  *v += pre[H * w + a] - pre[L * w + a];
  if (H2 > L2) *v += pre[H2 * w + a] - pre[L2 * w + a];
}

int gpp__mpre_times(gpp__pctx *c, gpp__pre_time_fn time, void *ctx,
                    uint32_t L, uint32_t H, uint32_t L2, uint32_t H2,
                    uint32_t r, gpp__stage_sums *s) {
  memset(s->at, 0, sizeof s->at);
  s->lay_saved = c->max_layer_saved; /* the model's: an upper bound */
  s->lay_param = s->first_param = c->max_layer_param;
  for (uint32_t j = 0; j < GPP__MAX_TP_LOG2; j++) {
    uint32_t rt = r << j;
    if (rt > c->B) {
      s->at[j][0] = NAN;
      continue;
    }
    const double *t = time(ctx, rt);
    if (t == NULL) return c->err->code;
    mpre_add(t, 1, 0, L, H, L2, H2, &s->at[j][GPP__AT_TIME]);
  }
  s->modes = true;
  return 0;
}

int gpp__mpre_rest(gpp__pctx *c, gpp__mpre *p, uint32_t L, uint32_t H,
                   uint32_t L2, uint32_t H2, uint32_t r, gpp__stage_sums *s) {
  memset(s->ms, 0, sizeof s->ms);
  for (int j = 0; j < GPP__MS_N; j++)
    mpre_add(p->ms, GPP__MS_N, (size_t)j, L, H, L2, H2, &s->ms[j]);
  for (uint32_t j = 0; j < GPP__MAX_TP_LOG2 && (r << j) <= c->B; j++) {
    const double *x = mpre_x(c, p, r << j);
    if (x == NULL) return c->err->code;
    for (int a = 0; a < 3; a++)
      mpre_add(x + a * ((size_t)c->n + 1), 1, 0, L, H, L2, H2,
               &s->at[j][GPP__AT_FWD + a]);
  }
  return 0;
}

int gpp__mpre_range(gpp__pctx *c, gpp__mpre *p, gpp__pre_time_fn time,
                    void *ctx, uint32_t L, uint32_t H, uint32_t L2,
                    uint32_t H2, uint32_t r, gpp__stage_sums *s) {
  GPP_TRY(gpp__mpre_times(c, time, ctx, L, H, L2, H2, r, s));
  return gpp__mpre_rest(c, p, L, H, L2, H2, r, s);
}
