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
#include "planner/planner.h"
#include "sim/cli.h"
#include "sim/engine.h"
#include "topology/topology.h"

typedef struct plan_args {
  const char *model, *cluster, *planner, *out;
  long batch, gpus, refine, micro_batch, max_stages, max_stage_devices;
  int json, per_stage;
} plan_args;

typedef struct plan_run {
  plan_args a;
  gpp_model *model;
  gpp_cluster *cluster;
  gpp_costs *costs;
  gpp_planner_input in;
  gpp_planner_options opt;
  gpp_planner_result res;
  double *simulated;      /* per refined candidate; negative: failed */
  uint32_t chosen;
  gpp_errctx err;
} plan_run;

static void usage(FILE *f) {
  fprintf(f,
      "usage: gppsim plan --model M --cluster C --batch B\n"
      "                   [--planner graphpipe|pipedream|piper] [--gpus N]\n"
      "                   [--out plan.yaml] [--refine K] [--json]\n"
      "                   [--micro-batch b] [--per-stage-micro-batch]\n"
      "                   [--max-stages S] [--max-stage-devices D]\n\n"
      "Searches a partition of the model over the cluster's GPUs and prints\n"
      "the planner's estimate (bottleneck time per sample, iteration time\n"
      "(m + D - 1) * b * TPS), its search time and the states it explored.\n"
      "--refine K simulates the K best candidates and keeps the fastest.\n"
      "Exit status: 0 plan found, 2 bad input, 3 no plan found.\n");
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
    {"micro-batch", required_argument, NULL, 'u'},
    {"per-stage-micro-batch", no_argument, NULL, 'P'},
    {"max-stages", required_argument, NULL, 'S'},
    {"max-stage-devices", required_argument, NULL, 'D'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static int parse_long(const char *opt, const char *text, long lo, long hi,
                      long *out) {
  char *end;
  long v = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < lo || v > hi)
    return gpp_cli_usage_error("plan", "--%s expects an integer in %ld..%ld, "
                               "got '%s'", opt, lo, hi, text);
  *out = v;
  return 0;
}

static int parse_opt(plan_args *a, int c, const char *arg) {
  switch (c) {
  case 'm': a->model = arg; return 0;
  case 'c': a->cluster = arg; return 0;
  case 'p': a->planner = arg; return 0;
  case 'o': a->out = arg; return 0;
  case 'j': a->json = 1; return 0;
  case 'P': a->per_stage = 1; return 0;
  case 'b': return parse_long("batch", arg, 1, 1 << 20, &a->batch);
  case 'g': return parse_long("gpus", arg, 1, 4095, &a->gpus);
  case 'r': return parse_long("refine", arg, 1, 64, &a->refine);
  case 'u': return parse_long("micro-batch", arg, 1, 1 << 20, &a->micro_batch);
  case 'S': return parse_long("max-stages", arg, 1, 255, &a->max_stages);
  case 'D': return parse_long("max-stage-devices", arg, 1, 4095,
                              &a->max_stage_devices);
  default: return gpp_cli_usage_error("plan", "unknown option");
  }
}

/* Returns -1 after --help, else an exit status (0 to go on). */
static int parse_args(int argc, char **argv, plan_args *a) {
  memset(a, 0, sizeof *a);
  a->planner = "graphpipe";
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

static int op_time(void *ctx, uint32_t op, uint32_t b, double *f, double *bw,
                   gpp_errctx *err) {
  (void)err;
  gpp_op_cost c = gpp_costs_op(ctx, op, (double)b);
  *f = c.fwd;
  *bw = c.bwd;
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
  GPP_TRY(gpp_model_load(r->a.model, NULL, 0, &r->model, &r->err));
  GPP_TRY(gpp_cluster_load(r->a.cluster, &r->cluster, &r->err));
  GPP_TRY(gpp_costs_create(r->model, &r->cluster->gpu, NULL, &r->costs,
                           &r->err));
  uint32_t n = r->a.gpus ? (uint32_t)r->a.gpus : r->cluster->n_gpus;
  if (n > r->cluster->n_gpus)
    GPP_RAISE(&r->err, GPP_EINVAL, "--gpus %u exceeds the %u GPUs of %s", n,
              r->cluster->n_gpus, r->a.cluster);
  r->in = (gpp_planner_input){.model = r->model, .model_path = r->a.model,
                              .batch = (uint32_t)r->a.batch, .n_gpus = n,
                              .mem_bytes = r->cluster->gpu.mem_bytes,
                              .op_time = op_time, .op_time_ctx = r->costs};
  return gpp_planner_comm_fit(r->cluster, &r->in.comm, &r->err);
}

static void set_options(plan_run *r) {
  gpp_planner_options_default(&r->opt);
  r->opt.micro_batch = (uint32_t)r->a.micro_batch;
  r->opt.per_stage_micro_batch = r->a.per_stage;
  r->opt.max_stages = (uint32_t)r->a.max_stages;
  r->opt.max_stage_devices = (uint32_t)r->a.max_stage_devices;
  r->opt.progress = progress;
}

/* Simulated iteration time of candidate i, or -1 when it fails or OOMs. */
static double simulate(plan_run *r, uint32_t i) {
  char *text = NULL;
  gpp_plan *plan = NULL;
  gpp_result *res = NULL;
  gpp_errctx err = {0};
  gpp_engine_opts eo = {.allow_oom = true};
  double t = -1;
  if (gpp_planner_format_plan(&r->in, &r->opt, &r->res, &r->res.cands[i],
                              &text, &err) == 0 &&
      gpp_plan_load_string("candidate", text, r->model, r->cluster->n_gpus,
                           &plan, &err) == 0 &&
      gpp_engine_run(plan, r->costs, r->cluster, &eo, &res, &err) == 0 &&
      !res->oom)
    t = res->iteration_time;
  gpp_result_destroy(res);
  gpp_plan_destroy(plan);
  free(text);
  return t;
}

static int refine(plan_run *r) {
  uint32_t k = (uint32_t)r->a.refine;
  if (k > r->res.n_cands) k = r->res.n_cands;
  r->simulated = gpp_calloc(&r->err, k, sizeof *r->simulated);
  if (r->simulated == NULL) return r->err.code;
  for (uint32_t i = 0; i < k; i++) {
    r->simulated[i] = simulate(r, i);
    double best = r->simulated[r->chosen];
    if (r->simulated[i] > 0 && (best <= 0 || r->simulated[i] < best))
      r->chosen = i;
  }
  return 0;
}

static void print_text(const plan_run *r) {
  const gpp_planner_candidate *c = &r->res.cands[r->chosen];
  printf("planner           %s\n", r->res.planner);
  printf("stages            %u (depth %u, schedule %s) on %u of %u GPUs\n",
         c->n_stages, c->depth, c->schedule, c->devices_used, r->in.n_gpus);
  printf("micro-batch       %u of batch %u\n", c->micro_batch, r->in.batch);
  printf("bottleneck TPS    %.6g s/sample (estimate)\n", c->tps);
  printf("iteration         %.6g s (estimate), %.6g samples/s\n",
         c->iteration, c->iteration > 0 ? r->in.batch / c->iteration : 0);
  if (r->simulated)
    printf("simulated         %.6g s (best of %ld refined)\n",
           r->simulated[r->chosen], r->a.refine);
  printf("search time       %.3f s\n", r->res.search_seconds);
  printf("states explored   %llu\n", (unsigned long long)r->res.states);
  if (r->a.out) printf("plan              %s\n", r->a.out);
}

static void print_json(const plan_run *r) {
  const gpp_planner_candidate *c = &r->res.cands[r->chosen];
  json_t *o = json_pack("{s:s, s:i, s:i, s:s, s:i, s:i, s:f, s:f, s:f, s:I}",
      "planner", r->res.planner, "stages", (json_int_t)c->n_stages,
      "depth", (json_int_t)c->depth, "schedule", c->schedule,
      "micro_batch", (json_int_t)c->micro_batch,
      "devices_used", (json_int_t)c->devices_used, "tps", c->tps,
      "iteration_estimate", c->iteration,
      "search_seconds", r->res.search_seconds,
      "states", (json_int_t)r->res.states);
  if (o && r->simulated)
    json_object_set_new(o, "iteration_simulated",
                        json_real(r->simulated[r->chosen]));
  if (o && r->a.out) json_object_set_new(o, "plan", json_string(r->a.out));
  if (o) json_dumpf(o, stdout, JSON_INDENT(2));
  putchar('\n');
  json_decref(o);
}

static int plan_main(plan_run *r) {
  const gpp_planner_type *t;
  GPP_TRY(gpp_planner_find(r->a.planner, &t, &r->err));
  GPP_TRY(load_inputs(r));
  set_options(r);
  GPP_TRY(gpp_planner_run(t, &r->in, &r->opt, &r->res, &r->err));
  if (r->a.refine) GPP_TRY(refine(r));
  if (r->a.out)
    GPP_TRY(gpp_planner_write_plan(&r->in, &r->opt, &r->res,
                                   &r->res.cands[r->chosen], r->a.out,
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
  gpp_planner_result_free(&r.res);
  free(r.simulated);
  gpp_costs_destroy(r.costs);
  gpp_cluster_destroy(r.cluster);
  gpp_model_destroy(r.model);
  return status;
}
