/* cmd_plan.c -- `gppsim plan`: loads a model and a cluster, runs a planner,
 * optionally re-ranks its best candidates by full simulation (--refine K),
 * prints the planner's estimate, search time and states explored (or
 * JSON), and writes the chosen plan. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernels_profile/cost.h"
#include "kernels_profile/profile_db.h"
#include "planner/explain.h"
#include "planner/planner.h"
#include "planner/study.h"
#include "sim/cli/cli.h"
#include "sim/common/bundle.h"
#include "sim/common/outfile.h"
#include "sim/engine/engine.h"
#include "topology/topology.h"

typedef struct plan_args {
  const char *model, *cluster, *planner, *out, *precision, *profile;
  long batch, gpus, refine, micro_batch, max_stages, max_stage_devices;
  int json, per_stage, explain, no_modes;
} plan_args;

typedef struct plan_run {
  plan_args a;
  char model_path[GPP_INPUT_PATH_MAX], cluster_path[GPP_INPUT_PATH_MAX];
  gpp_model *model;
  gpp_cluster *cluster;
  gpp_profile_db *profile;
  gpp_costs *costs;
  gpp_planner_input in;
  gpp_planner_options opt;
  gpp_study_point pt;
  gpp_errctx err;
} plan_run;

/* Candidates simulated unless --refine says otherwise: every planner keeps
 * one per micro-batch size (at most ~10 powers of two), and each replay
 * costs far less than the search at the sizes benchmarked. */
#define PLAN_REFINE_DEFAULT 8u

static void usage(FILE *f) {
  fprintf(f,
      "usage: gppsim plan --model M --cluster C --batch B\n"
      "                   [--planner graphpipe|pipedream|piper] [--gpus N]\n"
      "                   [--out plan.yaml] [--refine K] [--json] [--explain]\n"
      "                   [--micro-batch b] [--per-stage-micro-batch]\n"
      "                   [--max-stages S] [--max-stage-devices D]\n"
      "                   [--no-stage-modes]\n"
      "                   [--precision fp32|tf32|fp16|bf16|fp8|mixed|full]\n"
      "                   [--profile DB.h5]\n\n"
      "Searches a partition of the model over the cluster's GPUs and prints\n"
      "the planner's estimate (bottleneck time per sample, iteration time:\n"
      "(m + D - 1) * b * TPS on uniform stages, plus the all-reduce and\n"
      "optimizer step that end last), its search time and the states it\n"
      "explored.\n"
      "The planner keeps its best plan per micro-batch size (candidates);\n"
      "--refine K (default %u, 0: none) simulates the K with the best\n"
      "estimates and keeps the fastest that fits: the chosen plan is the\n"
      "fastest of those simulated.  --explain lists the candidates with\n"
      "their per-stage estimated time and memory and simulated time.\n"
      "--per-stage-micro-batch (GraphPipe, paper Fig. 5) adds candidates\n"
      "whose stages pick their own micro-batch size up to each size.\n"
      "Each planner also picks each stage's mode: a tensor-parallel degree\n"
      "(2, 4 or 8 GPUs inside a node) where that is faster, and sharding\n"
      "(optimizer, gradients, full) and recompute (selective, full) where\n"
      "the stage does not fit without them, in a second search whose plan\n"
      "joins the plain one's as a candidate; --no-stage-modes keeps every\n"
      "stage at tensor 1, sharding none, recompute none.\n"
      "--precision trains in that dtype instead of the model file's (the\n"
      "table is in configs/experiments/plans/README.md); the plan records it.\n"
      "--profile plans (and refines) with the op costs measured by\n"
      "gppsim-profile instead of the kernel model where it has them.\n"
      "M and C are files or bundled names (`gppsim plan --model mmt\n"
      "--cluster summit`); --gpus and --max-stage-devices go up to %u.\n"
      "Exit status: 0 plan found, 2 bad input, 3 no plan found.\n",
      PLAN_REFINE_DEFAULT, GPP_MAX_GPUS);
}

static const struct option long_opts[] = {
    {"model", required_argument, NULL, 'm'},
    {"cluster", required_argument, NULL, 'c'},
    {"batch", required_argument, NULL, 'b'},
    {"planner", required_argument, NULL, 'p'},
    {"gpus", required_argument, NULL, 'g'},
    {"out", required_argument, NULL, 'o'},
    {"refine", required_argument, NULL, 'r'},
    {"json", no_argument, NULL, 'j'},
    {"explain", no_argument, NULL, 'e'},
    {"micro-batch", required_argument, NULL, 'u'},
    {"per-stage-micro-batch", no_argument, NULL, 'P'},
    {"no-stage-modes", no_argument, NULL, 'N'},
    {"max-stages", required_argument, NULL, 'S'},
    {"max-stage-devices", required_argument, NULL, 'D'},
    {"precision", required_argument, NULL, 'x'},
    {"profile", required_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static int num(const char *opt, const char *arg, long hi, long *out) {
  return gpp_cli_parse_long("plan", opt, arg, 1, hi, out);
}

static int parse_opt(plan_args *a, int c, const char *arg) {
  switch (c) {
  case 'm': a->model = arg; return 0;
  case 'c': a->cluster = arg; return 0;
  case 'p': a->planner = arg; return 0;
  case 'o': a->out = arg; return 0;
  case 'f': a->profile = arg; return 0;
  case 'j': a->json = 1; return 0;
  case 'e': a->explain = 1; return 0;
  case 'P': a->per_stage = 1; return 0;
  case 'N': a->no_modes = 1; return 0;
  case 'x':
    a->precision = arg;
    return gpp_precision_from_name(arg) >= 0 ? 0
           : gpp_cli_usage_error("plan", "unknown --precision '%s'; expected "
                                 "fp32, tf32, fp16, bf16, fp8, mixed or full",
                                 arg);
  case 'b': return num("batch", arg, 1 << 20, &a->batch);
  case 'g': return num("gpus", arg, GPP_MAX_GPUS, &a->gpus);
  case 'r':
    return gpp_cli_parse_long("plan", "refine", arg, 0, 64, &a->refine);
  case 'u': return num("micro-batch", arg, 1 << 20, &a->micro_batch);
  case 'S': return num("max-stages", arg, 255, &a->max_stages);
  case 'D':
    return num("max-stage-devices", arg, GPP_MAX_GPUS,
               &a->max_stage_devices);
  default: return gpp_cli_usage_error("plan", "unknown option");
  }
}

/* Returns -1 after --help, else an exit status (0 to go on). */
static int parse_args(int argc, char **argv, plan_args *a) {
  memset(a, 0, sizeof *a);
  a->planner = "graphpipe";
  a->refine = PLAN_REFINE_DEFAULT;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
    if (c == 'h') {
      usage(stdout);
      return -1;
    }
    if (c == '?') return gpp_cli_usage_error("plan", "bad option");
    int rc = parse_opt(a, c, optarg);
    if (rc != 0) return rc;
  }
  if (optind < argc)
    return gpp_cli_usage_error("plan", "unexpected argument '%s'",
                               argv[optind]);
  if (!a->model || !a->cluster || !a->batch)
    return gpp_cli_usage_error("plan", "--model, --cluster and --batch are "
                               "required");
  return 0;
}

/* Progress on stderr: redrawn on a terminal, else a line every 5 s. */
static void progress(void *ctx, const char *who, double fraction) {
  static time_t last;
  time_t now = time(NULL);
  (void)ctx;
  if (isatty(2)) {
    fprintf(stderr, "\r%s: %3.0f%%", who, 100 * fraction);
    if (fraction >= 1) fputc('\n', stderr);
  } else if (last == 0 || now - last >= 5) {
    fprintf(stderr, "%s: %.0f%% searched\n", who, 100 * fraction);
  } else {
    return;
  }
  if (last == 0 || !isatty(2)) last = now;
}

static int load_inputs(plan_run *r) {
  gpp_precision pr = r->a.precision
                        ? (gpp_precision)gpp_precision_from_name(r->a.precision)
                        : GPP_PREC_FULL;
  GPP_TRY(gpp_input_named("models", r->a.model, r->model_path,
                          sizeof r->model_path, &r->err));
  GPP_TRY(gpp_input_named("clusters", r->a.cluster, r->cluster_path,
                          sizeof r->cluster_path, &r->err));
  GPP_TRY(gpp_model_load_as(r->model_path, NULL, 0,
                            gpp_precision_model_dtype(pr), &r->model,
                            &r->err));
  GPP_TRY(gpp_cluster_load(r->cluster_path, &r->cluster, &r->err));
  GPP_TRY(gpp_costs_open(r->model, &r->cluster->gpu, r->a.profile,
                         &r->profile, &r->costs, &r->err));
  return gpp_study_input(r->model, r->model_path, r->cluster, r->costs,
                         (uint32_t)r->a.batch, (uint32_t)r->a.gpus, &r->in,
                         &r->err);
}

static void set_options(plan_run *r) {
  gpp_planner_options_default(&r->opt);
  r->opt.micro_batch = (uint32_t)r->a.micro_batch;
  r->opt.per_stage_micro_batch = r->a.per_stage;
  r->opt.no_stage_modes = r->a.no_modes;
  r->opt.max_stages = (uint32_t)r->a.max_stages;
  r->opt.max_stage_devices = (uint32_t)r->a.max_stage_devices;
  r->opt.progress = progress;
}

static void print_text(const plan_run *r) {
  const gpp_planner_result *res = &r->pt.res;
  const gpp_planner_candidate *c = &res->cands[r->pt.chosen];
  const gpp_result *sim = r->pt.sim;
  printf("planner           %s\n", res->planner);
  printf("stages            %u (depth %u, schedule %s) on %u of %u GPUs\n",
         c->n_stages, c->depth, c->schedule, c->devices_used, r->in.n_gpus);
  printf("micro-batch       %u of batch %u\n", c->micro_batch, r->in.batch);
  printf("bottleneck TPS    %.6g s/sample (estimate)\n", c->tps);
  printf("iteration         %.6g s (estimate), %.6g samples/s\n",
         c->iteration, c->iteration > 0 ? r->in.batch / c->iteration : 0);
  printf("simulated         %.6g s, %.6g samples/s%s", sim->iteration_time,
         sim->samples_per_s, sim->oom ? " (does not fit in memory)" : "");
  if (r->pt.n_simulated)
    printf(" (fastest of %u simulated)", r->pt.n_simulated);
  putchar('\n');
  printf("candidates        %u (best plan per micro-batch size; --explain)\n",
         res->n_cands);
  printf("search time       %.3f s\n", res->search_seconds);
  printf("states explored   %llu\n", (unsigned long long)res->states);
  if (r->a.out) printf("plan              %s\n", r->a.out);
  if (r->a.explain)
    gpp_explain_text(stdout, &r->in, &r->pt, r->cluster->gpu.mem_bytes);
}

static void print_json(const plan_run *r) {
  const gpp_planner_result *res = &r->pt.res;
  const gpp_planner_candidate *c = &res->cands[r->pt.chosen];
  json_t *o = json_pack(
      "{s:s, s:i, s:i, s:s, s:i, s:i, s:f, s:f, s:f, s:f, s:b, s:f, s:I}",
      "planner", res->planner, "stages", (json_int_t)c->n_stages,
      "depth", (json_int_t)c->depth, "schedule", c->schedule,
      "micro_batch", (json_int_t)c->micro_batch,
      "devices_used", (json_int_t)c->devices_used, "tps", c->tps,
      "iteration_estimate", c->iteration,
      "iteration_simulated", r->pt.sim->iteration_time,
      "samples_per_s_simulated", r->pt.sim->samples_per_s,
      "oom", (int)r->pt.sim->oom, "search_seconds", res->search_seconds,
      "states", (json_int_t)res->states);
  if (o && r->pt.n_simulated)
    json_object_set_new(o, "refined", json_integer(r->pt.n_simulated));
  if (o && r->a.out) json_object_set_new(o, "plan", json_string(r->a.out));
  if (o) json_object_set_new(o, "n_candidates", json_integer(res->n_cands));
  if (o && r->a.explain)
    json_object_set_new(o, "candidates", gpp_explain_json(&r->in, &r->pt));
  if (o) json_dumpf(o, stdout, JSON_INDENT(2));
  putchar('\n');
  json_decref(o);
}

static int plan_main(plan_run *r) {
  const gpp_planner_type *t;
  gpp_engine_opts eo = {.allow_oom = true};
  GPP_TRY(gpp_outfile_check(r->a.out, &r->err)); /* before any work */
  GPP_TRY(gpp_planner_find(r->a.planner, &t, &r->err));
  GPP_TRY(load_inputs(r));
  set_options(r);
  GPP_TRY(gpp_study_run(t, &r->in, &r->opt, r->costs, r->cluster,
                        (uint32_t)r->a.refine, &eo, &r->pt, &r->err));
  if (r->a.out)
    GPP_TRY(gpp_planner_write_plan(&r->in, &r->opt, &r->pt.res,
                                   &r->pt.res.cands[r->pt.chosen], r->a.out,
                                   &r->err));
  if (r->a.json) print_json(r);
  else print_text(r);
  return 0;
}

int gpp_cmd_plan(int argc, char **argv) {
  plan_run r;
  memset(&r, 0, sizeof r);
  int rc = parse_args(argc, argv, &r.a);
  if (rc != 0) return rc < 0 ? 0 : rc;
  rc = plan_main(&r);
  int status = rc == 0 ? 0 : gpp_cli_fail(&r.err);
  gpp_study_point_free(&r.pt);
  gpp_costs_destroy(r.costs);
  gpp_profile_db_destroy(r.profile);
  gpp_cluster_destroy(r.cluster);
  gpp_model_destroy(r.model);
  return status;
}
