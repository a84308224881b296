/* test_evq.c -- the event queue: order by (time, seq), ties in insertion
 * order, growth, and agreement with a sort over random workloads. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "sim/engine/evq.h"

Test(evq, pops_in_time_order_and_ties_in_push_order) {
  gpp_evq q;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_evq_init(&q, 4, &err), 0);
  const double t[] = {2.5, 1.25, 2.5, 0.375, 1.25, 2.5};
  for (uint64_t i = 0; i < 6; i++) cr_assert_eq(gpp_evq_push(&q, t[i], i, &err), 0);
  const uint64_t want[] = {3, 1, 4, 0, 2, 5};
  gpp_event ev;
  for (int i = 0; i < 6; i++) {
    cr_assert(gpp_evq_pop(&q, &ev));
    cr_assert_eq(ev.data, want[i], "pop %d gave %llu", i,
                 (unsigned long long)ev.data);
  }
  cr_assert_not(gpp_evq_pop(&q, &ev));
  cr_assert(isinf(gpp_evq_peek_time(&q)));
  gpp_evq_fini(&q);
}

static int cmp_key(const void *a, const void *b) {
  const gpp_event *x = a, *y = b;
  if (x->time != y->time) return x->time < y->time ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Interleaved pushes and pops (a hold model) against a sorted reference. */
Test(evq, matches_sorting_under_a_hold_workload) {
  gpp_evq q;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_evq_init(&q, 16, &err), 0);
  srand(2385);
  enum { N = 3000 };
  static gpp_event ref[N];
  size_t n_ref = 0;
  double now = 0;
  for (int i = 0; i < N; i++) {
    double t = now + (rand() % 97) * 0.015625; /* many exact ties */
    ref[n_ref] = (gpp_event){t, q.next_seq, (uint64_t)i};
    n_ref++;
    cr_assert_eq(gpp_evq_push(&q, t, (uint64_t)i, &err), 0);
    if (i % 3 == 2) {
      gpp_event ev;
      qsort(ref, n_ref, sizeof *ref, cmp_key);
      cr_assert(gpp_evq_pop(&q, &ev));
      cr_assert_eq(ev.data, ref[0].data);
      now = ev.time;
      ref[0] = ref[--n_ref];
    }
  }
  qsort(ref, n_ref, sizeof *ref, cmp_key);
  for (size_t i = 0; i < n_ref; i++) {
    gpp_event ev;
    cr_assert(gpp_evq_pop(&q, &ev));
    cr_assert_eq(ev.data, ref[i].data);
  }
  cr_assert_eq(gpp_evq_size(&q), 0);
  gpp_evq_fini(&q);
}

Test(evq, clear_restarts_sequence_and_keeps_storage) {
  gpp_evq q;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_evq_init(&q, 0, &err), 0);
  for (int i = 0; i < 100; i++) gpp_evq_push(&q, 7.5 - i * 0.0625, i, &err);
  size_t cap = q.cap;
  cr_assert_geq(cap, 100);
  gpp_evq_clear(&q);
  cr_assert_eq(gpp_evq_size(&q), 0);
  cr_assert_eq(q.next_seq, 0);
  cr_assert_eq(q.cap, cap);
  gpp_evq_fini(&q);
  gpp_evq_fini(NULL);
}
