/* bench_planner.c -- the planners' search at two scales.
 *
 * Default (paper Table 1): search time of GraphPipe, PipeDream and Piper on
 * the paper's MMT, DLRM and CANDLE-Uno at 4, 8, 16 and 32 GPUs of the
 * Summit-like cluster, with the ratio of each baseline's time to
 * GraphPipe's (paper Table 1: GraphPipe at least 9x faster, under a minute;
 * target here: GraphPipe under 1 s everywhere).  "pd-ref" is PipeDream's
 * recurrence as its paper writes it, without our exact cuts (the planner's
 * `exhaustive` option), closer to what the paper's ratios were measured
 * against than our PipeDream is.  A planner that finds no plan (Piper over
 * its ideals limit) is reported as such.  Each time is the least of
 * `repeats` runs, as other work on the machine only adds.  --table1
 * prints the same columns as CSV at the points of `gppsim reproduce`'s
 * fig6 (32 samples per GPU), REPRODUCTION.md's Table 1.
 *
 * --scale (issue 16): gpt, mmt and dlrm on 64, 128, ... GPUs of a
 * 16,384-GPU DGX H100 cluster (configs/clusters/dgx-h100.yaml with 2,048
 * nodes), 8 samples per GPU, GraphPipe and PipeDream: the planner's set-up
 * (the communication fit on that cluster, gpp_study_input), its search
 * time and states, its iteration estimate, the chosen plan simulated by
 * the engine, and the estimate's error against it.  One run per row (the
 * large rows take minutes).  Configs are found as by gppsim (as given,
 * under the source tree, or embedded). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_cli.h"
#include "kernels_profile/cost.h"
#include "planner/planner.h"
#include "planner/study.h"
#include "sim/common/yaml.h"
#include "topology/topology.h"

static const char *const models[] = {"mmt", "dlrm", "candle_uno"};
static const uint32_t gpu_counts[] = {4, 8, 16, 32};
/* Columns: planner and whether it runs without cuts. */
static const struct {
  const char *label, *planner;
  bool exhaustive;
} columns[] = {{"graphpipe", "graphpipe", false},
               {"pipedream", "pipedream", false},
               {"pd-ref", "pipedream", true},
               {"piper", "piper", false}};
#define N_COLUMNS (sizeof columns / sizeof *columns)

static int repeats = 3;
/* --table1: the batch is per_gpu samples per GPU, rows are CSV. */
static uint32_t per_gpu;

static int op_time(void *ctx, uint32_t op, uint32_t b, double *f, double *bw,
                   gpp_errctx *err) {
  (void)err;
  gpp_op_cost c = gpp_costs_op(ctx, op, (double)b);
  *f = c.fwd;
  *bw = c.bwd;
  return 0;
}

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Search seconds (--table1: CPU seconds, as the machine may be shared),
 * or a negative value when no plan was found. */
static double time_once(const gpp_planner_type *t, gpp_planner_input *in,
                        bool exhaustive, uint64_t *states) {
  gpp_planner_options o;
  gpp_planner_result r;
  gpp_errctx err = {0};
  gpp_planner_options_default(&o);
  o.exhaustive = exhaustive;
  double c0 = cpu_s();
  int rc = gpp_planner_run(t, in, &o, &r, &err);
  double secs = per_gpu ? cpu_s() - c0 : r.search_seconds;
  *states = r.states;
  gpp_planner_result_free(&r);
  return rc == 0 ? secs : -secs - 1e-12;
}

/* The least search time of `repeats` runs (same sign convention). */
static double time_planner(const char *name, bool exhaustive,
                           gpp_planner_input *in, uint64_t *states) {
  const gpp_planner_type *t;
  gpp_errctx err = {0};
  gpp_planner_find(name, &t, &err);
  double best = time_once(t, in, exhaustive, states);
  for (int i = 1; i < repeats; i++) {
    double s = time_once(t, in, exhaustive, states);
    if (fabs(s) < fabs(best)) best = s;
  }
  return best;
}

/* Every column's least search time (negative: no plan) and states. */
static void time_columns(const char *path, gpp_model *m, gpp_costs *costs,
                         gpp_cluster *cl, uint32_t batch, uint32_t gpus,
                         double secs[], uint64_t states[]) {
  gpp_planner_input in = {.model = m, .model_path = path, .batch = batch,
                          .n_gpus = gpus, .mem_bytes = cl->gpu.mem_bytes,
                          .op_time = op_time, .op_time_ctx = costs};
  gpp_errctx err = {0};
  gpp_planner_comm_fit(cl, gpus, &in.comm, &err);
  for (size_t p = 0; p < N_COLUMNS; p++)
    secs[p] = time_planner(columns[p].planner, columns[p].exhaustive, &in,
                           &states[p]);
}

static void bench_one(const char *model, const char *path, gpp_model *m,
                      gpp_costs *costs, gpp_cluster *cl, uint32_t batch,
                      uint32_t gpus) {
  double secs[N_COLUMNS];
  uint64_t states[N_COLUMNS];
  time_columns(path, m, costs, cl, batch, gpus, secs, states);
  if (per_gpu) {
    for (size_t p = 0; p < N_COLUMNS; p++)
      printf("%s,%u,%u,%s,%.6g,%llu,%s\n", model, gpus, batch,
             columns[p].label, fabs(secs[p]), (unsigned long long)states[p],
             secs[p] < 0 ? "no_plan" : "ok");
    fflush(stdout);
    return;
  }
  printf("%-11s %4u", model, gpus);
  for (size_t p = 0; p < N_COLUMNS; p++) {
    if (secs[p] < 0) printf("  %9s %10s", "no plan", "-");
    else printf("  %9.4f %10llu", secs[p], (unsigned long long)states[p]);
  }
  for (size_t p = 1; p < N_COLUMNS; p++) {
    if (secs[p] < 0 || secs[0] <= 0) printf("  %12s", "-");
    else printf("  %11.1fx", secs[p] / secs[0]);
  }
  printf("\n");
  fflush(stdout);
}

static const char usage[] =
    "usage: bench_planner [BATCH [REPEATS]]   (defaults 128 and 3)\n"
    "       bench_planner --table1 [REPEATS]     (CSV, 32 samples per GPU)\n"
    "       bench_planner --scale --help         (64 to 16,384 GPUs)\n"
    "Search time of each planner on MMT, DLRM and CANDLE-Uno at 4, 8, 16\n"
    "and 32 GPUs of the Summit-like cluster (Release build), and each\n"
    "baseline's time over GraphPipe's.  pd-ref: PipeDream without cuts.\n"
    "--table1: the points of gppsim reproduce's fig6 (32 samples per GPU)\n"
    "as CSV rows model,gpus,batch,planner,seconds,states,status (CPU\n"
    "seconds of the search) for\n"
    "plots/reproduction_md.py (DIR/table1_search.csv).\n";

/* A whole positive decimal argument, at most hi; 0 when it is not. */
static long positive(const char *text, long hi) {
  char *end;
  long v = strtol(text, &end, 10);
  return end != text && *end == '\0' && v > 0 && v <= hi ? v : 0;
}

/* 0: go on; otherwise as bench_cli. */
static int parse_args(int argc, char **argv, uint32_t *batch) {
  int rc = bench_cli(argc, argv, 2, usage);
  if (rc != 0) return rc;
  bool t1 = argc > 1 && strcmp(argv[1], "--table1") == 0;
  if (t1) per_gpu = 32;
  long b = t1 ? 32 : argc > 1 ? positive(argv[1], 1L << 20) : 128;
  long r = argc > 2 ? positive(argv[2], 1000) : repeats;
  const char *why = b == 0   ? "BATCH: a whole number from 1 to 1048576"
                    : r == 0 ? "REPEATS: a whole number from 1 to 1000"
                             : NULL;
  if (why) {
    fprintf(stderr, "%s: %s\n%s", argv[0], why, usage);
    return 2;
  }
  *batch = (uint32_t)b;
  repeats = (int)r;
  return 0;
}

static void print_header(uint32_t batch) {
  printf("batch %u; seconds (least of %d runs) and states per planner; "
         "ratio = baseline time / GraphPipe time\n", batch, repeats);
  printf("%-11s %4s", "model", "gpus");
  for (size_t p = 0; p < N_COLUMNS; p++)
    printf("  %9s %10s", columns[p].label, "states");
  for (size_t p = 1; p < N_COLUMNS; p++) {
    char label[32];
    snprintf(label, sizeof label, "%s/GP", columns[p].label);
    printf("  %12s", label);
  }
  printf("\n");
}

/* ---- --scale: set-up, search and estimate error at 64..16,384 GPUs ---- */

static const char *const scale_models[] = {"gpt", "mmt", "dlrm"};
/* gp-plain: GraphPipe without its stage modes (--no-stage-modes), the
 * search as it was before them. */
static const char *const scale_planners[] = {"graphpipe", "gp-plain",
                                             "pipedream"};
#define N_SCALE_PLANNERS 3
#define SCALE_NODES 2048u /* x 8 GPUs: 16,384 */
#define SAMPLES_PER_GPU 8u

typedef struct scale_args {
  uint32_t max_gpus, pd_max, sim_max;
  const char *models; /* "gpt,dlrm" or NULL: which rows (default all) */
} scale_args;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* dgx-h100.yaml with its `nodes:` line set to SCALE_NODES. */
static int load_big_cluster(gpp_cluster **out, gpp_errctx *err) {
  char *text = NULL, *big = NULL;
  size_t len;
  GPP_TRY(gpp_read_input_file("configs/clusters/dgx-h100.yaml", &text, &len,
                              err));
  char *at = strstr(text, "\nnodes:");
  char *eol = at ? strchr(at + 1, '\n') : NULL;
  int rc = at && eol ? 0 : GPP_ERR(err, GPP_EINVAL, "dgx-h100.yaml has no "
                                   "nodes: line");
  if (rc == 0 && (big = gpp_calloc(err, len + 32, 1)) == NULL)
    rc = err->code;
  if (rc == 0) {
    snprintf(big, len + 32, "%.*s\nnodes: %u%s", (int)(at - text), text,
             SCALE_NODES, eol);
    rc = gpp_cluster_from_string("dgx-h100 x 2048", big, out, err);
  }
  free(big);
  free(text);
  return rc;
}

/* One planner on one row: set-up, search, estimate and simulation. */
static void scale_cell(const char *planner, const char *path, gpp_model *m,
                       gpp_costs *costs, gpp_cluster *cl, uint32_t gpus,
                       bool simulate) {
  const gpp_planner_type *t;
  gpp_errctx err = {0};
  bool plain = strcmp(planner, "gp-plain") == 0;
  gpp_planner_find(plain ? "graphpipe" : planner, &t, &err);
  gpp_planner_input in;
  double t0 = now_s();
  int rc = gpp_study_input(m, path, cl, costs, SAMPLES_PER_GPU * gpus, gpus,
                           &in, &err);
  double setup = now_s() - t0;
  gpp_planner_options o;
  gpp_planner_options_default(&o);
  o.no_stage_modes = plain;
  gpp_study_point pt;
  gpp_engine_opts eo = {.allow_oom = true};
  double c0 = cpu_s();
  if (rc == 0 && simulate)
    rc = gpp_study_run(t, &in, &o, costs, cl, 0, &eo, &pt, &err);
  else if (rc == 0)
    rc = gpp_planner_run(t, &in, &o, &pt.res, &err);
  printf("  %-9s %7.3f", planner, setup);
  if (rc != 0) {
    printf("  %s\n", err.msg);
    fflush(stdout);
    if (simulate) gpp_study_point_free(&pt);
    else gpp_planner_result_free(&pt.res);
    return;
  }
  const gpp_planner_candidate *c = &pt.res.cands[0];
  printf(" %9.3f %10llu %10.5f", pt.res.search_seconds,
         (unsigned long long)pt.res.states, c->iteration);
  if (simulate) {
    double sim = pt.sim->iteration_time;
    printf(" %10.5f %+7.2f%%%s", sim, 100 * (c->iteration - sim) / sim,
           pt.sim->oom ? " oom" : "");
    gpp_study_point_free(&pt);
  } else {
    printf(" %10s %8s", "-", "-");
    gpp_planner_result_free(&pt.res);
  }
  printf("  (cpu %.3f s)\n", cpu_s() - c0);
  fflush(stdout);
}

static int scale_model(const char *name, gpp_cluster *cl, const scale_args *a,
                       gpp_errctx *err) {
  char path[256];
  snprintf(path, sizeof path, "configs/models/%s.yaml", name);
  gpp_model *m = NULL;
  gpp_costs *costs = NULL;
  int rc = gpp_model_load(path, NULL, 0, &m, err);
  if (rc == 0) rc = gpp_costs_create(m, &cl->gpu, NULL, &costs, err);
  for (uint32_t g = 64; rc == 0 && g <= a->max_gpus; g *= 2) {
    printf("%-5s %6u %7u\n", name, g, SAMPLES_PER_GPU * g);
    for (int p = 0; p < N_SCALE_PLANNERS; p++)
      if (p < 2 || g <= a->pd_max)
        scale_cell(scale_planners[p], path, m, costs, cl, g,
                   g <= a->sim_max);
  }
  gpp_costs_destroy(costs);
  gpp_model_destroy(m);
  return rc;
}

static const char scale_usage[] =
    "usage: bench_planner --scale [MAX_GPUS [PD_MAX [SIM_MAX [MODELS]]]]\n"
    "  (defaults 16384, 1024, 4096 and gpt,mmt,dlrm)\n"
    "gpt, mmt and dlrm on 64, 128, ... MAX_GPUS GPUs of a 16,384-GPU DGX\n"
    "H100 cluster, 8 samples per GPU: per planner the set-up (communication\n"
    "fit) and search seconds, states, the iteration estimate, the simulated\n"
    "iteration of the chosen plan (up to SIM_MAX GPUs) and the estimate's\n"
    "error; PipeDream up to PD_MAX GPUs.  gp-plain: GraphPipe with\n"
    "--no-stage-modes (the search before its stage modes).  MODELS: a\n"
    "comma-separated subset of gpt,mmt,dlrm (e.g. dlrm for its rows alone).\n";

/* Whether MODELS (NULL: all) names `name`. */
static bool scale_wanted(const char *which, const char *name) {
  size_t n = strlen(name);
  for (const char *s = which; s; s = strchr(s, ',') ? strchr(s, ',') + 1 : NULL)
    if (strncmp(s, name, n) == 0 && (s[n] == ',' || s[n] == '\0')) return true;
  return which == NULL;
}

/* MODELS names only scale_models, at least one. */
static bool scale_models_ok(const char *which) {
  size_t named = 0, items = 1;
  for (const char *s = which; *s; s++) items += *s == ',';
  for (size_t i = 0; i < sizeof scale_models / sizeof *scale_models; i++)
    named += scale_wanted(which, scale_models[i]);
  return named > 0 && named == items;
}

static int scale_parse(int argc, char **argv, scale_args *a) {
  int rc = bench_cli(argc, argv, 5, scale_usage);
  if (rc != 0) return rc;
  const char *which = argc > 5 ? argv[5] : NULL;
  if (which && !scale_models_ok(which)) {
    fprintf(stderr, "%s: %s: MODELS is a comma-separated subset of "
            "gpt,mmt,dlrm\n%s", argv[0], which, scale_usage);
    return 2;
  }
  long v[3] = {16384, 1024, 4096};
  for (int i = 2; i < argc && i < 5; i++) {
    v[i - 2] = positive(argv[i], GPP_MAX_GPUS);
    if (v[i - 2] == 0) {
      fprintf(stderr, "%s: %s: a whole number from 1 to %u\n%s", argv[0],
              argv[i], GPP_MAX_GPUS, scale_usage);
      return 2;
    }
  }
  *a = (scale_args){(uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2], which};
  return 0;
}

static int scale_main(int argc, char **argv) {
  scale_args a;
  int rc = scale_parse(argc, argv, &a);
  if (rc != 0) return bench_cli_exit(rc);
  gpp_errctx err = {0};
  gpp_cluster *cl = NULL;
  double t0 = now_s();
  if (load_big_cluster(&cl, &err) != 0) {
    fprintf(stderr, "bench_planner: %s\n", err.msg);
    return 1;
  }
  printf("cluster %s: %u GPUs, loaded in %.3f s; one run per cell; "
         "seconds; error = (estimate - simulated) / simulated\n",
         cl->name, cl->n_gpus, now_s() - t0);
  printf("%-5s %6s %7s\n  %-9s %7s %9s %10s %10s %10s %8s\n", "model",
         "gpus", "batch", "planner", "setup", "search", "states",
         "estimate", "simulated", "error");
  for (size_t i = 0; i < sizeof scale_models / sizeof *scale_models; i++)
    if (scale_wanted(a.models, scale_models[i]) &&
        scale_model(scale_models[i], cl, &a, &err) != 0) {
      fprintf(stderr, "bench_planner: %s\n", err.msg);
      gpp_cluster_destroy(cl);
      return 1;
    }
  gpp_cluster_destroy(cl);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--scale") == 0)
    return scale_main(argc, argv);
  uint32_t batch;
  int rc = parse_args(argc, argv, &batch);
  if (rc != 0) return bench_cli_exit(rc);
  gpp_errctx err = {0};
  gpp_cluster *cl = NULL;
  if (gpp_cluster_load("configs/clusters/summit.yaml", &cl, &err) != 0) {
    fprintf(stderr, "bench_planner: %s\n", err.msg);
    return 1;
  }
  if (per_gpu)
    printf("model,gpus,batch,planner,seconds,states,status\n");
  else
    print_header(batch);
  for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
    char path[256];
    snprintf(path, sizeof path, "configs/models/%s.yaml", models[i]);
    gpp_model *m = NULL;
    gpp_costs *costs = NULL;
    if (gpp_model_load(path, NULL, 0, &m, &err) != 0 ||
        gpp_costs_create(m, &cl->gpu, NULL, &costs, &err) != 0) {
      fprintf(stderr, "bench_planner: %s\n", err.msg);
      gpp_model_destroy(m);
      gpp_cluster_destroy(cl);
      return 1;
    }
    for (size_t g = 0; g < sizeof gpu_counts / sizeof *gpu_counts; g++)
      if (gpu_counts[g] <= cl->n_gpus)
        bench_one(models[i], path, m, costs, cl,
                  per_gpu ? per_gpu * gpu_counts[g] : batch, gpu_counts[g]);
    gpp_costs_destroy(costs);
    gpp_model_destroy(m);
  }
  gpp_cluster_destroy(cl);
  return 0;
}
