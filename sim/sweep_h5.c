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
#include "sim/sweep_internal.h"

#define CHUNK_ROWS 64

struct gpp__sw_h5 {
  hid_t file, points, timing, plans, dcpl;
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
    bad |= gpp_h5_write_attr_str(g, "text", s->text);
    bad |= gpp_h5_write_attr_int(g, "n_points", (int)s->n_points);
    H5Gclose(g);
  }
  return bad ? -1 : 0;
}

static int create(const gpp_sweep *s, gpp__sw_h5 *w) {
  w->dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(w->dcpl, 0);
  if (experiment_group(s, w) != 0) return -1;
  hid_t rt = row_type(), tt = timing_type();
  w->points = table(w->file, "points", rt, w->dcpl);
  w->timing = table(w->file, "timing", tt, w->dcpl);
  H5Tclose(rt);
  H5Tclose(tt);
  return w->points < 0 || w->timing < 0 ? -1 : 0;
}

static void close_all(gpp__sw_h5 *w) {
  if (w->points > 0) H5Dclose(w->points);
  if (w->timing > 0) H5Dclose(w->timing);
  if (w->plans > 0) H5Gclose(w->plans);
  if (w->dcpl > 0) H5Pclose(w->dcpl);
}

int gpp__sweep_h5_create(const gpp_sweep *s, const char *path,
                         gpp__sw_h5 **out, gpp_errctx *err) {
  gpp__sw_h5 *w = gpp_calloc(err, 1, sizeof *w);
  if (w == NULL) return GPP_ENOMEM;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors go through err */
  w->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (w->file < 0 || create(s, w) != 0) {
    close_all(w);
    if (w->file >= 0) H5Fclose(w->file);
    free(w);
    GPP_RAISE(err, GPP_EIO, "cannot create the results file %s", path);
  }
  *out = w;
  return 0;
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
  hid_t t = gpp_h5_str_type(strlen(text));
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t d = H5Dcreate2(w->plans, name, t, sp, H5P_DEFAULT, w->dcpl,
                       H5P_DEFAULT);
  herr_t rc = d < 0 ? -1 : H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                    strlen(text) ? text : "");
  if (d >= 0) H5Dclose(d);
  H5Sclose(sp);
  H5Tclose(t);
  return rc;
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
    GPP_RAISE(err, GPP_EIO, "HDF5: cannot append point %u", r->row.point);
  return 0;
}

int gpp__sweep_h5_close(gpp__sw_h5 *w, gpp_errctx *err) {
  if (w == NULL) return 0;
  close_all(w);
  herr_t rc = H5Fclose(w->file);
  free(w);
  if (rc < 0) GPP_RAISE(err, GPP_EIO, "HDF5: cannot close the results file");
  return 0;
}

/* ---- reading an earlier run back ---- */

static int check_text(const gpp_sweep *s, hid_t f, const char *path,
                      gpp_errctx *err) {
  size_t len = strlen(s->text) + 2;
  char *text = gpp_calloc(err, len, 1);
  if (text == NULL) return GPP_ENOMEM;
  hid_t g = H5Gopen2(f, "experiment", H5P_DEFAULT);
  int rc = g < 0 ? GPP_ERR(err, GPP_EPARSE, "%s: no /experiment group", path)
                 : gpp_h5_attr_str(g, path, "text", text, len, err);
  if (g >= 0) H5Gclose(g);
  if (rc == 0 && strcmp(text, s->text) != 0)
    rc = GPP_ERR(err, GPP_EINVAL, "%s holds a sweep of a different "
                 "experiment file; remove it or drop --resume", path);
  free(text);
  return rc;
}

static int read_plan(hid_t f, gpp__sw_result *r, gpp_errctx *err) {
  char name[32];
  snprintf(name, sizeof name, "plans/%u", r->row.point);
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  hid_t t = d < 0 ? -1 : H5Dget_type(d);
  size_t len = t < 0 ? 0 : H5Tget_size(t);
  r->plan = len ? calloc(len + 1, 1) : NULL;
  herr_t rc = r->plan ? H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, r->plan)
                      : -1;
  if (t >= 0) H5Tclose(t);
  if (d >= 0) H5Dclose(d);
  if (rc < 0) GPP_RAISE(err, GPP_EPARSE, "cannot read /%s", name);
  return 0;
}

static hsize_t rows_of(hid_t d) {
  hsize_t n = 0;
  hid_t sp = H5Dget_space(d);
  if (sp >= 0) H5Sget_simple_extent_dims(sp, &n, NULL);
  if (sp >= 0) H5Sclose(sp);
  return n;
}

static int read_tables(hid_t f, const char *path, gpp__sw_result *r,
                       hsize_t n, gpp_errctx *err) {
  gpp__sw_row *rows = gpp_calloc(err, n + 1, sizeof *rows);
  timing_row *tim = gpp_calloc(err, n + 1, sizeof *tim);
  hid_t rt = row_type(), tt = timing_type();
  hid_t dp = H5Dopen2(f, "points", H5P_DEFAULT);
  hid_t dt = H5Dopen2(f, "timing", H5P_DEFAULT);
  herr_t rc = rows && tim && dp >= 0 && dt >= 0 && rows_of(dt) == n ? 0 : -1;
  if (rc == 0 && n) rc = H5Dread(dp, rt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows);
  if (rc >= 0 && n) rc = H5Dread(dt, tt, H5S_ALL, H5S_ALL, H5P_DEFAULT, tim);
  for (hsize_t i = 0; rc >= 0 && i < n; i++)
    r[i] = (gpp__sw_result){rows[i], NULL, tim[i].search_s, tim[i].wall_s};
  if (dp >= 0) H5Dclose(dp);
  if (dt >= 0) H5Dclose(dt);
  H5Tclose(rt);
  H5Tclose(tt);
  free(rows);
  free(tim);
  if (rc < 0) GPP_RAISE(err, GPP_EPARSE, "%s: cannot read /points", path);
  return 0;
}

static int read_all(const gpp_sweep *s, hid_t f, const char *path,
                    gpp__sw_result **out, uint32_t *n, gpp_errctx *err) {
  GPP_TRY(check_text(s, f, path, err));
  hid_t d = H5Dopen2(f, "points", H5P_DEFAULT);
  hsize_t rows = d < 0 ? 0 : rows_of(d);
  if (d >= 0) H5Dclose(d);
  if (d < 0) GPP_RAISE(err, GPP_EPARSE, "%s: no /points table", path);
  *out = gpp_calloc(err, rows + 1, sizeof **out);
  if (*out == NULL) return GPP_ENOMEM;
  *n = (uint32_t)rows;
  GPP_TRY(read_tables(f, path, *out, rows, err));
  for (uint32_t i = 0; i < *n; i++) {
    if ((*out)[i].row.point >= s->n_points)
      GPP_RAISE(err, GPP_EPARSE, "%s: row %u names point %u of %u", path, i,
                (*out)[i].row.point, s->n_points);
    GPP_TRY(read_plan(f, &(*out)[i], err));
  }
  return 0;
}

int gpp__sweep_h5_read(const gpp_sweep *s, const char *path,
                       gpp__sw_result **out, uint32_t *n, gpp_errctx *err) {
  *out = NULL;
  *n = 0;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
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
