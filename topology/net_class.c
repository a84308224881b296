/* net_class.c -- a collective step's flows as one flow class.
 *
 * A step of a ring or hierarchical collective over thousands of ranks
 * starts thousands of flows of the same size together; where their routes
 * have the same latency and bottleneck, they start, transfer and finish
 * together unless other traffic meets them.  A flow class stands for them
 * all: one flow record and one event for its latency end and one for its
 * finish, instead of one each per member.  It is exact under max-min
 * because a class only ever runs alone: at its latency end it claims every
 * link of every member, and runs as a class only when each of those links
 * is empty and no two members share one.  Each member is then the only
 * flow on its links, so its max-min rate is its route's bottleneck, the
 * same for all.  Otherwise, and whenever another flow later joins a link
 * it claimed, the class splits into its member flows, which continue (at
 * the rate they had, with the bytes they have left) as if they had been
 * started one by one; max-min then sees each of them.
 *
 * Members keep the sequence numbers the flows would have had, and the
 * class's events carry its last member's, so that events of one instant
 * are handled in the same order either way (the collective moves on when
 * its last member ends).
 */
#include <math.h>

#include "topology/net_internal.h"

/* A step with fewer flows gains nothing from a class. */
#define CLASS_MIN_MEMBERS 2

int gpp__net_step_reserve(gpp_net *net, uint32_t n, gpp_errctx *err) {
  uint32_t cap = net->cap_step;
  GPP_TRY(gpp__grow((void **)&net->step_src, &cap, n,
                    sizeof *net->step_src, err));
  cap = net->cap_step;
  GPP_TRY(gpp__grow((void **)&net->step_dst, &cap, n,
                    sizeof *net->step_dst, err));
  net->cap_step = cap;
  return 0;
}

/* Looks up every member's route into the collective's routes; *same says
 * they share latency and bottleneck and none is empty. */
static int member_routes(gpp_net *net, uint32_t coll, uint32_t n, bool *same,
                         gpp_errctx *err) {
  gpp__coll *c = &net->colls[coll];
  GPP_TRY(gpp__grow((void **)&c->routes, &c->cap_routes, n,
                    sizeof *c->routes, err));
  *same = true;
  for (uint32_t i = 0; i < n && *same; i++) {
    if (net->step_src[i] == net->step_dst[i]) {
      *same = false;
      break;
    }
    GPP_TRY(gpp__route_get(net->cluster, net->step_src[i], net->step_dst[i],
                           &c->routes[i], err));
    const gpp__route *a = c->routes[0], *b = c->routes[i];
    *same = b->n > 0 && b->latency == a->latency &&
            b->bottleneck == a->bottleneck;
  }
  return 0;
}

int gpp__class_start(gpp_net *net, double now, uint32_t coll, uint32_t n,
                     double bytes, bool *started, gpp_errctx *err) {
  *started = false;
  if (net->no_classes || n < CLASS_MIN_MEMBERS || !(bytes > 0)) return 0;
  bool same;
  GPP_TRY(member_routes(net, coll, n, &same, err));
  if (!same) return 0;
  uint32_t id;
  GPP_TRY(gpp__net_flow_alloc(net, 0, &id, err));
  const gpp__route *r = net->colls[coll].routes[0];
  gpp__flow *f = &net->flows[id];
  *f = (gpp__flow){.ub = r->bottleneck, .bytes = bytes, .remaining = bytes,
                   .ev_time = now + r->latency, .seq = net->seq + n - 1,
                   .coll = coll, .members = n, .state = FLOW_LATENCY,
                   .bneck = GPP__NONE};
  net->seq += n;
  net->heap_pos[id] = GPP__NONE;
  net->colls[coll].outstanding++;
  *started = true;
  net->classes++;
  return gpp__event_push_latency(net, id, r->latency, err);
}

int gpp__net_start_step(gpp_net *net, double now, uint32_t coll, uint32_t n,
                        double bytes, gpp_errctx *err) {
  bool started;
  GPP_TRY(gpp__class_start(net, now, coll, n, bytes, &started, err));
  for (uint32_t i = 0; i < n && !started; i++)
    GPP_TRY(gpp__net_start_flow(net, now, net->step_src[i],
                                net->step_dst[i], bytes, coll, 0, err));
  return 0;
}

/* Releases the member links of a finished class, counting the bytes each
 * carried by link class as its flows would have. */
static void release(gpp_net *net, const gpp__flow *f) {
  const gpp__route *const *rt = net->colls[f->coll].routes;
  for (uint32_t i = 0; i < f->members; i++) {
    for (uint32_t k = 0; k < rt[i]->n; k++)
      net->occ[rt[i]->links[k]] = GPP__NONE;
    for (int c = 0; c < GPP_LINK__NCLASSES; c++)
      net->stats[c].bytes += f->bytes * rt[i]->class_links[c];
  }
}

/* Frees every link of members 0..i-1 and the first k links of member i. */
static void unclaim(gpp_net *net, const gpp__route *const *rt, uint32_t i,
                    uint32_t k) {
  for (uint32_t j = 0; j < i; j++)
    for (uint32_t q = 0; q < rt[j]->n; q++)
      net->occ[rt[j]->links[q]] = GPP__NONE;
  for (uint32_t q = 0; q < k; q++) net->occ[rt[i]->links[q]] = GPP__NONE;
}

/* Claims the member links for class id when every one is free and no two
 * members share one, and sets peak[] by link class to the utilisation the
 * class's rate (its ub) gives them; false (nothing claimed) otherwise. */
static bool claim_alone(gpp_net *net, uint32_t id,
                        double peak[GPP_LINK__NCLASSES]) {
  const gpp__flow *f = &net->flows[id];
  const gpp__route *const *rt = net->colls[f->coll].routes;
  for (uint32_t i = 0; i < f->members; i++) {
    for (uint32_t k = 0; k < rt[i]->n; k++) {
      uint32_t *o = &net->occ[rt[i]->links[k]];
      if (*o != GPP__NONE) {
        unclaim(net, rt, i, k);
        return false;
      }
      *o = id;
    }
    for (int c = 0; c < GPP_LINK__NCLASSES; c++) {
      double u = f->ub / rt[i]->class_bw[c]; /* 0 without such links */
      u = u < 1.0 ? u : 1.0;
      peak[c] = u > peak[c] ? u : peak[c];
    }
  }
  return true;
}

/* The class starts transferring: every member at its route's bottleneck
 * (as the exact equal split of net_fast.c would give each), recording the
 * links' utilisation as their flows would have. */
static int class_activate(gpp_net *net, uint32_t id, double t,
                          const double peak[GPP_LINK__NCLASSES],
                          gpp_errctx *err) {
  gpp__flow *f = &net->flows[id];
  f->state = FLOW_ACTIVE;
  f->remaining = f->bytes;
  f->t_last = t;
  f->rate = f->old_rate = f->ub;
  f->ev_time = t + f->remaining / f->rate;
  for (int c = 0; c < GPP_LINK__NCLASSES; c++)
    net->stats[c].peak_utilisation =
        fmax(net->stats[c].peak_utilisation, peak[c]);
  return gpp__event_push_finish(net, id, err);
}

int gpp__class_event(gpp_net *net, uint32_t id, double t, bool *finished,
                     gpp_errctx *err) {
  gpp__flow *f = &net->flows[id];
  *finished = f->state == FLOW_ACTIVE;
  if (*finished) {
    release(net, f);
    return 0;
  }
  double peak[GPP_LINK__NCLASSES] = {0};
  if (claim_alone(net, id, peak))
    return class_activate(net, id, t, peak, err);
  return gpp__class_split(net, id, t, err);
}

/* A member of an active class: on its links at the class's rate, its
 * bottleneck the first link that rate saturates, its finish queued. */
static int member_join(gpp_net *net, uint32_t m, const gpp__flow *cls,
                       gpp_errctx *err) {
  gpp__flow *f = &net->flows[m];
  f->state = FLOW_ACTIVE;
  f->remaining = cls->remaining;
  f->t_last = cls->t_last;
  f->rate = f->old_rate = cls->rate;
  f->ev_time = cls->ev_time;
  for (uint32_t k = 0; k < f->n_links; k++) {
    GPP_TRY(gpp__net_link_add(net, m, k, err));
    gpp__nlink *l = &net->links[f->links[k]];
    l->load += f->rate;
    if (f->bneck == GPP__NONE && l->bw == f->rate) f->bneck = f->links[k];
  }
  return gpp__heap_push(net, m, err);
}

/* Takes the class's pending event out of the queues. */
static void class_unqueue(gpp_net *net, uint32_t id) {
  if (net->heap_pos[id] == GPP__IN_FIFO) gpp__event_unqueue_fifo(net, id);
  else if (net->heap_pos[id] != GPP__NONE) gpp__heap_remove(net, id);
}

int gpp__class_split(gpp_net *net, uint32_t id, double t, gpp_errctx *err) {
  gpp__flow cls = net->flows[id];
  bool active = cls.state == FLOW_ACTIVE;
  if (active) unclaim(net, net->colls[cls.coll].routes, cls.members, 0);
  class_unqueue(net, id);
  gpp__net_flow_free(net, id);
  net->colls[cls.coll].outstanding += cls.members - 1;
  net->splits++;
  const gpp__route *const *rt = net->colls[cls.coll].routes;
  for (uint32_t i = 0; i < cls.members; i++) {
    uint32_t m;
    GPP_TRY(gpp__net_flow_alloc(net, rt[i]->n, &m, err));
    net->flows[m] = (gpp__flow){
        .ub = rt[i]->bottleneck, .links = rt[i]->links, .n_links = rt[i]->n,
        .bytes = cls.bytes, .remaining = cls.bytes, .coll = cls.coll,
        .seq = cls.seq - (cls.members - 1) + i, .bneck = GPP__NONE,
        .state = FLOW_LATENCY};
    net->heap_pos[m] = GPP__NONE;
    if (active) {
      GPP_TRY(member_join(net, m, &cls, err));
      continue;
    }
    GPP_TRY(gpp__class_make_room(net, m, t, err));
    GPP_TRY(gpp__net_activate(net, m, t, err));
  }
  gpp__events_prune(net);
  return 0;
}

int gpp__class_make_room(gpp_net *net, uint32_t id, double t,
                         gpp_errctx *err) {
  for (uint32_t k = 0; k < net->flows[id].n_links; k++) {
    uint32_t owner = net->occ[net->flows[id].links[k]];
    if (owner < GPP__LINK_BUSY)
      GPP_TRY(gpp__class_split(net, owner, t, err));
  }
  return 0;
}
