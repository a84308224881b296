/* net_fast.c -- the exact check that lets a batch of flow arrivals and
 * departures skip re-sharing, so that flows on lightly loaded paths, and
 * collective steps whose flows use disjoint links, cost a few link visits
 * instead of a progressive filling.
 *
 * A feasible allocation is the max-min fair one exactly when every flow has
 * a bottleneck: a saturated link on its route where no flow is faster.
 * Every active flow remembers one (bneck).  If no flow on a link the batch
 * changed ("dirty") has its bottleneck among the dirty links, every old
 * flow keeps a bottleneck the batch did not touch, so its rate stays
 * max-min.  Each arrival, in order, then takes the smallest spare capacity
 * on its route; the link giving it becomes saturated, and is the arrival's
 * bottleneck when no flow there is faster.  If any of this fails, the batch
 * falls back to the re-sharing of net_share.c, whose component holds every
 * arrival, so it recomputes every rate and load the attempt may have set.
 */
#include <math.h>

#include "topology/net_internal.h"

static bool old_bottlenecks_kept(const gpp_net *net) {
  for (uint32_t i = 0; i < net->n_dirty; i++) {
    const gpp__nlink *l = &net->links[net->dirty[i]];
    for (uint32_t j = 0; j < l->n; j++) {
      uint32_t b = net->flows[l->flows[j].flow].bneck;
      if (b != GPP__NONE && net->links[b].dirty) return false;
    }
  }
  return true;
}

/* The arrival's max-min rate when no other flow must slow down for it,
 * with its bottleneck in *bneck; 0 otherwise. */
static double link_load(const gpp_net *net, const gpp__nlink *l) {
  double s = 0;
  for (uint32_t j = 0; j < l->n; j++) s += net->flows[l->flows[j].flow].rate;
  return s;
}

static double arrival_rate(const gpp_net *net, const gpp__flow *f,
                           uint32_t *bneck) {
  double r = INFINITY;
  uint32_t b = GPP__NONE;
  for (uint32_t k = 0; k < f->n_links; k++) {
    const gpp__nlink *l = &net->links[f->links[k]];
    double sp = l->bw - link_load(net, l);
    if (sp < r) {
      r = sp;
      b = f->links[k];
    }
  }
  if (!(r > 0) || b == GPP__NONE) return 0;
  const gpp__nlink *l = &net->links[b];
  for (uint32_t j = 0; j < l->n; j++)
    if (net->flows[l->flows[j].flow].rate > r) return 0;
  *bneck = b;
  return r;
}

/* Gives each arrival its rate, charging its links; false on the first
 * arrival that needs a full re-sharing. */
static bool admit_all(gpp_net *net) {
  for (uint32_t i = 0; i < net->n_arrivals; i++) {
    gpp__flow *f = &net->flows[net->arrivals[i]];
    uint32_t b = GPP__NONE;
    double r = arrival_rate(net, f, &b);
    if (r == 0) return false;
    f->rate = r;
    f->bneck = b;
    for (uint32_t k = 0; k < f->n_links; k++)
      net->links[f->links[k]].load += r;
  }
  return true;
}

static int schedule_all(gpp_net *net, double t, gpp_errctx *err) {
  for (uint32_t i = 0; i < net->n_arrivals; i++) {
    uint32_t id = net->arrivals[i];
    gpp__flow *f = &net->flows[id];
    f->ev_time = t + f->remaining / f->rate;
    GPP_TRY(gpp__heap_push(net, id, err));
    for (uint32_t k = 0; k < f->n_links; k++)
      gpp__net_note_utilisation(net, f->links[k],
                                net->links[f->links[k]].load);
  }
  return 0;
}

int gpp__net_fast_reshare(gpp_net *net, double t, bool *done,
                          gpp_errctx *err) {
  *done = false;
  if (!old_bottlenecks_kept(net) || !admit_all(net)) return 0;
  GPP_TRY(schedule_all(net, t, err));
  gpp__net_clear_dirty(net);
  gpp__net_note_touched(net, net->n_arrivals);
  net->how.fast++;
  *done = true;
  return 0;
}
