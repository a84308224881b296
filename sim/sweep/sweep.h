/* sweep.h -- what-if sweeps: an experiment file expands into points (a
 * model, a cluster, a GPU count, a batch, planner settings); each point is
 * planned and simulated (planner/study.h) and appended as one row to an
 * HDF5 results file.  `gppsim sweep` and `gppsim reproduce` both run
 * experiments through this interface.
 *
 * The experiment file's format, the expansion of its points, the results
 * file's layout and its columns are documented in one place,
 * configs/experiments/sweeps/README.md.
 *
 * While it runs, rows go to OUT.partial (flushed after each point; the
 * file is written whole and renamed into place before the first point,
 * so it is a valid sweep file from its first byte on disk); OUT is
 * written in point order at the end and the working file removed.
 * --resume starts from OUT.partial (one that cannot be read counts as
 * empty, with a warning), or from a finished OUT.
 */
#ifndef GPP_SIM_SWEEP_H
#define GPP_SIM_SWEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/common/err.h"
#include "sim/common/yaml.h"
#include "topology/topology.h"

typedef struct gpp_sweep gpp_sweep;   /* a loaded, expanded experiment */

int gpp_sweep_load(const char *path, gpp_sweep **out, gpp_errctx *err);
void gpp_sweep_destroy(gpp_sweep *s);
uint32_t gpp_sweep_n_points(const gpp_sweep *s);
const char *gpp_sweep_name(const gpp_sweep *s);
/* The experiment's `description` ("" when it has none). */
const char *gpp_sweep_description(const gpp_sweep *s);

/* Called after each finished point (done of total, the point's label). */
typedef void (*gpp_sweep_progress_fn)(void *ctx, uint32_t done,
                                      uint32_t total, const char *label);

typedef struct gpp_sweep_opts {
  bool resume;          /* keep the finished rows of an existing file */
  gpp_sweep_progress_fn progress;
  void *progress_ctx;
} gpp_sweep_opts;

/* Runs every point not yet in `out` and appends its row.  Under MPI
 * (several ranks) every rank takes points dynamically from a shared counter
 * and rank 0 writes the file; the call is collective, and every rank
 * returns rank 0's status and message. */
int gpp_sweep_run(gpp_sweep *s, const char *out, const gpp_sweep_opts *o,
                  gpp_errctx *err);

/* MPI, when built with it and launched by mpirun or srun (the launcher's
 * environment names a world size): initialises MPI and returns this
 * process's rank.  Otherwise MPI is never touched and the rank is 0. */
int gpp_sweep_mpi_begin(int *argc, char ***argv);
void gpp_sweep_mpi_end(void);

#endif
