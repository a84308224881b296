/* net_flow.c -- flow records: the pool of flows and their link slots, a
 * flow queued for its route's latency, and a flow joining its links when it
 * starts transferring (the caller first splits any flow class alone on
 * them: gpp__class_make_room).  Used by the network's event loop, flow
 * classes and collectives. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "topology/net_internal.h"

/* Room for one more flow in an array aligned to GPP__FLOW_ALIGN (realloc
 * would not keep the alignment). */
static int flows_grow(gpp_net *net, gpp_errctx *err) {
  if (net->n_flows < net->cap_flows) return 0;
  uint32_t cap = net->cap_flows ? 2 * net->cap_flows : 64;
  gpp__flow *p = aligned_alloc(GPP__FLOW_ALIGN, (size_t)cap * sizeof *p);
  if (p == NULL) GPP_RAISE(err, GPP_ENOMEM, "out of memory for %u flows", cap);
  if (net->n_flows > 0) memcpy(p, net->flows, net->n_flows * sizeof *p);
  free(net->flows);
  net->flows = p;
  net->cap_flows = cap;
  return 0;
}

static int flow_alloc(gpp_net *net, uint32_t *id, gpp_errctx *err) {
  if (net->free_flow != GPP__NONE) {
    *id = net->free_flow;
    net->free_flow = net->flows[*id].next_free;
    return 0;
  }
  GPP_TRY(flows_grow(net, err));
  GPP_TRY(gpp__grow((void **)&net->heap_pos, &net->cap_heap_pos,
                    net->n_flows + 1, sizeof *net->heap_pos, err));
  *id = net->n_flows++;
  memset(&net->flows[*id], 0, sizeof net->flows[*id]);
  return 0;
}

void gpp__net_flow_free(gpp_net *net, uint32_t id) {
  gpp__flow *f = &net->flows[id];
  f->state = FLOW_FREE;
  f->next_free = net->free_flow;
  net->free_flow = id;
}

/* Makes room in net->slots for every flow id and a route of n links,
 * widening the rows (and moving them) for a longer route than any yet. */
static int slots_reserve(gpp_net *net, uint32_t n, gpp_errctx *err) {
  uint32_t stride = n > net->slot_stride ? n : net->slot_stride;
  if (stride == net->slot_stride && net->slot_rows >= net->cap_flows)
    return 0;
  uint32_t *p = gpp_calloc(err, (size_t)net->cap_flows * stride + 1,
                           sizeof *p);
  if (p == NULL) return GPP_ENOMEM;
  for (size_t f = 0; f < net->slot_rows && net->slot_stride > 0; f++)
    memcpy(p + f * stride, net->slots + f * net->slot_stride,
           net->slot_stride * sizeof *p);
  free(net->slots);
  net->slots = p;
  net->slot_stride = stride;
  net->slot_rows = net->cap_flows;
  return 0;
}

int gpp__net_flow_alloc(gpp_net *net, uint32_t n_links, uint32_t *id,
                        gpp_errctx *err) {
  GPP_TRY(flow_alloc(net, id, err));
  GPP_TRY(slots_reserve(net, n_links, err));
  net->flows[*id].members = 0;
  return 0;
}

/* Queues a flow over route (NULL: a no-op flow that ends at now) with
 * sequence number seq. */
static int start_route(gpp_net *net, double now, const gpp__route *route,
                       double bytes, uint32_t coll, uint64_t tag,
                       uint64_t seq, gpp_errctx *err) {
  uint32_t id, n = route ? route->n : 0;
  GPP_TRY(gpp__net_flow_alloc(net, n, &id, err));
  gpp__flow *f = &net->flows[id];
  f->links = route ? route->links : NULL;
  f->n_links = n;
  f->ub = route ? route->bottleneck : 0;
  f->bytes = f->remaining = bytes;
  f->rate = 0;
  f->seq = seq;
  f->tag = tag;
  f->coll = coll;
  f->state = FLOW_LATENCY;
  f->ev_time = now + (route ? route->latency : 0);
  net->heap_pos[id] = GPP__NONE;
  if (coll != GPP__NONE) net->colls[coll].outstanding++;
  return gpp__event_push_latency(net, id, route ? route->latency : 0, err);
}

int gpp__net_start_flow(gpp_net *net, double now, uint32_t src, uint32_t dst,
                        double bytes, uint32_t coll, uint64_t tag,
                        gpp_errctx *err) {
  if (src == dst && coll != GPP__NONE)
    return start_route(net, now, NULL, 0, coll, tag, net->seq++, err);
  const gpp__route *r;
  GPP_TRY(gpp__route_get(net->cluster, src, dst, &r, err));
  return start_route(net, now, r, bytes, coll, tag, net->seq++, err);
}

int gpp__net_start_member(gpp_net *net, double now, const gpp__route *r,
                          double bytes, uint32_t coll, uint64_t seq,
                          gpp_errctx *err) {
  return start_route(net, now, r, bytes, coll, 0, seq, err);
}

int gpp__net_check_time(const gpp_net *net, double now, gpp_errctx *err) {
  if (!isfinite(now))
    GPP_RAISE(err, GPP_EINVAL, "start time %g is not finite", now);
  if (now < net->now)
    GPP_RAISE(err, GPP_EINVAL, "start time %.9g s is before the network's "
              "current time %.9g s", now, net->now);
  return 0;
}

int gpp__net_check_bytes(double bytes, gpp_errctx *err) {
  if (!(bytes >= 0) || !isfinite(bytes))
    GPP_RAISE(err, GPP_EINVAL, "bytes must be finite and not negative, got "
              "%g", bytes);
  return 0;
}

int gpp__net_link_add(gpp_net *net, uint32_t id, uint32_t k,
                      gpp_errctx *err) {
  gpp__flow *f = &net->flows[id];
  gpp__nlink *l = &net->links[f->links[k]];
  GPP_TRY(gpp__grow((void **)&l->flows, &l->cap, l->n + 1, sizeof *l->flows,
                    err));
  l->flows[l->n] = (gpp__link_entry){id, k};
  gpp__flow_slots(net, id)[k] = l->n++;
  l->ub_sum += f->ub;
  net->occ[f->links[k]] = GPP__LINK_BUSY;
  return 0;
}

int gpp__net_activate(gpp_net *net, uint32_t id, double t, gpp_errctx *err) {
  gpp__flow *f = &net->flows[id];
  f->state = FLOW_ACTIVE;
  f->remaining = f->bytes;
  f->t_last = t;
  f->rate = 0;
  f->bneck = GPP__NONE;
  GPP_TRY(gpp__grow((void **)&net->arrivals, &net->cap_arrivals,
                    net->n_arrivals + 1, sizeof *net->arrivals, err));
  net->arrivals[net->n_arrivals++] = id;
  for (uint32_t k = 0; k < f->n_links; k++) {
    GPP_TRY(gpp__net_link_add(net, id, k, err));
    net->links[f->links[k]].n_new++; /* for the equal split (net_fast.c) */
    GPP_TRY(gpp__net_mark_dirty(net, f->links[k], false, err));
  }
  return 0;
}
