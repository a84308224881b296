/* sweep_jitter.c -- variability of a point: the chosen plan replayed
 * `replications` times with every profiled op's forward and backward time
 * scaled by a random factor, and the mean throughput with a 95% Student-t
 * confidence interval.
 *
 * The factor of an op follows a two-piece normal with median 1 whose 10th
 * and 90th percentiles are the profile's p10/median and p90/median (mean
 * over the op's profiled micro-batch sizes), so a skewed measured spread
 * stays skewed.  Ops whose cost is not measured (overrides, roofline) have
 * no spread and keep factor 1.  Each point has its own gsl_rng stream,
 * seeded from the experiment's seed and the point's index, so any rank
 * draws the same numbers for it. */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>

#include "kernels_profile/cost.h"
#include "sim/engine/engine.h"
#include "sim/sweep/sweep_internal.h"

/* z of the 90th percentile of the standard normal. */
static double z90(void) { return gsl_cdf_ugaussian_Pinv(0.9); }

/* The op's p10/median and p90/median, fwd then bwd; false when unmeasured. */
static bool spread(const gpp_costs *c, uint32_t op, double q[4]) {
  const gpp_profile_row *r;
  if (c->source[op] != GPP_COST_PROFILE) return false;
  size_t n = gpp_profile_db_rows_of(c->profile, c->sig[op], &r);
  for (int k = 0; k < 4; k++) q[k] = 0;
  for (size_t j = 0; j < n; j++)
    if (!(r[j].fwd.median > 0 && r[j].bwd.median > 0)) return false;
  for (size_t j = 0; j < n; j++) {
    q[0] += r[j].fwd.p10 / r[j].fwd.median / (double)n;
    q[1] += r[j].fwd.p90 / r[j].fwd.median / (double)n;
    q[2] += r[j].bwd.p10 / r[j].bwd.median / (double)n;
    q[3] += r[j].bwd.p90 / r[j].bwd.median / (double)n;
  }
  return n > 0;
}

static double draw(gsl_rng *rng, double lo, double hi) {
  double u = gsl_ran_ugaussian(rng);
  double f = 1 + u * (u < 0 ? 1 - lo : hi - 1) / z90();
  return f > 0 ? f : 0; /* a duration is never negative */
}

void gpp__sweep_jitter_draw(const gpp_costs *c, gsl_rng *rng,
                            double *scale) {
  double q[4];
  for (uint32_t op = 0; op < c->model->n_ops; op++) {
    bool m = spread(c, op, q);
    scale[2 * op] = m ? draw(rng, q[0], q[1]) : 1;
    scale[2 * op + 1] = m ? draw(rng, q[2], q[3]) : 1;
  }
}

/* splitmix64 of (seed, point): well-separated streams for nearby points. */
static unsigned long point_seed(unsigned long seed, uint32_t point) {
  uint64_t z = (uint64_t)seed * 0x9e3779b97f4a7c15u + point + 1;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return (unsigned long)(z ^ (z >> 31));
}

static int replay(const char *plan, const gpp_model *model,
                  gpp_cluster *cluster, const gpp_costs *costs,
                  double *iteration, gpp_errctx *err) {
  gpp_plan *p = NULL;
  gpp_result *res = NULL;
  gpp_engine_opts eo = {.allow_oom = true};
  int rc = gpp_plan_load_string("chosen plan", plan, model, cluster->n_gpus,
                                &p, err);
  if (rc == 0) rc = gpp_engine_run(p, costs, cluster, &eo, &res, err);
  if (rc == 0) *iteration = res->iteration_time;
  gpp_result_destroy(res);
  gpp_plan_destroy(p);
  return rc;
}

static void summarise(const double *tput, const double *iter, uint32_t n,
                      gpp__sw_row *row) {
  double mean = gsl_stats_mean(tput, 1, n);
  double half = n > 1 ? gsl_cdf_tdist_Pinv(0.975, n - 1.0) *
                            gsl_stats_sd_m(tput, 1, n, mean) / sqrt(n)
                      : 0;
  row->throughput = mean;
  row->iteration_s = gsl_stats_mean(iter, 1, n);
  row->throughput_ci_lo = mean - half;
  row->throughput_ci_hi = mean + half;
  row->replications = n;
}

static int run_all(const gpp_sweep *s, uint32_t i, gsl_rng *rng,
                   const char *plan,
                   const gpp_model *model, gpp_cluster *cluster,
                   gpp_costs *costs, double *scale, double *tput,
                   double *iter, gpp_errctx *err) {
  for (uint32_t k = 0; k < s->replications; k++) {
    gpp__sweep_jitter_draw(costs, rng, scale);
    gpp_costs_set_scale(costs, scale);
    int rc = replay(plan, model, cluster, costs, &iter[k], err);
    gpp_costs_set_scale(costs, NULL);
    if (rc != 0) return rc;
    tput[k] = iter[k] > 0 ? s->points[i].batch / iter[k] : 0;
  }
  return 0;
}

int gpp__sweep_replicate(const gpp_sweep *s, uint32_t i, const char *plan,
                         const gpp_model *model, gpp_cluster *cluster,
                         gpp_costs *costs, gpp__sw_row *row,
                         gpp_errctx *err) {
  uint32_t n = s->replications;
  double *scale = gpp_calloc(err, 2 * (size_t)model->n_ops + 2, sizeof *scale);
  double *tput = gpp_calloc(err, n, sizeof *tput);
  double *iter = gpp_calloc(err, n, sizeof *iter);
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  int rc = scale && tput && iter && rng ? 0 : GPP_ENOMEM;
  if (rc == 0) {
    gsl_rng_set(rng, point_seed(s->seed, i));
    rc = run_all(s, i, rng, plan, model, cluster, costs, scale, tput, iter,
                 err);
  }
  if (rc == 0) summarise(tput, iter, n, row);
  gsl_rng_free(rng);
  free(iter);
  free(tput);
  free(scale);
  return rc == GPP_ENOMEM && err->code == 0
             ? GPP_ERR(err, GPP_ENOMEM, "out of memory")
             : rc;
}
