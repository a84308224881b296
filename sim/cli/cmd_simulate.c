/* cmd_simulate.c -- `gppsim simulate`: replay one training iteration of a
 * plan on a cluster and report it (stdout table or JSON, HDF5, trace). */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels_profile/cost.h"
#include "sim/common/outfile.h"
#include "sim/cli/cli.h"
#include "sim/common/bundle.h"
#include "sim/common/clock.h"
#include "sim/common/yaml.h"
#include "sim/common/units.h"
#include "sim/engine/engine.h"
#include "sim/plan/plan.h"
#include "sim/engine/results.h"
#include "sim/plan/sched.h"
#include "topology/topology.h"

typedef struct sim_args {
  const char *plan, *cluster, *out, *trace, *profile;
  bool json, allow_oom, ideal, quiet;
  long max_tasks;
  double train_tokens; /* 0: not asked */
} sim_args;

typedef struct sim_run {
  char plan_path[GPP_INPUT_PATH_MAX], cluster_path[GPP_INPUT_PATH_MAX];
  gpp_cluster *cluster;
  gpp_plan *plan;
  gpp_profile_db *profile;
  gpp_costs *costs;
  gpp_result *res;
  double train_tokens; /* sim_args' */
} sim_run;

static void usage(FILE *f) {
  fprintf(f,
          "usage: gppsim simulate --plan PLAN --cluster CLUSTER [--out "
          "results.h5]\n                        [--trace trace.json] [--json] "
          "[--allow-oom] [--ideal-network]\n\n"
          "Replays one training iteration of PLAN on CLUSTER and prints the "
          "iteration time,\nsamples/s, bubble fraction, per-stage and "
          "per-device busy fraction and peak\nmemory, bytes per link class "
          "and where the op costs came from.  PLAN and CLUSTER are files or "
          "bundled\nnames (configs/experiments/plans, configs/clusters).\n\n"
          "  --out FILE        HDF5 results (/summary, /devices, /stages, "
          "/tasks, /inputs)\n"
          "  --trace FILE      Chrome trace JSON (Perfetto, "
          "chrome://tracing)\n"
          "  --json            the summary as JSON on stdout\n"
          "  --allow-oom       report plans that exceed device memory "
          "instead of failing\n"
          "  --ideal-network   transfers and all-reduces take no time\n"
          "  --train-tokens N  time and cost (the cluster's "
          "price_per_gpu_hour\n                    times its GPUs) to train "
          "N tokens (1e12, 2T)\n"
          "  --profile DB      measured op costs (gppsim-profile's HDF5); "
          "ops it lacks\n                    use the kernel model fitted to it\n"
          "  --max-tasks N     simulate plans of up to N tasks (default "
          "16777216: about\n                    1 GB and 10 s; a task is a "
          "forward or backward of one\n                    micro-batch on one "
          "replica, or an optimizer step)\n"
          "  --quiet           no progress on stderr (printed for runs over "
          "2 s)\n");
}

static int parse_tokens(const char *text, double *out) {
  char why[128];
  if (gpp_units_parse(text, GPP_Q_COUNT, out, why, sizeof why) != 0)
    return gpp_cli_usage_error("simulate", "--train-tokens '%s': %s", text,
                               why);
  if (*out >= 1) return 0;
  return gpp_cli_usage_error("simulate", "--train-tokens '%s': expected a "
                             "count of at least 1", text);
}

static int parse(int argc, char **argv, sim_args *a) {
  static const struct option opts[] = {
      {"plan", required_argument, NULL, 'p'},
      {"cluster", required_argument, NULL, 'c'},
      {"out", required_argument, NULL, 'o'},
      {"trace", required_argument, NULL, 't'},
      {"json", no_argument, NULL, 'j'},
      {"allow-oom", no_argument, NULL, 'a'},
      {"ideal-network", no_argument, NULL, 'i'},
      {"profile", required_argument, NULL, 'P'},
      {"max-tasks", required_argument, NULL, 'm'},
      {"quiet", no_argument, NULL, 'q'},
      {"train-tokens", required_argument, NULL, 'T'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "p:c:o:t:jaihP:m:qT:", opts, NULL)) !=
         -1) {
    switch (ch) {
    case 'p': a->plan = optarg; break;
    case 'c': a->cluster = optarg; break;
    case 'o': a->out = optarg; break;
    case 't': a->trace = optarg; break;
    case 'j': a->json = true; break;
    case 'a': a->allow_oom = true; break;
    case 'i': a->ideal = true; break;
    case 'P': a->profile = optarg; break;
    case 'm':
      if (gpp_cli_parse_long("simulate", "max-tasks", optarg, 1,
                             4294967294L, &a->max_tasks) != 0)
        return 2;
      break;
    case 'q': a->quiet = true; break;
    case 'T':
      if (parse_tokens(optarg, &a->train_tokens) != 0) return 2;
      break;
    case 'h': usage(stdout); return -1;
    default: return gpp_cli_usage_error("simulate", "bad option");
    }
  }
  if (optind < argc)
    return gpp_cli_usage_error("simulate", "unexpected argument '%s'",
                               argv[optind]);
  if (a->plan == NULL || a->cluster == NULL)
    return gpp_cli_usage_error("simulate", "--plan and --cluster are "
                               "required");
  return 0;
}

typedef struct progress_state {
  double t0; /* gpp_clock_seconds() at the start */
  double last;
  bool tty;
} progress_state;

/* Tasks done on stderr once a run has taken 2 s: redrawn on a terminal,
 * else a line every 5 s. */
static void progress(void *ctx, uint32_t done, uint32_t total) {
  progress_state *p = ctx;
  double el = gpp_clock_seconds() - p->t0;
  if (el < 2 || (!p->tty && p->last > 0 && el - p->last < 5)) return;
  p->last = el;
  fprintf(stderr, "%ssimulate: %u of %u tasks (%.0f%%), %.0f s%s",
          p->tty ? "\r" : "", done, total, 100.0 * done / total, el,
          p->tty ? " " : "\n");
}

static int run(const sim_args *a, sim_run *s, gpp_errctx *err) {
  s->train_tokens = a->train_tokens;
  GPP_TRY(gpp_outfile_check(a->out, err)); /* before any work */
  GPP_TRY(gpp_outfile_check(a->trace, err));
  GPP_TRY(gpp_input_named("clusters", a->cluster, s->cluster_path,
                          sizeof s->cluster_path, err));
  GPP_TRY(gpp_input_named("experiments/plans", a->plan, s->plan_path,
                          sizeof s->plan_path, err));
  GPP_TRY(gpp_cluster_load(s->cluster_path, &s->cluster, err));
  GPP_TRY(gpp_plan_load(s->plan_path, s->cluster->n_gpus, &s->plan, err));
  GPP_TRY(gpp_costs_open(s->plan->model, &s->cluster->gpu, a->profile,
                         &s->profile, &s->costs, err));
  progress_state ps = {.t0 = gpp_clock_seconds(), .tty = isatty(2)};
  gpp_engine_opts o = {.allow_oom = a->allow_oom, .ideal_network = a->ideal,
                       .record = a->out != NULL || a->trace != NULL,
                       .max_tasks = (uint64_t)a->max_tasks,
                       .progress = a->quiet ? NULL : progress,
                       .progress_ctx = &ps};
  int rc = gpp_engine_run(s->plan, s->costs, s->cluster, &o, &s->res, err);
  if (ps.tty && ps.last > 0) fputc('\n', stderr);
  return rc;
}

static int write_outputs(const sim_args *a, sim_run *s, gpp_errctx *err) {
  if (a->trace) GPP_TRY(gpp_trace_write(a->trace, s->plan, s->res, err));
  if (a->out == NULL) return 0;
  const char *plan_text = gpp_plan_format(s->plan, err);
  if (plan_text == NULL) return err->code;
  char *cluster_text = NULL;
  size_t len;
  GPP_TRY(gpp_read_input_file(s->cluster_path, &cluster_text, &len, err));
  gpp_results_inputs in = {plan_text, cluster_text, s->cluster->name};
  int rc = gpp_results_write_h5(a->out, s->plan, s->res, &in, err);
  free(cluster_text);
  return rc;
}

static const char *fmt(double v, gpp_qkind k, char *buf) {
  return gpp_units_format(v, k, buf, 32);
}

static void print_stages(const sim_run *s) {
  char a[32], b[32];
  printf("\n%-16s %7s %6s %4s %6s %12s %12s %6s\n", "stage", "devices",
         "micro", "cap", "peak", "fwd", "bwd", "busy");
  for (uint32_t i = 0; i < s->plan->n_stages; i++) {
    const gpp_plan_stage *ps = &s->plan->stages[i];
    const gpp_stage_result *r = &s->res->stages[i];
    printf("%-16s %7u %6u %4u %6u %12s %12s %6.3f\n", ps->name, ps->n_devices,
           ps->micro_batch, r->cap, r->peak_inflight, fmt(r->t_fwd, GPP_Q_TIME, a),
           fmt(r->t_bwd, GPP_Q_TIME, b), r->busy_fraction);
  }
}

static void print_devices(const sim_run *s) {
  char a[32], b[32];
  const gpp_result *r = s->res;
  printf("\n%-8s %6s %6s %12s %12s\n", "device", "stages", "busy",
         "peak mem", "static");
  for (uint32_t d = 0; d < r->n_devices; d++) {
    const gpp_device_result *x = &r->devices[d];
    if (!x->used) continue;
    printf("%-8u %6u %6.3f %12s %12s\n", d, x->n_stages,
           r->iteration_time > 0 ? x->busy / r->iteration_time : 0,
           fmt(x->peak_mem, GPP_Q_BYTES, a), fmt(x->static_mem, GPP_Q_BYTES, b));
  }
}

static void print_train(const sim_run *s) {
  double sec, cost;
  char a[32], b[32];
  gpp_train_time_cost(s->res->tokens_per_s, s->train_tokens,
                      s->cluster->price_per_gpu_hour, s->res->n_devices, &sec,
                      &cost);
  printf("train       %s tokens in %s (%.4g days)", fmt(s->train_tokens,
         GPP_Q_COUNT, a), fmt(sec, GPP_Q_TIME, b), sec / 86400);
  if (isfinite(cost))
    printf(", %.6g (price units) at %.4g per GPU-hour x %u GPUs\n", cost,
           s->cluster->price_per_gpu_hour, s->res->n_devices);
  else
    printf(", no cost: the cluster has no price_per_gpu_hour\n");
}

static void print_text(const sim_run *s) {
  const gpp_result *r = s->res;
  char a[32], b[32];
  printf("plan        %s (schedule %s, %u stages, %u of %u GPUs)\n",
         s->plan->path, s->plan->schedule->name, s->plan->n_stages, r->n_used,
         r->n_devices);
  printf("iteration   %s\nsamples/s   %.6g\nbubble      %.4f\n",
         fmt(r->iteration_time, GPP_Q_TIME, a), r->samples_per_s,
         r->bubble_fraction);
  printf("tokens/s    %.6g (%.6g tokens per sample)\n", r->tokens_per_s,
         r->tokens_per_sample);
  printf("MFU         %.1f%% (model %s FLOP/s per GPU of a %s peak)\n",
         100 * r->mfu, fmt(r->model_flops / r->iteration_time / r->n_used,
                           GPP_Q_COUNT, a), fmt(r->peak_flops, GPP_Q_COUNT,
                                                b));
  printf("HFU         %.1f%% (with recomputation)\n", 100 * r->hfu);
  if (s->train_tokens > 0) print_train(s);
  printf("costs       ");
  for (int c = 0; c < GPP_COST__NSOURCES; c++)
    printf("%s%s %u", c ? ", " : "", gpp_cost_source_name(c),
           r->cost_sources[c]);
  printf(" (ops)\nlink bytes ");
  for (int c = 0; c < GPP_LINK__NCLASSES; c++)
    printf(" %s %s", gpp_link_class_name(c), fmt(r->link_bytes[c], GPP_Q_BYTES, a));
  printf("\nevents      %llu (%llu compute tasks, %llu transfers)\n",
         (unsigned long long)r->events, (unsigned long long)r->n_compute_tasks,
         (unsigned long long)r->n_transfers);
  if (r->oom)
    printf("OOM         device %u short by %s\n", r->oom_device,
           fmt(r->oom_shortfall, GPP_Q_BYTES, a));
  print_stages(s);
  print_devices(s);
}

static json_t *json_stages(const sim_run *s) {
  json_t *arr = json_array();
  for (uint32_t i = 0; arr && i < s->plan->n_stages; i++) {
    const gpp_stage_result *r = &s->res->stages[i];
    json_array_append_new(arr, json_pack(
        "{s:s, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:f}", "name",
        s->plan->stages[i].name, "devices", (int)s->plan->stages[i].n_devices,
        "micro_batch", (int)s->plan->stages[i].micro_batch, "cap", (int)r->cap,
        "peak_inflight", (int)r->peak_inflight, "t_fwd", r->t_fwd, "t_bwd",
        r->t_bwd, "t_opt", r->t_opt, "busy_fraction", r->busy_fraction));
  }
  return arr;
}

static json_t *json_devices(const gpp_result *r) {
  json_t *arr = json_array();
  for (uint32_t d = 0; arr && d < r->n_devices; d++) {
    const gpp_device_result *x = &r->devices[d];
    if (!x->used) continue;
    json_array_append_new(arr, json_pack(
        "{s:i, s:f, s:f, s:f}", "device", (int)d, "busy_fraction",
        r->iteration_time > 0 ? x->busy / r->iteration_time : 0, "peak_mem",
        x->peak_mem, "static_mem", x->static_mem));
  }
  return arr;
}

/* tokens/s, MFU, HFU and, with --train-tokens, the time and cost. */
static void json_buyer(const sim_run *s, json_t *o) {
  const gpp_result *r = s->res;
  json_object_set_new(o, "precision", json_string(s->plan->model->precision));
  double sec = NAN, cost = NAN;
  gpp_train_time_cost(r->tokens_per_s, s->train_tokens,
                      s->cluster->price_per_gpu_hour, r->n_devices, &sec,
                      &cost);
  const gpp_cli_jnum f[] = {
      {"tokens_per_sample", r->tokens_per_sample},
      {"tokens_per_s", r->tokens_per_s},
      {"model_flops", r->model_flops},
      {"hw_flops", r->hw_flops},
      {"peak_flops_per_gpu", r->peak_flops},
      {"mfu", r->mfu},
      {"hfu", r->hfu},
      {"train_tokens", s->train_tokens},
      {"time_to_train_tokens_s", sec},
      {"cost_to_train_tokens", cost}};
  size_t n = sizeof f / sizeof f[0];
  gpp_cli_json_nums(o, f, s->train_tokens > 0 ? n : n - 3); /* no budget */
}

static json_t *json_summary(const sim_run *s) {
  const gpp_result *r = s->res;
  json_t *links = json_object(), *costs = json_object();
  for (int c = 0; c < GPP_LINK__NCLASSES; c++)
    json_object_set_new(links, gpp_link_class_name(c), json_real(r->link_bytes[c]));
  for (int c = 0; c < GPP_COST__NSOURCES; c++)
    json_object_set_new(costs, gpp_cost_source_name(c),
                        json_integer(r->cost_sources[c]));
  return json_pack("{s:s, s:s, s:f, s:f, s:f, s:b, s:I, s:o, s:o, s:o, s:o}",
                   "plan", s->plan->path, "schedule", s->plan->schedule->name,
                   "iteration_time", r->iteration_time, "samples_per_s",
                   r->samples_per_s, "bubble_fraction", r->bubble_fraction,
                   "oom", r->oom, "events", (json_int_t)r->events,
                   "link_bytes", links, "cost_sources", costs, "stages",
                   json_stages(s), "devices", json_devices(r));
}

static int print_json(const sim_run *s, gpp_errctx *err) {
  json_t *doc = json_summary(s);
  if (doc == NULL) GPP_RAISE(err, GPP_ENOMEM, "cannot build the JSON summary");
  json_buyer(s, doc);
  json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  fputc('\n', stdout);
  json_decref(doc);
  return 0;
}

static void sim_run_free(sim_run *s) {
  gpp_result_destroy(s->res);
  gpp_costs_destroy(s->costs);
  gpp_profile_db_destroy(s->profile);
  gpp_plan_destroy(s->plan);
  gpp_cluster_destroy(s->cluster);
}

int gpp_simulate_files(const char *plan, const char *cluster, const char *out,
                       const char *trace, gpp_errctx *err) {
  sim_args a = {.plan = plan, .cluster = cluster, .out = out,
                .trace = trace, .allow_oom = true};
  sim_run s = {0};
  int rc = run(&a, &s, err);
  if (rc == 0) rc = write_outputs(&a, &s, err);
  sim_run_free(&s);
  return rc;
}

int gpp_cmd_simulate(int argc, char **argv) {
  sim_args a = {0};
  int rc = parse(argc, argv, &a);
  if (rc != 0) return rc < 0 ? 0 : rc;
  sim_run s = {0};
  gpp_errctx err = {0};
  rc = run(&a, &s, &err);
  if (rc == 0) rc = a.json ? print_json(&s, &err) : (print_text(&s), 0);
  if (rc == 0) rc = write_outputs(&a, &s, &err);
  int status = rc == 0 ? 0 : gpp_cli_fail(&err);
  sim_run_free(&s);
  return status;
}
