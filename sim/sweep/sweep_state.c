/* sweep_state.c -- a sweep's run state: the finished points of an earlier
 * run (--resume), the working file OUT.partial that grows by one flushed
 * row per point, and the final file OUT written in point order through a
 * temporary file, so an interrupted, resumed or MPI sweep ends with exactly
 * the rows of one uninterrupted run. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/common/outfile.h"
#include "sim/sweep/sweep_internal.h"

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

/* Reads the rows of an earlier run from path; a working file that cannot
 * be read (a sweep killed while writing it) counts as empty, with a
 * warning. */
static int load_from(gpp__sw_state *st, const char *path, bool partial,
                     gpp_errctx *err) {
  gpp__sw_result *rs;
  uint32_t n;
  int rc = gpp__sweep_h5_read(st->s, path, &rs, &n, err);
  if (rc == GPP_EPARSE && partial) {
    fprintf(stderr, "gppsim: warning: %s; starting without it\n", err->msg);
    gpp_error_clear(err);
    return 0;
  }
  GPP_TRY(rc);
  for (uint32_t i = 0; i < n; i++) keep(st, &rs[i]);
  free(rs);
  return 0;
}

static int load_earlier(gpp__sw_state *st, gpp_errctx *err) {
  if (exists(st->work)) return load_from(st, st->work, true, err);
  return exists(st->out) ? load_from(st, st->out, false, err) : 0;
}

/* Writes the finished points in order to path, complete before it appears
 * there. */
static int write_done(gpp__sw_state *st, const char *path, gpp_errctx *err) {
  gpp__sw_h5 *w;
  GPP_TRY(gpp__sweep_h5_create(st->s, path, &w, err));
  for (uint32_t i = 0; i < st->s->n_points; i++) {
    int rc = st->done[i].plan ? gpp__sweep_h5_append(w, &st->done[i], err) : 0;
    if (rc == 0) continue;
    gpp_errctx ignored = {0};
    gpp__sweep_h5_close(w, &ignored);
    return rc;
  }
  return gpp__sweep_h5_save(w, err);
}

/* The working file starts as a copy of the finished points, written whole
 * and renamed into place, then reopened to append to. */
static int open_work(gpp__sw_state *st, gpp_errctx *err) {
  GPP_TRY(write_done(st, st->work, err));
  return gpp__sweep_h5_open(st->work, &st->w, err);
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
  GPP_TRY(gpp_outfile_check(out, err));
  GPP_TRY(gpp_outfile_check(st->work, err));
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
  gpp__sw_h5 *w = st->w;
  st->w = NULL;
  GPP_TRY(gpp__sweep_h5_close(w, err));
  GPP_TRY(write_done(st, st->out, err));
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
