/* results_h5.c -- the HDF5 results file.
 *
 * Object modification times are switched off on every group and dataset so
 * that two runs of the same inputs write the same bytes.
 */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

#include "sim/common/h5.h"
#include "sim/common/outfile.h"
#include "sim/engine/results.h"
#include "sim/plan/sched.h"

_Static_assert(sizeof(bool) == 1, "/devices stores `used` as uint8");

typedef struct h5w {
  hid_t file, gcpl, dcpl;
  gpp_errctx *err;
} h5w;

static int h5_fail(h5w *w, const char *what) {
  GPP_RAISE(w->err, GPP_EIO, "HDF5: cannot write %s: %s", what,
            gpp_h5_reason());
}

static int summary_numbers(hid_t g, const gpp_plan *p, const gpp_result *r) {
  int bad = gpp_h5_write_attr_double(g, "iteration_time", r->iteration_time);
  bad |= gpp_h5_write_attr_double(g, "samples_per_s", r->samples_per_s);
  bad |= gpp_h5_write_attr_double(g, "bubble_fraction",
                                  r->bubble_fraction);
  bad |= gpp_h5_write_attr_u64(g, "batch", p->batch);
  bad |= gpp_h5_write_attr_u64(g, "n_stages", p->n_stages);
  bad |= gpp_h5_write_attr_u64(g, "n_devices", r->n_devices);
  bad |= gpp_h5_write_attr_u64(g, "n_devices_used", r->n_used);
  bad |= gpp_h5_write_attr_u64(g, "events", r->events);
  bad |= gpp_h5_write_attr_u64(g, "compute_tasks", r->n_compute_tasks);
  bad |= gpp_h5_write_attr_u64(g, "transfers", r->n_transfers);
  bad |= gpp_h5_write_attr_u64(g, "oom", r->oom);
  bad |= gpp_h5_write_attr_double(g, "tokens_per_sample", r->tokens_per_sample);
  bad |= gpp_h5_write_attr_double(g, "tokens_per_s", r->tokens_per_s);
  bad |= gpp_h5_write_attr_double(g, "model_flops", r->model_flops);
  bad |= gpp_h5_write_attr_double(g, "hw_flops", r->hw_flops);
  bad |= gpp_h5_write_attr_double(g, "peak_flops_per_gpu", r->peak_flops);
  bad |= gpp_h5_write_attr_double(g, "mfu", r->mfu);
  bad |= gpp_h5_write_attr_double(g, "hfu", r->hfu);
  if (r->oom) {
    bad |= gpp_h5_write_attr_u64(g, "oom_device", r->oom_device);
    bad |= gpp_h5_write_attr_double(g, "oom_shortfall_bytes",
                                    r->oom_shortfall);
  }
  return bad;
}

static int write_summary(h5w *w, const gpp_plan *p, const gpp_result *r) {
  hid_t g = H5Gcreate2(w->file, "summary", H5P_DEFAULT, w->gcpl, H5P_DEFAULT);
  if (g < 0) return h5_fail(w, "/summary");
  int bad = summary_numbers(g, p, r);
  bad |= gpp_h5_write_attr_str(g, "schedule", p->schedule->name);
  bad |= gpp_h5_write_attr_str(g, "optimizer",
                               gpp_optimizer_name(p->optimizer));
  bad |= gpp_h5_write_attr_str(g, "precision",
                               gpp_precision_name(p->precision));
  char name[64];
  for (int c = 0; c < GPP_LINK__NCLASSES; c++) {
    snprintf(name, sizeof name, "bytes_%s", gpp_link_class_name(c));
    bad |= gpp_h5_write_attr_double(g, name, r->link_bytes[c]);
  }
  for (int s = 0; s < GPP_COST__NSOURCES; s++) {
    snprintf(name, sizeof name, "cost_ops_%s", gpp_cost_source_name(s));
    bad |= gpp_h5_write_attr_u64(g, name, r->cost_sources[s]);
  }
  H5Gclose(g);
  return bad ? h5_fail(w, "/summary attributes") : 0;
}

static int write_table(h5w *w, const char *name, hid_t type, size_t n,
                       const void *rows) {
  if (gpp_h5_write_table(w->file, name, type, n, rows, w->dcpl) != 0)
    return h5_fail(w, name);
  return 0;
}

static int write_devices(h5w *w, const gpp_result *r) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(gpp_device_result));
  H5Tinsert(t, "used", HOFFSET(gpp_device_result, used), H5T_NATIVE_UINT8);
  H5Tinsert(t, "busy", HOFFSET(gpp_device_result, busy), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "static_mem", HOFFSET(gpp_device_result, static_mem),
            H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "peak_mem", HOFFSET(gpp_device_result, peak_mem),
            H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "peak_stash", HOFFSET(gpp_device_result, peak_stash),
            H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "n_stages", HOFFSET(gpp_device_result, n_stages),
            H5T_NATIVE_UINT32);
  int rc = write_table(w, "devices", t, r->n_devices, r->devices);
  H5Tclose(t);
  return rc;
}

static int write_stages(h5w *w, const gpp_result *r) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(gpp_stage_result));
#define F64(f) H5Tinsert(t, #f, HOFFSET(gpp_stage_result, f), H5T_NATIVE_DOUBLE)
#define U32(f) H5Tinsert(t, #f, HOFFSET(gpp_stage_result, f), H5T_NATIVE_UINT32)
  F64(t_fwd); F64(t_bwd); F64(t_opt); F64(busy_fraction);
  U32(peak_inflight); U32(cap); F64(allreduce_bytes);
#undef F64
#undef U32
  int rc = write_table(w, "stages", t, r->n_stages, r->stages);
  H5Tclose(t);
  return rc;
}

static hid_t kind_enum(void) {
  hid_t t = H5Tenum_create(H5T_NATIVE_UINT32);
  for (uint32_t k = 0; k < GPP_TASK__NKINDS; k++)
    H5Tenum_insert(t, gpp_task_kind_name(k), &k);
  return t;
}

hid_t gpp_results_task_type(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(gpp_task_rec)), k = kind_enum();
#define COL(f, ty) H5Tinsert(t, #f, HOFFSET(gpp_task_rec, f), ty)
  COL(start, H5T_NATIVE_DOUBLE); COL(end, H5T_NATIVE_DOUBLE);
  COL(device, H5T_NATIVE_UINT32); COL(peer, H5T_NATIVE_UINT32);
  COL(stage, H5T_NATIVE_INT32); COL(micro_batch, H5T_NATIVE_INT32);
  COL(replica, H5T_NATIVE_UINT32); COL(kind, k);
  COL(bytes, H5T_NATIVE_DOUBLE);
#undef COL
  H5Tclose(k);
  return t;
}

static int write_tasks(h5w *w, const gpp_result *r) {
  hid_t t = gpp_results_task_type();
  int rc = write_table(w, "tasks", t, r->n_tasks, r->tasks);
  H5Tclose(t);
  return rc;
}

static int write_string(h5w *w, hid_t g, const char *name, const char *s) {
  if (gpp_h5_write_text(g, name, s ? s : "", w->dcpl) != 0)
    return h5_fail(w, name);
  return 0;
}

/* Texts are datasets, not attributes: an attribute is limited to 64 KiB. */
static int write_inputs(h5w *w, const gpp_results_inputs *in) {
  hid_t g = H5Gcreate2(w->file, "inputs", H5P_DEFAULT, w->gcpl, H5P_DEFAULT);
  if (g < 0) return h5_fail(w, "/inputs");
  int rc = write_string(w, g, "plan", in->plan_text);
  if (rc == 0) rc = write_string(w, g, "cluster", in->cluster_text);
  if (rc == 0) rc = write_string(w, g, "cluster_name", in->cluster_name);
  H5Gclose(g);
  return rc;
}

static int write_all(h5w *w, const gpp_plan *p, const gpp_result *r,
                     const gpp_results_inputs *in) {
  GPP_TRY(write_summary(w, p, r));
  GPP_TRY(write_devices(w, r));
  GPP_TRY(write_stages(w, r));
  GPP_TRY(write_tasks(w, r));
  return write_inputs(w, in);
}

static int build_file(h5w *w, const char *path, const gpp_plan *p,
                      const gpp_result *r, const gpp_results_inputs *in) {
  w->file = gpp_h5_mem_create();
  if (w->file < 0)
    GPP_RAISE(w->err, GPP_EIO, "HDF5: cannot create %s in memory: %s", path,
              gpp_h5_reason());
  w->gcpl = H5Pcreate(H5P_GROUP_CREATE);
  w->dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(w->gcpl, 0);
  H5Pset_obj_track_times(w->dcpl, 0);
  int rc = write_all(w, p, r, in);
  H5Pclose(w->gcpl);
  H5Pclose(w->dcpl);
  if (rc != 0) H5Fclose(w->file);
  return rc;
}

int gpp_results_build_h5(const char *path, const gpp_plan *plan,
                         const gpp_result *res, const gpp_results_inputs *in,
                         hid_t *file, gpp_errctx *err) {
  gpp_h5_quiet();
  h5w w = {.err = err};
  *file = -1;
  GPP_TRY(build_file(&w, path, plan, res, in));
  *file = w.file;
  return 0;
}

/* The file is built in memory and written out whole: a full disk or an
 * unwritable path fails in plain stdio (with the system's reason), never
 * inside HDF5 with a file left half-open. */
int gpp_results_write_h5(const char *path, const gpp_plan *plan,
                         const gpp_result *res, const gpp_results_inputs *in,
                         gpp_errctx *err) {
  GPP_TRY(gpp_outfile_check(path, err));
  hid_t file;
  GPP_TRY(gpp_results_build_h5(path, plan, res, in, &file, err));
  return gpp_h5_mem_save(file, path, err);
}
