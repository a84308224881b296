/* net_heap.c -- the network's event queue: a binary min-heap of flow ids
 * keyed by (event time, flow sequence number).  Each flow has at most one
 * pending event (its latency end or its finish) and remembers its position,
 * so re-sharing can move it in O(log n).  The sequence number is the flow's
 * creation order: flows due at the same time are handled in the order they
 * were started, which makes runs reproducible bit for bit.
 */
#include <stdlib.h>

#include "topology/net_internal.h"

int gpp__grow(void **arr, uint32_t *cap, uint32_t need, size_t sz,
              gpp_errctx *err) {
  if (need <= *cap) return 0;
  uint32_t c = *cap ? *cap : 16;
  while (c < need) c *= 2;
  void *p = gpp_realloc_array(err, *arr, c, sz);
  if (p == NULL) return GPP_ENOMEM;
  *arr = p;
  *cap = c;
  return 0;
}

static bool before(const gpp_net *net, uint32_t a, uint32_t b) {
  const gpp__flow *fa = &net->flows[a], *fb = &net->flows[b];
  if (fa->ev_time != fb->ev_time) return fa->ev_time < fb->ev_time;
  return fa->seq < fb->seq;
}

static void place(gpp_net *net, uint32_t i, uint32_t flow) {
  net->heap[i] = flow;
  net->flows[flow].heap_pos = i;
}

static void sift_up(gpp_net *net, uint32_t i) {
  uint32_t f = net->heap[i];
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (!before(net, f, net->heap[p])) break;
    place(net, i, net->heap[p]);
    i = p;
  }
  place(net, i, f);
}

static void sift_down(gpp_net *net, uint32_t i) {
  uint32_t f = net->heap[i], n = net->heap_n;
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && before(net, net->heap[c + 1], net->heap[c])) c++;
    if (!before(net, net->heap[c], f)) break;
    place(net, i, net->heap[c]);
    i = c;
  }
  place(net, i, f);
}

int gpp__heap_push(gpp_net *net, uint32_t flow, gpp_errctx *err) {
  GPP_TRY(gpp__grow((void **)&net->heap, &net->heap_cap, net->heap_n + 1,
                    sizeof *net->heap, err));
  place(net, net->heap_n++, flow);
  sift_up(net, net->heap_n - 1);
  return 0;
}

void gpp__heap_update(gpp_net *net, uint32_t flow) {
  uint32_t i = net->flows[flow].heap_pos;
  sift_up(net, i);
  sift_down(net, net->flows[flow].heap_pos);
}

void gpp__heap_remove(gpp_net *net, uint32_t flow) {
  uint32_t i = net->flows[flow].heap_pos;
  net->flows[flow].heap_pos = GPP__NONE;
  uint32_t last = net->heap[--net->heap_n];
  if (i == net->heap_n) return;
  place(net, i, last);
  gpp__heap_update(net, last);
}

uint32_t gpp__heap_pop(gpp_net *net) {
  uint32_t top = net->heap[0];
  gpp__heap_remove(net, top);
  return top;
}
