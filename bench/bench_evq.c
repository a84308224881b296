/* bench_evq.c -- the classic hold model for the event queue: keep N events
 * queued, repeatedly pop the earliest and push one at a random later time.
 * Prints million events (pop + push pairs) per second for N = 1e2..1e6. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/bench_cli.h"
#include "sim/engine/evq.h"

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* xorshift64*: a fixed seed keeps the workload identical run to run. */
static double next_uniform(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return (double)((*s * 2685821657736338717ull) >> 11) * 0x1.0p-53;
}

static int hold(size_t n, uint64_t ops, double *rate) {
  gpp_evq q;
  gpp_errctx err = {0};
  uint64_t s = 0x9e3779b97f4a7c15ull;
  if (gpp_evq_init(&q, n, &err) != 0) return -1;
  for (size_t i = 0; i < n; i++) gpp_evq_push(&q, next_uniform(&s), i, &err);
  gpp_event ev;
  double t0 = seconds();
  for (uint64_t i = 0; i < ops; i++) {
    gpp_evq_pop(&q, &ev);
    gpp_evq_push(&q, ev.time + next_uniform(&s), ev.data, &err);
  }
  *rate = (double)ops / (seconds() - t0);
  gpp_evq_fini(&q);
  return err.code;
}

static const char usage[] =
    "usage: bench_evq\n"
    "Event-queue hold model: million events per second with 1e2..1e6\n"
    "events queued (Release build).\n";

int main(int argc, char **argv) {
  int rc = bench_cli(argc, argv, 0, usage);
  if (rc != 0) return bench_cli_exit(rc);
  printf("%10s %14s %12s\n", "queue", "Mevents/s", "ns/event");
  for (size_t n = 100; n <= 1000000; n *= 10) {
    double rate;
    if (hold(n, 5000000, &rate) != 0) return 1;
    printf("%10zu %14.2f %12.1f\n", n, rate / 1e6, 1e9 / rate);
  }
  return 0;
}
