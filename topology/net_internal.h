/* net_internal.h -- the flow network's state, shared by its files:
 * network.c (flows, events, the advance loop), net_heap.c (the event heap),
 * net_share.c (which flows a change re-shares), net_fill.c (progressive
 * filling), net_fast.c (the exact check that skips re-sharing) and
 * collectives.c (collective algorithms expanding into steps of flows).
 *
 * Flows and collectives live in pools indexed by uint32_t with free lists,
 * so steady-state operation allocates nothing: arrays only grow.
 */
#ifndef GPP_TOPOLOGY_NET_INTERNAL_H
#define GPP_TOPOLOGY_NET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "topology/internal.h"
#include "topology/network.h"

#define GPP__NONE UINT32_MAX

typedef enum { FLOW_FREE, FLOW_LATENCY, FLOW_ACTIVE } gpp__flow_state;

typedef struct gpp__flow {
  /* Read by every filling: the first 64 bytes. */
  double rate;
  double old_rate; /* rate before the current re-sharing */
  double ub;       /* route bottleneck: no rate can exceed it */
  const uint32_t *links;
  uint32_t n_links;
  uint32_t mark;     /* component epoch */
  uint32_t bneck;    /* a saturated link where this flow's rate is the
                        largest (its max-min bottleneck); GPP__NONE until
                        the flow has a rate */
  uint32_t heap_pos; /* GPP__NONE when not queued */
  bool fixed; /* rate settled in the current filling */
  uint8_t state;
  /* The rest. */
  double bytes, remaining;
  double t_last;  /* remaining is exact at t_last */
  double ev_time; /* key of its pending event, with seq */
  uint64_t seq, tag;
  uint32_t *slot; /* slot[k]: index of this flow in links[k]'s list */
  uint32_t slot_cap;
  uint32_t coll;     /* owning collective or GPP__NONE */
  uint32_t next_free;
  uint32_t ub_link;  /* the first link of the route with capacity ub */
} gpp__flow;

typedef struct gpp__link_entry {
  uint32_t flow, k; /* the flow, and this link's index in its route */
} gpp__link_entry;

typedef struct gpp__nlink {
  gpp__link_entry *flows;
  uint32_t n, cap;
  uint32_t unfixed, mark;
  double bw;       /* capacity, copied from the cluster */
  double residual; /* capacity left during a filling */
  double load;     /* sum of its flows' rates */
  double ub_sum;   /* sum of its flows' ub */
  bool dirty;
  bool shadow;     /* another link carries exactly its flows with no more
                      capacity, so it never constrains a filling */
  bool cand;       /* may constrain the current filling */
  bool spread;     /* constrained before a flow left it in this batch, so
                      its remaining flows are re-shared */
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

struct gpp_net {
  gpp_cluster *cluster;
  double now, time_eps_rel;
  uint64_t seq;
  gpp__flow *flows;
  uint32_t n_flows, cap_flows, free_flow;
  gpp__coll *colls;
  uint32_t n_colls, cap_colls, free_coll;
  gpp__nlink *links;
  uint32_t *heap; /* flow ids ordered by (ev_time, seq) */
  uint32_t heap_n, heap_cap;
  uint32_t *dirty, n_dirty, cap_dirty;
  uint32_t *arrivals, n_arrivals, cap_arrivals; /* activated this batch */
  uint32_t *comp_flows, n_comp_flows, cap_comp_flows;
  uint32_t *comp_links, n_comp_links, cap_comp_links;
  gpp__share *shares;
  uint32_t n_shares, cap_shares;
  uint8_t *rank_seen;     /* per GPU scratch for rank checks */
  uint32_t *node_scratch; /* per node scratch for grouping ranks */
  uint32_t epoch;
  uint64_t reshares, flows_touched;
  gpp_net_reshare_stats how;
  gpp_net_class_stats stats[GPP_LINK__NCLASSES];
};

/* Grows *arr (of *cap elements of size sz) to hold at least need. */
int gpp__grow(void **arr, uint32_t *cap, uint32_t need, size_t sz,
              gpp_errctx *err);

/* Event heap keyed by (ev_time, seq). */
int gpp__heap_push(gpp_net *net, uint32_t flow, gpp_errctx *err);
void gpp__heap_update(gpp_net *net, uint32_t flow);
uint32_t gpp__heap_pop(gpp_net *net);
void gpp__heap_remove(gpp_net *net, uint32_t flow);

/* Starts a flow of a collective (tag unused) or of the owner. */
int gpp__net_start_flow(gpp_net *net, double now, uint32_t src, uint32_t dst,
                        double bytes, uint32_t coll, uint64_t tag,
                        gpp_errctx *err);
int gpp__net_check_time(const gpp_net *net, double now, gpp_errctx *err);
int gpp__net_check_bytes(double bytes, gpp_errctx *err);
/* Re-shares rates over the flows this batch's changes can affect. */
int gpp__net_reshare(gpp_net *net, double t, gpp_errctx *err);
/* Marks a link changed by this batch; leaving says a flow is about to
 * leave it (call before removing the flow). */
int gpp__net_mark_dirty(gpp_net *net, uint32_t link, bool leaving,
                        gpp_errctx *err);
/* Forgets the batch's dirty links once their change is re-shared. */
void gpp__net_clear_dirty(gpp_net *net);
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
void gpp__net_note_touched(gpp_net *net, uint32_t n);
/* Records the utilisation of link l at its current load. */
void gpp__net_note_utilisation(gpp_net *net, uint32_t l, double load);

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
