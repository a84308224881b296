/* study.h -- one study point: plan a model on a cluster with one planner,
 * optionally re-rank the planner's K best candidates by full simulation,
 * and simulate the chosen plan.
 *
 * This is the one way the commands that combine planning and simulation
 * (`gppsim plan --refine`, `gppsim sweep`, `gppsim reproduce`,
 * `gppsim demo`) do it:
 *
 *   gpp_planner_input in;
 *   gpp_study_input(model, path, cluster, costs, batch, n_gpus, &in, err);
 *   gpp_study_point pt;
 *   gpp_study_run(planner, &in, &opt, costs, cluster, refine, &eo, &pt, err);
 *   ... pt.res (search), pt.plan_text, pt.sim (simulated chosen plan) ...
 *   gpp_study_point_free(&pt);
 */
#ifndef GPP_PLANNER_STUDY_H
#define GPP_PLANNER_STUDY_H

#include "kernels_profile/cost.h"
#include "planner/planner.h"
#include "sim/engine/engine.h"
#include "topology/topology.h"

/* Fills a planner input for the first n_gpus GPUs of cluster (0: all):
 * per-op times from costs, the per-device memory of the cluster's GPU and
 * the communication model fitted from its network.  model_path is written
 * into plans (NULL: model->path).  costs and cluster must outlive *in. */
int gpp_study_input(const gpp_model *model, const char *model_path,
                    gpp_cluster *cluster, const gpp_costs *costs,
                    uint32_t batch, uint32_t n_gpus, gpp_planner_input *in,
                    gpp_errctx *err);

typedef struct gpp_study_point {
  gpp_planner_result res;  /* the planner's search */
  uint32_t chosen;         /* index into res.cands */
  double *simulated;       /* refined candidates' iteration times (s); */
  uint32_t n_simulated;    /* negative: failed to replay or out of memory */
  char *plan_text;         /* the chosen plan's file text */
  gpp_result *sim;         /* the chosen plan simulated with the given opts */
} gpp_study_point;

/* Runs the planner, simulates its `refine` best candidates (0: none) and
 * keeps the fastest that fits (the planner's best when none was refined or
 * none fits), then simulates the chosen plan with *eo.  When the planner
 * finds no plan it fails with GPP_ENOPLAN and *out holds the search
 * figures (res.search_seconds, res.states) with no candidate.  *out is
 * cleared first; free it with gpp_study_point_free in every case. */
int gpp_study_run(const gpp_planner_type *t, const gpp_planner_input *in,
                  const gpp_planner_options *opt, const gpp_costs *costs,
                  gpp_cluster *cluster, uint32_t refine,
                  const gpp_engine_opts *eo, gpp_study_point *out,
                  gpp_errctx *err);
void gpp_study_point_free(gpp_study_point *p);

#endif
