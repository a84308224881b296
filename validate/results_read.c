/* results_read.c -- reading what the comparison needs from a results file
 * (`gppsim simulate --out` or gppsim-exec): the iteration time, the stage
 * count and the /tasks table, each checked so that a damaged or foreign
 * file is reported by what it lacks instead of by HDF5's error stack. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/common/h5.h"
#include "validate/validate.h"

static const char *const task_columns[] = {
    "start", "end", "device", "peer", "stage", "micro_batch", "replica",
    "kind"};
#define N_COLUMNS (sizeof task_columns / sizeof task_columns[0])

static int check_columns(hid_t ft, const char *path, gpp_errctx *err) {
  if (H5Tget_class(ft) != H5T_COMPOUND)
    GPP_RAISE(err, GPP_EPARSE, "%s: /tasks is not a table of task records",
              path);
  for (size_t i = 0; i < N_COLUMNS; i++)
    if (H5Tget_member_index(ft, task_columns[i]) < 0)
      GPP_RAISE(err, GPP_EPARSE, "%s: /tasks lacks the column '%s'", path,
                task_columns[i]);
  return 0;
}

static int read_rows(hid_t d, gpp_vfile *f, gpp_errctx *err) {
  hid_t sp = H5Dget_space(d);
  hsize_t n = 0;
  int ok = H5Sget_simple_extent_ndims(sp) == 1 &&
           H5Sget_simple_extent_dims(sp, &n, NULL) == 1;
  H5Sclose(sp);
  if (!ok) GPP_RAISE(err, GPP_EPARSE, "%s: /tasks is not one-dimensional",
                     f->path);
  GPP_TRY(gpp_h5_check_rows(d, f->path, "/tasks", n, err));
  f->tasks = gpp_calloc(err, n ? n : 1, sizeof *f->tasks);
  if (f->tasks == NULL) return err->code;
  f->n_tasks = n;
  hid_t mt = gpp_results_task_type();
  herr_t st = n ? H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, f->tasks) : 0;
  H5Tclose(mt);
  if (st < 0)
    GPP_RAISE(err, GPP_EPARSE, "%s: cannot read /tasks (a column of another "
              "type, or a task kind gppsim does not know)", f->path);
  return 0;
}

static int read_tasks(hid_t file, gpp_vfile *f, gpp_errctx *err) {
  if (H5Lexists(file, "tasks", H5P_DEFAULT) <= 0)
    GPP_RAISE(err, GPP_EPARSE, "%s: no /tasks table (not a gppsim results "
              "file, or simulated without --out)", f->path);
  hid_t d = H5Dopen2(file, "tasks", H5P_DEFAULT);
  if (d < 0) GPP_RAISE(err, GPP_EPARSE, "%s: /tasks is not a dataset", f->path);
  hid_t ft = H5Dget_type(d);
  int rc = check_columns(ft, f->path, err);
  H5Tclose(ft);
  if (rc == 0) rc = read_rows(d, f, err);
  H5Dclose(d);
  return rc;
}

static int read_summary(hid_t file, gpp_vfile *f, gpp_errctx *err) {
  if (H5Lexists(file, "summary", H5P_DEFAULT) <= 0)
    GPP_RAISE(err, GPP_EPARSE, "%s: no /summary group (not a gppsim results "
              "file)", f->path);
  hid_t g = H5Gopen2(file, "summary", H5P_DEFAULT);
  if (g < 0) GPP_RAISE(err, GPP_EPARSE, "%s: /summary is not a group", f->path);
  char where[4200];
  snprintf(where, sizeof where, "%s: /summary", f->path);
  unsigned long long n_stages = 0;
  int rc = gpp_h5_attr_double(g, where, "iteration_time", &f->iteration_time,
                              err);
  if (rc == 0) rc = gpp_h5_attr_u64(g, where, "n_stages", &n_stages, err);
  H5Gclose(g);
  if (rc == 0 && (n_stages < 1 || n_stages > UINT32_MAX ||
                  !(f->iteration_time >= 0)))
    rc = GPP_ERR(err, GPP_EPARSE, "%s: /summary has %llu stages and "
                 "iteration time %g", f->path, n_stages, f->iteration_time);
  f->n_stages = (uint32_t)n_stages;
  return rc;
}

static int read_file(hid_t file, gpp_vfile *f, gpp_errctx *err) {
  GPP_TRY(read_summary(file, f, err));
  GPP_TRY(read_tasks(file, f, err));
  f->measured = H5Lexists(file, "measured", H5P_DEFAULT) > 0;
  return 0;
}

static int open_and_read(const char *path, gpp_vfile *f, gpp_errctx *err) {
  if (access(path, R_OK) != 0)
    GPP_RAISE(err, GPP_ENOENT, "%s: no such file (or not readable)", path);
  if (H5Fis_hdf5(path) <= 0)
    GPP_RAISE(err, GPP_EPARSE, "%s: not an HDF5 file (or damaged)", path);
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) GPP_RAISE(err, GPP_EPARSE, "%s: cannot open as HDF5", path);
  int rc = read_file(file, f, err);
  H5Fclose(file);
  return rc;
}

int gpp_vfile_read(const char *path, gpp_vfile *out, gpp_errctx *err) {
  *out = (gpp_vfile){0};
  snprintf(out->path, sizeof out->path, "%s", path);
  H5E_auto2_t fn;
  void *data;
  H5Eget_auto2(H5E_DEFAULT, &fn, &data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are reported through err */
  int rc = open_and_read(path, out, err);
  H5Eset_auto2(H5E_DEFAULT, fn, data);
  if (rc != 0) gpp_vfile_free(out);
  return rc;
}

void gpp_vfile_free(gpp_vfile *f) {
  free(f->tasks);
  f->tasks = NULL;
  f->n_tasks = 0;
}
