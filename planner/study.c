/* study.c -- plan, re-rank by simulation, simulate the chosen plan. */
#include "planner/study.h"

#include <stdlib.h>
#include <string.h>

static int op_time(void *ctx, uint32_t op, uint32_t b, double *f, double *bw,
                   gpp_errctx *err) {
  (void)err;
  gpp_op_cost c = gpp_costs_op(ctx, op, (double)b);
  *f = c.fwd;
  *bw = c.bwd;
  return 0;
}

int gpp_study_input(const gpp_model *model, const char *model_path,
                    gpp_cluster *cluster, const gpp_costs *costs,
                    uint32_t batch, uint32_t n_gpus, gpp_planner_input *in,
                    gpp_errctx *err) {
  uint32_t n = n_gpus ? n_gpus : cluster->n_gpus;
  if (n > cluster->n_gpus)
    return GPP_ERR(err, GPP_EINVAL, "%u gpus asked but cluster '%s' has "
                   "only %u", n, cluster->name, cluster->n_gpus);
  *in = (gpp_planner_input){.model = model, .model_path = model_path,
                            .batch = batch, .n_gpus = n,
                            .mem_bytes = cluster->gpu.mem_bytes,
                            .gpu = &cluster->gpu, .op_time = op_time,
                            .op_time_ctx = (void *)costs};
  return gpp_planner_comm_fit(cluster, n, &in->comm, err);
}

/* Loads candidate c as a plan and simulates it. */
static int simulate(const gpp_planner_input *in,
                    const gpp_planner_options *opt,
                    const gpp_planner_result *res,
                    const gpp_planner_candidate *c, const gpp_costs *costs,
                    gpp_cluster *cluster, const gpp_engine_opts *eo,
                    char **text, gpp_result **sim, gpp_errctx *err) {
  gpp_plan *plan = NULL;
  int rc = gpp_planner_format_plan(in, opt, res, c, text, err);
  if (rc == 0)
    rc = gpp_plan_load_string("candidate", *text, in->model,
                              cluster->n_gpus, &plan, err);
  if (rc == 0) rc = gpp_engine_run(plan, costs, cluster, eo, sim, err);
  gpp_plan_destroy(plan);
  return rc;
}

/* Iteration time of candidate i, or -1 when it fails or does not fit. */
static double refine_one(const gpp_planner_input *in,
                         const gpp_planner_options *opt,
                         const gpp_planner_result *res, uint32_t i,
                         const gpp_costs *costs, gpp_cluster *cluster) {
  char *text = NULL;
  gpp_result *sim = NULL;
  gpp_errctx err = {0};
  gpp_engine_opts eo = {.allow_oom = true};
  double t = -1;
  if (simulate(in, opt, res, &res->cands[i], costs, cluster, &eo, &text,
               &sim, &err) == 0 && !sim->oom)
    t = sim->iteration_time;
  gpp_result_destroy(sim);
  free(text);
  return t;
}

static int refine(const gpp_planner_input *in, const gpp_planner_options *opt,
                  const gpp_costs *costs, gpp_cluster *cluster, uint32_t k,
                  gpp_study_point *p, gpp_errctx *err) {
  if (k > p->res.n_cands) k = p->res.n_cands;
  p->simulated = gpp_calloc(err, k ? k : 1, sizeof *p->simulated);
  if (p->simulated == NULL) return err->code;
  p->n_simulated = k;
  double best = -1;
  for (uint32_t i = 0; i < k; i++) {
    double t = refine_one(in, opt, &p->res, i, costs, cluster);
    p->simulated[i] = t;
    if (t > 0 && (best <= 0 || t < best)) {
      best = t;
      p->chosen = i;
    }
  }
  return 0;
}

int gpp_study_run(const gpp_planner_type *t, const gpp_planner_input *in,
                  const gpp_planner_options *opt, const gpp_costs *costs,
                  gpp_cluster *cluster, uint32_t refine_k,
                  const gpp_engine_opts *eo, gpp_study_point *out,
                  gpp_errctx *err) {
  memset(out, 0, sizeof *out);
  GPP_TRY(gpp_planner_run(t, in, opt, &out->res, err));
  if (refine_k) GPP_TRY(refine(in, opt, costs, cluster, refine_k, out, err));
  return simulate(in, opt, &out->res, &out->res.cands[out->chosen], costs,
                  cluster, eo, &out->plan_text, &out->sim, err);
}

void gpp_study_point_free(gpp_study_point *p) {
  if (p == NULL) return;
  gpp_planner_result_free(&p->res);
  free(p->simulated);
  free(p->plan_text);
  gpp_result_destroy(p->sim);
  memset(p, 0, sizeof *p);
}
