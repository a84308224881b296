/* bench_engine.c -- engine throughput on one training iteration of MMT
 * (configs/models/mmt.yaml) under a GPP plan, on clusters (Summit's
 * template by default, its `nodes` set for the size) of 8, 64, 512 and
 * 4,096 GPUs, or the sizes of --sizes (up to 65,536 and beyond).  The plan is derived from the model's structure:
 * its series-parallel segments (cut ops every source-to-sink path crosses)
 * give one stage per parallel branch and one per run of sequential ops, and
 * the GPUs are shared out as data-parallel replicas, whole nodes per stage
 * once there are enough (so each stage's gradient all-reduce can use the
 * hierarchical algorithm).  Each size runs twice: with the ideal network
 * (the engine's own loop: events/s) and through the flow network (wall time
 * of the whole run, setup included, and the process's CPU time for it,
 * which other load on the machine inflates less).  Each row runs in a
 * child process, so its peak resident memory (from wait4) is that row's
 * alone; the iteration time is printed in full so that two builds can be
 * compared to the last bit.  Then, for each network, how the events, the
 * run's wall and CPU time and the peak memory grow from one size to the
 * next.
 *
 * usage: bench_engine [--sizes N,N,...] [--flow] [MODEL] [CLUSTER]
 */
#define _DEFAULT_SOURCE /* wait4 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_cli.h"
#include "kernels_profile/cost.h"
#include "sim/common/yaml.h"
#include "sim/engine/engine.h"
#include "sim/plan/plan.h"
#include "topology/topology.h"

static double clock_s(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double seconds(void) { return clock_s(CLOCK_MONOTONIC); }
/* The process's CPU time: less inflated than wall time by other load. */
static double cpu_seconds(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

/* cut[i]: op i lies on every path from a source to a sink. */
static void find_cuts(const gpp_model *m, bool *cut) {
  uint32_t reach = 0; /* furthest position an earlier op feeds */
  bool sink_seen = false;
  for (uint32_t i = 0; i < m->n_ops; i++) {
    const gpp_op *op = &m->ops[i];
    bool source_late = op->n_inputs == 0 && i > 0;
    cut[i] = reach <= i && !sink_seen && !source_late;
    for (uint32_t k = 0; k < op->n_outputs; k++)
      if (op->outputs[k] > reach) reach = op->outputs[k];
    sink_seen |= op->n_outputs == 0 && i + 1 < m->n_ops;
    if (op->n_inputs == 0) /* later sources bypass earlier cuts */
      for (uint32_t j = 0; j < i; j++) cut[j] = false;
  }
}

static uint32_t find_root(uint32_t *parent, uint32_t x) {
  while (parent[x] != x) x = parent[x] = parent[parent[x]];
  return x;
}

/* stage[i] for every op: branches of parallel segments get their own
 * stage, consecutive sequential ops share one.  Returns the stage count. */
static uint32_t partition(const gpp_model *m, uint32_t *stage) {
  bool *cut = calloc(m->n_ops, sizeof *cut);
  uint32_t *parent = calloc(m->n_ops, sizeof *parent);
  find_cuts(m, cut);
  for (uint32_t i = 0; i < m->n_ops; i++) parent[i] = i;
  for (uint32_t i = 0; i < m->n_ops; i++)
    for (uint32_t k = 0; k < m->ops[i].n_outputs; k++) {
      uint32_t j = m->ops[i].outputs[k];
      if (!cut[i] && !cut[j]) parent[find_root(parent, i)] = find_root(parent, j);
    }
  uint32_t n = 0, *first = calloc(m->n_ops, sizeof *first);
  bool prev_seq = false;
  for (uint32_t i = 0; i < m->n_ops; i++) {
    uint32_t r = find_root(parent, i);
    bool seq = cut[i];
    if (seq && prev_seq) stage[i] = n - 1;
    else if (!seq && first[r]) stage[i] = first[r] - 1;
    else stage[i] = n++;
    if (!seq && !first[r]) first[r] = stage[i] + 1;
    prev_seq = seq;
  }
  free(cut);
  free(parent);
  free(first);
  return n;
}

static size_t put(char *buf, size_t cap, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t put(char *buf, size_t cap, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(buf + (n < cap ? n : cap), n < cap ? cap - n : 0, fmt, ap);
  va_end(ap);
  return n + (size_t)(k > 0 ? k : 0);
}

/* Devices of stage s of ns: an equal share of the nodes (of gpn GPUs)
 * when every stage can have one, else of the GPUs (at least one, shared
 * round-robin). */
static uint32_t stage_devices(uint32_t s, uint32_t ns, uint32_t gpus,
                              uint32_t gpn) {
  uint32_t nodes = gpus / gpn;
  if (gpus % gpn == 0 && nodes >= ns)
    return gpn * (nodes / ns + (s < nodes % ns));
  uint32_t d = gpus / ns + (s < gpus % ns);
  return d ? d : 1;
}

/* A GPP plan over the stages of partition(), in the model file's precision
 * (fp32 for the bundled models: the recorded net-scale times assume it). */
static char *make_plan(const gpp_model *m, const uint32_t *stage, uint32_t ns,
                       uint32_t gpus, uint32_t gpn, uint32_t micro,
                       uint32_t n_micro) {
  size_t cap = 1 << 26, n = 0;
  char *buf = malloc(cap);
  n = put(buf, cap, n, "batch: %u\nmicro_batch: %u\nschedule: gpp\n"
          "optimizer: adam\nprecision: full\nstages:\n", micro * n_micro, micro);
  uint32_t dev = 0;
  for (uint32_t s = 0; s < ns; s++) {
    uint32_t d = stage_devices(s, ns, gpus, gpn);
    n = put(buf, cap, n, "  - name: s%u\n    ops: [", s);
    for (uint32_t i = 0, k = 0; i < m->n_ops; i++)
      if (stage[i] == s) n = put(buf, cap, n, "%s\"%s\"", k++ ? ", " : "", m->ops[i].name);
    n = put(buf, cap, n, "]\n    devices: [");
    for (uint32_t r = 0; r < d; r++, dev++)
      n = put(buf, cap, n, "%s%u", r ? ", " : "", dev % gpus);
    n = put(buf, cap, n, "]\n");
  }
  if (n >= cap) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* The cluster file with `nodes` set for the GPU count (gpn GPUs a node). */
static int load_cluster(const char *path, uint32_t gpus, uint32_t gpn,
                        gpp_cluster **out, gpp_errctx *err) {
  char *text;
  size_t n;
  GPP_TRY(gpp_read_input_file(path, &text, &n, err));
  char *at = strstr(text, "\nnodes:");
  char *eol = at ? strchr(at + 1, '\n') : NULL;
  if (eol == NULL) {
    free(text);
    GPP_RAISE(err, GPP_EINVAL, "%s has no `nodes:` line", path);
  }
  static char edited[1 << 16];
  snprintf(edited, sizeof edited, "%.*s\nnodes: %u%s", (int)(at - text), text,
           (gpus + gpn - 1) / gpn, eol);
  free(text);
  return gpp_cluster_from_string(path, edited, out, err);
}

typedef struct bench_row {
  uint32_t stages;
  double wall, cpu, loop, events, iter;
} bench_row;

static int run_one(const gpp_model *m, const char *cluster_path, uint32_t gpus,
                   uint32_t gpn, bool ideal, bench_row *row, gpp_errctx *err) {
  uint32_t *stage = calloc(m->n_ops, sizeof *stage);
  uint32_t ns = partition(m, stage), per = (gpus + ns - 1) / ns, micro = 1;
  while (micro < 2 * per) micro *= 2;
  char *text = make_plan(m, stage, ns, gpus, gpn, micro, 16);
  free(stage);
  if (text == NULL) GPP_RAISE(err, GPP_ENOMEM, "plan text too long");
  gpp_cluster *c = NULL;
  gpp_plan *p = NULL;
  gpp_costs *costs = NULL;
  gpp_result *r = NULL;
  double t1 = seconds(), c1 = cpu_seconds();
  int rc = load_cluster(cluster_path, gpus, gpn, &c, err);
  if (rc == 0) rc = gpp_plan_load_string("bench-plan", text, m, c->n_gpus, &p, err);
  if (rc == 0) rc = gpp_costs_create(m, &c->gpu, NULL, &costs, err);
  gpp_engine_opts o = {.allow_oom = true, .ideal_network = ideal};
  if (rc == 0) rc = gpp_engine_run(p, costs, c, &o, &r, err);
  if (rc == 0)
    *row = (bench_row){ns, seconds() - t1, cpu_seconds() - c1,
                       r->loop_seconds, (double)r->events, r->iteration_time};
  gpp_result_destroy(r);
  gpp_costs_destroy(costs);
  gpp_plan_destroy(p);
  gpp_cluster_destroy(c);
  free(text);
  return rc;
}

/* Runs one row in a child process (so that its peak RSS is its own);
 * *rss_mb is the child's peak resident memory. */
static int run_child(const gpp_model *m, const char *cluster, uint32_t gpus,
                     uint32_t gpn, bool ideal, bench_row *row, double *rss_mb,
                     gpp_errctx *err) {
  int fd[2];
  if (pipe(fd) != 0) GPP_RAISE(err, GPP_EIO, "pipe: %s", strerror(errno));
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) GPP_RAISE(err, GPP_EIO, "fork: %s", strerror(errno));
  if (pid == 0) {
    close(fd[0]);
    int rc = run_one(m, cluster, gpus, gpn, ideal, row, err);
    if (rc != 0) fprintf(stderr, "bench_engine: %u GPUs: %s\n", gpus, err->msg);
    ssize_t w = rc == 0 ? write(fd[1], row, sizeof *row) : 0;
    _exit(w == (ssize_t)sizeof *row ? 0 : 1);
  }
  close(fd[1]);
  ssize_t got = read(fd[0], row, sizeof *row);
  close(fd[0]);
  int status = 0;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof *row)
    GPP_RAISE(err, GPP_EINTERNAL, "the %u-GPU run failed", gpus);
  *rss_mb = (double)ru.ru_maxrss / 1024.0; /* ru_maxrss is in KiB */
  return 0;
}

static const char usage[] =
    "usage: bench_engine [--sizes N,N,...] [--flow] [MODEL] [CLUSTER]\n"
    "Engine events per second for one GPP iteration of MODEL (default MMT)\n"
    "on CLUSTER (default Summit) with its `nodes` set for each size (default\n"
    "8, 64, 512 and 4,096 GPUs), with the ideal and the flow network (only the\n"
    "flow network with --flow): wall and CPU time of the whole run (setup\n"
    "included), the engine loop's events/s, the row's peak resident memory,\n"
    "and the iteration time to the last bit; then how each grows from one\n"
    "size to the next (Release build).\n";

#define MAX_SIZES 16

typedef struct bench_opts {
  uint32_t sizes[MAX_SIZES];
  size_t n_sizes;
  bool flow_only;
} bench_opts;

/* Takes the options out of argv (leaving the positional arguments);
 * returns 0, or 2 after a usage error. */
static int parse_opts(int *argc, char **argv, bench_opts *o) {
  int k = 1;
  for (int i = 1; i < *argc; i++) {
    if (!strcmp(argv[i], "--flow")) {
      o->flow_only = true;
    } else if (!strncmp(argv[i], "--sizes=", 8) ||
               (!strcmp(argv[i], "--sizes") && i + 1 < *argc)) {
      const char *v = argv[i][7] == '=' ? argv[i] + 8 : argv[++i];
      unsigned long long n[MAX_SIZES];
      o->n_sizes = bench_parse_counts(v, 1ull << 24, n, MAX_SIZES);
      for (size_t q = 0; q < o->n_sizes; q++) o->sizes[q] = (uint32_t)n[q];
      if (o->n_sizes == 0) {
        fprintf(stderr, "bench_engine: --sizes takes up to %d GPU counts "
                "(whole numbers 1 to 16777216) separated by commas, got '%s'\n"
                "%s", MAX_SIZES, v, usage);
        return 2;
      }
    } else {
      argv[k++] = argv[i];
    }
  }
  *argc = k;
  return 0;
}

/* The cluster file's GPUs per node, as loaded unchanged. */
static int cluster_gpn(const char *path, uint32_t *gpn, gpp_errctx *err) {
  gpp_cluster *c;
  GPP_TRY(gpp_cluster_load(path, &c, err));
  *gpn = c->gpus_per_node ? c->gpus_per_node : 1;
  gpp_cluster_destroy(c);
  return 0;
}

/* One row's figures as printed, kept for the growth ratios. */
typedef struct bench_out {
  bench_row row;
  double rss;
} bench_out;

/* How each figure of one network grows from one size to the next. */
static void print_growth(const bench_opts *o, const bench_out *out,
                         int ideal) {
  const bench_out *a, *b;
  for (size_t i = 1; i < o->n_sizes; i++) {
    a = &out[2 * (i - 1) + ideal];
    b = &out[2 * i + ideal];
    printf("%6u -> %6u GPUs %8s (%.1fx GPUs): events %.2fx, run s %.2fx, "
           "run cpu s %.2fx, peak MB %.2fx\n", o->sizes[i - 1], o->sizes[i],
           ideal ? "ideal" : "flow", (double)o->sizes[i] / o->sizes[i - 1],
           b->row.events / a->row.events, b->row.wall / a->row.wall,
           b->row.cpu / a->row.cpu, b->rss / a->rss);
  }
}

static int run_all(const gpp_model *m, const char *cluster,
                   const bench_opts *o, uint32_t gpn, gpp_errctx *err) {
  bench_out out[2 * MAX_SIZES];
  printf("%6s %6s %8s %12s %10s %10s %10s %12s %9s %24s\n", "GPUs", "stages",
         "network", "events", "loop s", "run s", "run cpu s", "Mevents/s",
         "peak MB", "iteration s");
  for (size_t i = 0; i < o->n_sizes; i++)
    for (int ideal = o->flow_only ? 0 : 1; ideal >= 0; ideal--) {
      bench_out *r = &out[2 * i + ideal];
      GPP_TRY(run_child(m, cluster, o->sizes[i], gpn, ideal, &r->row, &r->rss,
                        err));
      printf("%6u %6u %8s %12.0f %10.4f %10.4f %10.4f %12.3f %9.0f %24.17g\n",
             o->sizes[i], r->row.stages, ideal ? "ideal" : "flow",
             r->row.events, r->row.loop, r->row.wall, r->row.cpu,
             r->row.events / r->row.loop / 1e6, r->rss, r->row.iter);
    }
  if (o->n_sizes > 1) printf("\ngrowth from one size to the next:\n");
  for (int ideal = o->flow_only ? 0 : 1; ideal >= 0; ideal--)
    print_growth(o, out, ideal);
  return 0;
}

int main(int argc, char **argv) {
  bench_opts o = {.sizes = {8, 64, 512, 4096}, .n_sizes = 4};
  int rc = bench_cli(argc, argv, 5, usage);
  if (rc == 0) rc = parse_opts(&argc, argv, &o);
  if (rc == 0) rc = bench_cli(argc, argv, 2, usage);
  if (rc != 0) return bench_cli_exit(rc);
  const char *model = argc > 1 ? argv[1] : "configs/models/mmt.yaml";
  const char *cluster = argc > 2 ? argv[2] : "configs/clusters/summit.yaml";
  gpp_errctx err = {0};
  gpp_model *m = NULL;
  uint32_t gpn = 0;
  if (gpp_model_load(model, NULL, 0, &m, &err) != 0 ||
      cluster_gpn(cluster, &gpn, &err) != 0) {
    fprintf(stderr, "bench_engine: %s\n", err.msg);
    gpp_model_destroy(m);
    return 1;
  }
  printf("model %s (%u ops), cluster %s (%u GPUs a node), schedule gpp, "
         "16 micro-batches\n", model, m->n_ops, cluster, gpn);
  rc = run_all(m, cluster, &o, gpn, &err);
  if (rc != 0) fprintf(stderr, "bench_engine: %s\n", err.msg);
  gpp_model_destroy(m);
  return rc != 0;
}
