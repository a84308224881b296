/* net_class.c -- a collective step's flows as one flow class.
 *
 * A step of a ring or hierarchical collective over thousands of ranks
 * starts thousands of flows of the same size together; those whose routes
 * have the same latency and bottleneck start, transfer and finish together
 * unless other traffic meets them.  A flow class stands for each such
 * group of two or more (a ring over the nodes of a fat-tree has one for
 * the hops within a leaf and one for the hops across the spine; the rest
 * run one by one): one flow record and one event for its latency end and
 * one for its finish, instead of one each per member.
 *
 * It is exact under max-min because a class runs only where max-min
 * gives its members one rate:
 * - alone: at its latency end it claims every link of every member, when
 *   each is empty and no two members share one.  Each member is then the
 *   only flow on its links, so its max-min rate is its route's bottleneck
 *   ub, the same for all.
 * - in a ring: when its links are exactly those of an active class (the
 *   same set, no two members sharing one, the same ub), as the same step
 *   of d collectives over the same ranks gives (the engine issues one per
 *   replica in a multi-stage sharded plan; gradient buckets in flight
 *   together).  Each link then carries one member of each of the ring's k
 *   classes, and every member's route has a link of capacity ub, so each
 *   member's max-min rate is ub / k.  The ring is re-rated at the end of
 *   each instant a class joins or leaves it, as the flows would be
 *   re-shared; the links stay claimed by one of its classes.
 * Otherwise, and whenever another flow later joins a link it claimed, the
 * class (its whole ring) splits into its member flows, which continue (at
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

/* Looks up every member's route into the collective's routes; *ok says
 * none is empty. */
static int member_routes(gpp_net *net, uint32_t coll, uint32_t n, bool *ok,
                         gpp_errctx *err) {
  gpp__coll *c = &net->colls[coll];
  GPP_TRY(gpp__grow((void **)&c->routes, &c->cap_routes, n,
                    sizeof *c->routes, err));
  *ok = true;
  for (uint32_t i = 0; i < n && *ok; i++) {
    *ok = net->step_src[i] != net->step_dst[i];
    if (*ok)
      GPP_TRY(gpp__route_get(net->cluster, net->step_src[i],
                             net->step_dst[i], &c->routes[i], err));
    *ok = *ok && c->routes[i]->n > 0;
  }
  return 0;
}

/* The groups of members whose routes share a latency and bottleneck, in
 * order of their first member; members past the first CLASS_KEYS groups
 * run one by one. */
#define CLASS_KEYS 16
typedef struct class_key {
  double latency, bottleneck;
  uint32_t count, next; /* members, and the next one's slot in order */
} class_key;

static uint32_t key_of(class_key *keys, uint32_t *n_keys,
                       const gpp__route *r) {
  for (uint32_t k = 0; k < *n_keys; k++)
    if (keys[k].latency == r->latency && keys[k].bottleneck == r->bottleneck)
      return k;
  if (*n_keys == CLASS_KEYS) return CLASS_KEYS;
  keys[*n_keys] = (class_key){r->latency, r->bottleneck, 0, 0};
  return (*n_keys)++;
}

/* Groups the members by key into the collective's order (stable: each
 * group's members in member order); *classes: the groups of two or more. */
static int group_members(gpp_net *net, uint32_t coll, uint32_t n,
                         class_key *keys, uint32_t *n_keys,
                         uint32_t *classes, gpp_errctx *err) {
  gpp__coll *c = &net->colls[coll];
  GPP_TRY(gpp__grow((void **)&c->order, &c->cap_order, n, sizeof *c->order,
                    err));
  *n_keys = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t k = key_of(keys, n_keys, c->routes[i]);
    if (k < CLASS_KEYS) keys[k].count++;
  }
  uint32_t at = 0;
  *classes = 0;
  for (uint32_t k = 0; k < *n_keys; k++) {
    keys[k].next = at;
    at += keys[k].count;
    *classes += keys[k].count >= CLASS_MIN_MEMBERS;
  }
  for (uint32_t i = 0; i < n; i++) {
    uint32_t k = key_of(keys, n_keys, c->routes[i]);
    c->order[k < CLASS_KEYS ? keys[k].next++ : at++] = i;
  }
  return 0;
}

/* Queues one class of members order[first, first + m). */
static int class_queue(gpp_net *net, double now, uint32_t coll,
                       uint32_t first, uint32_t m, double bytes,
                       gpp_errctx *err) {
  const gpp__coll *c = &net->colls[coll];
  const gpp__route *r = c->routes[c->order[first]];
  uint32_t id;
  GPP_TRY(gpp__net_flow_alloc(net, 0, &id, err));
  gpp__flow *f = &net->flows[id];
  *f = (gpp__flow){.ub = r->bottleneck, .bytes = bytes, .remaining = bytes,
                   .ev_time = now + r->latency,
                   .seq = c->step_seq + c->order[first + m - 1],
                   .coll = coll, .members = m, .first = first,
                   .state = FLOW_LATENCY, .bneck = GPP__NONE, .peer = id,
                   .prev = id};
  for (uint32_t i = first; i < first + m; i++)
    f->link_total += c->routes[c->order[i]]->n;
  net->heap_pos[id] = GPP__NONE;
  net->colls[coll].outstanding++;
  net->classes++;
  return gpp__event_push_latency(net, id, r->latency, err);
}

int gpp__class_start(gpp_net *net, double now, uint32_t coll, uint32_t n,
                     double bytes, bool *started, gpp_errctx *err) {
  *started = false;
  if (net->no_classes || n < CLASS_MIN_MEMBERS || !(bytes > 0)) return 0;
  bool ok;
  GPP_TRY(member_routes(net, coll, n, &ok, err));
  if (!ok) return 0;
  class_key keys[CLASS_KEYS];
  uint32_t n_keys, classes;
  GPP_TRY(group_members(net, coll, n, keys, &n_keys, &classes, err));
  if (classes == 0) return 0;
  gpp__coll *c = &net->colls[coll];
  c->step_seq = net->seq;
  net->seq += n;
  *started = true;
  uint32_t first = 0;
  for (uint32_t k = 0; k <= n_keys; k++) {
    uint32_t m = k < n_keys ? keys[k].count : n - first;
    if (k < n_keys && m >= CLASS_MIN_MEMBERS) {
      GPP_TRY(class_queue(net, now, coll, first, m, bytes, err));
      first += m;
      continue;
    }
    for (uint32_t e = first + m; first < e; first++) {
      uint32_t i = c->order[first];
      GPP_TRY(gpp__net_start_member(net, now, c->routes[i], bytes, coll,
                                    c->step_seq + i, err));
    }
  }
  return 0;
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

/* Member i of class f's route. */
static const gpp__route *member_route(const gpp_net *net, const gpp__flow *f,
                                      uint32_t i) {
  const gpp__coll *c = &net->colls[f->coll];
  return c->routes[c->order[f->first + i]];
}

/* Hands the member links of finished class id, when it owns them, to
 * heir (GPP__NONE: free; the next class of its ring), counting the bytes
 * each member carried by link class as its flow would have.  A class
 * owns all its links or none (the ring's owner owns them all). */
static void release(gpp_net *net, uint32_t id, uint32_t heir) {
  const gpp__flow *f = &net->flows[id];
  bool owns = net->occ[member_route(net, f, 0)->links[0]] == id;
  for (uint32_t i = 0; i < f->members; i++) {
    const gpp__route *r = member_route(net, f, i);
    for (uint32_t k = 0; k < r->n && owns; k++)
      net->occ[r->links[k]] = heir;
    for (int c = 0; c < GPP_LINK__NCLASSES; c++)
      net->stats[c].bytes += f->bytes * r->class_links[c];
  }
}

/* Gives the first n links of class f's members (in member order) owner
 * to. */
static void set_owner(gpp_net *net, const gpp__flow *f, uint32_t n,
                      uint32_t to) {
  for (uint32_t i = 0; i < f->members && n > 0; i++) {
    const gpp__route *r = member_route(net, f, i);
    for (uint32_t k = 0; k < r->n && n > 0; k++, n--)
      net->occ[r->links[k]] = to;
  }
}

/* Gives class f's member links, in member order, from owner from to
 * owner to, stopping at the first link from does not own (or to already
 * does: two members share it); returns how many it gave. */
static uint32_t take_from(gpp_net *net, const gpp__flow *f, uint32_t from,
                          uint32_t to) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < f->members; i++) {
    const gpp__route *r = member_route(net, f, i);
    for (uint32_t k = 0; k < r->n; k++, n++) {
      if (net->occ[r->links[k]] != from) return n;
      net->occ[r->links[k]] = to;
    }
  }
  return n;
}

/* Claims the member links for class id when every one is free and no two
 * members share one, and sets peak[] by link class to the utilisation the
 * class's rate (its ub) gives them; false (nothing claimed) otherwise. */
static bool claim_alone(gpp_net *net, uint32_t id,
                        double peak[GPP_LINK__NCLASSES]) {
  const gpp__flow *f = &net->flows[id];
  uint32_t n = take_from(net, f, GPP__NONE, id);
  if (n < f->link_total) {
    set_owner(net, f, n, GPP__NONE);
    return false;
  }
  for (uint32_t i = 0; i < f->members; i++) {
    const gpp__route *r = member_route(net, f, i);
    for (int c = 0; c < GPP_LINK__NCLASSES; c++) {
      double u = f->ub / r->class_bw[c]; /* 0 without such links */
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

/* Whether class id, not yet on its links, has exactly the links of the
 * active class owner (which owns them: only an active class owns links,
 * all of its own): the same ub and as many links,
 * and either the same member routes in the same order (the same step of
 * a collective over the same ranks), or each link owned by owner and none
 * twice.  In the second case each is taken from owner in turn: when all
 * are, id owns them for the ring; otherwise they go back to owner. */
static bool take_ring(gpp_net *net, uint32_t id, uint32_t owner) {
  const gpp__flow *f = &net->flows[id], *o = &net->flows[owner];
  if (f->link_total != o->link_total || f->ub != o->ub) return false;
  uint32_t i = 0;
  while (i < f->members && member_route(net, f, i) == member_route(net, o, i))
    i++;
  if (i == f->members) return true;
  uint32_t n = take_from(net, f, owner, id);
  if (n == f->link_total) return true;
  set_owner(net, f, n, owner);
  return false;
}

/* Queues the ring of class id to be re-rated at the end of the instant. */
static int mark_regroup(gpp_net *net, uint32_t id, gpp_errctx *err) {
  if (net->flows[id].regroup) return 0;
  GPP_TRY(gpp__grow((void **)&net->regroups, &net->cap_regroups,
                    net->n_regroups + 1, sizeof *net->regroups, err));
  net->flows[id].regroup = true;
  net->regroups[net->n_regroups++] = id;
  return 0;
}

/* Class id joins the ring of owner, whose links it shares exactly: its
 * members transfer from t, at a rate the ring's re-rating sets. */
static int ring_join(gpp_net *net, uint32_t id, uint32_t owner, double t,
                     gpp_errctx *err) {
  gpp__flow *f = &net->flows[id], *o = &net->flows[owner];
  f->state = FLOW_ACTIVE;
  f->remaining = f->bytes;
  f->t_last = t;
  f->rate = f->old_rate = 0;
  f->peer = o->peer;
  f->prev = owner;
  net->flows[o->peer].prev = id;
  o->peer = id;
  net->shared++;
  return mark_regroup(net, id, err);
}

/* Class id leaves its ring as it finishes: when it owns the links, the
 * next class of the ring takes them. */
static int ring_leave(gpp_net *net, uint32_t id, gpp_errctx *err) {
  gpp__flow *f = &net->flows[id];
  uint32_t heir = f->peer;
  net->flows[f->prev].peer = heir;
  net->flows[heir].prev = f->prev;
  release(net, id, heir);
  f->peer = f->prev = id;
  f->regroup = false;
  return mark_regroup(net, heir, err);
}

int gpp__class_event(gpp_net *net, uint32_t id, double t, bool *finished,
                     gpp_errctx *err) {
  gpp__flow *f = &net->flows[id];
  *finished = f->state == FLOW_ACTIVE;
  if (*finished) {
    if (f->peer != id) return ring_leave(net, id, err);
    release(net, id, GPP__NONE);
    return 0;
  }
  double peak[GPP_LINK__NCLASSES] = {0};
  if (claim_alone(net, id, peak))
    return class_activate(net, id, t, peak, err);
  const gpp__route *r0 = member_route(net, f, 0);
  uint32_t owner = net->occ[r0->links[0]];
  if (owner < GPP__LINK_BUSY && take_ring(net, id, owner))
    return ring_join(net, id, owner, t, err);
  return gpp__class_split(net, id, t, err);
}

/* Re-rates the ring of class id at t: each of its k classes, its bytes
 * brought up to t, at ub / k (the max-min rate of k flows on each link,
 * every member's route bottleneck among them), its finish queued again. */
static int ring_rerate(gpp_net *net, uint32_t id, double t,
                       gpp_errctx *err) {
  uint32_t k = 0, c = id;
  do {
    net->flows[c].regroup = false;
    k++;
    c = net->flows[c].peer;
  } while (c != id);
  do {
    gpp__flow *f = &net->flows[c];
    gpp__flow_progress(f, t);
    f->rate = f->ub / k;
    GPP_TRY(gpp__event_requeue(net, c, t, err));
    c = f->peer;
  } while (c != id);
  return 0;
}

int gpp__class_regroup(gpp_net *net, double t, gpp_errctx *err) {
  for (uint32_t i = 0; i < net->n_regroups; i++) {
    uint32_t id = net->regroups[i];
    const gpp__flow *f = &net->flows[id];
    /* Not split (or its record reused) since it was queued. */
    if (f->regroup && f->members > 0 && f->state == FLOW_ACTIVE)
      GPP_TRY(ring_rerate(net, id, t, err));
  }
  net->n_regroups = 0;
  gpp__events_prune(net);
  return 0;
}

/* A member of an active class: on its links at the class's rate, its
 * bottleneck the first link as narrow as its ub (which the class's ring,
 * at ub / k each, saturates), its finish queued. */
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
    if (f->bneck == GPP__NONE && l->bw == cls->ub) f->bneck = f->links[k];
  }
  return gpp__heap_push(net, m, err);
}

/* Takes the class's pending event out of the queues. */
static void class_unqueue(gpp_net *net, uint32_t id) {
  if (net->heap_pos[id] == GPP__IN_FIFO) gpp__event_unqueue_fifo(net, id);
  else if (net->heap_pos[id] != GPP__NONE) gpp__heap_remove(net, id);
}

static int split_one(gpp_net *net, uint32_t id, double t, gpp_errctx *err) {
  gpp__flow cls = net->flows[id];
  bool active = cls.state == FLOW_ACTIVE;
  if (active) set_owner(net, &cls, cls.link_total, GPP__NONE);
  class_unqueue(net, id);
  gpp__net_flow_free(net, id);
  net->colls[cls.coll].outstanding += cls.members - 1;
  net->splits++;
  for (uint32_t i = 0; i < cls.members; i++) {
    const gpp__coll *c = &net->colls[cls.coll];
    uint32_t at = c->order[cls.first + i];
    const gpp__route *r = c->routes[at];
    uint32_t m;
    GPP_TRY(gpp__net_flow_alloc(net, r->n, &m, err));
    net->flows[m] = (gpp__flow){
        .ub = r->bottleneck, .links = r->links, .n_links = r->n,
        .bytes = cls.bytes, .remaining = cls.bytes, .coll = cls.coll,
        .seq = c->step_seq + at, .bneck = GPP__NONE, .state = FLOW_LATENCY};
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

int gpp__class_split(gpp_net *net, uint32_t id, double t, gpp_errctx *err) {
  if (net->flows[id].peer == id) return split_one(net, id, t, err);
  /* A ring: its classes listed, their rates brought up to date, then
   * each split. */
  bool pending = false;
  uint32_t n = 0, c = id;
  do {
    GPP_TRY(gpp__grow((void **)&net->ring, &net->cap_ring, n + 1,
                      sizeof *net->ring, err));
    net->ring[n++] = c;
    pending = pending || net->flows[c].regroup;
    c = net->flows[c].peer;
  } while (c != id);
  if (pending) GPP_TRY(ring_rerate(net, id, t, err));
  for (uint32_t i = 0; i < n; i++) {
    gpp__flow *f = &net->flows[net->ring[i]];
    f->peer = f->prev = net->ring[i];
    GPP_TRY(split_one(net, net->ring[i], t, err));
  }
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
