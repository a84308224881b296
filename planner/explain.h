/* explain.h -- `gppsim plan --explain`: the planner's candidates (its best
 * plan per micro-batch size) with their estimates, their simulated times
 * where the study replayed them, and per stage the ops, devices, sizes,
 * estimated time and memory, as text or JSON. */
#ifndef GPP_PLANNER_EXPLAIN_H
#define GPP_PLANNER_EXPLAIN_H

#include <jansson.h>
#include <stdio.h>

#include "planner/study.h"

/* Simulated iteration seconds of candidate i of the study point: > 0,
 * -1 when its replay failed or did not fit in memory, 0 when it was not
 * simulated. */
double gpp_explain_simulated(const gpp_study_point *pt, uint32_t i);

/* The candidate table and each candidate's stages; mem_bytes is the
 * device memory the per-stage memory is compared with. */
void gpp_explain_text(FILE *f, const gpp_planner_input *in,
                      const gpp_study_point *pt, double mem_bytes);

/* The same as a JSON array (one object per candidate), or NULL when out
 * of memory. */
json_t *gpp_explain_json(const gpp_planner_input *in,
                         const gpp_study_point *pt);

#endif
