/* exec_main.c -- gppsim-exec: runs a plan for real on the GPUs and writes
 * the measured per-task table and iteration times in the layout of
 * `gppsim simulate --out`, for `gppsim validate compare`.
 *
 * The order of work on each GPU is the one the simulator predicts: the
 * engine replays the plan first (same costs as `gppsim simulate`), and its
 * per-task records, sorted by start time, become the order of issue. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels_profile/cost.h"
#include "sim/common/yaml.h"
#include "sim/engine/engine.h"
#include "sim/plan/plan.h"
#include "topology/topology.h"
#include "validate/exec_gpu.h"
#include "validate/validate.h"

typedef struct exec_args {
  const char *plan, *cluster, *out, *profile;
  long iterations, warmup;
} exec_args;

typedef struct exec_run {
  gpp_cluster *cluster;
  gpp_plan *plan;
  gpp_profile_db *profile;
  gpp_costs *costs;
  gpp_result *res;
  gpp_exec_prog prog;
  gpp_measurement m;
} exec_run;

static void usage(FILE *f) {
  fprintf(f,
      "usage: gppsim-exec --plan PLAN --cluster CLUSTER --out measured.h5\n"
      "                   [--iterations N] [--warmup W] [--profile DB]\n\n"
      "Runs W + N training iterations of PLAN on this machine's GPUs (stage "
      "devices as in\nthe plan; one GPU per stage replica), every op's "
      "forward and backward as the\nprofiler's real kernels at the stage's "
      "micro-batch, in the per-device order that\n`gppsim simulate` predicts "
      "for CLUSTER (and DB, as in simulate --profile), and\ntimes every task "
      "with CUDA events.  Writes the iteration of median time in the\n"
      "layout of `gppsim simulate --out` (/summary, /devices, /stages, "
      "/tasks, /inputs)\nplus /measured (every iteration's time).  Compare "
      "with `gppsim validate compare`.\n\n"
      "  --iterations N  measured iterations (default 10)\n"
      "  --warmup W      untimed iterations first (default 3)\n");
}

static int number(const char *opt, const char *text, long lo, long hi,
                  long *out) {
  char *end;
  long v = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < lo || v > hi) {
    fprintf(stderr, "gppsim-exec: --%s expects an integer in %ld..%ld, got "
            "'%s'\nTry 'gppsim-exec --help'.\n", opt, lo, hi, text);
    return 2;
  }
  *out = v;
  return 0;
}

static int parse(int argc, char **argv, exec_args *a) {
  static const struct option opts[] = {
      {"plan", required_argument, NULL, 'p'},
      {"cluster", required_argument, NULL, 'c'},
      {"out", required_argument, NULL, 'o'},
      {"profile", required_argument, NULL, 'P'},
      {"iterations", required_argument, NULL, 'n'},
      {"warmup", required_argument, NULL, 'w'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int ch, rc = 0;
  while (rc == 0 &&
         (ch = getopt_long(argc, argv, "p:c:o:P:n:w:h", opts, NULL)) != -1) {
    switch (ch) {
    case 'p': a->plan = optarg; break;
    case 'c': a->cluster = optarg; break;
    case 'o': a->out = optarg; break;
    case 'P': a->profile = optarg; break;
    case 'n': rc = number("iterations", optarg, 1, 100000, &a->iterations); break;
    case 'w': rc = number("warmup", optarg, 0, 100000, &a->warmup); break;
    case 'h': usage(stdout); return -1;
    default: rc = 2;
    }
  }
  if (rc == 0 && (optind < argc || !a->plan || !a->cluster || !a->out)) {
    fprintf(stderr, "gppsim-exec: %s\nTry 'gppsim-exec --help'.\n",
            optind < argc ? "unexpected argument"
                          : "--plan, --cluster and --out are required");
    rc = 2;
  }
  return rc;
}

static int simulate(const exec_args *a, exec_run *r, gpp_errctx *err) {
  GPP_TRY(gpp_cluster_load(a->cluster, &r->cluster, err));
  GPP_TRY(gpp_plan_load(a->plan, r->cluster->n_gpus, &r->plan, err));
  GPP_TRY(gpp_exec_check_plan(r->plan, err));
  if (a->profile) GPP_TRY(gpp_profile_db_open(a->profile, &r->profile, err));
  GPP_TRY(gpp_costs_create(r->plan->model, &r->cluster->gpu, r->profile,
                           &r->costs, err));
  gpp_engine_opts o = {.allow_oom = true, .record = true};
  GPP_TRY(gpp_engine_run(r->plan, r->costs, r->cluster, &o, &r->res, err));
  return gpp_exec_prog_build(r->res, &r->prog, err);
}

static int write_out(const exec_args *a, exec_run *r, gpp_errctx *err) {
  uint32_t it = gpp_measurement_median(&r->m);
  gpp_measurement_apply(&r->m, it, r->plan, r->res);
  const char *plan_text = gpp_plan_format(r->plan, err);
  if (plan_text == NULL) return err->code;
  char *cluster_text = NULL;
  size_t len = 0;
  GPP_TRY(gpp_read_input_file(a->cluster, &cluster_text, &len, err));
  gpp_results_inputs in = {plan_text, cluster_text, r->cluster->name};
  int rc = gpp_measured_write_h5(a->out, r->plan, r->res, &in, &r->m, it, err);
  free(cluster_text);
  if (rc == 0)
    printf("%s: %u iterations on %s, median %.6g s (iteration %u), %zu "
           "tasks\n", a->out, r->m.iterations, r->m.gpu_name,
           r->res->iteration_time, it, r->res->n_tasks);
  return rc;
}

static int run(const exec_args *a, exec_run *r, gpp_errctx *err) {
  GPP_TRY(simulate(a, r, err));
  GPP_TRY(gpp_exec_gpu_run(r->plan, r->res, &r->prog, (uint32_t)a->iterations,
                           (uint32_t)a->warmup, &r->m, err));
  return write_out(a, r, err);
}

int main(int argc, char **argv) {
  exec_args a = {.iterations = 10, .warmup = 3};
  int rc = parse(argc, argv, &a);
  if (rc != 0) return rc < 0 ? 0 : rc;
  exec_run r = {0};
  gpp_errctx err = {0};
  rc = run(&a, &r, &err);
  if (rc != 0)
    fprintf(stderr, "gppsim-exec: %s\n",
            err.msg[0] ? err.msg : gpp_strerror(err.code));
  gpp_measurement_free(&r.m);
  gpp_exec_prog_free(&r.prog);
  gpp_result_destroy(r.res);
  gpp_costs_destroy(r.costs);
  gpp_profile_db_destroy(r.profile);
  gpp_plan_destroy(r.plan);
  gpp_cluster_destroy(r.cluster);
  return rc == 0 ? 0 : gpp_err_exit_status(rc);
}
