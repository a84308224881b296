/* evq.c -- 4-ary min-heap on (time, seq) with events stored inline.
 *
 * A 4-ary heap halves the depth of a binary one and keeps the four children
 * of a node in adjacent memory, which is what dominates at 1e4..1e6 events.
 * Sifting moves a hole instead of swapping.
 */
#include "sim/engine/evq.h"

#include <math.h>
#include <stdlib.h>

#define ARITY 4

static inline bool before(const gpp_event *a, const gpp_event *b) {
  if (a->time != b->time) return a->time < b->time;
  return a->seq < b->seq;
}

int gpp_evq_init(gpp_evq *q, size_t capacity, gpp_errctx *err) {
  q->size = 0;
  q->next_seq = 0;
  q->cap = capacity < 16 ? 16 : capacity;
  q->heap = gpp_calloc(err, q->cap, sizeof *q->heap);
  if (q->heap == NULL) {
    q->cap = 0;
    return err->code;
  }
  return 0;
}

void gpp_evq_fini(gpp_evq *q) {
  if (q == NULL) return;
  free(q->heap);
  q->heap = NULL;
  q->size = q->cap = 0;
}

void gpp_evq_clear(gpp_evq *q) {
  q->size = 0;
  q->next_seq = 0;
}

static int grow(gpp_evq *q, gpp_errctx *err) {
  size_t cap = q->cap * 2;
  gpp_event *h = gpp_realloc_array(err, q->heap, cap, sizeof *h);
  if (h == NULL) return err->code;
  q->heap = h;
  q->cap = cap;
  return 0;
}

int gpp_evq_push(gpp_evq *q, double time, uint64_t data, gpp_errctx *err) {
  if (q->size == q->cap) GPP_TRY(grow(q, err));
  gpp_event ev = {time, q->next_seq++, data};
  size_t i = q->size++;
  while (i > 0) {
    size_t parent = (i - 1) / ARITY;
    if (!before(&ev, &q->heap[parent])) break;
    q->heap[i] = q->heap[parent];
    i = parent;
  }
  q->heap[i] = ev;
  return 0;
}

/* Index of the earliest child of i (which must have one). */
static inline size_t min_child(const gpp_evq *q, size_t first) {
  size_t end = first + ARITY < q->size ? first + ARITY : q->size;
  size_t best = first;
  for (size_t c = first + 1; c < end; c++)
    if (before(&q->heap[c], &q->heap[best])) best = c;
  return best;
}

bool gpp_evq_pop(gpp_evq *q, gpp_event *out) {
  if (q->size == 0) return false;
  *out = q->heap[0];
  gpp_event last = q->heap[--q->size];
  size_t i = 0;
  for (;;) {
    size_t first = i * ARITY + 1;
    if (first >= q->size) break;
    size_t c = min_child(q, first);
    if (!before(&q->heap[c], &last)) break;
    q->heap[i] = q->heap[c];
    i = c;
  }
  if (q->size > 0) q->heap[i] = last;
  return true;
}

double gpp_evq_peek_time(const gpp_evq *q) {
  return q->size ? q->heap[0].time : INFINITY;
}
