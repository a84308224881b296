/* plan_internal.h -- the steps of plan loading shared by plan*.c. */
#ifndef GPP_SIM_PLAN_INTERNAL_H
#define GPP_SIM_PLAN_INTERNAL_H

#include "sim/plan/plan.h"

/* Assigns ops to stages by their globs, builds the stage graph and its
 * topological order; stages_node is the plan's `stages` sequence. */
int gpp__plan_graph(gpp_plan *p, gpp_ynode stages_node, gpp_errctx *err);

#endif
