/* bench_net.c -- how the flow network scales with concurrent flows.
 *
 * On a 1,024-GPU fat-tree (128 DGX-style nodes, 8 leaves, 8 spines), keeps
 * N flows between random GPU pairs in flight (each completion starts a
 * replacement) for N = 10, 100, 1,000, 10,000 and 100,000, and reports flow events
 * (a flow's start of transfer or its finish) per second, re-sharings, the
 * cost of one re-sharing, the flows each re-sharing touched (the size of
 * the component it re-shared: mean and max), the flows already transferring
 * whose rate it changed (mean: what any exact re-sharing that keeps a rate
 * per flow must update at least), the cost per touched flow,
 * and the share of re-sharings settled by the exact shortcut (fast), by
 * the incremental filling (local) and by filling the closed component, and
 * the process's peak resident memory so far (rows grow).  Times are
 * the process's CPU time, so other load on the machine inflates them less
 * than wall time would.  Nearly every flow crosses the spine; how far a
 * change spreads, and so the cost per event, grows with N.
 */
#include <math.h>
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
  printf("%7llu %9.0f %8.3f %10.0f %9.2f %9llu %10.2f %10.1f %7llu %10.1f "
         "%9.1f %6.1f %6.1f %7.1f %8.0f\n", (unsigned long long)n, events,
         cpu, events / cpu, out->per_event_us, (unsigned long long)reshares,
         out->per_reshare_us, (double)touched / (double)reshares,
         (unsigned long long)how.max_touched,
         (double)how.changed / (double)reshares, out->per_touched_ns,
         pct * (double)how.fast, pct * (double)how.local,
         pct * (double)how.closed, peak_mb());
  gpp_net_destroy(b.net);
  return b.failed ? -1 : 0;
}

static const char usage[] =
    "usage: bench_net [FLOWS]\n"
    "Flow events per second and the cost of a re-sharing with 10 to 100,000\n"
    "concurrent flows on a 1,024-GPU fat-tree (Release build); FLOWS, a\n"
    "comma-separated list of counts (1 to 1,000,000), runs those rows only.\n";

#define MAX_ROWS 8

/* Completions to run with n flows in flight: enough for a steady state,
 * few enough that the dense rows take seconds. */
static uint64_t completions(uint64_t n) {
  uint64_t c = 60000000 / n;
  return c < 1000 ? 1000 : c > 200000 ? 200000 : c;
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

int main(int argc, char **argv) {
  int rc = bench_cli(argc, argv, 1, usage);
  if (rc != 0) return bench_cli_exit(rc);
  unsigned long long flows[MAX_ROWS] = {10, 100, 1000, 10000, 100000};
  int n = argc > 1 ? (int)bench_parse_counts(argv[1], 1000000, flows,
                                             MAX_ROWS) : 5;
  if (n == 0) {
    fprintf(stderr, "bench_net: FLOWS takes up to %d whole numbers 1 to "
            "1000000 separated by commas, got '%s'\n%s", MAX_ROWS, argv[1],
            usage);
    return 2;
  }
  gpp_errctx e = {0};
  gpp_cluster *c;
  if (gpp_cluster_from_string("bench", cluster_yaml, &c, &e) != 0) {
    fprintf(stderr, "bench_net: %s\n", e.msg);
    return 1;
  }
  printf("bench_net: %u GPUs, %u vertices, %u directed links\n\n", c->n_gpus,
         c->n_vertices, c->n_links);
  printf("%7s %9s %8s %10s %9s %9s %10s %10s %7s %10s %9s %6s %6s %7s "
         "%8s\n", "flows", "events", "cpu s", "events/s", "us/event",
         "reshares", "us/reshare", "touched/rs", "max", "changed/rs",
         "ns/touch", "fast%", "local%", "closed%", "peak MB");
  result r[MAX_ROWS];
  for (int i = 0; i < n; i++)
    if (run_case(c, flows[i], completions(flows[i]), &r[i]) != 0) return 1;
  printf("\n");
  ratio("cost per event", flows, r, n, 100, 10000,
        offsetof(result, per_event_us));
  ratio("cost per re-sharing", flows, r, n, 100, 10000,
        offsetof(result, per_reshare_us));
  ratio("cost per touched flow", flows, r, n, 100, 10000,
        offsetof(result, per_touched_ns));
  ratio("cost per event", flows, r, n, 10000, 100000,
        offsetof(result, per_event_us));
  gpp_cluster_destroy(c);
  return 0;
}
