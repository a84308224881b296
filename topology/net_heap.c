/* net_heap.c -- the network's event queue: a 4-ary min-heap of flow ids
 * keyed by (event time, flow sequence number), the keys kept in the
 * entries so that sifting reads the heap, not the flows, plus the event
 * FIFOs of net_internal.h (most latency and finish events skip the heap).
 * Each flow has at most one pending event (its latency end or its finish);
 * a flow in the heap remembers its position, so re-sharing can move it in
 * O(log n).  The sequence number is the flow's creation order: flows due
 * at the same time are handled in the order they were started, which makes
 * runs reproducible bit for bit.
 */
#include <stdlib.h>
#include <string.h>

#include "topology/net_internal.h"

int gpp__grow_to(void **arr, uint32_t *cap, uint32_t need, size_t sz,
                 gpp_errctx *err) {
  uint32_t c = *cap ? *cap : 16;
  while (c < need) c *= 2;
  void *p = gpp_realloc_array(err, *arr, c, sz);
  if (p == NULL) return GPP_ENOMEM;
  *arr = p;
  *cap = c;
  return 0;
}

/* Event times are never negative (-0.0 is stored as +0.0), so their bits
 * order like the times and the comparison needs no branches. */
static uint64_t time_bits(double t) {
  uint64_t u;
  memcpy(&u, &t, sizeof u);
  return u;
}

static bool before(const gpp__hent *a, const gpp__hent *b) {
  uint64_t ta = time_bits(a->time), tb = time_bits(b->time);
  return (ta < tb) | ((ta == tb) & (a->seq < b->seq));
}

static void place(gpp_net *net, uint32_t i, gpp__hent e) {
  net->heap[i] = e;
  net->heap_pos[e.flow] = i;
}

static void sift_up(gpp_net *net, uint32_t i) {
  gpp__hent e = net->heap[i];
  while (i > 0) {
    uint32_t p = (i - 1) / GPP__HEAP_ARITY;
    if (!before(&e, &net->heap[p])) break;
    place(net, i, net->heap[p]);
    i = p;
  }
  place(net, i, e);
}

/* The earliest of node i's children, or n when it has none; a full set
 * of four is compared as two independent pairs, then their winners. */
static uint32_t min_child(const gpp_net *net, uint32_t i, uint32_t n) {
  const gpp__hent *h = net->heap;
  uint32_t c = GPP__HEAP_ARITY * i + 1, best = c;
  if (c >= n) return n;
  if (GPP__HEAP_ARITY == 4 && c + 3 < n) {
    uint32_t a = before(&h[c + 1], &h[c]) ? c + 1 : c;
    uint32_t b = before(&h[c + 3], &h[c + 2]) ? c + 3 : c + 2;
    return before(&h[b], &h[a]) ? b : a;
  }
  for (uint32_t k = c + 1; k < n && k < c + GPP__HEAP_ARITY; k++)
    if (before(&h[k], &h[best])) best = k;
  return best;
}

static void sift_down(gpp_net *net, uint32_t i) {
  gpp__hent e = net->heap[i];
  uint32_t n = net->heap_n;
  for (;;) {
    uint32_t c = min_child(net, i, n);
    if (c == n || !before(&net->heap[c], &e)) break;
    place(net, i, net->heap[c]);
    i = c;
  }
  place(net, i, e);
}

static gpp__hent entry(const gpp_net *net, uint32_t flow) {
  const gpp__flow *f = &net->flows[flow];
  return (gpp__hent){f->ev_time + 0.0, f->seq, flow};
}

int gpp__heap_push(gpp_net *net, uint32_t flow, gpp_errctx *err) {
  GPP_TRY(gpp__grow((void **)&net->heap, &net->heap_cap, net->heap_n + 1,
                    sizeof *net->heap, err));
  place(net, net->heap_n++, entry(net, flow));
  sift_up(net, net->heap_n - 1);
  return 0;
}

void gpp__heap_update(gpp_net *net, uint32_t flow) {
  uint32_t i = net->heap_pos[flow];
  net->heap[i].time = net->flows[flow].ev_time + 0.0;
  sift_up(net, i);
  sift_down(net, net->heap_pos[flow]);
}

void gpp__heap_remove(gpp_net *net, uint32_t flow) {
  uint32_t i = net->heap_pos[flow];
  net->heap_pos[flow] = GPP__NONE;
  gpp__hent last = net->heap[--net->heap_n];
  if (i == net->heap_n) return;
  place(net, i, last);
  sift_up(net, i);
  sift_down(net, net->heap_pos[last.flow]);
}

static gpp__latq *latq_new(gpp_net *net, double lat, bool finish) {
  if (net->n_latq == GPP__LAT_QUEUES) return NULL;
  gpp__latq *q = &net->latq[net->n_latq++];
  q->lat = lat;
  q->finish = finish;
  return q;
}

static gpp__latq *latq_for(gpp_net *net, double lat) {
  for (uint32_t i = 0; i < net->n_latq; i++)
    if (!net->latq[i].finish && net->latq[i].lat == lat)
      return &net->latq[i];
  return latq_new(net, lat, false);
}

static int fifo_append(gpp__latq *q, gpp__hent e, gpp_errctx *err) {
  if (q->head == q->n) q->head = q->n = 0;
  if (q->n == q->cap && q->head > 0) { /* slide the live events down */
    memmove(q->ev, q->ev + q->head, (q->n - q->head) * sizeof *q->ev);
    q->n -= q->head;
    q->head = 0;
  }
  GPP_TRY(gpp__grow((void **)&q->ev, &q->cap, q->n + 1, sizeof *q->ev,
                    err));
  q->ev[q->n++] = e;
  return 0;
}

int gpp__event_push_latency(gpp_net *net, uint32_t flow, double lat,
                            gpp_errctx *err) {
  gpp__latq *q = latq_for(net, lat);
  gpp__hent e = entry(net, flow);
  if (q == NULL || (q->n > q->head && before(&e, &q->ev[q->n - 1])))
    return gpp__heap_push(net, flow, err);
  return fifo_append(q, e, err);
}

/* The finish FIFO to take e: among those whose last event is not after e,
 * the one whose last is latest; else an empty or a new one; else NULL. */
static gpp__latq *finish_fifo_for(gpp_net *net, const gpp__hent *e) {
  gpp__latq *best = NULL, *empty = NULL;
  for (uint32_t i = 0; i < net->n_latq; i++) {
    gpp__latq *q = &net->latq[i];
    if (!q->finish) continue;
    if (q->head == q->n) empty = empty ? empty : q;
    else if (!before(e, &q->ev[q->n - 1]) &&
             (best == NULL || before(&best->ev[best->n - 1], &q->ev[q->n - 1])))
      best = q;
  }
  if (best != NULL) return best;
  return empty != NULL ? empty : latq_new(net, 0, true);
}

int gpp__event_push_finish(gpp_net *net, uint32_t flow, gpp_errctx *err) {
  gpp__hent e = entry(net, flow);
  gpp__latq *q = finish_fifo_for(net, &e);
  if (q == NULL) return gpp__heap_push(net, flow, err);
  GPP_TRY(fifo_append(q, e, err));
  net->heap_pos[flow] = GPP__IN_FIFO;
  return 0;
}

/* Whether a finish FIFO's entry still stands for its flow's event. */
static bool fifo_live(const gpp_net *net, const gpp__hent *e) {
  return net->heap_pos[e->flow] == GPP__IN_FIFO &&
         net->flows[e->flow].seq == e->seq;
}

static void prune(gpp_net *net, gpp__latq *q) {
  while (q->finish && q->head < q->n && !fifo_live(net, &q->ev[q->head]))
    q->head++;
}

void gpp__events_prune(gpp_net *net) {
  for (uint32_t i = 0; i < net->n_latq; i++) prune(net, &net->latq[i]);
}

/* The FIFO whose head is due first, or GPP__NONE when all are empty. */
static uint32_t first_latq(const gpp_net *net) {
  uint32_t best = GPP__NONE;
  for (uint32_t i = 0; i < net->n_latq; i++) {
    const gpp__latq *q = &net->latq[i];
    if (q->head < q->n &&
        (best == GPP__NONE ||
         before(&q->ev[q->head],
                &net->latq[best].ev[net->latq[best].head])))
      best = i;
  }
  return best;
}

const gpp__hent *gpp__event_next(const gpp_net *net, uint32_t *src) {
  uint32_t qi = first_latq(net);
  const gpp__hent *top = net->heap_n ? &net->heap[0] : NULL;
  *src = GPP__NONE;
  if (qi == GPP__NONE) return top;
  const gpp__hent *head = &net->latq[qi].ev[net->latq[qi].head];
  if (top != NULL && !before(head, top)) return top;
  *src = qi;
  return head;
}

/* Starts loading the flow of the event after the one popped from the same
 * queue: events of one instant come in runs, and the caller is about to
 * miss the cache on each flow otherwise. */
static void prefetch_flow(const gpp_net *net, const gpp__hent *e) {
  __builtin_prefetch(&net->flows[e->flow]);
}

uint32_t gpp__event_pop(gpp_net *net, uint32_t src) {
  if (src != GPP__NONE) {
    gpp__latq *q = &net->latq[src];
    uint32_t id = q->ev[q->head++].flow;
    if (q->finish) {
      net->heap_pos[id] = GPP__NONE;
      prune(net, q);
    }
    if (q->head < q->n) prefetch_flow(net, &q->ev[q->head]);
    return id;
  }
  uint32_t top = net->heap[0].flow;
  gpp__heap_remove(net, top);
  if (net->heap_n > 0) prefetch_flow(net, &net->heap[0]);
  return top;
}

void gpp__events_free(gpp_net *net) {
  free(net->heap);
  free(net->heap_pos);
  for (uint32_t i = 0; i < net->n_latq; i++) free(net->latq[i].ev);
}
