/* test_validate.c -- the measured-vs-simulated comparison on results files
 * with known errors (written by the results writer), damaged and foreign
 * files, gppsim-exec's issue program and the measured results file. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels_profile/cost.h"
#include "sim/engine/engine.h"
#include "sim/plan/plan.h"
#include "sim/engine/results.h"
#include "topology/topology.h"
#include "validate/validate.h"

typedef struct sim {
  gpp_cluster *cluster;
  gpp_plan *plan;
  gpp_costs *costs;
  gpp_result *res;
} sim;

static char tmpdir[] = "/tmp/gpp_test_validate_XXXXXX";
static gpp_errctx err;

static void setup(void) {
  cr_assert_not_null(mkdtemp(tmpdir));
  memset(&err, 0, sizeof err);
}

static void teardown(void) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  cr_assert_eq(system(cmd), 0);
}

static const char *src_path(const char *rel) {
  static char buf[4][4096];
  static int k;
  const char *root = getenv("GPP_SOURCE_DIR");
  char *b = buf[k++ % 4];
  snprintf(b, 4096, "%s/%s", root ? root : GPP_SOURCE_DIR, rel);
  return b;
}

static const char *tmp_path(const char *name) {
  static char buf[4][4096];
  static int k;
  char *b = buf[k++ % 4];
  snprintf(b, 4096, "%s/%s", tmpdir, name);
  return b;
}

/* Simulates a validation plan on a cluster with per-task records. */
static void simulate(sim *s, const char *plan, const char *cluster) {
  memset(s, 0, sizeof *s);
  cr_assert_eq(gpp_cluster_load(src_path(cluster), &s->cluster, &err), 0,
               "%s", err.msg);
  cr_assert_eq(gpp_plan_load(src_path(plan), s->cluster->n_gpus, &s->plan,
                             &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_costs_create(s->plan->model, &s->cluster->gpu, NULL,
                                &s->costs, &err), 0, "%s", err.msg);
  gpp_engine_opts o = {.record = true};
  cr_assert_eq(gpp_engine_run(s->plan, s->costs, s->cluster, &o, &s->res,
                              &err), 0, "%s", err.msg);
}

static void sim_free(sim *s) {
  gpp_result_destroy(s->res);
  gpp_costs_destroy(s->costs);
  gpp_plan_destroy(s->plan);
  gpp_cluster_destroy(s->cluster);
}

#define ONE_GPU_PLAN "configs/experiments/validation/synthetic-1f1b-4.yaml"
#define ONE_GPU "configs/clusters/h100-1gpu.yaml"

static void write_h5(const sim *s, const char *path) {
  gpp_results_inputs in = {"plan", "cluster", "test"};
  cr_assert_eq(gpp_results_write_h5(path, s->plan, s->res, &in, &err), 0,
               "%s", err.msg);
}

/* Stretches every task's duration by factor(row) (keeping its start). */
static void stretch(gpp_result *r, double (*factor)(size_t)) {
  for (size_t i = 0; i < r->n_tasks; i++)
    r->tasks[i].end = r->tasks[i].start +
                      factor(i) * (r->tasks[i].end - r->tasks[i].start);
}

static double by_row(size_t i) {
  static const double f[4] = {1.10, 1.25, 0.80, 1.00};
  return f[i % 4];
}

static double uniform(size_t i) {
  (void)i;
  return 1.25;
}

static void compare_paths(const char *m, const char *p, gpp_comparison *c) {
  gpp_vfile a, b;
  cr_assert_eq(gpp_vfile_read(m, &a, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_vfile_read(p, &b, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_compare(&a, &b, c, &err), 0, "%s", err.msg);
  gpp_vfile_free(&a);
  gpp_vfile_free(&b);
}

TestSuite(compare, .init = setup, .fini = teardown);

/* Measured = predicted * (1.10, 1.25, 0.80, 1.00) by row: |errors| of
 * 1/11, 0.2, 0.25 and 0 in equal shares (4 stages x 17 tasks = 68 rows),
 * so the median is (1/11 + 0.2) / 2 and the p90 and max are 0.25. */
Test(compare, known_task_errors) {
  sim s;
  simulate(&s, ONE_GPU_PLAN, ONE_GPU);
  cr_assert_eq(s.res->n_tasks, 68);
  write_h5(&s, tmp_path("sim.h5"));
  double t = s.res->iteration_time;
  stretch(s.res, by_row);
  s.res->iteration_time = 1.10 * t;
  write_h5(&s, tmp_path("meas.h5"));
  gpp_comparison c;
  compare_paths(tmp_path("meas.h5"), tmp_path("sim.h5"), &c);
  cr_assert_eq(c.n_matched, 68);
  cr_assert_eq(c.n_skipped, 0);
  cr_assert_eq(c.measured_is_run, 0); /* written by simulate's writer */
  cr_assert_eq(c.task.n, 68);
  cr_assert_float_eq(c.iter_error, -1.0 / 11, 1e-12);
  cr_assert_float_eq(c.task.median, (1.0 / 11 + 0.2) / 2, 1e-12);
  cr_assert_float_eq(c.task.p90, 0.25, 1e-12);
  cr_assert_float_eq(c.task.max, 0.25, 1e-12);
  cr_assert_float_eq(c.task_err[0], -1.0 / 11, 1e-12);
  cr_assert_float_eq(c.task_err[1], -0.2, 1e-12);
  cr_assert_float_eq(c.task_err[2], 0.25, 1e-12);
  cr_assert_float_eq(c.task_err[3], 0.0, 1e-12);
  gpp_comparison_free(&c);
  sim_free(&s);
}

/* Every task 25% slower than predicted: every stage's error is -0.2. */
Test(compare, uniform_stage_errors) {
  sim s;
  simulate(&s, ONE_GPU_PLAN, ONE_GPU);
  write_h5(&s, tmp_path("sim.h5"));
  stretch(s.res, uniform);
  s.res->iteration_time *= 1.25;
  write_h5(&s, tmp_path("meas.h5"));
  gpp_comparison c;
  compare_paths(tmp_path("meas.h5"), tmp_path("sim.h5"), &c);
  cr_assert_eq(c.n_stages, 4);
  for (uint32_t k = 0; k < 4; k++)
    cr_assert_float_eq(c.stage_err[k], -0.2, 1e-12);
  cr_assert_eq(c.stage.n, 4);
  cr_assert_float_eq(c.stage.median, 0.2, 1e-12);
  cr_assert_float_eq(c.stage.p90, 0.2, 1e-12);
  cr_assert_float_eq(c.stage.max, 0.2, 1e-12);
  cr_assert_float_eq(c.iter_error, -0.2, 1e-12);
  gpp_comparison_free(&c);
  sim_free(&s);
}

/* A zero measured time has no relative error: skipped, not infinite. */
Test(compare, zero_measured_time_skipped) {
  sim s;
  simulate(&s, ONE_GPU_PLAN, ONE_GPU);
  write_h5(&s, tmp_path("sim.h5"));
  s.res->tasks[5].end = s.res->tasks[5].start;
  write_h5(&s, tmp_path("meas.h5"));
  gpp_comparison c;
  compare_paths(tmp_path("meas.h5"), tmp_path("sim.h5"), &c);
  cr_assert_eq(c.n_skipped, 1);
  cr_assert_eq(c.task.n, 67);
  cr_assert(isnan(c.task_err[5]));
  cr_assert_float_eq(c.task.max, 0.0, 1e-12);
  gpp_comparison_free(&c);
  sim_free(&s);
}

static int compare_fails(const char *m, const char *p) {
  gpp_vfile a, b;
  int rc = gpp_vfile_read(m, &a, &err);
  if (rc != 0) return rc;
  rc = gpp_vfile_read(p, &b, &err);
  if (rc == 0) {
    gpp_comparison c;
    rc = gpp_compare(&a, &b, &c, &err);
    if (rc == 0) gpp_comparison_free(&c);
    gpp_vfile_free(&b);
  }
  gpp_vfile_free(&a);
  return rc;
}

Test(compare, missing_task_is_a_mismatch) {
  sim s;
  simulate(&s, ONE_GPU_PLAN, ONE_GPU);
  write_h5(&s, tmp_path("sim.h5"));
  s.res->n_tasks--;
  write_h5(&s, tmp_path("meas.h5"));
  cr_assert_eq(compare_fails(tmp_path("meas.h5"), tmp_path("sim.h5")),
               GPP_EINVAL);
  cr_assert(strstr(err.msg, "mismatched files") != NULL, "%s", err.msg);
  cr_assert(strstr(err.msg, "sim.h5 but not in") != NULL, "%s", err.msg);
  s.res->n_tasks++;
  sim_free(&s);
}

Test(compare, different_plans_mismatch) {
  sim a, b;
  simulate(&a, ONE_GPU_PLAN, ONE_GPU);
  simulate(&b, "configs/experiments/validation/synthetic-gpp-2.yaml", ONE_GPU);
  write_h5(&a, tmp_path("a.h5"));
  write_h5(&b, tmp_path("b.h5"));
  cr_assert_eq(compare_fails(tmp_path("a.h5"), tmp_path("b.h5")), GPP_EINVAL);
  cr_assert(strstr(err.msg, "4 stages") && strstr(err.msg, "has 2"), "%s",
            err.msg);
  sim_free(&a);
  sim_free(&b);
}

TestSuite(files, .init = setup, .fini = teardown);

static int read_rc(const char *path) {
  gpp_vfile f;
  int rc = gpp_vfile_read(path, &f, &err);
  if (rc == 0) gpp_vfile_free(&f);
  return rc;
}

Test(files, missing_file) {
  cr_assert_eq(read_rc(tmp_path("nope.h5")), GPP_ENOENT);
  cr_assert(strstr(err.msg, "nope.h5: no such file") != NULL, "%s", err.msg);
}

Test(files, not_hdf5) {
  FILE *f = fopen(tmp_path("junk.h5"), "w");
  fputs("this is not HDF5\n", f);
  fclose(f);
  cr_assert_eq(read_rc(tmp_path("junk.h5")), GPP_EPARSE);
  cr_assert(strstr(err.msg, "not an HDF5 file") != NULL, "%s", err.msg);
}

Test(files, truncated_results_file) {
  sim s;
  simulate(&s, ONE_GPU_PLAN, ONE_GPU);
  write_h5(&s, tmp_path("sim.h5"));
  sim_free(&s);
  cr_assert_eq(truncate(tmp_path("sim.h5"), 1200), 0);
  int rc = read_rc(tmp_path("sim.h5"));
  cr_assert(rc == GPP_EPARSE, "rc %d: %s", rc, err.msg);
  cr_assert(strstr(err.msg, "sim.h5") != NULL, "%s", err.msg);
}

/* An HDF5 file of another program: no /summary. */
Test(files, foreign_hdf5) {
  hid_t f = H5Fcreate(tmp_path("other.h5"), H5F_ACC_TRUNC, H5P_DEFAULT,
                      H5P_DEFAULT);
  hid_t g = H5Gcreate2(f, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Gclose(g);
  H5Fclose(f);
  cr_assert_eq(read_rc(tmp_path("other.h5")), GPP_EPARSE);
  cr_assert(strstr(err.msg, "no /summary group") != NULL, "%s", err.msg);
}

/* /summary present but /tasks lacks the `kind` column. */
Test(files, tasks_without_kind) {
  hid_t f = H5Fcreate(tmp_path("bad.h5"), H5F_ACC_TRUNC, H5P_DEFAULT,
                      H5P_DEFAULT);
  hid_t g = H5Gcreate2(f, "summary", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  double t = 1.0;
  unsigned long long n = 1;
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(g, "iteration_time", H5T_NATIVE_DOUBLE, sp,
                       H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_DOUBLE, &t);
  H5Aclose(a);
  a = H5Acreate2(g, "n_stages", H5T_NATIVE_ULLONG, sp, H5P_DEFAULT,
                 H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_ULLONG, &n);
  H5Aclose(a);
  H5Gclose(g);
  hid_t row = H5Tcreate(H5T_COMPOUND, 2 * sizeof(double));
  H5Tinsert(row, "start", 0, H5T_NATIVE_DOUBLE);
  H5Tinsert(row, "end", sizeof(double), H5T_NATIVE_DOUBLE);
  hsize_t dims[1] = {1};
  hid_t ds = H5Screate_simple(1, dims, NULL);
  hid_t d = H5Dcreate2(f, "tasks", row, ds, H5P_DEFAULT, H5P_DEFAULT,
                       H5P_DEFAULT);
  double v[2] = {0, 1};
  H5Dwrite(d, row, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
  H5Dclose(d);
  H5Sclose(ds);
  H5Sclose(sp);
  H5Tclose(row);
  H5Fclose(f);
  cr_assert_eq(read_rc(tmp_path("bad.h5")), GPP_EPARSE);
  cr_assert(strstr(err.msg, "/tasks lacks the column 'device'") != NULL, "%s",
            err.msg);
}

TestSuite(exec, .init = setup, .fini = teardown);

/* One GPU: the issue order is by start time and nothing waits across
 * streams. */
Test(exec, one_gpu_order) {
  sim s;
  simulate(&s, ONE_GPU_PLAN, ONE_GPU);
  gpp_exec_prog p;
  cr_assert_eq(gpp_exec_check_plan(s.plan, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_exec_prog_build(s.res, &p, &err), 0, "%s", err.msg);
  cr_assert_eq(p.n, s.res->n_tasks);
  for (uint32_t k = 1; k < p.n; k++)
    cr_assert_leq(s.res->tasks[p.order[k - 1]].start,
                  s.res->tasks[p.order[k]].start);
  cr_assert_eq(p.dep_first[p.n], 0);
  /* 1F1B on 4 stages of one device: F(0,0) first, the optimizer steps last. */
  const gpp_task_rec *first = &s.res->tasks[p.order[0]];
  cr_assert_eq(first->kind, GPP_TASK_FWD);
  cr_assert_eq(first->stage, 0);
  cr_assert_eq(first->micro_batch, 0);
  cr_assert_eq(s.res->tasks[p.order[p.n - 1]].kind, GPP_TASK_OPT);
  gpp_exec_prog_free(&p);
  sim_free(&s);
}

/* Four GPUs of a PCIe box: every transfer waits for its producer, every
 * consumer for its transfers, and both come earlier in the order. */
Test(exec, transfers_wait_for_producers) {
  const char *text =
      "model: configs/models/synthetic.yaml\nbatch: 16\nmicro_batch: 4\n"
      "schedule: gpp\nstages:\n"
      "  - {name: a, ops: [\"branch0.*\"], devices: [0]}\n"
      "  - {name: b, ops: [\"branch1.*\"], devices: [1]}\n"
      "  - {name: c, ops: [concat, loss], devices: [2]}\n";
  FILE *f = fopen(tmp_path("p.yaml"), "w");
  fputs(text, f);
  fclose(f);
  sim s = {0};
  cr_assert_eq(gpp_cluster_load(src_path("configs/clusters/pcie-box.yaml"),
                                &s.cluster, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_plan_load(tmp_path("p.yaml"), s.cluster->n_gpus, &s.plan,
                             &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_costs_create(s.plan->model, &s.cluster->gpu, NULL,
                                &s.costs, &err), 0, "%s", err.msg);
  gpp_engine_opts o = {.record = true};
  cr_assert_eq(gpp_engine_run(s.plan, s.costs, s.cluster, &o, &s.res, &err),
               0, "%s", err.msg);
  gpp_exec_prog p;
  cr_assert_eq(gpp_exec_prog_build(s.res, &p, &err), 0, "%s", err.msg);
  uint32_t xfers = 0;
  for (uint32_t k = 0; k < p.n; k++) {
    const gpp_task_rec *r = &s.res->tasks[p.order[k]];
    bool xfer = r->kind == GPP_TASK_ACT || r->kind == GPP_TASK_GRAD;
    xfers += xfer;
    for (uint32_t i = p.dep_first[k]; i < p.dep_first[k + 1]; i++) {
      cr_assert_lt(p.deps[i], k);
      const gpp_task_rec *d = &s.res->tasks[p.order[p.deps[i]]];
      cr_assert_leq(d->end, r->start + 1e-15);
      if (xfer) cr_assert_eq(d->device, r->device);
      else cr_assert_eq(d->peer, r->device);
    }
    if (xfer) cr_assert_eq(p.dep_first[k + 1] - p.dep_first[k], 1);
  }
  /* 4 micro-batches x 2 edges x (activation + gradient). */
  cr_assert_eq(xfers, 16);
  cr_assert_eq(p.dep_first[p.n], 2 * xfers);
  gpp_exec_prog_free(&p);
  sim_free(&s);
}

Test(exec, data_parallel_stage_refused) {
  const char *text =
      "batch: 8\nmicro_batch: 4\nschedule: gpipe\nstages:\n"
      "  - {name: a, ops: [\"*\"], devices: [0, 1]}\n";
  gpp_model *m = NULL;
  cr_assert_eq(gpp_model_load(src_path("configs/models/synthetic.yaml"), NULL,
                              0, &m, &err), 0, "%s", err.msg);
  gpp_plan *p = NULL;
  cr_assert_eq(gpp_plan_load_string("dp.yaml", text, m, 2, &p, &err), 0,
               "%s", err.msg);
  cr_assert_eq(gpp_exec_check_plan(p, &err), GPP_EINVAL);
  cr_assert(strstr(err.msg, "dp.yaml:5:") != NULL, "%s", err.msg);
  cr_assert(strstr(err.msg, "2 data-parallel replicas") != NULL, "%s",
            err.msg);
  gpp_plan_destroy(p);
  gpp_model_destroy(m);
}

TestSuite(measured, .init = setup, .fini = teardown);

Test(measured, median_iteration) {
  double t[5] = {3.0, 1.0, 5.0, 2.0, 4.0};
  gpp_measurement m = {.iterations = 5, .iteration_time = t};
  cr_assert_eq(gpp_measurement_median(&m), 0); /* 3.0 */
  m.iterations = 4;                             /* 3, 1, 5, 2: lower median 2 */
  cr_assert_eq(gpp_measurement_median(&m), 3);
}

/* Applying a measurement recomputes the summary from the task times, and
 * the written file reads back as measured with that iteration time. */
Test(measured, apply_and_write) {
  sim s;
  simulate(&s, ONE_GPU_PLAN, ONE_GPU);
  gpp_measurement m = {0};
  size_t n = s.res->n_tasks;
  cr_assert_eq(gpp_measurement_alloc(&m, 2, n, s.res->n_devices, &err), 0);
  for (size_t i = 0; i < n; i++) {
    m.start[n + i] = (double)i;       /* iteration 1: task i runs [i, i+0.5) */
    m.end[n + i] = (double)i + 0.5;
  }
  m.iteration_time[0] = 100.0;
  m.iteration_time[1] = (double)n;
  m.mem_in_use[0] = 1e9;
  snprintf(m.gpu_name, sizeof m.gpu_name, "test GPU");
  gpp_measurement_apply(&m, 1, s.plan, s.res);
  cr_assert_float_eq(s.res->iteration_time, (double)n, 0);
  cr_assert_float_eq(s.res->devices[0].busy, 0.5 * (double)n, 1e-12);
  cr_assert_float_eq(s.res->bubble_fraction, 0.5, 1e-12);
  cr_assert_float_eq(s.res->stages[2].t_fwd, 0.5, 1e-12);
  cr_assert_float_eq(s.res->devices[0].peak_mem, 1e9, 0);
  cr_assert(isnan(s.res->devices[0].static_mem));
  gpp_results_inputs in = {"plan", "cluster", "test"};
  cr_assert_eq(gpp_measured_write_h5(tmp_path("m.h5"), s.plan, s.res, &in, &m,
                                     1, &err), 0, "%s", err.msg);
  gpp_vfile f;
  cr_assert_eq(gpp_vfile_read(tmp_path("m.h5"), &f, &err), 0, "%s", err.msg);
  cr_assert_eq(f.measured, 1);
  cr_assert_float_eq(f.iteration_time, (double)n, 0);
  cr_assert_eq(f.n_tasks, n);
  cr_assert_float_eq(f.tasks[7].start, 7.0, 0);
  gpp_vfile_free(&f);
  gpp_measurement_free(&m);
  sim_free(&s);
}

/* An unwritable path fails before anything is built, with the path and the
 * system's reason, and leaves no file (the common temp+rename path). */
Test(measured, unwritable_path_names_the_reason) {
  sim s;
  simulate(&s, ONE_GPU_PLAN, ONE_GPU);
  gpp_measurement m = {0};
  cr_assert_eq(gpp_measurement_alloc(&m, 1, s.res->n_tasks, s.res->n_devices,
                                     &err), 0);
  gpp_results_inputs in = {"plan", "cluster", "test"};
  cr_assert_eq(gpp_measured_write_h5(tmp_path("no/such/m.h5"), s.plan, s.res,
                                     &in, &m, 0, &err), GPP_EIO);
  cr_assert(strstr(err.msg, "no/such/m.h5: No such file or directory"), "%s",
            err.msg);
  gpp_measurement_free(&m);
  sim_free(&s);
}
