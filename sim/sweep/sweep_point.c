/* sweep_point.c -- one point of a sweep: its model (with parameters), its
 * cluster (overrides and resizing), costs, the planners through
 * planner/study.h, and the row of figures derived from the simulation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/study.h"
#include "sim/common/clock.h"
#include "sim/sweep/sweep_internal.h"

#define MAX_PARAMS 64
#define N_PLANNERS 8

typedef struct point_run {
  const gpp_sweep *s;
  uint32_t i;
  const gpp__sw_point *p;
  gpp_model *model;
  gpp_cluster *cluster;
  gpp_costs *costs;
  gpp_planner_input in;
  gpp_study_point pts[N_PLANNERS];
  int rcs[N_PLANNERS];
  gpp_errctx errs[N_PLANNERS];
} point_run;

/* Copies src, cut to fit (rows hold fixed-length strings). */
static void copy_str(char *dst, size_t len, const char *src) {
  size_t n = src ? strnlen(src, len - 1) : 0;
  memcpy(dst, src ? src : "", n);
  dst[n] = '\0';
}

static long long int_value(gpp_ynode v) {
  long long x = 0;
  gpp_errctx e = {0};
  gpp_yscalar_int(v, "", -(1LL << 62), 1LL << 62, &x, &e); /* checked */
  return x;
}

int gpp__sweep_model(const gpp_sweep *s, uint32_t point, int only,
                     gpp_model **out, gpp_errctx *err) {
  const gpp__sw_point *p = &s->points[point];
  const gpp__sw_model *m = &s->models[p->model];
  gpp_model_param prm[MAX_PARAMS];
  size_t n = 0;
  for (uint32_t i = 0; i < m->n_set && n < MAX_PARAMS; i++)
    prm[n++] = (gpp_model_param){m->set[i].key, int_value(m->set[i].value)};
  for (uint32_t i = 0; i < p->n && n < MAX_PARAMS; i++) {
    const gpp__sw_assign *a = &s->assigns[p->first + i];
    if (strncmp(a->key, "model.", 6) == 0 && (only < 0 || (int)i == only))
      prm[n++] = (gpp_model_param){a->key + 6, int_value(a->value)};
  }
  return gpp_model_load_as(m->path, prm, n, m->precision, out, err);
}

static int load_model(point_run *r, gpp_errctx *err) {
  return gpp__sweep_model(r->s, r->i, -1, &r->model, err);
}

static int load_inputs(point_run *r, gpp_errctx *err) {
  GPP_TRY(load_model(r, err));
  GPP_TRY(gpp__sweep_cluster(r->s, r->i, &r->cluster, err));
  GPP_TRY(gpp_costs_create(r->model, &r->cluster->gpu, r->s->profile,
                           &r->costs, err));
  return gpp_study_input(r->model, r->s->models[r->p->model].given,
                         r->cluster, r->costs, r->p->batch, r->p->gpus,
                         &r->in, err);
}

static void run_planners(point_run *r) {
  const char *const *names = gpp_planner_names();
  gpp_engine_opts eo = {.allow_oom = true};
  gpp_planner_options opt;
  gpp_planner_options_default(&opt);
  opt.micro_batch = r->p->micro_batch;
  opt.max_stage_devices = r->p->max_stage_devices;
  /* Sweeps plan without GraphPipe's stage modes for now: with them the
   * 7B GPT of tests/cli_sweep.sh becomes one FSDP stage that the engine
   * runs at 63% MFU on 64 H100s, above the 35-60% that published runs of
   * that size report; the engine's sharding overlap needs checking against
   * those runs before sweeps take it (issue 16). */
  opt.no_stage_modes = true;
  for (int k = 0; k < N_PLANNERS; k++) r->rcs[k] = 1; /* not tried */
  for (int k = 0; names[k] && k < N_PLANNERS; k++) {
    const gpp_planner_type *t;
    if (!(r->p->planners & 1u << k)) continue;
    r->rcs[k] = gpp_planner_find(names[k], &t, &r->errs[k]);
    if (r->rcs[k] == 0)
      r->rcs[k] = gpp_study_run(t, &r->in, &opt, r->costs, r->cluster,
                                r->s->refine, &eo, &r->pts[k], &r->errs[k]);
  }
}

/* The fastest plan that fits; one that does not fit when none does. */
static int choose(const point_run *r) {
  int best = -1;
  for (int k = 0; k < N_PLANNERS; k++) {
    if (r->rcs[k] != 0) continue;
    const gpp_result *a = r->pts[k].sim;
    const gpp_result *b = best < 0 ? NULL : r->pts[best].sim;
    if (b == NULL || (b->oom && !a->oom) ||
        (a->oom == b->oom && a->iteration_time < b->iteration_time))
      best = k;
  }
  return best;
}

static double search_seconds(const point_run *r) {
  double t = 0;
  for (int k = 0; k < N_PLANNERS; k++) t += r->pts[k].res.search_seconds;
  return t;
}

static void fill_failure(point_run *r, gpp__sw_row *row) {
  const char *const *names = gpp_planner_names();
  const gpp_errctx *last = NULL;
  bool all_no_plan = true;
  size_t used = 0;
  row->planner[0] = '\0';
  for (int k = 0; names[k] && k < N_PLANNERS; k++) {
    if (!(r->p->planners & 1u << k)) continue;
    int w = snprintf(row->planner + used, sizeof row->planner - used, "%s%s",
                     used ? "+" : "", names[k]);
    used += w > 0 && (size_t)w < sizeof row->planner - used ? (size_t)w : 0;
    all_no_plan &= r->rcs[k] == GPP_ENOPLAN;
    last = &r->errs[k];
  }
  copy_str(row->status, sizeof row->status, all_no_plan ? "no_plan" : "error");
  copy_str(row->message, sizeof row->message, last ? last->msg : "");
}

static void fill_figures(const point_run *r, const gpp_study_point *pt,
                         gpp__sw_row *row) {
  const gpp_planner_candidate *c = &pt->res.cands[pt->chosen];
  const gpp_result *sim = pt->sim;
  copy_str(row->planner, sizeof row->planner, pt->res.planner);
  copy_str(row->status, sizeof row->status, sim->oom ? "oom" : "ok");
  row->micro_batch = c->micro_batch;
  row->throughput = sim->samples_per_s;
  row->iteration_s = sim->iteration_time;
  row->bubble = sim->bubble_fraction;
  row->peak_mem_bytes = 0;
  for (uint32_t d = 0; d < sim->n_devices; d++)
    if (sim->devices[d].peak_mem > row->peak_mem_bytes)
      row->peak_mem_bytes = sim->devices[d].peak_mem;
  row->n_stages = c->n_stages;
  row->depth = c->depth;
  row->planner_estimate_s = c->iteration;
  row->throughput_ci_lo = row->throughput_ci_hi = row->throughput;
  row->replications = 1;
  if (sim->oom)
    snprintf(row->message, sizeof row->message, "device %u short of %.6g "
             "bytes", sim->oom_device, sim->oom_shortfall);
  (void)r;
}

/* Cost per million samples and time to train, tokens/s, MFU and HFU and
 * the time and cost to train the token budget, from the mean throughput
 * (sim's figures scaled to it when jitter replicated the point). */
static void fill_money(const point_run *r, const gpp_result *sim,
                       gpp__sw_row *row) {
  double price = r->cluster->price_per_gpu_hour;
  row->cost_per_million_samples =
      price > 0 ? price * r->in.n_gpus * row->iteration_s / row->batch *
                      1e6 / 3600
                : NAN;
  row->time_to_train_s = r->s->samples_to_train / row->throughput;
  double scale = sim->samples_per_s > 0 ? row->throughput / sim->samples_per_s
                                        : NAN;
  row->tokens_per_s = sim->tokens_per_s * scale;
  row->mfu = sim->mfu * scale;
  row->hfu = sim->hfu * scale;
  gpp_train_time_cost(row->tokens_per_s, r->s->train_tokens, price,
                      r->in.n_gpus, &row->time_to_train_tokens_s,
                      &row->cost_to_train_tokens);
}

static void fill_head(const point_run *r, gpp__sw_row *row) {
  memset(row, 0, sizeof *row);
  row->point = r->i;
  copy_str(row->model, sizeof row->model, r->s->models[r->p->model].label);
  gpp__sweep_params(r->s, r->i, row->params, sizeof row->params);
  row->batch = r->p->batch;
  row->gpus = r->p->gpus;
  row->micro_batch = r->p->micro_batch;
  row->throughput = row->iteration_s = row->bubble = NAN;
  row->peak_mem_bytes = row->planner_estimate_s = NAN;
  row->cost_per_million_samples = row->time_to_train_s = NAN;
  row->throughput_ci_lo = row->throughput_ci_hi = NAN;
  row->tokens_per_s = row->mfu = row->hfu = NAN;
  row->time_to_train_tokens_s = row->cost_to_train_tokens = NAN;
}

static int finish_row(point_run *r, gpp__sw_result *out, gpp_errctx *err) {
  gpp__sw_row *row = &out->row;
  copy_str(row->cluster, sizeof row->cluster, r->cluster->name);
  copy_str(row->gpu, sizeof row->gpu, r->cluster->gpu.name);
  copy_str(row->precision, sizeof row->precision, r->model->precision);
  row->gpus = r->in.n_gpus;
  int k = choose(r);
  if (k < 0) {
    fill_failure(r, row);
    out->plan = strdup("");
    return out->plan ? 0 : GPP_ERR(err, GPP_ENOMEM, "out of memory");
  }
  fill_figures(r, &r->pts[k], row);
  if (r->s->jitter != GPP__SW_JITTER_NONE)
    GPP_TRY(gpp__sweep_replicate(r->s, r->i, r->pts[k].plan_text, r->model,
                                 r->cluster, r->costs, row, err));
  fill_money(r, r->pts[k].sim, row);
  out->plan = strdup(r->pts[k].plan_text);
  return out->plan ? 0 : GPP_ERR(err, GPP_ENOMEM, "out of memory");
}

static void point_run_free(point_run *r) {
  for (int k = 0; k < N_PLANNERS; k++) gpp_study_point_free(&r->pts[k]);
  gpp_costs_destroy(r->costs);
  gpp_cluster_destroy(r->cluster);
  gpp_model_destroy(r->model);
}

int gpp__sweep_point_run(const gpp_sweep *s, uint32_t i, gpp__sw_result *out,
                         gpp_errctx *err) {
  static point_run zero;
  point_run r = zero;
  double t0 = gpp_clock_seconds();
  r.s = s;
  r.i = i;
  r.p = &s->points[i];
  memset(out, 0, sizeof *out);
  fill_head(&r, &out->row);
  int rc = load_inputs(&r, err);
  if (rc == 0) {
    run_planners(&r);
    rc = finish_row(&r, out, err);
  }
  if (rc != 0) {
    gpp_error_prefix(err, "point %u (%s %s)", i, out->row.model,
                     out->row.params);
    gpp__sweep_result_free(out);
  }
  out->search_s = search_seconds(&r);
  out->wall_s = gpp_clock_seconds() - t0;
  point_run_free(&r);
  return rc;
}

void gpp__sweep_result_free(gpp__sw_result *r) {
  if (r == NULL) return;
  free(r->plan);
  r->plan = NULL;
}
