/* test_sweep.c -- sweeps (sim/sweep/sweep.h): expansion order and counts, every
 * experiment-file error with its position, cluster overrides and resizing,
 * derived figures (cost per million samples, time to train), a sweep
 * killed with SIGKILL after its third point then resumed giving exactly
 * the rows of an uninterrupted run, and the cost-scaling hook. */
#include <criterion/criterion.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernels_profile/cost.h"
#include "sim/sweep/sweep_internal.h"
#include "topology/topology.h"

static char dir[256];

static void make_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/test_sweep.XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}

TestSuite(sweep, .init = make_dir, .fini = remove_dir);

/* Writes dir/name with text; returns the path (static buffer per call). */
static const char *write_exp(const char *name, const char *text) {
  static char path[2][320];
  static int k;
  k ^= 1;
  snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
  FILE *f = fopen(path[k], "w");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
  return path[k];
}

static const char *repo_path(const char *rel) {
  static char buf[512];
  const char *root = getenv("GPP_SOURCE_DIR");
  snprintf(buf, sizeof buf, "%s/%s", root ? root : GPP_SOURCE_DIR, rel);
  return buf;
}

#define HEAD                                                                  \
  "name: t\nmodels: [configs/models/synthetic.yaml]\n"                        \
  "clusters: [configs/clusters/pcie-box.yaml]\n"

/* Loading must fail with code at line:column, the message naming needle. */
static void load_fails(const char *text, int code, int line, int col,
                       const char *needle) {
  gpp_sweep *s = NULL;
  gpp_errctx err = {0};
  int rc = gpp_sweep_load(write_exp("bad.yaml", text), &s, &err);
  cr_assert_eq(rc, code, "rc %d, want %d: %s", rc, code, err.msg);
  cr_assert_null(s);
  char where[32];
  snprintf(where, sizeof where, ":%d:%d:", line, col);
  cr_assert_not_null(strstr(err.msg, where), "%s lacks %s", err.msg, where);
  cr_assert_not_null(strstr(err.msg, needle), "%s lacks %s", err.msg, needle);
}

Test(sweep, tiny_expands_in_documented_order) {
  gpp_sweep *s;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_sweep_load(repo_path("configs/experiments/sweeps/tiny.yaml"),
                              &s, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_sweep_n_points(s), 32);
  cr_assert_str_eq(gpp_sweep_name(s), "tiny");
  char p[256];
  gpp__sweep_params(s, 0, p, sizeof p);
  cr_assert_str_eq(p, "gpus=4,batch=32,planner=graphpipe");
  gpp__sweep_params(s, 1, p, sizeof p);
  cr_assert_str_eq(p, "gpus=4,batch=32,planner=pipedream");
  gpp__sweep_params(s, 7, p, sizeof p);
  cr_assert_str_eq(p, "gpus=8,batch=64,planner=pipedream");
  cr_assert_eq(s->points[8].cluster, 1); /* clusters inside models */
  cr_assert_eq(s->points[16].model, 1);
  cr_assert_str_eq(s->models[1].label, "synthetic4");
  cr_assert_eq(s->points[31].gpus, 8);
  cr_assert_eq(s->points[31].batch, 64);
  gpp_sweep_destroy(s);
}

Test(sweep, listed_points_come_first_and_best_gathers_planners) {
  gpp_sweep *s;
  gpp_errctx err = {0};
  const char *path = write_exp("e.yaml", HEAD
      "compare: best\n"
      "points:\n  - {gpus: 2, batch: [8, 16], planner: piper}\n"
      "grid: {gpus: [4], batch: [32], planner: [graphpipe, pipedream]}\n");
  cr_assert_eq(gpp_sweep_load(path, &s, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_sweep_n_points(s), 3);
  cr_assert_eq(s->points[0].batch, 8);
  cr_assert_eq(s->points[1].batch, 16);
  cr_assert_eq(s->points[0].planners, 4u); /* piper */
  cr_assert_eq(s->points[2].planners, 3u); /* graphpipe + pipedream */
  char p[256];
  gpp__sweep_params(s, 2, p, sizeof p);
  cr_assert_str_eq(p, "gpus=4,batch=32");
  gpp_sweep_destroy(s);
}

Test(sweep, experiment_errors_name_their_position) {
  load_fails(HEAD "grid: {batch: [8]}\nbogus: 1\n", GPP_EPARSE, 5, 1,
             "bogus");
  load_fails(HEAD "grid: {batch: [8], gpu: [2]}\n", GPP_EINVAL, 4, 20,
             "did you mean 'gpus'");
  load_fails(HEAD "grid: {batch: [8], planner: [graphpip]}\n", GPP_EINVAL, 4,
             30, "did you mean 'graphpipe'");
  load_fails(HEAD "grid: {gpus: [4]}\n", GPP_EINVAL, 4, 7, "no batch");
  load_fails(HEAD "grid: {batch: []}\n", GPP_EINVAL, 4, 15, "empty list");
  load_fails(HEAD "grid: {batch: [0]}\n", GPP_ERANGE, 4, 16, "batch");
  load_fails(HEAD "grid: {batch: [8], batch: [9]}\n", GPP_EINVAL, 4, 20,
             "batch");
  load_fails(HEAD "grid: {batch: [8]}\nreplications: 3\n", GPP_EINVAL, 5,
             15, "jitter");
  load_fails(HEAD "grid: {batch: [8]}\njitter: profile\n", GPP_EINVAL, 5, 9,
             "profile");
  load_fails("name: t\nmodels: [configs/models/nope.yaml]\n"
             "clusters: [configs/clusters/pcie-box.yaml]\ngrid: {batch: [8]}\n",
             GPP_ENOENT, 2, 10, "nope.yaml");
  load_fails("name: a b\nmodels: [configs/models/synthetic.yaml]\n"
             "clusters: [configs/clusters/pcie-box.yaml]\ngrid: {batch: [8]}\n",
             GPP_EINVAL, 1, 7, "letters");
  load_fails("name: t\nmodels: [configs/models/synthetic.yaml, "
             "configs/models/synthetic.yaml]\n"
             "clusters: [configs/clusters/pcie-box.yaml]\ngrid: {batch: [8]}\n",
             GPP_EINVAL, 2, 41, "label");
}

/* Runs the single point of text; its row in *row. */
static int run_one(const char *text, gpp__sw_row *row, gpp_errctx *err) {
  gpp_sweep *s;
  gpp__sw_result r;
  cr_assert_eq(gpp_sweep_load(write_exp("one.yaml", text), &s, err), 0, "%s",
               err->msg);
  cr_assert_eq(gpp_sweep_n_points(s), 1);
  int rc = gpp__sweep_point_run(s, 0, &r, err);
  if (rc == 0) *row = r.row;
  gpp__sweep_result_free(&r);
  gpp_sweep_destroy(s);
  return rc;
}

Test(sweep, cluster_overrides_and_resizing) {
  gpp__sw_row row;
  gpp_errctx err = {0};
  cr_assert_eq(run_one("name: t\nmodels: [configs/models/synthetic.yaml]\n"
                       "clusters: [configs/clusters/dgx-a100.yaml]\n"
                       "samples_to_train: 1e6\n"
                       "grid: {gpus: [48], batch: [64], "
                       "cluster.gpu: [h100-sxm-80gb], "
                       "cluster.price_per_gpu_hour: [2.5]}\n", &row, &err),
               0, "%s", err.msg);
  cr_assert_str_eq(row.status, "ok");
  cr_assert_str_eq(row.gpu, "h100-sxm-80gb");
  cr_assert_eq(row.gpus, 48); /* 4 nodes of 8 grown to 6 */
  cr_assert_gt(row.throughput, 0);
  cr_assert_float_eq(row.throughput, row.batch / row.iteration_s, 1e-9);
  double cost = 2.5 * 48 * row.iteration_s / 64 * 1e6 / 3600;
  cr_assert_float_eq(row.cost_per_million_samples, cost, 1e-9 * cost);
  cr_assert_float_eq(row.time_to_train_s, 1e6 / row.throughput, 1e-6);
  cr_assert_eq(row.replications, 1);
  cr_assert_eq(row.throughput_ci_lo, row.throughput);
  cr_assert_gt(row.n_stages, 0);
  cr_assert_geq(row.n_stages, row.depth);
  cr_assert_gt(row.peak_mem_bytes, 0);
}

/* A bad value is found at load, before any point runs, at its line. */
Test(sweep, bad_override_fails_at_load_with_the_point) {
  load_fails(HEAD "grid: {batch: [8], cluster.intra_node.bandwith: "
             "[1 GB/s]}\n", GPP_EPARSE, 4, 50, "point 0");
  load_fails(HEAD "grid: {batch: [8], cluster.intra_node.bandwith: "
             "[1 GB/s]}\n", GPP_EPARSE, 4, 50, "bandwith");
  load_fails(HEAD "grid: {batch: [8], cluster.fabric.speed: [1]}\n",
             GPP_EINVAL, 4, 43, "cluster.fabric.speed");
  load_fails(HEAD "grid: {batch: [8], model.branches: [2, 99]}\n", GPP_ERANGE,
             4, 40, "point 1");
}

Test(sweep, no_plan_is_a_row_not_a_failure) {
  gpp__sw_row row;
  gpp_errctx err = {0};
  /* batch 3 on micro-batch 2: no micro-batch size divides the batch. */
  cr_assert_eq(run_one(HEAD "grid: {batch: [3], micro_batch: [2], gpus: [2]}"
                       "\n", &row, &err), 0, "%s", err.msg);
  cr_assert_str_neq(row.status, "ok");
  cr_assert(isnan(row.throughput));
  cr_assert_str_eq(row.planner, "graphpipe");
  cr_assert_neq(row.message[0], '\0');
}

static int read_rows(const gpp_sweep *s, const char *path,
                     gpp__sw_result **rs, uint32_t *n) {
  gpp_errctx err = {0};
  int rc = gpp__sweep_h5_read(s, path, rs, n, &err);
  cr_assert_eq(rc, 0, "%s", err.msg);
  return rc;
}

static void free_rows(gpp__sw_result *rs, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) gpp__sweep_result_free(&rs[i]);
  free(rs);
}

static void die_at_third(void *ctx, uint32_t done, uint32_t total,
                         const char *label) {
  (void)ctx, (void)total, (void)label;
  if (done == 3) raise(SIGKILL);
}

static void counting(void *ctx, uint32_t done, uint32_t total,
                     const char *label) {
  (void)done, (void)total, (void)label;
  ++*(int *)ctx;
}

Test(sweep, killed_then_resumed_equals_uninterrupted) {
  gpp_sweep *s;
  gpp_errctx err = {0};
  char full[300], cut[300], partial[320];
  snprintf(full, sizeof full, "%s/full.h5", dir);
  snprintf(cut, sizeof cut, "%s/cut.h5", dir);
  snprintf(partial, sizeof partial, "%s.partial", cut);
  cr_assert_eq(gpp_sweep_load(repo_path("configs/experiments/sweeps/tiny.yaml"),
                              &s, &err), 0, "%s", err.msg);
  gpp_sweep_opts o = {0};
  cr_assert_eq(gpp_sweep_run(s, full, &o, &err), 0, "%s", err.msg);
  pid_t pid = fork();
  if (pid == 0) {
    gpp_sweep_opts k = {.progress = die_at_third};
    gpp_sweep_run(s, cut, &k, &err);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  cr_assert_neq(access(cut, F_OK), 0, "no final file after a kill");
  gpp__sw_result *rs;
  uint32_t n;
  read_rows(s, partial, &rs, &n);
  cr_assert_eq(n, 3, "the killed run's file keeps its 3 points");
  free_rows(rs, n);
  int calls = 0;
  gpp_sweep_opts r = {.resume = true, .progress = counting,
                      .progress_ctx = &calls};
  cr_assert_eq(gpp_sweep_run(s, cut, &r, &err), 0, "%s", err.msg);
  cr_assert_eq(calls, 29, "only the 29 missing points run again");
  cr_assert_neq(access(partial, F_OK), 0, "the working file is removed");
  gpp__sw_result *a, *b;
  uint32_t na, nb;
  read_rows(s, full, &a, &na);
  read_rows(s, cut, &b, &nb);
  cr_assert_eq(na, 32);
  cr_assert_eq(nb, 32);
  for (uint32_t i = 0; i < na; i++) {
    cr_assert_eq(b[i].row.point, i);
    cr_assert_eq(memcmp(&a[i].row, &b[i].row, sizeof a[i].row), 0,
                 "row %u differs", i);
  }
  free_rows(a, na);
  free_rows(b, nb);
  gpp_sweep_destroy(s);
}

Test(sweep, resume_refuses_another_experiment) {
  gpp_sweep *s, *t;
  gpp_errctx err = {0};
  char out[300];
  snprintf(out, sizeof out, "%s/r.h5", dir);
  cr_assert_eq(gpp_sweep_load(write_exp("a.yaml", HEAD "grid: {batch: [8]}\n"),
                              &s, &err), 0, "%s", err.msg);
  gpp_sweep_opts o = {0};
  cr_assert_eq(gpp_sweep_run(s, out, &o, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_sweep_load(write_exp("b.yaml", HEAD "grid: {batch: [16]}\n"),
                              &t, &err), 0, "%s", err.msg);
  o.resume = true;
  cr_assert_eq(gpp_sweep_run(t, out, &o, &err), GPP_EINVAL);
  cr_assert_not_null(strstr(err.msg, "different experiment"), "%s", err.msg);
  gpp_sweep_destroy(s);
  gpp_sweep_destroy(t);
}

Test(sweep, cost_scale_hook_multiplies_op_times) {
  gpp_model *m;
  gpp_cluster *c;
  gpp_costs *costs;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_model_load(repo_path("configs/models/synthetic.yaml"),
                              NULL, 0, &m, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_cluster_load(repo_path("configs/clusters/pcie-box.yaml"),
                                &c, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_costs_create(m, &c->gpu, NULL, &costs, &err), 0);
  double *scale = calloc(2 * m->n_ops, sizeof *scale);
  for (uint32_t i = 0; i < 2 * m->n_ops; i++) scale[i] = 1 + 0.25 * (i % 3);
  uint32_t op = m->n_ops / 2;
  gpp_op_cost a = gpp_costs_op(costs, op, 4);
  gpp_costs_set_scale(costs, scale);
  gpp_op_cost b = gpp_costs_op(costs, op, 4);
  gpp_costs_set_scale(costs, NULL);
  gpp_op_cost c2 = gpp_costs_op(costs, op, 4);
  cr_assert_float_eq(b.fwd, a.fwd * scale[2 * op], 1e-15);
  cr_assert_float_eq(b.bwd, a.bwd * scale[2 * op + 1], 1e-15);
  cr_assert_eq(c2.fwd, a.fwd);
  free(scale);
  gpp_costs_destroy(costs);
  gpp_cluster_destroy(c);
  gpp_model_destroy(m);
}

/* A profile of every op of the synthetic model with p10 = 0.9 and
 * p90 = 1.2 times the median, one row per distinct signature. */
static void spread_profile(const gpp_model *m, const char *path) {
  gpp_profile_row *rows = calloc(m->n_ops, sizeof *rows);
  size_t n = 0;
  for (uint32_t i = 0; i < m->n_ops; i++) {
    char sig[GPP_SIG_MAX];
    if (m->ops[i].kind == GPP_OP_INPUT ||
        gpp_op_signature(&m->ops[i], sig, sizeof sig) != 0)
      continue;
    bool seen = false;
    for (size_t j = 0; j < n; j++) seen |= strcmp(rows[j].signature, sig) == 0;
    if (seen) continue;
    gpp_profile_row *r = &rows[n++];
    snprintf(r->signature, sizeof r->signature, "%s", sig);
    r->micro_batch = 4;
    r->fwd = (gpp_profile_stat){1e-3, 0.9e-3, 1.2e-3};
    r->bwd = (gpp_profile_stat){2e-3, 1.8e-3, 2.4e-3};
  }
  gpp_profile_meta meta = {.gpu_name = "a100-sxm-40gb", .repetitions = 10};
  gpp_errctx err = {0};
  cr_assert_eq(gpp_profile_db_write(path, &meta, rows, n, &err), 0, "%s",
               err.msg);
  free(rows);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

Test(sweep, jitter_draws_match_the_profile_percentiles) {
  gpp_model *m;
  gpp_cluster *c;
  gpp_costs *costs;
  gpp_profile_db *db;
  gpp_errctx err = {0};
  char path[300];
  snprintf(path, sizeof path, "%s/spread.h5", dir);
  cr_assert_eq(gpp_model_load(repo_path("configs/models/synthetic.yaml"),
                              NULL, 0, &m, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_cluster_load(repo_path("configs/clusters/pcie-box.yaml"),
                                &c, &err), 0, "%s", err.msg);
  spread_profile(m, path);
  cr_assert_eq(gpp_profile_db_open(path, &db, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_costs_create(m, &c->gpu, db, &costs, &err), 0, "%s",
               err.msg);
  enum { N = 20000 };
  uint32_t op = 1; /* the first profiled op after the input */
  cr_assert_eq(costs->source[op], GPP_COST_PROFILE);
  cr_assert_eq(costs->source[0], GPP_COST_MODEL); /* an input */
  double *scale = calloc(2 * m->n_ops, sizeof *scale);
  double *f = calloc(N, sizeof *f), *b = calloc(N, sizeof *b);
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(rng, 11);
  for (int k = 0; k < N; k++) {
    gpp__sweep_jitter_draw(costs, rng, scale);
    f[k] = scale[2 * op];
    b[k] = scale[2 * op + 1];
    cr_assert_eq(scale[0], 1); /* unmeasured ops keep their time */
  }
  qsort(f, N, sizeof *f, cmp_double);
  qsort(b, N, sizeof *b, cmp_double);
  cr_assert_float_eq(f[N / 10], 0.9, 0.01);
  cr_assert_float_eq(f[N / 2], 1.0, 0.01);
  cr_assert_float_eq(f[9 * N / 10], 1.2, 0.01);
  cr_assert_float_eq(b[N / 10], 0.9, 0.01); /* the same ratios */
  cr_assert_float_eq(b[9 * N / 10], 1.2, 0.01);
  gsl_rng_free(rng);
  free(scale);
  free(f);
  free(b);
  gpp_costs_destroy(costs);
  gpp_profile_db_destroy(db);
  gpp_cluster_destroy(c);
  gpp_model_destroy(m);
}
