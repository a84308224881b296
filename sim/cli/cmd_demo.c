/* cmd_demo.c -- `gppsim demo`: the main job.  With no arguments and no files
 * to hand it runs a small but real study -- the bundled MMT model on the
 * bundled Summit-like cluster at 16 GPUs with every planner -- simulates
 * each plan, prints one comparison table (or JSON), writes each plan with
 * its HDF5 results and Chrome trace into an output folder and draws the
 * timeline and memory plots with the scripts in plots/.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernels_profile/cost.h"
#include "planner/planner.h"
#include "planner/study.h"
#include "sim/cli/cli.h"
#include "sim/common/outfile.h"
#include "sim/common/arena.h"
#include "sim/common/bundle.h"
#include "sim/common/limits.h"
#include "sim/common/yaml.h"
#include "sim/engine/engine.h"
#include "sim/plan/plan.h"
#include "sim/cli/python.h"
#include "sim/engine/results.h"
#include "topology/topology.h"

#define DEMO_MAX_PLANNERS 8
#define DEMO_PATH_MAX 4096

typedef struct demo_args {
  const char *out, *model, *cluster;
  long gpus, batch;
  int json;
} demo_args;

/* One planner's outcome: a simulated plan, or the reason it has none. */
typedef struct demo_row {
  const gpp_planner_type *type;
  gpp_study_point pt;
  int found;
  char reason[GPP_ERRMSG_MAX + 16];
  double peak_mem; /* bytes, max over devices */
} demo_row;

typedef struct demo_run {
  demo_args a;
  char model_path[DEMO_PATH_MAX], cluster_path[DEMO_PATH_MAX];
  gpp_model *model;
  gpp_cluster *cluster;
  gpp_costs *costs;
  gpp_planner_input in;
  gpp_planner_options opt;
  demo_row rows[DEMO_MAX_PLANNERS];
  uint32_t n_rows;
  int plotted; /* both plots drawn */
  gpp_errctx err;
} demo_run;

static void usage(FILE *f) {
  fprintf(f,
      "usage: gppsim demo [--out DIR] [--json] [--gpus N] [--model M]\n"
      "                   [--cluster C] [--batch B]\n\n"
      "Runs a small study with no files to hand: plans MMT (the GraphPipe\n"
      "paper's multi-modal Transformer) on the Summit-like cluster at 16\n"
      "GPUs with every planner (graphpipe, pipedream, piper), simulates each\n"
      "plan and prints stages/depth, micro-batch, throughput, iteration\n"
      "time, bubble fraction, peak memory, search time and speed-up over\n"
      "PipeDream.  Writes into DIR each plan (PLANNER-plan.yaml), its HDF5\n"
      "results (PLANNER.h5) and Chrome trace (PLANNER-trace.json), and, with\n"
      "/usr/bin/python3 (or $GPP_PYTHON) with matplotlib and h5py,\n"
      "timeline.png and memory.png; without them the table still comes out.\n\n"
      "  --out DIR      output folder (default ./gppsim-demo)\n"
      "  --json         the table as JSON on stdout\n"
      "  --gpus N       GPUs used, the cluster's first N (default 16)\n"
      "  --model M      a model file, or a bundled name (default mmt)\n"
      "  --cluster C    a cluster file, or a bundled name (default summit)\n"
      "  --batch B      samples per iteration (default 128)\n\n"
      "Bundled names are files in configs/models and configs/clusters of\n"
      "the source tree (GPP_SOURCE_DIR), else the copies built into gppsim,\n"
      "which also holds the plot scripts.  Progress goes to stderr.\n"
      "Exit status: 0 success, 1 internal failure, 2 bad input, 3 no\n"
      "planner found a plan.\n");
}

static int parse_opt(demo_args *a, int c, const char *arg) {
  switch (c) {
  case 'o': a->out = arg; return 0;
  case 'm': a->model = arg; return 0;
  case 'c': a->cluster = arg; return 0;
  case 'j': a->json = 1; return 0;
  case 'g': return gpp_cli_parse_long("demo", "gpus", arg, 1, GPP_MAX_GPUS,
                                      &a->gpus);
  case 'b':
    return gpp_cli_parse_long("demo", "batch", arg, 1, 1 << 20, &a->batch);
  default: return gpp_cli_usage_error("demo", "bad option");
  }
}

/* Returns -1 after --help, else an exit status (0 to go on). */
static int parse_args(int argc, char **argv, demo_args *a) {
  static const struct option opts[] = {
      {"out", required_argument, NULL, 'o'},
      {"json", no_argument, NULL, 'j'},
      {"gpus", required_argument, NULL, 'g'},
      {"model", required_argument, NULL, 'm'},
      {"cluster", required_argument, NULL, 'c'},
      {"batch", required_argument, NULL, 'b'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  *a = (demo_args){"gppsim-demo", "mmt", "summit", 16, 128, 0};
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'h') {
      usage(stdout);
      return -1;
    }
    int rc = parse_opt(a, c, optarg);
    if (rc != 0) return rc;
  }
  if (optind < argc)
    return gpp_cli_usage_error("demo", "unexpected argument '%s'",
                               argv[optind]);
  return 0;
}

static void out_path(const demo_run *r, const char *planner,
                     const char *suffix, char *buf) {
  snprintf(buf, DEMO_PATH_MAX, "%s/%s%s", r->a.out, planner, suffix);
}

static int load_inputs(demo_run *r) {
  GPP_TRY(gpp_input_named("models", r->a.model, r->model_path,
                          sizeof r->model_path, &r->err));
  GPP_TRY(gpp_input_named("clusters", r->a.cluster, r->cluster_path,
                          sizeof r->cluster_path, &r->err));
  fprintf(stderr, "demo: model %s, cluster %s\n", r->model_path,
          r->cluster_path);
  GPP_TRY(gpp_model_load(r->model_path, NULL, 0, &r->model, &r->err));
  GPP_TRY(gpp_cluster_load(r->cluster_path, &r->cluster, &r->err));
  GPP_TRY(gpp_costs_create(r->model, &r->cluster->gpu, NULL, &r->costs,
                           &r->err));
  GPP_TRY(gpp_study_input(r->model, r->model_path, r->cluster, r->costs,
                          (uint32_t)r->a.batch, (uint32_t)r->a.gpus, &r->in,
                          &r->err));
  gpp_planner_options_default(&r->opt);
  return 0;
}

static double peak_memory(const gpp_result *res) {
  double peak = 0;
  for (uint32_t d = 0; d < res->n_devices; d++)
    if (res->devices[d].used && res->devices[d].peak_mem > peak)
      peak = res->devices[d].peak_mem;
  return peak;
}

/* "no plan (N ideals > limit L)" from the planner's "no plan found (...)". */
static void no_plan_reason(demo_row *row, const gpp_errctx *e) {
  static const char prefix[] = "no plan found";
  size_t n = sizeof prefix - 1;
  if (strncmp(e->msg, prefix, n) == 0)
    snprintf(row->reason, sizeof row->reason, "no plan%s", e->msg + n);
  else
    snprintf(row->reason, sizeof row->reason, "no plan: %s", e->msg);
}

static int plan_one(demo_run *r, demo_row *row) {
  gpp_engine_opts eo = {.allow_oom = true, .record = true};
  gpp_errctx e = {0};
  fprintf(stderr, "demo: %s: planning %s on %u GPUs, batch %u\n",
          row->type->name, r->model->name, r->in.n_gpus, r->in.batch);
  int rc = gpp_study_run(row->type, &r->in, &r->opt, r->costs, r->cluster,
                         0, &eo, &row->pt, &e);
  if (rc == GPP_ENOPLAN) {
    no_plan_reason(row, &e);
    fprintf(stderr, "demo: %s: %s\n", row->type->name, row->reason);
    return 0;
  }
  if (rc != 0) {
    r->err = e;
    return rc;
  }
  row->found = 1;
  row->peak_mem = peak_memory(row->pt.sim);
  fprintf(stderr, "demo: %s: simulated, %.6g samples/s\n", row->type->name,
          row->pt.sim->samples_per_s);
  return 0;
}

static int plan_all(demo_run *r) {
  const char *const *names = gpp_planner_names();
  for (uint32_t i = 0; names[i] != NULL && i < DEMO_MAX_PLANNERS; i++) {
    demo_row *row = &r->rows[r->n_rows++];
    GPP_TRY(gpp_planner_find(names[i], &row->type, &r->err));
    GPP_TRY(plan_one(r, row));
  }
  return 0;
}

static int write_results(demo_run *r, const demo_row *row,
                         const char *cluster_text, gpp_plan *plan) {
  char path[DEMO_PATH_MAX];
  const char *plan_text = gpp_plan_format(plan, &r->err);
  if (plan_text == NULL) return r->err.code;
  gpp_results_inputs ri = {plan_text, cluster_text, r->cluster->name};
  out_path(r, row->type->name, ".h5", path);
  GPP_TRY(gpp_results_write_h5(path, plan, row->pt.sim, &ri, &r->err));
  out_path(r, row->type->name, "-trace.json", path);
  return gpp_trace_write(path, plan, row->pt.sim, &r->err);
}

/* PLANNER-plan.yaml, PLANNER.h5 and PLANNER-trace.json. */
static int write_row(demo_run *r, const demo_row *row,
                     const char *cluster_text) {
  char path[DEMO_PATH_MAX];
  const gpp_planner_result *res = &row->pt.res;
  out_path(r, row->type->name, "-plan.yaml", path);
  GPP_TRY(gpp_planner_write_plan(&r->in, &r->opt, res,
                                 &res->cands[row->pt.chosen], path, &r->err));
  gpp_plan *plan = NULL;
  int rc = gpp_plan_load_string(path, row->pt.plan_text, r->model,
                                r->cluster->n_gpus, &plan, &r->err);
  if (rc == 0) rc = write_results(r, row, cluster_text, plan);
  gpp_plan_destroy(plan);
  return rc;
}

static int write_files(demo_run *r) {
  char *cluster_text = NULL;
  size_t len;
  GPP_TRY(gpp_read_input_file(r->cluster_path, &cluster_text, &len, &r->err));
  int rc = 0;
  for (uint32_t i = 0; rc == 0 && i < r->n_rows; i++)
    if (r->rows[i].found) rc = write_row(r, &r->rows[i], cluster_text);
  free(cluster_text);
  return rc;
}

/* Runs plots/SCRIPT.py on the results files into DIR/SCRIPT.png; opt and
 * val (NULL: none) are one more option for the script. */
static int plot(demo_run *r, const char *script, const char *opt,
                const char *val) {
  char py[DEMO_PATH_MAX], png[DEMO_PATH_MAX];
  char h5[DEMO_MAX_PLANNERS][DEMO_PATH_MAX];
  const char *args[DEMO_MAX_PLANNERS + 6];
  int n = 0;
  char name[64];
  snprintf(name, sizeof name, "%s.py", script);
  GPP_TRY(gpp_python_script(name, py, sizeof py, &r->err));
  snprintf(png, sizeof png, "%s/%s.png", r->a.out, script);
  args[n++] = py;
  for (uint32_t i = 0; i < r->n_rows; i++)
    if (r->rows[i].found) {
      out_path(r, r->rows[i].type->name, ".h5", h5[i]);
      args[n++] = h5[i];
    }
  args[n++] = "--out";
  args[n++] = png;
  if (opt != NULL) {
    args[n++] = opt;
    args[n++] = val;
  }
  args[n] = NULL;
  fprintf(stderr, "demo: drawing %s\n", png);
  return gpp_python_run(args, &r->err);
}

/* Draws both plots; without a usable Python, says so and goes on. */
static void plot_all(demo_run *r) {
  char hbm[64];
  snprintf(hbm, sizeof hbm, "%.17g", r->cluster->gpu.mem_bytes);
  int rc = gpp_python_check(&r->err);
  if (rc == 0) rc = plot(r, "timeline", NULL, NULL);
  if (rc == 0) rc = plot(r, "memory", "--hbm", hbm);
  if (rc != 0)
    fprintf(stderr, "demo: no plots: %s\n", r->err.msg);
  gpp_error_clear(&r->err);
  r->plotted = rc == 0;
}
static const demo_row *baseline(const demo_run *r) {
  for (uint32_t i = 0; i < r->n_rows; i++)
    if (r->rows[i].found &&
        strcmp(r->rows[i].type->name, gpp_planner_pipedream.name) == 0)
      return &r->rows[i];
  return NULL;
}

static const gpp_planner_candidate *chosen(const demo_row *row) {
  return &row->pt.res.cands[row->pt.chosen];
}

static void print_row(const demo_row *row, const demo_row *base) {
  if (!row->found) {
    printf("%-10s %-56s %9.3f\n", row->type->name, row->reason,
           row->pt.res.search_seconds);
    return;
  }
  const gpp_planner_candidate *c = chosen(row);
  const gpp_result *s = row->pt.sim;
  char sd[32];
  snprintf(sd, sizeof sd, "%u/%u", c->n_stages, c->depth);
  printf("%-10s %7s %6u %12.2f %10.2f %7.4f %8.2f%s %9.3f", row->type->name,
         sd, c->micro_batch, s->samples_per_s, s->iteration_time * 1e3,
         s->bubble_fraction, row->peak_mem / (1u << 30), s->oom ? "!" : " ",
         row->pt.res.search_seconds);
  if (base) printf(" %8.3fx", s->samples_per_s / base->pt.sim->samples_per_s);
  putchar('\n');
}

static void print_text(const demo_run *r) {
  const demo_row *base = baseline(r);
  printf("%s on %s: %u GPUs (%s), batch %u\n\n", r->model->name,
         r->cluster->name, r->in.n_gpus, r->cluster->gpu.name, r->in.batch);
  printf("%-10s %7s %6s %12s %10s %7s %9s %9s %9s\n", "planner",
         "stages/", "micro", "throughput", "iteration", "bubble", "peak mem",
         "search", "speed-up");
  printf("%-10s %7s %6s %12s %10s %7s %9s %9s %9s\n", "", "depth", "batch",
         "(samples/s)", "(ms)", "", "(GiB)", "(s)", "vs PD");
  for (uint32_t i = 0; i < r->n_rows; i++) print_row(&r->rows[i], base);
  if (baseline(r) == NULL) printf("\n(no PipeDream plan: no speed-up)\n");
  printf("\npeak memory is the maximum over devices; a '!' after it marks a "
         "plan that exceeds the %.0f GiB of a %s\n",
         r->cluster->gpu.mem_bytes / (1u << 30), r->cluster->gpu.name);
  printf("results in %s/%s\n", r->a.out,
         r->plotted ? " (timeline.png, memory.png)" : "");
}

static json_t *json_files(const demo_run *r, const demo_row *row) {
  char p[DEMO_PATH_MAX], h[DEMO_PATH_MAX], t[DEMO_PATH_MAX];
  out_path(r, row->type->name, "-plan.yaml", p);
  out_path(r, row->type->name, ".h5", h);
  out_path(r, row->type->name, "-trace.json", t);
  return json_pack("{s:s, s:s, s:s}", "plan", p, "results", h, "trace", t);
}

static json_t *json_row(const demo_run *r, const demo_row *row,
                        const demo_row *base) {
  if (!row->found)
    return json_pack("{s:s, s:b, s:s, s:f}", "planner", row->type->name,
                     "found", 0, "reason", row->reason, "search_seconds",
                     row->pt.res.search_seconds);
  const gpp_planner_candidate *c = chosen(row);
  const gpp_result *s = row->pt.sim;
  return json_pack(
      "{s:s, s:b, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:b, s:f, s:o, s:o}",
      "planner", row->type->name, "found", 1, "stages", (int)c->n_stages,
      "depth", (int)c->depth, "micro_batch", (int)c->micro_batch,
      "samples_per_s", s->samples_per_s, "iteration_time", s->iteration_time,
      "bubble_fraction", s->bubble_fraction, "peak_mem_bytes", row->peak_mem,
      "oom", (int)s->oom, "search_seconds", row->pt.res.search_seconds,
      "speedup_vs_pipedream",
      base ? json_real(s->samples_per_s / base->pt.sim->samples_per_s)
           : json_null(),
      "files", json_files(r, row));
}

static int print_json(demo_run *r) {
  json_t *rows = json_array();
  for (uint32_t i = 0; rows && i < r->n_rows; i++)
    json_array_append_new(rows, json_row(r, &r->rows[i], baseline(r)));
  json_t *doc = json_pack(
      "{s:s, s:s, s:s, s:i, s:i, s:f, s:s, s:b, s:o}", "model",
      r->model->name, "cluster", r->cluster->name, "gpu",
      r->cluster->gpu.name, "gpus", (int)r->in.n_gpus, "batch",
      (int)r->in.batch, "device_memory_bytes", r->cluster->gpu.mem_bytes,
      "out", r->a.out, "plots", r->plotted, "planners", rows);
  if (doc == NULL)
    GPP_RAISE(&r->err, GPP_ENOMEM, "cannot build the JSON");
  json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  putchar('\n');
  json_decref(doc);
  return 0;
}

static uint32_t n_found(const demo_run *r) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < r->n_rows; i++) n += r->rows[i].found != 0;
  return n;
}

static int demo_main(demo_run *r) {
  GPP_TRY(load_inputs(r));
  GPP_TRY(gpp_outdir_make(r->a.out, &r->err)); /* before planning */
  GPP_TRY(plan_all(r));
  GPP_TRY(write_files(r));
  if (n_found(r) > 0) plot_all(r);
  if (r->a.json) GPP_TRY(print_json(r));
  else print_text(r);
  if (n_found(r) == 0)
    GPP_RAISE(&r->err, GPP_ENOPLAN, "no planner found a plan for %s on %u "
              "GPUs", r->model->name, r->in.n_gpus);
  return 0;
}

int gpp_cmd_demo(int argc, char **argv) {
  demo_run *r = calloc(1, sizeof *r);
  if (r == NULL) {
    fprintf(stderr, "gppsim demo: out of memory\n");
    return 1;
  }
  int rc = parse_args(argc, argv, &r->a);
  if (rc == 0) {
    rc = demo_main(r);
    rc = rc == 0 ? 0 : gpp_cli_fail(&r->err);
  }
  for (uint32_t i = 0; i < r->n_rows; i++)
    gpp_study_point_free(&r->rows[i].pt);
  gpp_costs_destroy(r->costs);
  gpp_cluster_destroy(r->cluster);
  gpp_model_destroy(r->model);
  free(r);
  return rc < 0 ? 0 : rc;
}
