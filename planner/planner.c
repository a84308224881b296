/* planner.c -- the planner type table, option defaults, input checks and
 * the timed run shared by every planner. */
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"
#include "sim/common/clock.h"

static const gpp_planner_type *const planners[] = {
    &gpp_planner_graphpipe, &gpp_planner_pipedream, &gpp_planner_piper};
#define N_PLANNERS (sizeof planners / sizeof planners[0])

const char *const *gpp_planner_names(void) {
  static const char *names[N_PLANNERS + 1];
  for (size_t i = 0; i < N_PLANNERS; i++) names[i] = planners[i]->name;
  return names;
}

int gpp_planner_find(const char *name, const gpp_planner_type **out,
                     gpp_errctx *err) {
  for (size_t i = 0; i < N_PLANNERS; i++)
    if (strcmp(planners[i]->name, name) == 0) {
      *out = planners[i];
      return 0;
    }
  *out = NULL;
  GPP_RAISE(err, GPP_EINVAL, "unknown planner '%s'; valid planners: %s, %s, %s",
            name, planners[0]->name, planners[1]->name, planners[2]->name);
}

void gpp_planner_options_default(gpp_planner_options *o) {
  memset(o, 0, sizeof *o);
  o->optimizer = GPP_OPTIM_ADAM;
  o->tps_tolerance = 1e-3;
  o->ideals_limit = GPP_PIPER_IDEALS_LIMIT;
}

void gpp_planner_result_free(gpp_planner_result *r) {
  if (r == NULL) return;
  for (uint32_t i = 0; i < r->n_cands; i++) gpp__candidate_free(&r->cands[i]);
  free(r->cands);
  memset(r, 0, sizeof *r);
}

static int check_input(const gpp_planner_input *in,
                       const gpp_planner_options *o, gpp_errctx *err) {
  if (in->model == NULL || in->model->n_ops == 0)
    GPP_RAISE(err, GPP_EINVAL, "the planner needs a model with ops");
  if (in->op_time == NULL)
    GPP_RAISE(err, GPP_EINVAL, "the planner needs per-op costs");
  if (in->batch == 0 || in->batch > (1u << 20))
    GPP_RAISE(err, GPP_ERANGE, "batch %u is outside 1..%u", in->batch,
              1u << 20);
  if (in->n_gpus == 0 || in->n_gpus > GPP_MAX_GPUS)
    GPP_RAISE(err, GPP_ERANGE, "GPU count %u is outside 1..%u", in->n_gpus,
              GPP_MAX_GPUS);
  if (o->micro_batch && in->batch % o->micro_batch != 0)
    GPP_RAISE(err, GPP_EINVAL, "batch %u is not divisible by micro-batch %u",
              in->batch, o->micro_batch);
  if (o->max_stages > 255)
    GPP_RAISE(err, GPP_ERANGE, "max stages %u is outside 0..255",
              o->max_stages);
  if (!(o->tps_tolerance > 0 && o->tps_tolerance < 1))
    GPP_RAISE(err, GPP_ERANGE, "TPS tolerance %g is outside (0, 1)",
              o->tps_tolerance);
  return 0;
}

int gpp_planner_run(const gpp_planner_type *t, const gpp_planner_input *in,
                    const gpp_planner_options *opt, gpp_planner_result *out,
                    gpp_errctx *err) {
  memset(out, 0, sizeof *out);
  out->planner = t->name;
  GPP_TRY(check_input(in, opt, err));
  double t0 = gpp_clock_seconds();
  int rc = t->run(in, opt, out, err);
  out->search_seconds = gpp_clock_seconds() - t0;
  if (rc == 0 && out->n_cands == 0)
    rc = GPP_ERR(err, GPP_ENOPLAN, "no plan found: no partition of '%s' "
                 "fits in device memory", in->model->name);
  if (rc != 0) {
    double secs = out->search_seconds;
    uint64_t states = out->states;
    gpp_planner_result_free(out);
    out->planner = t->name;
    out->search_seconds = secs;
    out->states = states;
  }
  return rc;
}
