/* sweep_run.c -- running a sweep (the entry): the points one after the
 * other, or spread over MPI ranks (sweep_mpi.c); both keep their rows
 * through the run state of sweep_state.c. */
#include "sim/sweep/sweep_internal.h"

static int run_serial(gpp__sw_state *st, gpp_errctx *err) {
  for (uint32_t i = 0; i < st->s->n_points; i++) {
    gpp__sw_result r;
    if (st->done[i].plan != NULL) continue;
    GPP_TRY(gpp__sweep_point_run(st->s, i, &r, err));
    GPP_TRY(gpp__sweep_record(st, &r, err));
  }
  return gpp__sweep_finish(st, err);
}

int gpp_sweep_run(gpp_sweep *s, const char *out, const gpp_sweep_opts *o,
                  gpp_errctx *err) {
  if (gpp__sweep_mpi_size() > 1) return gpp__sweep_mpi_run(s, out, o, err);
  gpp__sw_state st;
  int rc = gpp__sweep_begin(&st, s, out, o, err);
  if (rc == 0) rc = run_serial(&st, err);
  gpp__sweep_state_free(&st);
  return rc;
}
