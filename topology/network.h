/* network.h -- the flow-level network: max-min fair sharing plus latency.
 *
 * The network is a sub-simulator driven by its owner's event loop: the
 * owner asks for gpp_net_next_time() and calls gpp_net_advance() up to that
 * time.  A flow first waits its route's latency, then transfers at a rate
 * re-shared by max-min fairness (progressive filling) over all active flows
 * whenever a flow starts or ends.  Collectives expand into phases of flows
 * and complete once, as a unit.  Each flow or collective carries an opaque
 * 64-bit tag returned to the owner's completion callback.
 */
#ifndef GPP_TOPOLOGY_NETWORK_H
#define GPP_TOPOLOGY_NETWORK_H

#include <stddef.h>
#include <stdint.h>

#include "sim/common/err.h"
#include "topology/topology.h"

typedef struct gpp_net gpp_net;

typedef enum {
  GPP_COLL_ALLREDUCE,
  GPP_COLL_ALLGATHER,
  GPP_COLL_REDUCE_SCATTER,
  GPP_COLL_P2P
} gpp_coll_op;

typedef enum {
  GPP_COLL_AUTO,
  GPP_COLL_RING,
  GPP_COLL_TREE,
  GPP_COLL_HIERARCHICAL
} gpp_coll_algo;

/* Called when a flow or collective with this tag has finished at time t. */
typedef void (*gpp_net_done_fn)(void *ctx, uint64_t tag, double t);

int gpp_net_create(gpp_cluster *c, gpp_net **out, gpp_errctx *err);
void gpp_net_destroy(gpp_net *net);

/* Starts a point-to-point flow of bytes from GPU src to GPU dst at time now.
 * bytes == 0 completes after the route's latency. */
int gpp_net_flow(gpp_net *net, double now, uint32_t src, uint32_t dst,
                 double bytes, uint64_t tag, gpp_errctx *err);
/* Starts a collective over ranks (GPU ids) at time now. */
int gpp_net_collective(gpp_net *net, double now, gpp_coll_op op,
                       gpp_coll_algo algo, const uint32_t *ranks, size_t n,
                       double bytes, uint64_t tag, gpp_errctx *err);

/* Time of the network's next internal event, or INFINITY when idle. */
double gpp_net_next_time(const gpp_net *net);
/* Processes every network event at or before t, calling done for each
 * flow or collective that completes. */
int gpp_net_advance(gpp_net *net, double t, gpp_net_done_fn done, void *ctx,
                    gpp_errctx *err);

/* Names, for inputs and reports.  The lists are NULL-terminated; an
 * unknown name raises GPP_EINVAL listing the valid ones.  Algorithms:
 * auto, ring, tree, hierarchical (see topology/collectives.c for what each
 * does and topology/coll_run.c for the `auto` rule). */
const char *const *gpp_coll_op_names(void);
const char *const *gpp_coll_algo_names(void);
const char *gpp_coll_op_name(gpp_coll_op op);
const char *gpp_coll_algo_name(gpp_coll_algo algo);
int gpp_coll_op_from_name(const char *name, gpp_coll_op *out,
                          gpp_errctx *err);
int gpp_coll_algo_from_name(const char *name, gpp_coll_algo *out,
                            gpp_errctx *err);
/* The algorithm `auto` stands for with these ranks (others unchanged). */
gpp_coll_algo gpp_net_coll_resolve(gpp_net *net, gpp_coll_op op,
                                   gpp_coll_algo algo, const uint32_t *ranks,
                                   size_t n);
/* Events within rel * t of each other are one instant (default 1e-12). */
void gpp_net_set_time_tolerance(gpp_net *net, double rel);

/* Accounting. */
typedef struct gpp_net_class_stats {
  double bytes;            /* summed over the links of this class that
                              finished flows crossed (link-bytes) */
  double peak_utilisation; /* max over links and time of rate/capacity */
} gpp_net_class_stats;
void gpp_net_class_stats_get(const gpp_net *net,
                             gpp_net_class_stats out[GPP_LINK__NCLASSES]);
/* Number of rate re-sharings performed, and flows touched by them. */
void gpp_net_counters(const gpp_net *net, uint64_t *reshares,
                      uint64_t *flows_touched);
/* How the re-sharings went: settled by the exact shortcut without a
 * filling (fast), by the incremental filling that visits only what the
 * change moves (local), or by filling their whole closed component
 * (closed); the
 * most flows one re-sharing touched; and how many times a flow already
 * transferring had its rate changed (a lower bound on the flow updates of
 * any exact re-sharing that keeps a rate per flow).  Within the local
 * re-sharings: the links that saturated and settled flows (each a
 * max-min level set anew), and the flows already transferring whose
 * bottleneck link changed (the rest kept theirs, whatever their rate). */
typedef struct gpp_net_reshare_stats {
  uint64_t fast, local, closed, max_touched, changed;
  uint64_t saturations, switches;
} gpp_net_reshare_stats;
void gpp_net_reshare_stats_get(const gpp_net *net,
                               gpp_net_reshare_stats *out);
/* Flow classes started (a collective step's flows as one, net_class.c);
 * of those, the ones that shared the links of another with exactly the
 * same links (a ring of classes at an equal share), and the ones split
 * into their member flows when other traffic met them. */
void gpp_net_class_counts(const gpp_net *net, uint64_t *classes,
                          uint64_t *shared, uint64_t *splits);

#endif
