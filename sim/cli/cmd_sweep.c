/* cmd_sweep.c -- `gppsim sweep EXPERIMENT.yaml --out results.h5`: runs an
 * experiment's points (sweep.h), with a progress bar on a terminal, and
 * prints the finished table (or JSON).  Under mpirun / srun the points are
 * spread over the ranks. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/cli/cli.h"
#include "sim/common/clock.h"
#include "sim/sweep/sweep_internal.h"

typedef struct sweep_args {
  const char *experiment, *out;
  int resume, json, quiet;
} sweep_args;

typedef struct progress_state {
  double t0; /* gpp_clock_seconds() at the start */
  uint32_t first; /* points done before this run started */
  bool started, tty;
} progress_state;

static void usage(FILE *f) {
  fprintf(f,
      "usage: gppsim sweep EXPERIMENT.yaml --out results.h5 [--resume]\n"
      "                    [--json] [--quiet]\n\n"
      "Expands the experiment's grid and listed points (models x clusters x\n"
      "GPU counts x batches x planners x parameters), plans and simulates\n"
      "each point and appends its row to the HDF5 file: throughput,\n"
      "iteration time, memory, the plan, cost per million samples and time\n"
      "to train.  Rows are flushed point by point to OUT.partial; --resume\n"
      "keeps the finished points of an interrupted (or finished) run.\n"
      "Launched by `mpirun -n N` or `srun`, rank 0 hands points to the other\n"
      "ranks and writes the same file as a single process.\n"
      "--json prints the rows as JSON; --quiet prints no progress.\n"
      "Exit status: 0 done (points without a plan are rows with status\n"
      "no_plan), 1 internal failure, 2 bad input.\n");
}

static const struct option long_opts[] = {
    {"out", required_argument, NULL, 'o'},
    {"resume", no_argument, NULL, 'r'},
    {"json", no_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

/* Returns -1 after --help, else an exit status (0 to go on). */
static int parse_args(int argc, char **argv, sweep_args *a) {
  memset(a, 0, sizeof *a);
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "ho:", long_opts, NULL)) != -1) {
    switch (c) {
    case 'h': usage(stdout); return -1;
    case 'o': a->out = optarg; break;
    case 'r': a->resume = 1; break;
    case 'j': a->json = 1; break;
    case 'q': a->quiet = 1; break;
    default: return gpp_cli_usage_error("sweep", "bad option");
    }
  }
  if (optind + 1 != argc)
    return gpp_cli_usage_error("sweep", "expected one EXPERIMENT.yaml");
  a->experiment = argv[optind];
  if (a->out == NULL) return gpp_cli_usage_error("sweep", "--out is required");
  return 0;
}


/* A redrawn bar with rate and ETA on a terminal; a line per point else. */
static void progress(void *ctx, uint32_t done, uint32_t total,
                     const char *label) {
  progress_state *p = ctx;
  if (!p->started) {
    p->first = done - 1;
    p->started = true;
  }
  double el = gpp_clock_seconds() - p->t0, rate = el > 0 ? (done - p->first) / el : 0;
  double eta = rate > 0 ? (total - done) / rate : 0;
  if (!p->tty) {
    fprintf(stderr, "sweep: %u/%u %s (%.3g points/s, ETA %.0f s)\n", done,
            total, label, rate, eta);
    return;
  }
  int width = 30, fill = (int)(width * (double)done / total);
  fprintf(stderr, "\r[%.*s%*s] %u/%u %.3g points/s ETA %.0f s ", fill,
          "##############################", width - fill, "", done, total,
          rate, eta);
  if (done == total) fputc('\n', stderr);
}

static json_t *row_json(const gpp__sw_row *r) {
  json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:s, "
                        "s:s, s:i, s:i, s:i}",
                        "point", (json_int_t)r->point, "model", r->model,
                        "cluster", r->cluster, "gpu", r->gpu, "planner",
                        r->planner, "gpus", (json_int_t)r->gpus, "batch",
                        (json_int_t)r->batch, "micro_batch",
                        (json_int_t)r->micro_batch, "params", r->params,
                        "status", r->status, "message", r->message,
                        "n_stages", (json_int_t)r->n_stages, "depth",
                        (json_int_t)r->depth, "replications",
                        (json_int_t)r->replications);
  if (o == NULL) return NULL;
  const gpp_cli_jnum f[] = {
      {"throughput", r->throughput},
      {"iteration_s", r->iteration_s},
      {"bubble", r->bubble},
      {"peak_mem_bytes", r->peak_mem_bytes},
      {"planner_estimate_s", r->planner_estimate_s},
      {"cost_per_million_samples", r->cost_per_million_samples},
      {"time_to_train_s", r->time_to_train_s},
      {"throughput_ci_lo", r->throughput_ci_lo},
      {"throughput_ci_hi", r->throughput_ci_hi},
      {"tokens_per_s", r->tokens_per_s},
      {"mfu", r->mfu},
      {"hfu", r->hfu},
      {"time_to_train_tokens_s", r->time_to_train_tokens_s},
      {"cost_to_train_tokens", r->cost_to_train_tokens}};
  gpp_cli_json_nums(o, f, sizeof f / sizeof f[0]);
  json_object_set_new(o, "precision", json_string(r->precision));
  return o;
}

static void print_json(const gpp__sw_result *rs, uint32_t n) {
  json_t *a = json_array();
  for (uint32_t i = 0; a && i < n; i++) json_array_append_new(a, row_json(&rs[i].row));
  if (a) json_dumpf(a, stdout, JSON_INDENT(2));
  putchar('\n');
  json_decref(a);
}

static void print_text(const gpp__sw_result *rs, uint32_t n) {
  printf("%5s %-12s %-10s %-14s %5s %6s %-10s %-7s %12s %11s %12s %12s "
         "%6s %6s %11s %12s\n", "point", "model", "cluster", "gpu", "gpus",
         "batch", "planner", "status", "samples/s", "iter_s", "cost/Msampl",
         "tokens/s", "MFU%", "HFU%", "train_days", "train_cost");
  for (uint32_t i = 0; i < n; i++) {
    const gpp__sw_row *r = &rs[i].row;
    printf("%5u %-12s %-10s %-14s %5u %6u %-10s %-7s %12.6g %11.6g %12.6g "
           "%12.6g %6.1f %6.1f %11.4g %12.6g\n",
           r->point, r->model, r->cluster, r->gpu, r->gpus, r->batch,
           r->planner, r->status, r->throughput, r->iteration_s,
           r->cost_per_million_samples, r->tokens_per_s, 100 * r->mfu,
           100 * r->hfu, r->time_to_train_tokens_s / 86400,
           r->cost_to_train_tokens);
  }
}

static int report(const gpp_sweep *s, const sweep_args *a, gpp_errctx *err) {
  gpp__sw_result *rs;
  uint32_t n;
  GPP_TRY(gpp__sweep_h5_read(s, a->out, &rs, &n, err));
  if (a->json) print_json(rs, n);
  else print_text(rs, n);
  for (uint32_t i = 0; i < n; i++) gpp__sweep_result_free(&rs[i]);
  free(rs);
  return 0;
}

static int sweep_main(const sweep_args *a, gpp_errctx *err) {
  gpp_sweep *s;
  progress_state ps = {.tty = isatty(2)};
  gpp_sweep_opts o = {.resume = a->resume, .progress_ctx = &ps};
  bool master = gpp__sweep_mpi_rank() == 0;
  if (!a->quiet && master) o.progress = progress;
  ps.t0 = gpp_clock_seconds();
  GPP_TRY(gpp_sweep_load(a->experiment, &s, err));
  int rc = gpp_sweep_run(s, a->out, &o, err);
  if (rc == 0 && master) rc = report(s, a, err);
  gpp_sweep_destroy(s);
  return rc;
}

int gpp_cmd_sweep(int argc, char **argv) {
  sweep_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc != 0) return rc < 0 ? 0 : rc;
  gpp_errctx err = {0};
  gpp_sweep_mpi_begin(&argc, &argv);
  rc = sweep_main(&a, &err);
  int status = rc == 0 ? 0
               : gpp__sweep_mpi_rank() == 0 ? gpp_cli_fail(&err)
                                            : gpp_err_exit_status(rc);
  gpp_sweep_mpi_end();
  return status;
}
