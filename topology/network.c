/* network.c -- the flow network (the entry): its lifecycle, point-to-point
 * flows and the event loop; flow records are in net_flow.c, flow classes in
 * net_class.c, collectives in coll_run.c, re-sharing in net_share.c.
 *
 * A flow is queued for its route's latency (state LATENCY), then joins its
 * links (ACTIVE) and transfers at the rate the last re-sharing gave it; its
 * pending event is then its finish time.  gpp_net_advance() pops every event
 * of one instant as a batch (events within a relative time_eps_rel of the
 * first count as the same instant), applies them, then re-shares once, so
 * n flows starting together cost one re-sharing, not n.  Done callbacks run
 * inside the batch and may start new flows at that instant.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "topology/net_internal.h"

/* Relative width of "the same instant": completions computed by different
 * paths may differ by rounding only. */
#define DEFAULT_TIME_EPS_REL 1e-12

int gpp_net_create(gpp_cluster *c, gpp_net **out, gpp_errctx *err) {
  *out = NULL;
  gpp_net *net = gpp_calloc(err, 1, sizeof *net);
  if (net == NULL) return GPP_ENOMEM;
  net->cluster = c;
  net->time_eps_rel = DEFAULT_TIME_EPS_REL;
  net->free_flow = net->free_coll = GPP__NONE;
  net->links = gpp_calloc(err, c->n_links + 1, sizeof *net->links);
  net->rank_seen = gpp_calloc(err, c->n_gpus + 1, 1);
  net->node_scratch = gpp_calloc(err, c->n_nodes + 1, sizeof(uint32_t));
  net->occ = gpp_calloc(err, c->n_links + 1, sizeof *net->occ);
  if (net->occ != NULL) memset(net->occ, 0xff, c->n_links * sizeof *net->occ);
  if (net->links == NULL || net->rank_seen == NULL || net->occ == NULL ||
      net->node_scratch == NULL || gpp__net_links_init(net, err) != 0) {
    gpp_net_destroy(net);
    return GPP_ENOMEM;
  }
  *out = net;
  return 0;
}

void gpp_net_destroy(gpp_net *net) {
  if (net == NULL) return;
  for (uint32_t i = 0; net->links && i < net->cluster->n_links; i++)
    free(net->links[i].flows);
  for (uint32_t i = 0; i < net->n_colls; i++) {
    free(net->colls[i].ranks);
    free((void *)net->colls[i].routes);
    free(net->colls[i].order);
  }
  free(net->regroups);
  free(net->ring);
  free(net->step_src);
  free(net->occ);
  free(net->step_dst);
  free(net->links);
  free(net->flows);
  free(net->slots);
  free(net->colls);
  gpp__events_free(net);
  free(net->dirty);
  free(net->arrivals);
  free(net->comp_flows);
  free(net->comp_links);
  free(net->shares);
  free(net->caps);
  free(net->pending);
  free(net->sat);
  free(net->rank_seen);
  free(net->node_scratch);
  free(net);
}

void gpp_net_set_time_tolerance(gpp_net *net, double rel) {
  net->time_eps_rel = rel >= 0 ? rel : 0;
}

int gpp_net_flow(gpp_net *net, double now, uint32_t src, uint32_t dst,
                 double bytes, uint64_t tag, gpp_errctx *err) {
  GPP_TRY(gpp__net_check_time(net, now, err));
  GPP_TRY(gpp__net_check_bytes(bytes, err));
  return gpp__net_start_flow(net, now, src, dst, bytes, GPP__NONE, tag, err);
}

double gpp_net_next_time(const gpp_net *net) {
  uint32_t src;
  const gpp__hent *e = gpp__event_next(net, &src);
  return e == NULL ? INFINITY : e->time;
}

static int deactivate(gpp_net *net, uint32_t id, gpp_errctx *err) {
  gpp__flow *f = &net->flows[id];
  for (uint32_t k = 0; k < f->n_links; k++) {
    GPP_TRY(gpp__net_mark_dirty(net, f->links[k], true, err));
    gpp__nlink *l = &net->links[f->links[k]];
    uint32_t i = gpp__flow_slots(net, id)[k];
    gpp__link_entry last = l->flows[--l->n];
    if (i != l->n) {
      l->flows[i] = last;
      gpp__flow_slots(net, last.flow)[last.k] = i;
    }
    l->load = l->n ? l->load - f->rate : 0;
    if (l->n == 0) net->occ[f->links[k]] = GPP__NONE;
    l->ub_sum = l->n ? l->ub_sum - f->ub : 0;
    net->stats[l->cls].bytes += f->bytes;
  }
  return 0;
}

static int complete(gpp_net *net, uint32_t id, double t, gpp_net_done_fn done,
                    void *ctx, gpp_errctx *err) {
  uint32_t coll = net->flows[id].coll;
  uint64_t tag = net->flows[id].tag;
  gpp__net_flow_free(net, id);
  if (coll != GPP__NONE) {
    bool finished = false;
    if (--net->colls[coll].outstanding == 0)
      GPP_TRY(gpp__coll_advance(net, coll, t, &finished, err));
    if (!finished) return 0;
    tag = net->colls[coll].tag;
    gpp__coll_free(net, coll);
  }
  if (done != NULL) done(ctx, tag, t);
  return 0;
}

static int on_event(gpp_net *net, uint32_t id, double t, gpp_net_done_fn done,
                    void *ctx, gpp_errctx *err) {
  gpp__flow *f = &net->flows[id];
  for (uint32_t k = 0; k < f->n_links; k++) /* load them all at once */
    __builtin_prefetch(&net->links[f->links[k]]);
  if (f->members > 0) {
    bool finished;
    GPP_TRY(gpp__class_event(net, id, t, &finished, err));
    return finished ? complete(net, id, t, done, ctx, err) : 0;
  }
  if (f->state == FLOW_LATENCY && f->bytes > 0 && f->n_links > 0) {
    GPP_TRY(gpp__class_make_room(net, id, t, err));
    return gpp__net_activate(net, id, t, err);
  }
  if (f->state == FLOW_ACTIVE) GPP_TRY(deactivate(net, id, err));
  return complete(net, id, t, done, ctx, err);
}

int gpp_net_advance(gpp_net *net, double t, gpp_net_done_fn done, void *ctx,
                    gpp_errctx *err) {
  if (isnan(t)) GPP_RAISE(err, GPP_EINVAL, "advance to NaN");
  uint32_t src;
  const gpp__hent *e;
  while ((e = gpp__event_next(net, &src)) != NULL && e->time <= t) {
    double t0 = e->time, lim = t0 + fabs(t0) * net->time_eps_rel;
    if (t0 > net->now) net->now = t0;
    do {
      GPP_TRY(on_event(net, gpp__event_pop(net, src), t0, done, ctx, err));
      e = gpp__event_next(net, &src);
    } while (e != NULL && e->time <= lim);
    GPP_TRY(gpp__net_reshare(net, t0, err));
  }
  if (isfinite(t) && t > net->now) net->now = t;
  return 0;
}

void gpp_net_class_stats_get(const gpp_net *net,
                             gpp_net_class_stats out[GPP_LINK__NCLASSES]) {
  memcpy(out, net->stats, sizeof net->stats);
}

void gpp_net_reshare_stats_get(const gpp_net *net,
                               gpp_net_reshare_stats *out) {
  *out = net->how;
}

void gpp_net_class_counts(const gpp_net *net, uint64_t *classes,
                          uint64_t *shared, uint64_t *splits) {
  if (classes) *classes = net->classes;
  if (shared) *shared = net->shared;
  if (splits) *splits = net->splits;
}

void gpp_net_counters(const gpp_net *net, uint64_t *reshares,
                      uint64_t *flows_touched) {
  if (reshares) *reshares = net->reshares;
  if (flows_touched) *flows_touched = net->flows_touched;
}
