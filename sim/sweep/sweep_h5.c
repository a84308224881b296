/* sweep_h5.c -- the sweep results file (layout in sweep.h): /points and
 * /timing are extendible chunked tables that grow by one row per finished
 * point, each followed by a flush, so a killed sweep leaves a readable file
 * holding every point it finished.  Modification times are off so that the
 * same rows give the same bytes. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/h5.h"
#include "sim/sweep/sweep_internal.h"

#define CHUNK_ROWS 64

struct gpp__sw_h5 {
  hid_t file, points, timing, plans, dcpl;
  char *path; /* where the file is (or, in memory, will be) saved */
};

typedef struct timing_row {
  uint32_t point;
  double search_s, wall_s;
} timing_row;

/* The in-memory type of gpp__sw_row (caller closes it). */
static hid_t row_type(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(gpp__sw_row));
  hid_t name = gpp_h5_str_type(GPP__SW_NAME);
  hid_t params = gpp_h5_str_type(GPP__SW_PARAMS);
  hid_t status = gpp_h5_str_type(16), msg = gpp_h5_str_type(GPP__SW_MSG);
#define COL(f, ty) H5Tinsert(t, #f, HOFFSET(gpp__sw_row, f), ty)
  COL(point, H5T_NATIVE_UINT32); COL(model, name); COL(cluster, name);
  COL(gpu, name); COL(planner, name); COL(gpus, H5T_NATIVE_UINT32);
  COL(batch, H5T_NATIVE_UINT32); COL(micro_batch, H5T_NATIVE_UINT32);
  COL(params, params); COL(status, status); COL(message, msg);
  COL(throughput, H5T_NATIVE_DOUBLE); COL(iteration_s, H5T_NATIVE_DOUBLE);
  COL(bubble, H5T_NATIVE_DOUBLE); COL(peak_mem_bytes, H5T_NATIVE_DOUBLE);
  COL(n_stages, H5T_NATIVE_UINT32); COL(depth, H5T_NATIVE_UINT32);
  COL(planner_estimate_s, H5T_NATIVE_DOUBLE);
  COL(cost_per_million_samples, H5T_NATIVE_DOUBLE);
  COL(time_to_train_s, H5T_NATIVE_DOUBLE);
  COL(throughput_ci_lo, H5T_NATIVE_DOUBLE);
  COL(throughput_ci_hi, H5T_NATIVE_DOUBLE);
  COL(replications, H5T_NATIVE_UINT32);
  COL(precision, status); COL(tokens_per_s, H5T_NATIVE_DOUBLE);
  COL(mfu, H5T_NATIVE_DOUBLE); COL(hfu, H5T_NATIVE_DOUBLE);
  COL(time_to_train_tokens_s, H5T_NATIVE_DOUBLE);
  COL(cost_to_train_tokens, H5T_NATIVE_DOUBLE);
#undef COL
  H5Tclose(name);
  H5Tclose(params);
  H5Tclose(status);
  H5Tclose(msg);
  return t;
}

static hid_t timing_type(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(timing_row));
  H5Tinsert(t, "point", HOFFSET(timing_row, point), H5T_NATIVE_UINT32);
  H5Tinsert(t, "search_s", HOFFSET(timing_row, search_s), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "wall_s", HOFFSET(timing_row, wall_s), H5T_NATIVE_DOUBLE);
  return t;
}

static hid_t table(hid_t file, const char *name, hid_t type, hid_t dcpl) {
  hsize_t dims[1] = {0}, max[1] = {H5S_UNLIMITED}, chunk[1] = {CHUNK_ROWS};
  hid_t sp = H5Screate_simple(1, dims, max), packed = H5Tcopy(type);
  hid_t p = H5Pcopy(dcpl);
  H5Tpack(packed);
  H5Pset_chunk(p, 1, chunk);
  hid_t d = H5Dcreate2(file, name, packed, sp, H5P_DEFAULT, p, H5P_DEFAULT);
  H5Pclose(p);
  H5Tclose(packed);
  H5Sclose(sp);
  return d;
}

static int experiment_group(const gpp_sweep *s, gpp__sw_h5 *w) {
  hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
  H5Pset_obj_track_times(gcpl, 0);
  hid_t g = H5Gcreate2(w->file, "experiment", H5P_DEFAULT, gcpl, H5P_DEFAULT);
  w->plans = H5Gcreate2(w->file, "plans", H5P_DEFAULT, gcpl, H5P_DEFAULT);
  H5Pclose(gcpl);
  int bad = g < 0 || w->plans < 0;
  if (g >= 0) {
    bad |= gpp_h5_write_attr_str(g, "name", s->name);
    bad |= gpp_h5_write_text(g, "text", s->text, w->dcpl);
    bad |= gpp_h5_write_attr_int(g, "n_points", (int)s->n_points);
    H5Gclose(g);
  }
  return bad ? -1 : 0;
}

static int create(const gpp_sweep *s, gpp__sw_h5 *w) {
  if (experiment_group(s, w) != 0) return -1;
  hid_t rt = row_type(), tt = timing_type();
  w->points = table(w->file, "points", rt, w->dcpl);
  w->timing = table(w->file, "timing", tt, w->dcpl);
  H5Tclose(rt);
  H5Tclose(tt);
  return w->points < 0 || w->timing < 0 ? -1 : 0;
}

/* Closes every object but the file. */
static void close_objects(gpp__sw_h5 *w) {
  if (w->points > 0) H5Dclose(w->points);
  if (w->timing > 0) H5Dclose(w->timing);
  if (w->plans > 0) H5Gclose(w->plans);
  if (w->dcpl > 0) H5Pclose(w->dcpl);
  w->points = w->timing = w->plans = w->dcpl = -1;
}

static gpp__sw_h5 *handle(const char *path, gpp_errctx *err) {
  gpp__sw_h5 *w = gpp_calloc(err, 1, sizeof *w);
  if (w == NULL) return NULL;
  w->file = w->points = w->timing = w->plans = -1;
  w->path = strdup(path);
  w->dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(w->dcpl, 0);
  if (w->path != NULL) return w;
  H5Pclose(w->dcpl);
  free(w);
  GPP_ERR(err, GPP_ENOMEM, "out of memory");
  return NULL;
}

static void free_handle(gpp__sw_h5 *w) {
  close_objects(w);
  free(w->path);
  free(w);
}

int gpp__sweep_h5_create(const gpp_sweep *s, const char *path,
                         gpp__sw_h5 **out, gpp_errctx *err) {
  gpp__sw_h5 *w = handle(path, err);
  if (w == NULL) return GPP_ENOMEM;
  gpp_h5_quiet(); /* errors go through err */
  w->file = gpp_h5_mem_create();
  if (w->file < 0 || create(s, w) != 0) {
    if (w->file >= 0) H5Fclose(w->file);
    free_handle(w);
    GPP_RAISE(err, GPP_EIO, "HDF5: cannot build the results of %s: %s",
              path, gpp_h5_reason());
  }
  *out = w;
  return 0;
}

int gpp__sweep_h5_save(gpp__sw_h5 *w, gpp_errctx *err) {
  close_objects(w);
  int rc = gpp_h5_mem_save(w->file, w->path, err);
  free_handle(w);
  return rc;
}

int gpp__sweep_h5_open(const char *path, gpp__sw_h5 **out,
                       gpp_errctx *err) {
  gpp__sw_h5 *w = handle(path, err);
  if (w == NULL) return GPP_ENOMEM;
  gpp_h5_quiet();
  w->file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  if (w->file >= 0) {
    w->points = H5Dopen2(w->file, "points", H5P_DEFAULT);
    w->timing = H5Dopen2(w->file, "timing", H5P_DEFAULT);
    w->plans = H5Gopen2(w->file, "plans", H5P_DEFAULT);
  }
  if (w->points >= 0 && w->timing >= 0 && w->plans >= 0) {
    *out = w;
    return 0;
  }
  const char *why = gpp_h5_reason();
  if (w->file >= 0) gpp__sweep_h5_close(w, err);
  else free_handle(w);
  GPP_RAISE(err, GPP_EIO, "cannot open %s to append: %s", path, why);
}

/* Appends one row of mem_type to a 1-D extendible table. */
static herr_t append(hid_t d, hid_t mem_type, const void *row) {
  hid_t sp = H5Dget_space(d);
  hsize_t n, one[1] = {1};
  H5Sget_simple_extent_dims(sp, &n, NULL);
  H5Sclose(sp);
  hsize_t dims[1] = {n + 1}, start[1] = {n};
  if (H5Dset_extent(d, dims) < 0) return -1;
  sp = H5Dget_space(d);
  hid_t ms = H5Screate_simple(1, one, NULL);
  H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, one, NULL);
  herr_t rc = H5Dwrite(d, mem_type, ms, sp, H5P_DEFAULT, row);
  H5Sclose(ms);
  H5Sclose(sp);
  return rc;
}

static herr_t write_plan(gpp__sw_h5 *w, uint32_t point, const char *text) {
  char name[16];
  snprintf(name, sizeof name, "%u", point);
  return gpp_h5_write_text(w->plans, name, text, w->dcpl);
}

int gpp__sweep_h5_append(gpp__sw_h5 *w, const gpp__sw_result *r,
                         gpp_errctx *err) {
  hid_t rt = row_type(), tt = timing_type();
  timing_row t = {r->row.point, r->search_s, r->wall_s};
  herr_t rc = append(w->points, rt, &r->row);
  if (rc >= 0) rc = append(w->timing, tt, &t);
  if (rc >= 0) rc = write_plan(w, r->row.point, r->plan ? r->plan : "");
  if (rc >= 0) rc = H5Fflush(w->file, H5F_SCOPE_GLOBAL);
  H5Tclose(rt);
  H5Tclose(tt);
  if (rc < 0)
    GPP_RAISE(err, GPP_EIO, "cannot write %s: appending point %u: %s",
              w->path, r->row.point, gpp_h5_reason());
  return 0;
}

int gpp__sweep_h5_close(gpp__sw_h5 *w, gpp_errctx *err) {
  if (w == NULL) return 0;
  close_objects(w);
  herr_t rc = H5Fclose(w->file);
  char path[4200];
  snprintf(path, sizeof path, "%s", w->path);
  free_handle(w);
  if (rc < 0)
    GPP_RAISE(err, GPP_EIO, "cannot write %s: %s", path, gpp_h5_reason());
  return 0;
}

/* ---- reading an earlier run back ---- */

/* The experiment text of group g: a dataset, or in files written before
 * texts became datasets, an attribute. */
static int read_exp_text(const gpp_sweep *s, hid_t g, const char *path,
                         char **text, gpp_errctx *err) {
  if (H5Lexists(g, "text", H5P_DEFAULT) > 0)
    return gpp_h5_read_text(g, path, "text", text, err);
  size_t len = strlen(s->text) + 2;
  *text = gpp_calloc(err, len, 1);
  if (*text == NULL) return GPP_ENOMEM;
  return gpp_h5_attr_str(g, path, "text", *text, len, err);
}

static int check_text(const gpp_sweep *s, hid_t f, const char *path,
                      gpp_errctx *err) {
  char *text = NULL;
  hid_t g = H5Lexists(f, "experiment", H5P_DEFAULT) > 0
                ? H5Gopen2(f, "experiment", H5P_DEFAULT) : -1;
  int rc = g < 0 ? GPP_ERR(err, GPP_EPARSE, "%s: no /experiment group", path)
                 : read_exp_text(s, g, path, &text, err);
  if (g >= 0) H5Gclose(g);
  if (rc == 0 && strcmp(text, s->text) != 0)
    rc = GPP_ERR(err, GPP_EINVAL, "%s holds a sweep of a different "
                 "experiment file; remove it or drop --resume", path);
  free(text);
  return rc;
}

static int read_plan(hid_t f, const char *path, gpp__sw_result *r,
                     gpp_errctx *err) {
  char name[32];
  snprintf(name, sizeof name, "plans/%u", r->row.point);
  return gpp_h5_read_text(f, path, name, &r->plan, err);
}

static int read_tables(hid_t f, const char *path, gpp__sw_result *r,
                       hsize_t n, gpp_errctx *err) {
  hid_t dp = -1, dt = -1;
  hsize_t nt = 0;
  GPP_TRY(gpp_h5_open_rows(f, path, "points", &dp, &n, err));
  int e = gpp_h5_open_rows(f, path, "timing", &dt, &nt, err);
  gpp__sw_row *rows = e ? NULL : gpp_calloc(err, n + 1, sizeof *rows);
  timing_row *tim = rows ? gpp_calloc(err, n + 1, sizeof *tim) : NULL;
  hid_t rt = row_type(), tt = timing_type();
  herr_t rc = rows && tim && nt == n ? 0 : -1;
  if (rc == 0 && n) rc = H5Dread(dp, rt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows);
  if (rc >= 0 && n) rc = H5Dread(dt, tt, H5S_ALL, H5S_ALL, H5P_DEFAULT, tim);
  for (hsize_t i = 0; rc >= 0 && i < n; i++)
    r[i] = (gpp__sw_result){rows[i], NULL, tim[i].search_s, tim[i].wall_s};
  H5Dclose(dp);
  if (dt >= 0) H5Dclose(dt);
  H5Tclose(rt);
  H5Tclose(tt);
  free(rows);
  free(tim);
  if (e != 0) return e;
  if (rc < 0) GPP_RAISE(err, GPP_EPARSE, "%s: cannot read /points", path);
  return 0;
}

static int read_all(const gpp_sweep *s, hid_t f, const char *path,
                    gpp__sw_result **out, uint32_t *n, gpp_errctx *err) {
  GPP_TRY(check_text(s, f, path, err));
  hid_t d;
  hsize_t rows;
  GPP_TRY(gpp_h5_open_rows(f, path, "points", &d, &rows, err));
  H5Dclose(d);
  if (rows > s->n_points)
    GPP_RAISE(err, GPP_EPARSE, "%s: %llu rows for %u points", path,
              (unsigned long long)rows, s->n_points);
  *out = gpp_calloc(err, rows + 1, sizeof **out);
  if (*out == NULL) return GPP_ENOMEM;
  *n = (uint32_t)rows;
  GPP_TRY(read_tables(f, path, *out, rows, err));
  for (uint32_t i = 0; i < *n; i++) {
    if ((*out)[i].row.point >= s->n_points)
      GPP_RAISE(err, GPP_EPARSE, "%s: row %u names point %u of %u", path, i,
                (*out)[i].row.point, s->n_points);
    GPP_TRY(read_plan(f, path, &(*out)[i], err));
  }
  return 0;
}

int gpp__sweep_h5_read(const gpp_sweep *s, const char *path,
                       gpp__sw_result **out, uint32_t *n, gpp_errctx *err) {
  *out = NULL;
  *n = 0;
  gpp_h5_quiet();
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0)
    GPP_RAISE(err, GPP_EPARSE, "%s: not a readable HDF5 sweep file", path);
  int rc = read_all(s, f, path, out, n, err);
  H5Fclose(f);
  if (rc != 0) {
    for (uint32_t i = 0; *out && i < *n; i++) free((*out)[i].plan);
    free(*out);
    *out = NULL;
    *n = 0;
  }
  return rc;
}
