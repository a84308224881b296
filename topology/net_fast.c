/* net_fast.c -- the exact check that lets a batch of flow arrivals and
 * departures skip re-sharing, so that flows on lightly loaded paths, and
 * collective steps whose flows use disjoint links or pair up on shared
 * ones, cost a few link visits instead of a progressive filling.
 *
 * A feasible allocation is the max-min fair one exactly when every flow has
 * a bottleneck: a saturated link on its route where no flow is faster.
 * Every active flow remembers one (bneck).  If no flow on a link the batch
 * changed ("dirty") has its bottleneck among the dirty links, every old
 * flow keeps a bottleneck the batch did not touch, so its rate stays
 * max-min.  The arrivals then get rates one of two ways:
 * - an equal split: each arrival takes the smallest, over its route, of a
 *   link's spare capacity (what the old flows leave) divided among the
 *   batch's arrivals there.  No link goes over capacity; the link giving an
 *   arrival its rate is its bottleneck when that link is left saturated
 *   and no flow there is faster.  This settles a collective's step, whose
 *   flows start together and may pair up on a link (two GPUs on one NIC).
 * - in order: each arrival takes the smallest spare capacity on its route,
 *   net of the arrivals before it; the link giving it becomes saturated,
 *   and is the arrival's bottleneck when no flow there is faster.
 * If both fail, the batch falls back to the re-sharing of net_share.c,
 * whose component holds every arrival, so it recomputes every rate and
 * load the attempts may have set.
 */
#include <math.h>

#include "topology/net_internal.h"

/* Whether no flow on a dirty link has its bottleneck among them; on the
 * way, sets each dirty link's spare capacity (arrivals have rate 0). */
static bool old_bottlenecks_kept(gpp_net *net) {
  for (uint32_t i = 0; i < net->n_dirty; i++) {
    gpp__nlink *l = &net->links[net->dirty[i]];
    double load = 0;
    for (uint32_t j = 0; j < l->n; j++) {
      const gpp__flow *f = &net->flows[l->flows[j].flow];
      if (f->bneck != GPP__NONE && net->links[f->bneck].dirty) return false;
      load += f->rate;
    }
    l->spare = l->bw - load;
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

/* Capacity an equal split may leave on a link it calls saturated: the
 * rounding of a share times the arrivals taking it. */
#define SPLIT_REL_TOL 1e-12

/* Sets the arrival's equal-split rate and the link giving it, and charges
 * the rate to its links' taken; false when the rate is not positive. */
static bool split_rate(gpp_net *net, gpp__flow *f) {
  f->rate = INFINITY;
  for (uint32_t k = 0; k < f->n_links; k++) {
    const gpp__nlink *l = &net->links[f->links[k]];
    double share = l->spare / l->n_new;
    if (share < f->rate) {
      f->rate = share;
      f->bneck = f->links[k];
    }
  }
  for (uint32_t k = 0; k < f->n_links; k++)
    net->links[f->links[k]].taken += f->rate;
  return f->rate > 0 && isfinite(f->rate);
}

/* Whether link b, after the split, is saturated and carries no flow
 * faster than r. */
static bool split_binds(const gpp_net *net, uint32_t b, double r) {
  const gpp__nlink *l = &net->links[b];
  if (l->spare - l->taken > l->bw * SPLIT_REL_TOL) return false;
  for (uint32_t j = 0; j < l->n; j++)
    if (net->flows[l->flows[j].flow].rate > r) return false;
  return true;
}

/* Charges the flow's rate to its links' loads. */
static void charge(gpp_net *net, const gpp__flow *f) {
  for (uint32_t k = 0; k < f->n_links; k++)
    net->links[f->links[k]].load += f->rate;
}

/* When the split holds (ok) charges the arrivals' rates, else puts the
 * arrivals back at rate 0.  (The links' n_new and taken are cleared with
 * the dirty marks.) */
static void split_finish(gpp_net *net, bool ok) {
  for (uint32_t i = 0; i < net->n_arrivals; i++) {
    gpp__flow *f = &net->flows[net->arrivals[i]];
    if (ok) charge(net, f);
    else {
      f->rate = 0;
      f->bneck = GPP__NONE;
    }
  }
}

/* Gives the arrivals their equal-split rates, charging their links, when
 * each has a bottleneck; false (and nothing changed) otherwise. */
static bool admit_split(gpp_net *net) {
  bool ok = true;
  for (uint32_t i = 0; i < net->n_arrivals && ok; i++)
    ok = split_rate(net, &net->flows[net->arrivals[i]]);
  for (uint32_t i = 0; i < net->n_arrivals && ok; i++) {
    const gpp__flow *f = &net->flows[net->arrivals[i]];
    ok = split_binds(net, f->bneck, f->rate);
  }
  split_finish(net, ok);
  return ok;
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
    charge(net, f);
  }
  return true;
}

/* Queues the arrivals' finish events: in the finish FIFOs when several
 * arrive together (a collective's step, finishing after its previous
 * step), else in the heap. */
static int schedule_all(gpp_net *net, double t, gpp_errctx *err) {
  bool together = net->n_arrivals > 1;
  for (uint32_t i = 0; i < net->n_arrivals; i++) {
    uint32_t id = net->arrivals[i];
    gpp__flow *f = &net->flows[id];
    f->ev_time = t + f->remaining / f->rate;
    if (together) GPP_TRY(gpp__event_push_finish(net, id, err));
    else GPP_TRY(gpp__heap_push(net, id, err));
    for (uint32_t k = 0; k < f->n_links; k++)
      gpp__net_note_utilisation(net, f->links[k],
                                net->links[f->links[k]].load);
  }
  return 0;
}

int gpp__net_fast_reshare(gpp_net *net, double t, bool *done,
                          gpp_errctx *err) {
  *done = false;
  if (!old_bottlenecks_kept(net) || (!admit_split(net) && !admit_all(net)))
    return 0;
  GPP_TRY(schedule_all(net, t, err));
  gpp__net_clear_dirty(net);
  gpp__net_note_touched(net, net->n_arrivals);
  net->how.fast++;
  *done = true;
  return 0;
}
