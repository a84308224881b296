/* measured.c -- a measured run as a results file: the engine's result of
 * the same plan with every measured number put in its place, written by the
 * results writer so that `gppsim validate compare` reads both sides alike;
 * a /measured group keeps every iteration's time. */
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/h5.h"
#include "sim/common/outfile.h"
#include "validate/validate.h"

static const double *cmp_times;

static int by_time(const void *a, const void *b) {
  uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
  if (cmp_times[i] != cmp_times[j]) return cmp_times[i] < cmp_times[j] ? -1 : 1;
  return i < j ? -1 : i > j;
}

int gpp_measurement_alloc(gpp_measurement *m, uint32_t iterations,
                          size_t n_tasks, uint32_t n_devices,
                          gpp_errctx *err) {
  size_t n = (size_t)iterations * (n_tasks ? n_tasks : 1);
  m->iterations = iterations;
  m->iteration_time = gpp_calloc(err, iterations ? iterations : 1,
                                 sizeof(double));
  m->start = gpp_calloc(err, n ? n : 1, sizeof(double));
  m->end = gpp_calloc(err, n ? n : 1, sizeof(double));
  m->mem_in_use = gpp_calloc(err, n_devices ? n_devices : 1, sizeof(double));
  if (m->iteration_time && m->start && m->end && m->mem_in_use) return 0;
  gpp_measurement_free(m);
  return err->code;
}

void gpp_measurement_free(gpp_measurement *m) {
  free(m->iteration_time);
  free(m->start);
  free(m->end);
  free(m->mem_in_use);
  m->iteration_time = m->start = m->end = m->mem_in_use = NULL;
}

uint32_t gpp_measurement_median(const gpp_measurement *m) {
  uint32_t n = m->iterations, *idx = malloc((n ? n : 1) * sizeof *idx);
  if (idx == NULL) return 0;
  for (uint32_t i = 0; i < n; i++) idx[i] = i;
  cmp_times = m->iteration_time;
  qsort(idx, n, sizeof *idx, by_time);
  uint32_t med = n ? idx[(n - 1) / 2] : 0;
  free(idx);
  return med;
}

/* Mean measured time of stage k's tasks of one kind (0 when it has none). */
static double stage_mean(const gpp_result *res, uint32_t k, uint32_t kind) {
  double sum = 0, n = 0;
  for (size_t i = 0; i < res->n_tasks; i++) {
    const gpp_task_rec *r = &res->tasks[i];
    if (r->kind != kind || r->stage != (int32_t)k) continue;
    sum += r->end - r->start;
    n += 1;
  }
  return n > 0 ? sum / n : 0;
}

/* Device busy time, stage busy fractions and the bubble fraction from the
 * (measured) task times. */
static void busy_times(gpp_result *res) {
  for (uint32_t d = 0; d < res->n_devices; d++) res->devices[d].busy = 0;
  for (uint32_t s = 0; s < res->n_stages; s++) res->stages[s].busy_fraction = 0;
  double total = 0, T = res->iteration_time;
  for (size_t i = 0; i < res->n_tasks; i++) {
    const gpp_task_rec *r = &res->tasks[i];
    if (r->kind != GPP_TASK_FWD && r->kind != GPP_TASK_BWD &&
        r->kind != GPP_TASK_OPT)
      continue;
    double dt = r->end - r->start;
    if (r->device < res->n_devices) res->devices[r->device].busy += dt;
    if (r->kind != GPP_TASK_OPT && T > 0 && (uint32_t)r->stage < res->n_stages)
      res->stages[r->stage].busy_fraction += dt / T;
    total += dt;
  }
  double cap = T * res->n_used;
  res->bubble_fraction = cap > 0 ? 1.0 - total / cap : 0;
}

void gpp_measurement_apply(const gpp_measurement *m, uint32_t it,
                           const gpp_plan *plan, gpp_result *res) {
  size_t n = res->n_tasks;
  for (size_t i = 0; i < n; i++) {
    res->tasks[i].start = m->start[(size_t)it * n + i];
    res->tasks[i].end = m->end[(size_t)it * n + i];
  }
  res->iteration_time = m->iteration_time[it];
  res->samples_per_s = res->iteration_time > 0
                           ? plan->batch / res->iteration_time : INFINITY;
  busy_times(res);
  for (uint32_t k = 0; k < res->n_stages; k++) {
    res->stages[k].t_fwd = stage_mean(res, k, GPP_TASK_FWD);
    res->stages[k].t_bwd = stage_mean(res, k, GPP_TASK_BWD);
    res->stages[k].t_opt = stage_mean(res, k, GPP_TASK_OPT);
  }
  for (uint32_t d = 0; d < res->n_devices; d++) {
    res->devices[d].peak_mem = m->mem_in_use ? m->mem_in_use[d] : NAN;
    res->devices[d].static_mem = NAN;
    res->devices[d].peak_stash = NAN;
  }
  memset(res->cost_sources, 0, sizeof res->cost_sources);
  res->events = n;
  res->oom = false;
  res->loop_seconds = 0;
}

static int write_group(hid_t file, const gpp_measurement *m, uint32_t it) {
  hid_t g = H5Gcreate2(file, "measured", H5P_DEFAULT, H5P_DEFAULT,
                       H5P_DEFAULT);
  if (g < 0) return -1;
  hsize_t dims[1] = {m->iterations};
  hid_t sp = H5Screate_simple(1, dims, NULL);
  hid_t d = H5Dcreate2(g, "iteration_times", H5T_IEEE_F64LE, sp, H5P_DEFAULT,
                       H5P_DEFAULT, H5P_DEFAULT);
  int bad = d < 0 || H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                              H5P_DEFAULT, m->iteration_time) < 0;
  if (d >= 0) H5Dclose(d);
  H5Sclose(sp);
  bad |= gpp_h5_write_attr_int(g, "iterations", (int)m->iterations);
  bad |= gpp_h5_write_attr_int(g, "warmup", (int)m->warmup);
  bad |= gpp_h5_write_attr_int(g, "iteration", (int)it);
  bad |= gpp_h5_write_attr_str(g, "gpu_name", m->gpu_name);
  bad |= gpp_h5_write_attr_str(g, "source", "gppsim-exec");
  H5Gclose(g);
  return bad ? -1 : 0;
}

/* The results file is built in memory with /measured added and written
 * whole through gpp_h5_mem_save (temporary file renamed into place), like
 * every HDF5 file gppsim writes. */
int gpp_measured_write_h5(const char *path, const gpp_plan *plan,
                          const gpp_result *res, const gpp_results_inputs *in,
                          const gpp_measurement *m, uint32_t it,
                          gpp_errctx *err) {
  GPP_TRY(gpp_outfile_check(path, err));
  hid_t f;
  GPP_TRY(gpp_results_build_h5(path, plan, res, in, &f, err));
  if (write_group(f, m, it) != 0) {
    H5Fclose(f);
    GPP_RAISE(err, GPP_EIO, "HDF5: cannot write /measured in %s: %s", path,
              gpp_h5_reason());
  }
  return gpp_h5_mem_save(f, path, err);
}
