/* net_internal.h -- the flow network's state, shared by its files:
 * network.c (flows, events, the advance loop), net_heap.c (the event heap),
 * net_share.c (which flows a change re-shares), net_refill.c (the
 * incremental filling), net_fill.c (progressive filling), net_fast.c (the
 * exact check that skips re-sharing),
 * net_class.c (a collective step's flows as one flow class) and
 * collectives.c (collective algorithms expanding into steps of flows).
 *
 * Flows and collectives live in pools indexed by uint32_t with free lists,
 * so steady-state operation allocates nothing: arrays only grow.
 */
#ifndef GPP_TOPOLOGY_NET_INTERNAL_H
#define GPP_TOPOLOGY_NET_INTERNAL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "topology/internal.h"
#include "topology/network.h"

#define GPP__NONE UINT32_MAX
#define GPP__LINK_BUSY (GPP__NONE - 1)

typedef enum { FLOW_FREE, FLOW_LATENCY, FLOW_ACTIVE } gpp__flow_state;

/* Flows are 64-byte aligned in their array (see flows_grow in network.c),
 * so that the fields every filling reads share one cache line. */
#define GPP__FLOW_ALIGN 64

typedef struct gpp__flow {
  /* Read by every filling: the first 64 bytes. */
  _Alignas(GPP__FLOW_ALIGN) double rate;
  double old_rate; /* rate before the current re-sharing */
  double ub;       /* route bottleneck: no rate can exceed it */
  const uint32_t *links;
  uint32_t n_links;
  uint32_t mark;     /* component epoch */
  uint32_t bneck;    /* a saturated link where this flow's rate is the
                        largest (its max-min bottleneck); GPP__NONE until
                        the flow has a rate */
  union {
    uint32_t old_bneck; /* a flow: bneck before the current re-sharing */
    uint32_t prev;      /* a class: the previous class of its ring */
  };
  bool fixed; /* rate settled in the current filling */
  uint8_t state;
  bool regroup; /* a class whose ring changed this instant (net_class.c) */
  /* The rest. */
  double bytes, remaining;
  double t_last;  /* remaining is exact at t_last */
  double ev_time; /* key of its pending event, with seq */
  uint64_t seq, tag;
  uint32_t coll;     /* owning collective or GPP__NONE */
  uint32_t next_free;
  uint32_t members;  /* 0: one flow; else a flow class of that many
                        (net_class.c): links NULL, rate per member */
  uint32_t first;    /* a class's first member in its collective's order */
  uint32_t peer;     /* a class: the next class of its ring, the classes
                        sharing its links (itself when alone; prev too) */
  uint32_t link_total; /* a class: its members' links, summed */
} gpp__flow;

typedef struct gpp__link_entry {
  uint32_t flow, k; /* the flow, and this link's index in its route */
} gpp__link_entry;

typedef struct gpp__nlink {
  gpp__link_entry *flows;
  uint32_t n, cap;
  uint8_t cls;     /* link class, copied from the cluster */
  bool dirty;
  bool shadow;     /* another link carries exactly its flows with no more
                      capacity, so it never constrains a filling */
  bool cand;       /* may constrain the current filling */
  bool spread;     /* constrained before a flow left it in this batch, so
                      its remaining flows are re-shared */
  uint32_t unfixed, mark;
  bool pending;    /* to be re-levelled (net_refill.c) */
  uint32_t n_new;  /* arrivals of the batch on it (net_fast.c); cleared
                      with dirty */
  double bw;       /* capacity, copied from the cluster */
  double spare;    /* capacity its other flows leave them (net_fast.c) */
  double taken;    /* of which the arrivals take (net_fast.c) */
  double residual; /* capacity left during a filling */
  double fill;     /* level it saturates at, as last computed, and */
  double rel;      /* the old level it releases its flows at, unless it
                      saturates first (net_refill.c) */
  uint32_t n_rising; /* its flows rising in a filling (net_refill.c),
                        whose rates load leaves out meanwhile */
  uint32_t hpos;   /* index in net->sat, GPP__NONE when out */
  double load;     /* sum of its flows' rates */
  double ub_sum;   /* sum of its flows' ub */
} gpp__nlink;

/* A link stays out of re-sharing unless its flows' ub sum exceeds its
 * capacity by more than rounding of that running sum. */
#define GPP__UB_SUM_REL_TOL 1e-9

/* Whether the link can bind a max-min rate: it is no shadow and carries
 * several flows whose route bottlenecks (ub) could together exceed it.
 * Flows are coupled only through such links. */
static inline bool gpp__link_constrains(const gpp__nlink *l) {
  return !l->shadow && l->n > 1 &&
         l->ub_sum > l->bw * (1 - GPP__UB_SUM_REL_TOL);
}

struct gpp__coll_type;

typedef struct gpp__coll {
  const struct gpp__coll_type *type;
  gpp_coll_op op;
  uint32_t *ranks; /* node-major order for hierarchical */
  uint32_t n, cap;
  const gpp__route **routes; /* the current step's member routes */
  uint32_t cap_routes;
  /* The step's members grouped by flow class: each class's members are
   * order[first, first + members) (net_class.c), indices into routes. */
  uint32_t *order, cap_order;
  uint64_t step_seq; /* member i's sequence number: step_seq + i */
  uint32_t nodes, per_node;
  double bytes;
  uint64_t tag;
  uint32_t step, n_steps, outstanding, next_free;
  bool used;
} gpp__coll;

/* A collective algorithm: how many steps, and the flows of one step. */
typedef struct gpp__coll_type {
  const char *name;
  gpp_coll_algo algo;
  unsigned ops; /* bit (1 << gpp_coll_op) for each supported op */
  /* Optional: reorders or checks ranks before the first step. */
  int (*prepare)(gpp_net *net, gpp__coll *c, gpp_errctx *err);
  uint32_t (*n_steps)(const gpp__coll *c);
  int (*step)(gpp_net *net, uint32_t coll, uint32_t step, double now,
              gpp_errctx *err);
} gpp__coll_type;

/* One entry of the scratch heap used by progressive filling: a link at
 * its fair share, or (id with GPP__CAP_BIT) a flow at its cap ub. */
#define GPP__CAP_BIT 0x80000000u
typedef struct gpp__share {
  double share;
  uint32_t id;
} gpp__share;

/* An event heap entry: its flow's event time and sequence number. */
#define GPP__HEAP_ARITY 4
typedef struct gpp__hent {
  double time;
  uint64_t seq;
  uint32_t flow;
} gpp__hent;

/* Events that fall due in the order they are queued wait in FIFOs
 * (ev[head, n)) rather than in the heap:
 * - latency events of flows whose routes have the same latency, in the
 *   order the flows started (one FIFO per latency);
 * - finish events of flows given rates by the fast path: a collective's
 *   steps finish one after another, so each FIFO takes an event no earlier
 *   than its last (the one with the latest such last, as in patience
 *   sorting).  A flow whose rate changes later moves to the heap, leaving
 *   its entry stale (heap_pos no longer GPP__IN_FIFO); stale entries are
 *   dropped when they reach the head.
 * An event no FIFO takes goes to the heap. */
#define GPP__LAT_QUEUES 12
#define GPP__IN_FIFO (GPP__NONE - 1)
typedef struct gpp__latq {
  double lat;
  bool finish; /* a FIFO of finish events (lat unused) */
  gpp__hent *ev;
  uint32_t head, n, cap;
} gpp__latq;

struct gpp_net {
  gpp_cluster *cluster;
  double now, time_eps_rel;
  uint64_t seq;
  gpp__flow *flows;
  uint32_t n_flows, cap_flows, free_flow;
  gpp__coll *colls;
  uint32_t n_colls, cap_colls, free_coll;
  gpp__nlink *links;
  gpp__hent *heap; /* flows ordered by (ev_time, seq) */
  uint32_t heap_n, heap_cap;
  /* heap_pos[flow]: its index in the heap, GPP__NONE when not there; apart
   * from the flows so that sifting writes a few cache lines. */
  uint32_t *heap_pos, cap_heap_pos;
  /* The row of flow f, slot_stride wide (the longest route yet): slot k is
   * f's index in the list of its route's link k.  Apart from the flows, so
   * that removing a flow from a link updates the flow moved into its place
   * without reading that flow. */
  uint32_t *slots, slot_stride, slot_rows;
  gpp__latq latq[GPP__LAT_QUEUES];
  uint32_t n_latq;
  uint32_t *dirty, n_dirty, cap_dirty;
  uint32_t *arrivals, n_arrivals, cap_arrivals; /* activated this batch */
  uint32_t *comp_flows, n_comp_flows, cap_comp_flows;
  uint32_t *comp_links, n_comp_links, cap_comp_links;
  gpp__share *shares;
  uint32_t n_shares, cap_shares;
  double *caps; /* one link's flows' caps (net_refill.c) */
  uint32_t cap_caps;
  uint32_t *pending, n_pending, cap_pending; /* links to re-level */
  uint32_t *sat, n_sat, cap_sat; /* links by saturation level */
  uint32_t *step_src, *step_dst, cap_step; /* one step's flows */
  /* Per link: GPP__NONE when free, GPP__LINK_BUSY when flows are on it,
   * else the flow class alone on it (net_class.c).  Apart from the links,
   * so that a class claims thousands of links in few cache lines. */
  uint32_t *occ;
  bool no_classes; /* every collective flow by itself (tests compare) */
  uint64_t refill_budget; /* link visits before an incremental re-sharing
                             gives way to the closed component; 0: the
                             default (tests force the fallback) */
  uint64_t classes, splits; /* flow classes started, and split */
  uint64_t shared;          /* classes that joined another's links */
  uint32_t *regroups, n_regroups, cap_regroups; /* rings to re-rate */
  uint32_t *ring, cap_ring; /* scratch: one ring's classes */
  uint8_t *rank_seen;     /* per GPU scratch for rank checks */
  uint32_t *node_scratch; /* per node scratch for grouping ranks */
  uint32_t epoch;
  uint64_t reshares, flows_touched;
  gpp_net_reshare_stats how;
  gpp_net_class_stats stats[GPP_LINK__NCLASSES];
};

static inline uint32_t *gpp__flow_slots(const gpp_net *net, uint32_t f) {
  return net->slots + (size_t)f * net->slot_stride;
}

/* Grows *arr (of *cap elements of size sz) to hold at least need; the
 * check is inline, as the hot loop calls it for every flow and link. */
int gpp__grow_to(void **arr, uint32_t *cap, uint32_t need, size_t sz,
                 gpp_errctx *err);
static inline int gpp__grow(void **arr, uint32_t *cap, uint32_t need,
                            size_t sz, gpp_errctx *err) {
  return need <= *cap ? 0 : gpp__grow_to(arr, cap, need, sz, err);
}

/* Event heap keyed by (ev_time, seq). */
int gpp__heap_push(gpp_net *net, uint32_t flow, gpp_errctx *err);
void gpp__heap_update(gpp_net *net, uint32_t flow);
void gpp__heap_remove(gpp_net *net, uint32_t flow);
/* Queues a flow's latency event (its ev_time: start + lat). */
int gpp__event_push_latency(gpp_net *net, uint32_t flow, double lat,
                            gpp_errctx *err);
/* Queues the finish event (at its ev_time) of a flow not queued. */
int gpp__event_push_finish(gpp_net *net, uint32_t flow, gpp_errctx *err);
/* Takes a flow's finish event out of its FIFO (it goes stale) before the
 * flow is queued again. */
static inline void gpp__event_unqueue_fifo(gpp_net *net, uint32_t flow) {
  if (net->heap_pos[flow] == GPP__IN_FIFO) net->heap_pos[flow] = GPP__NONE;
}
/* Queues again the finish event of a flow whose rate changed, at t plus
 * its remaining bytes at that rate: out of its FIFO (if any) into the
 * heap.  Call gpp__events_prune() once the batch is done. */
static inline int gpp__event_requeue(gpp_net *net, uint32_t flow, double t,
                                     gpp_errctx *err) {
  gpp__flow *f = &net->flows[flow];
  f->ev_time = t + f->remaining / f->rate;
  gpp__event_unqueue_fifo(net, flow);
  if (net->heap_pos[flow] == GPP__NONE) return gpp__heap_push(net, flow, err);
  gpp__heap_update(net, flow);
  return 0;
}
/* Drops stale entries at the heads of the finish FIFOs. */
void gpp__events_prune(gpp_net *net);
/* The next event by (ev_time, seq), NULL when none, and in *src where it
 * waits: a FIFO's index, or GPP__NONE for the heap. */
const gpp__hent *gpp__event_next(const gpp_net *net, uint32_t *src);
/* Dequeues the next event from src, as gpp__event_next() gave it. */
uint32_t gpp__event_pop(gpp_net *net, uint32_t src);
void gpp__events_free(gpp_net *net);

/* net_flow.c: starts a flow of a collective (tag unused) or of the owner. */
int gpp__net_start_flow(gpp_net *net, double now, uint32_t src, uint32_t dst,
                        double bytes, uint32_t coll, uint64_t tag,
                        gpp_errctx *err);
/* Queues a member flow of a collective step over route r (not empty)
 * with the sequence number it would have had started in turn. */
int gpp__net_start_member(gpp_net *net, double now, const gpp__route *r,
                          double bytes, uint32_t coll, uint64_t seq,
                          gpp_errctx *err);
/* Room for n flows of one step in net->step_src and step_dst. */
int gpp__net_step_reserve(gpp_net *net, uint32_t n, gpp_errctx *err);
/* Starts a collective step: n flows of bytes each, step_src[i] to
 * step_dst[i], as one flow class when net_class.c can, else one by one. */
int gpp__net_start_step(gpp_net *net, double now, uint32_t coll, uint32_t n,
                        double bytes, gpp_errctx *err);
/* net_flow.c: the flow pool, and the state changes shared by the event
 * loop and net_class.c. */
int gpp__net_flow_alloc(gpp_net *net, uint32_t n_links, uint32_t *id,
                        gpp_errctx *err);
void gpp__net_flow_free(gpp_net *net, uint32_t id);
/* Puts a flow at the end of its latency on its links as an arrival (after
 * gpp__class_make_room). */
int gpp__net_activate(gpp_net *net, uint32_t id, double t, gpp_errctx *err);
/* Adds flow id to the list of its route's link k. */
int gpp__net_link_add(gpp_net *net, uint32_t id, uint32_t k,
                      gpp_errctx *err);
/* Flow classes (net_class.c): the class's event at t (its latency end or
 * its finish; *finished says the latter, its links then released), and
 * splitting one into its member flows, with their events queued. */
int gpp__class_event(gpp_net *net, uint32_t id, double t, bool *finished,
                     gpp_errctx *err);
int gpp__class_split(gpp_net *net, uint32_t id, double t, gpp_errctx *err);
/* Re-rates at t the rings of classes that changed this instant: each of
 * a ring's k classes at its ub / k. */
int gpp__class_regroup(gpp_net *net, double t, gpp_errctx *err);
/* Splits every flow class alone on a link flow id is about to join, so
 * that max-min sees its member flows. */
int gpp__class_make_room(gpp_net *net, uint32_t id, double t,
                         gpp_errctx *err);
/* Starts a collective step's n flows as flow classes where it can: the
 * members whose routes share a latency and bottleneck, two or more, as
 * one class each, the others one by one (*started true); or nothing
 * (*started false: no two members share them, or a member has no
 * route). */
int gpp__class_start(gpp_net *net, double now, uint32_t coll, uint32_t n,
                     double bytes, bool *started, gpp_errctx *err);
/* net_flow.c: a start time not before the network's clock; finite,
 * non-negative bytes. */
int gpp__net_check_time(const gpp_net *net, double now, gpp_errctx *err);
int gpp__net_check_bytes(double bytes, gpp_errctx *err);
/* Re-shares rates over the flows this batch's changes can affect. */
int gpp__net_reshare(gpp_net *net, double t, gpp_errctx *err);
/* Marks a link changed by this batch; leaving says a flow is about to
 * leave it (call before removing the flow). */
static inline int gpp__net_mark_dirty(gpp_net *net, uint32_t link,
                                      bool leaving, gpp_errctx *err) {
  gpp__nlink *l = &net->links[link];
  l->spread = l->spread || (leaving && gpp__link_constrains(l));
  if (l->dirty) return 0;
  GPP_TRY(gpp__grow((void **)&net->dirty, &net->cap_dirty, net->n_dirty + 1,
                    sizeof *net->dirty, err));
  l->dirty = true;
  net->dirty[net->n_dirty++] = link;
  return 0;
}
/* Forgets the batch's dirty links once their change is re-shared. */
static inline void gpp__net_clear_dirty(gpp_net *net) {
  for (uint32_t i = 0; i < net->n_dirty; i++) {
    gpp__nlink *l = &net->links[net->dirty[i]];
    l->dirty = l->spread = false;
    l->n_new = 0;
    l->taken = 0;
  }
  net->n_dirty = 0;
}
/* Brings a flow's remaining bytes up to t at its current rate, which it
 * keeps as old_rate for the re-sharing about to change it. */
static inline void gpp__flow_progress(gpp__flow *f, double t) {
  f->remaining = fmax(f->remaining - f->rate * (t - f->t_last), 0);
  f->t_last = t;
  f->old_rate = f->rate;
}
/* The scratch heap of net->shares, ordered by (share, id). */
int gpp__share_push(gpp_net *net, gpp__share s, gpp_errctx *err);
gpp__share gpp__share_pop(gpp_net *net);
/* The first link of the flow's route with capacity ub (the one that bounds
 * it). */
uint32_t gpp__ub_link(const gpp_net *net, const gpp__flow *f);
/* Incremental re-sharing (net_refill.c): the max-min rates after the
 * batch, visiting only the links and flows whose course changed; the
 * flows it touched in comp_flows (arrivals first), their old rates in
 * old_rate.  *done false: it stopped after budget link visits, and
 * gpp__net_refill_undo() puts back the old rates and bottlenecks. */
int gpp__net_refill(gpp_net *net, double t, uint64_t budget, bool *done,
                    gpp_errctx *err);
void gpp__net_refill_undo(gpp_net *net);
/* Max-min rates, by progressive filling, of the flows in comp_flows (each
 * link of theirs in comp_links), other flows held at their rates. */
int gpp__net_fill(gpp_net *net, gpp_errctx *err);
/* Copies link capacities and marks the links that never constrain a
 * filling (shadows, see net_share.c). */
int gpp__net_links_init(gpp_net *net, gpp_errctx *err);
/* Gives this batch's arrivals their max-min rates at t without changing
 * any other flow's when that is exact, and sets *done; otherwise leaves
 * *done false and nothing that a full re-sharing would not redo. */
int gpp__net_fast_reshare(gpp_net *net, double t, bool *done,
                          gpp_errctx *err);
/* Counts a re-sharing's touched flows in the totals and the maximum. */
static inline void gpp__net_note_touched(gpp_net *net, uint32_t n) {
  net->flows_touched += n;
  if (n > net->how.max_touched) net->how.max_touched = n;
}
/* Records the utilisation of link l at its current load. */
static inline void gpp__net_note_utilisation(gpp_net *net, uint32_t l, double load) {
  const gpp__nlink *nl = &net->links[l];
  double u = fmin(load / nl->bw, 1.0);
  gpp_net_class_stats *s = &net->stats[nl->cls];
  if (nl->n > 0 && u > s->peak_utilisation) s->peak_utilisation = u;
}

/* Collectives. */
const gpp__coll_type *gpp__coll_type_of(gpp_coll_algo algo, gpp_coll_op op);
/* The ranks' grouping by node: *nodes distinct nodes, *per_node ranks on
 * the first one; returns whether every node holds the same count. */
bool gpp__coll_groups(gpp_net *net, const uint32_t *ranks, uint32_t n,
                      uint32_t *nodes, uint32_t *per_node);
void gpp__coll_free(gpp_net *net, uint32_t coll);
/* Starts steps until one has outstanding flows or the collective ends;
 * *finished says it ended. */
int gpp__coll_advance(gpp_net *net, uint32_t coll, double now,
                      bool *finished, gpp_errctx *err);

#endif
