/* bench_net.c -- how the flow network scales with concurrent flows.
 *
 * On a 1,024-GPU fat-tree (128 DGX-style nodes, 8 leaves, 8 spines), two
 * kinds of traffic.
 *
 * Random pairs: keeps N flows between random GPU pairs in flight (each
 * completion starts a replacement) for N = 10, 100, 1,000, 10,000 and
 * 100,000, and reports flow events
 * (a flow's start of transfer or its finish) per second, re-sharings, the
 * cost of one re-sharing, the flows each re-sharing touched (the size of
 * the component it re-shared: mean and max), the flows already transferring
 * whose rate it changed (mean: what any exact re-sharing that keeps a rate
 * per flow must update at least), the cost per touched flow,
 * the share of re-sharings settled by the exact shortcut (fast), by
 * the incremental filling (local) and by filling the closed component,
 * and, per local re-sharing, the links that saturated (max-min levels set
 * anew) and the flows whose bottleneck link changed; then the process's
 * peak resident memory so far (rows grow).  Nearly every flow crosses the
 * spine; how far a change spreads, and so the cost per event, grows with N.
 *
 * Collectives: the data-parallel traffic of training at this size.  The
 * 8 rail-aligned groups (GPU r of every node, 128 ranks each) each keep B
 * ring collectives of 25-31 MB in flight (gradient buckets of all-reduce,
 * or sharded-parameter all-gathers), each completion starting the next,
 * so B x 1,024 flows run at once.  Flow events are those of the member
 * flows of the collectives that completed (a start and a finish each),
 * whether a step ran as a flow class or flow by flow: a class is exact, so
 * it stands for its members' events.  It reports flow events per second,
 * re-sharings, flow events per re-sharing, and the flow classes started,
 * the share that ran in a ring with classes on exactly the same links
 * (a group's buckets), and the share split when other traffic met them.
 *
 * Times are the process's CPU time, so other load on the machine inflates
 * them less than wall time would.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "bench/bench_cli.h"
#include "topology/network.h"
#include "topology/topology.h"

static const char *cluster_yaml =
    "name: fat-tree-1024\ngpu: h100-sxm-80gb\nnodes: 128\ngpus_per_node: 8\n"
    "intra_node: {kind: nvswitch, bandwidth: 450 GB/s, latency: 2 us}\n"
    "inter_node: {kind: fat-tree, nics_per_node: 8, nic_bandwidth: 400 Gb/s,"
    " latency: 5 us, nodes_per_leaf: 16, spines: 8, oversubscription: 1}\n";

typedef struct bench {
  gpp_net *net;
  uint64_t rng, done, target, next_tag;
  int failed;
} bench;

static uint64_t next_rand(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

static int start_random(bench *b, double t) {
  uint32_t s = (uint32_t)(next_rand(&b->rng) % 1024);
  uint32_t d = (uint32_t)(next_rand(&b->rng) % 1023);
  if (d >= s) d++;
  double bytes = 1e6 + (double)(next_rand(&b->rng) % 15000000);
  gpp_errctx e = {0};
  if (gpp_net_flow(b->net, t, s, d, bytes, b->next_tag++, &e) == 0) return 0;
  fprintf(stderr, "bench_net: %s\n", e.msg);
  return -1;
}

static void on_done(void *ctx, uint64_t tag, double t) {
  (void)tag;
  bench *b = ctx;
  if (++b->done < b->target && start_random(b, t) != 0) b->failed = 1;
}

/* The process's peak resident memory in MB (ru_maxrss is in KiB). */
static double peak_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0;
}

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct result {
  double per_event_us, per_reshare_us, per_touched_ns;
} result;

static int run_case(gpp_cluster *c, uint64_t n, uint64_t target,
                    result *out) {
  gpp_errctx e = {0};
  bench b = {.rng = 0x9e3779b97f4a7c15ULL ^ n, .target = target};
  if (gpp_net_create(c, &b.net, &e) != 0) return -1;
  double t0 = cpu_s();
  for (uint64_t i = 0; i < n && !b.failed; i++) b.failed = start_random(&b, 0);
  while (!b.failed && b.done < target && isfinite(gpp_net_next_time(b.net)))
    if (gpp_net_advance(b.net, gpp_net_next_time(b.net), on_done, &b, &e))
      b.failed = 1;
  double cpu = cpu_s() - t0;
  uint64_t reshares, touched;
  gpp_net_counters(b.net, &reshares, &touched);
  gpp_net_reshare_stats how;
  gpp_net_reshare_stats_get(b.net, &how);
  double events = 2.0 * (double)b.done; /* a start and a finish per flow */
  out->per_event_us = 1e6 * cpu / events;
  out->per_reshare_us = 1e6 * cpu / (double)reshares;
  out->per_touched_ns = 1e9 * cpu / (double)touched;
  double pct = 100.0 / (double)reshares;
  double local = how.local ? (double)how.local : 1.0;
  printf("%7llu %9.0f %8.3f %10.0f %9.2f %9llu %10.2f %10.1f %7llu %10.1f "
         "%9.1f %6.1f %6.1f %7.1f %7.1f %9.2f %8.0f\n",
         (unsigned long long)n, events,
         cpu, events / cpu, out->per_event_us, (unsigned long long)reshares,
         out->per_reshare_us, (double)touched / (double)reshares,
         (unsigned long long)how.max_touched,
         (double)how.changed / (double)reshares, out->per_touched_ns,
         pct * (double)how.fast, pct * (double)how.local,
         pct * (double)how.closed, (double)how.saturations / local,
         (double)how.switches / local, peak_mb());
  fflush(stdout); /* rows take up to minutes: show each as it ends */
  gpp_net_destroy(b.net);
  return b.failed ? -1 : 0;
}

static const char usage[] =
    "usage: bench_net [FLOWS] [--collectives=B,B,...]\n"
    "Flow events per second and the cost of a re-sharing on a 1,024-GPU\n"
    "fat-tree (Release build): with 10 to 100,000 concurrent flows between\n"
    "random pairs, then with data-parallel ring all-reduces and all-gathers\n"
    "over the 8 rail-aligned groups of 128 GPUs, B = 1 and 10 in flight per\n"
    "group (1,024 and 10,240 concurrent flows).  FLOWS, a comma-separated\n"
    "list of counts (1 to 1,000,000), runs those random rows only;\n"
    "--collectives=B,... (1 to 100) those collective rows only; both, both.\n";

#define MAX_ROWS 8

/* Completions to run with n flows in flight: enough for a steady state,
 * few enough that the dense rows take seconds. */
static uint64_t completions(uint64_t n) {
  uint64_t c = 60000000 / n;
  return c < 1000 ? 1000 : c > 200000 ? 200000 : c;
}

/* Collectives: RAILS groups of NODES ranks, GPU r of every node. */
#define RAILS 8
#define NODES 128

typedef struct coll_bench {
  gpp_net *net;
  gpp_coll_op op;
  uint32_t ranks[RAILS][NODES];
  uint64_t serial, done, target, flows_done;
  int failed;
} coll_bench;

/* Member flows of one ring collective over NODES ranks: all-reduce is
 * 2(n-1) steps of n flows, all-gather n-1. */
static uint64_t coll_flows(gpp_coll_op op) {
  uint64_t steps = op == GPP_COLL_ALLREDUCE ? 2 * (NODES - 1) : NODES - 1;
  return steps * NODES;
}

/* Starts the next collective on group g: 25 to 31 MB, so that the
 * buckets of a group drift apart. */
static int start_coll(coll_bench *b, uint32_t g, double t) {
  uint64_t tag = b->serial++ * RAILS + g;
  double bytes = 25e6 + 1e6 * (double)(tag / RAILS % 7);
  gpp_errctx e = {0};
  if (gpp_net_collective(b->net, t, b->op, GPP_COLL_RING, b->ranks[g],
                         NODES, bytes, tag, &e) == 0)
    return 0;
  fprintf(stderr, "bench_net: %s\n", e.msg);
  return -1;
}

static void on_coll_done(void *ctx, uint64_t tag, double t) {
  coll_bench *b = ctx;
  b->flows_done += coll_flows(b->op);
  if (++b->done < b->target && start_coll(b, (uint32_t)(tag % RAILS), t))
    b->failed = 1;
}

static int run_coll(gpp_cluster *c, gpp_coll_op op, uint64_t in_flight) {
  gpp_errctx e = {0};
  coll_bench b = {.op = op, .target = 2 * RAILS * in_flight};
  for (uint32_t g = 0; g < RAILS; g++)
    for (uint32_t n = 0; n < NODES; n++) b.ranks[g][n] = n * RAILS + g;
  if (gpp_net_create(c, &b.net, &e) != 0) return -1;
  double t0 = cpu_s();
  for (uint64_t i = 0; i < in_flight && !b.failed; i++)
    for (uint32_t g = 0; g < RAILS && !b.failed; g++)
      b.failed = start_coll(&b, g, 0);
  while (!b.failed && b.done < b.target && isfinite(gpp_net_next_time(b.net)))
    if (gpp_net_advance(b.net, gpp_net_next_time(b.net), on_coll_done, &b,
                        &e))
      b.failed = 1;
  double cpu = cpu_s() - t0;
  uint64_t reshares, classes, shared, splits;
  gpp_net_counters(b.net, &reshares, NULL);
  gpp_net_class_counts(b.net, &classes, &shared, &splits);
  double events = 2.0 * (double)b.flows_done;
  double pct = classes ? 100.0 / (double)classes : 0.0;
  printf("%-10s %6llu %7llu %6llu %10.0f %8.3f %10.0f %9llu %9.1f %8llu "
         "%8.1f %7.1f %8.0f\n", gpp_coll_op_name(op),
         (unsigned long long)in_flight,
         (unsigned long long)(in_flight * RAILS * NODES),
         (unsigned long long)b.done, events, cpu, events / cpu,
         (unsigned long long)reshares, events / (double)reshares,
         (unsigned long long)classes, pct * (double)shared,
         pct * (double)splits, peak_mb());
  fflush(stdout);
  gpp_net_destroy(b.net);
  if (b.failed) fprintf(stderr, "bench_net: %s\n", e.msg);
  return b.failed ? -1 : 0;
}

static int coll_table(gpp_cluster *c, const unsigned long long *in_flight,
                      int n) {
  printf("Collectives: ring, 8 rail-aligned groups of 128 GPUs, B in "
         "flight per group\n%-10s %6s %7s %6s %10s %8s %10s %9s %9s %8s "
         "%8s %7s %8s\n", "op", "B", "flows", "done", "events", "cpu s",
         "events/s", "reshares", "events/rs", "classes", "shared%",
         "split%", "peak MB");
  static const gpp_coll_op ops[] = {GPP_COLL_ALLREDUCE, GPP_COLL_ALLGATHER};
  for (size_t o = 0; o < sizeof ops / sizeof *ops; o++)
    for (int i = 0; i < n; i++)
      if (run_coll(c, ops[o], in_flight[i]) != 0) return -1;
  return 0;
}

/* The ratio of row b's figure to row a's, when both rows ran. */
static void ratio(const char *what, const unsigned long long *flows, const result *r,
                  int n, uint64_t a, uint64_t b, size_t off) {
  int ia = -1, ib = -1;
  for (int i = 0; i < n; i++) {
    if (flows[i] == a) ia = i;
    if (flows[i] == b) ib = i;
  }
  if (ia < 0 || ib < 0) return;
  double x = *(const double *)((const char *)&r[ia] + off);
  double y = *(const double *)((const char *)&r[ib] + off);
  printf("%s, %llu vs %llu flows: %.2fx (flows: %.0fx)\n", what,
         (unsigned long long)b, (unsigned long long)a, y / x,
         (double)b / (double)a);
}

static bool has_row(const unsigned long long *flows, int n,
                    unsigned long long x) {
  for (int i = 0; i < n; i++)
    if (flows[i] == x) return true;
  return false;
}

/* The table of random rows, and how their costs grow. */
static int random_table(gpp_cluster *c, const unsigned long long *flows,
                        int n) {
  printf("Random pairs\n%7s %9s %8s %10s %9s %9s %10s %10s %7s %10s %9s "
         "%6s %6s %7s %7s %9s %8s\n", "flows", "events", "cpu s",
         "events/s", "us/event", "reshares", "us/reshare", "touched/rs",
         "max", "changed/rs", "ns/touch", "fast%", "local%", "closed%",
         "sat/lrs", "switch/lrs", "peak MB");
  result r[MAX_ROWS];
  for (int i = 0; i < n; i++)
    if (run_case(c, flows[i], completions(flows[i]), &r[i]) != 0) return -1;
  if (has_row(flows, n, 10000) && (has_row(flows, n, 100) ||
                                   has_row(flows, n, 100000)))
    printf("\n");
  ratio("cost per event", flows, r, n, 100, 10000,
        offsetof(result, per_event_us));
  ratio("cost per re-sharing", flows, r, n, 100, 10000,
        offsetof(result, per_reshare_us));
  ratio("cost per touched flow", flows, r, n, 100, 10000,
        offsetof(result, per_touched_ns));
  ratio("cost per event", flows, r, n, 10000, 100000,
        offsetof(result, per_event_us));
  return 0;
}

/* Parses the arguments into the rows of each table; n_* 0 skips one. */
static int parse_args(int argc, char **argv, unsigned long long *flows,
                      int *n_flows, unsigned long long *buckets,
                      int *n_buckets) {
  static const char opt[] = "--collectives=";
  bool any_flows = false, any_coll = false;
  for (int a = 1; a < argc; a++) {
    bool is_coll = !strncmp(argv[a], opt, sizeof opt - 1);
    if (is_coll ? any_coll : any_flows) {
      fprintf(stderr, "bench_net: %s given twice\n%s",
              is_coll ? "--collectives=" : "FLOWS", usage);
      return 2;
    }
    if (is_coll) {
      any_coll = true;
      *n_buckets = (int)bench_parse_counts(argv[a] + sizeof opt - 1, 100,
                                           buckets, MAX_ROWS);
      if (*n_buckets > 0) continue;
      fprintf(stderr, "bench_net: --collectives= takes up to %d whole "
              "numbers 1 to 100 separated by commas, got '%s'\n%s",
              MAX_ROWS, argv[a] + sizeof opt - 1, usage);
      return 2;
    }
    any_flows = true;
    *n_flows = (int)bench_parse_counts(argv[a], 1000000, flows, MAX_ROWS);
    if (*n_flows > 0) continue;
    fprintf(stderr, "bench_net: FLOWS takes up to %d whole numbers 1 to "
            "1000000 separated by commas, got '%s'\n%s", MAX_ROWS, argv[a],
            usage);
    return 2;
  }
  if (any_coll && !any_flows) *n_flows = 0;
  if (any_flows && !any_coll) *n_buckets = 0;
  return 0;
}

int main(int argc, char **argv) {
  int rc = bench_cli(argc, argv, 2, usage);
  if (rc != 0) return bench_cli_exit(rc);
  unsigned long long flows[MAX_ROWS] = {10, 100, 1000, 10000, 100000};
  unsigned long long buckets[MAX_ROWS] = {1, 10};
  int n_flows = 5, n_buckets = 2;
  rc = parse_args(argc, argv, flows, &n_flows, buckets, &n_buckets);
  if (rc != 0) return rc;
  gpp_errctx e = {0};
  gpp_cluster *c;
  if (gpp_cluster_from_string("bench", cluster_yaml, &c, &e) != 0) {
    fprintf(stderr, "bench_net: %s\n", e.msg);
    return 1;
  }
  printf("bench_net: %u GPUs, %u vertices, %u directed links\n\n", c->n_gpus,
         c->n_vertices, c->n_links);
  rc = n_flows > 0 ? random_table(c, flows, n_flows) : 0;
  if (rc == 0 && n_buckets > 0) {
    if (n_flows > 0) printf("\n");
    rc = coll_table(c, buckets, n_buckets);
  }
  gpp_cluster_destroy(c);
  return rc == 0 ? 0 : 1;
}
