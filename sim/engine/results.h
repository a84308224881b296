/* results.h -- writing a simulation's results: the HDF5 file and the
 * Chrome-trace (Perfetto) timeline.  Both are written to a temporary file
 * and renamed into place, and both are bit-identical for identical inputs:
 * no timestamps, no addresses, records in the engine's deterministic order.
 */
#ifndef GPP_SIM_RESULTS_H
#define GPP_SIM_RESULTS_H

#include <hdf5.h>

#include "sim/common/err.h"
#include "sim/engine/engine.h"
#include "sim/plan/plan.h"

/* The texts recorded under /inputs (the effective plan and the cluster). */
typedef struct gpp_results_inputs {
  const char *plan_text;
  const char *cluster_text;
  const char *cluster_name;
} gpp_results_inputs;

/* HDF5 layout: /summary (attributes), /devices, /stages and /tasks
 * (compound tables), /inputs/plan, /inputs/cluster and
 * /inputs/cluster_name (string datasets). */
int gpp_results_write_h5(const char *path, const gpp_plan *plan,
                         const gpp_result *res, const gpp_results_inputs *in,
                         gpp_errctx *err);
/* The same file built in memory (gpp_h5_mem_create) and left open in *file
 * for a caller that adds its own groups and then saves it whole with
 * gpp_h5_mem_save; path is used in messages only. */
int gpp_results_build_h5(const char *path, const gpp_plan *plan,
                         const gpp_result *res, const gpp_results_inputs *in,
                         hid_t *file, gpp_errctx *err);

/* The in-memory compound type of a /tasks row: gpp_task_rec's written
 * fields (not task, src_task), `kind` an enum by task kind name.  For
 * readers; the caller closes it. */
hid_t gpp_results_task_type(void);

/* Chrome trace JSON: one track per GPU compute stream (process "GPUs"),
 * transfers on lanes of their own (process "network"), all-reduces per
 * stage (process "collectives"), and a flow arrow from each producing task
 * to the task its transfer feeds.  Needs the per-task records. */
int gpp_trace_write(const char *path, const gpp_plan *plan,
                    const gpp_result *res, gpp_errctx *err);

#endif
