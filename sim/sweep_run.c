/* sweep_run.c -- running a sweep: the finished points of an earlier run
 * (--resume), the working file OUT.partial that grows by one flushed row
 * per point, and the final file OUT written in point order through a
 * temporary file, so an interrupted, resumed or MPI sweep ends with exactly
 * the rows of one uninterrupted run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/common/outfile.h"
#include "sim/sweep_internal.h"

static bool exists(const char *path) { return access(path, F_OK) == 0; }

static void keep(gpp__sw_state *st, gpp__sw_result *r) {
  gpp__sw_result *slot = &st->done[r->row.point];
  if (slot->plan != NULL) {
    gpp__sweep_result_free(r); /* a point recorded twice keeps the first */
    return;
  }
  *slot = *r;
  if (slot->plan == NULL) slot->plan = strdup("");
  st->n_done++;
}

static int load_earlier(gpp__sw_state *st, gpp_errctx *err) {
  const char *from = exists(st->work) ? st->work
                     : exists(st->out) ? st->out : NULL;
  gpp__sw_result *rs;
  uint32_t n;
  if (from == NULL) return 0;
  GPP_TRY(gpp__sweep_h5_read(st->s, from, &rs, &n, err));
  for (uint32_t i = 0; i < n; i++) keep(st, &rs[i]);
  free(rs);
  return 0;
}

/* Writes the finished points in order into a new file at o->tmp. */
static int write_done(gpp__sw_state *st, const char *path, gpp__sw_h5 **w,
                      gpp_errctx *err) {
  GPP_TRY(gpp__sweep_h5_create(st->s, path, w, err));
  for (uint32_t i = 0; i < st->s->n_points; i++)
    if (st->done[i].plan != NULL)
      GPP_TRY(gpp__sweep_h5_append(*w, &st->done[i], err));
  return 0;
}

/* The working file starts as a copy of the finished points; it replaces
 * any earlier one only once complete (renamed while open). */
static int open_work(gpp__sw_state *st, gpp_errctx *err) {
  gpp_outfile o;
  GPP_TRY(gpp_outfile_begin(&o, st->work, 0, err));
  int rc = write_done(st, o.tmp, &st->w, err);
  if (rc == 0) return gpp_outfile_commit(&o, err);
  gpp__sweep_h5_close(st->w, err);
  st->w = NULL;
  gpp_outfile_abort(&o);
  return rc;
}

int gpp__sweep_begin(gpp__sw_state *st, gpp_sweep *s, const char *out,
                     const gpp_sweep_opts *o, gpp_errctx *err) {
  memset(st, 0, sizeof *st);
  st->s = s;
  st->o = o;
  st->out = out;
  if (snprintf(st->work, sizeof st->work, "%s.partial", out) >=
      (int)sizeof st->work)
    GPP_RAISE(err, GPP_EINVAL, "output path too long: %s", out);
  st->done = gpp_calloc(err, s->n_points + 1, sizeof *st->done);
  if (st->done == NULL) return GPP_ENOMEM;
  if (o->resume) GPP_TRY(load_earlier(st, err));
  return open_work(st, err);
}

int gpp__sweep_record(gpp__sw_state *st, gpp__sw_result *r,
                      gpp_errctx *err) {
  char label[GPP__SW_NAME + GPP__SW_PARAMS + 2];
  int rc = gpp__sweep_h5_append(st->w, r, err);
  if (rc != 0) {
    gpp__sweep_result_free(r);
    return rc;
  }
  snprintf(label, sizeof label, "%s %s", r->row.model, r->row.params);
  keep(st, r);
  if (st->o->progress)
    st->o->progress(st->o->progress_ctx, st->n_done, st->s->n_points, label);
  return 0;
}

int gpp__sweep_finish(gpp__sw_state *st, gpp_errctx *err) {
  gpp_outfile o;
  gpp__sw_h5 *w = NULL;
  GPP_TRY(gpp__sweep_h5_close(st->w, err));
  st->w = NULL;
  GPP_TRY(gpp_outfile_begin(&o, st->out, 0, err));
  int rc = write_done(st, o.tmp, &w, err);
  int rc2 = gpp__sweep_h5_close(w, err);
  if (rc == 0) rc = rc2;
  if (rc != 0) {
    gpp_outfile_abort(&o);
    return rc;
  }
  GPP_TRY(gpp_outfile_commit(&o, err));
  unlink(st->work);
  return 0;
}

void gpp__sweep_state_free(gpp__sw_state *st) {
  gpp_errctx ignored = {0};
  gpp__sweep_h5_close(st->w, &ignored);
  for (uint32_t i = 0; st->done && i < st->s->n_points; i++)
    gpp__sweep_result_free(&st->done[i]);
  free(st->done);
  memset(st, 0, sizeof *st);
}

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
