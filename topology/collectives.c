/* collectives.c -- collective algorithms as a const table of types, each
 * expanding a collective into steps of concurrent flows.  A step starts
 * when every flow of the previous one has finished (a barrier per step, as
 * in the textbook cost models; NCCL's intra-step pipelining is not
 * modelled).  S is the collective's `bytes`, n the number of ranks:
 *
 * - ring: all-reduce is 2(n-1) steps, each rank sending S/n to the next;
 *   all-gather (S = the gathered output) and reduce-scatter (S = each
 *   rank's input) are n-1 such steps.  On a uniform ring of bandwidth B and
 *   latency a, all-reduce takes 2(n-1)/n * S/B + 2(n-1) a.
 * - tree: all-reduce on a binary tree over the ranks in the given order
 *   (rank i's parent is rank (i-1)/2), not pipelined: a reduce of S bytes
 *   up one level per step, then a broadcast down, 2*depth steps.
 * - hierarchical: all-reduce as intra-node reduce-scatter (ring, g-1
 *   steps of S/g), inter-node all-reduce of each rank's S/g shard among
 *   the ranks with the same local index (ring over N nodes, 2(N-1) steps of
 *   S/(gN)), intra-node all-gather (g-1 steps of S/g).  All-gather is the
 *   inter-node all-gather among the ranks of one local index (N-1 steps of
 *   S/(gN)) then the intra-node one (g-1 steps of S/g); reduce-scatter the
 *   same in reverse.  The g inter-node rings run at once, one per local
 *   index, so every node's NICs carry traffic, as NCCL's channels do
 *   (one ring over all n ranks crosses each node boundary on one NIC).
 *   Needs the same number g of ranks on each of the N nodes.
 * - direct: p2p, one flow of S bytes from ranks[0] to ranks[1].
 * A step's flows start together, as one flow class where net_class.c can.
 */
#include <string.h>

#include "topology/net_internal.h"

#define OP(x) (1u << (x))

static uint32_t ring_steps(const gpp__coll *c) {
  if (c->n < 2) return 0;
  return c->op == GPP_COLL_ALLREDUCE ? 2 * (c->n - 1) : c->n - 1;
}

static int ring_step(gpp_net *net, uint32_t id, uint32_t step, double now,
                     gpp_errctx *err) {
  (void)step;
  const gpp__coll *c = &net->colls[id];
  uint32_t n = c->n;
  GPP_TRY(gpp__net_step_reserve(net, n, err));
  for (uint32_t i = 0; i < n; i++) {
    net->step_src[i] = c->ranks[i];
    net->step_dst[i] = c->ranks[(i + 1) % n];
  }
  return gpp__net_start_step(net, now, id, n, c->bytes / n, err);
}

static uint32_t tree_depth(uint32_t n) {
  uint32_t d = 0;
  while ((2u << d) - 1 < n) d++;
  return d; /* levels 0..d hold ranks 0..n-1 */
}

static uint32_t tree_steps(const gpp__coll *c) {
  return c->n < 2 ? 0 : 2 * tree_depth(c->n);
}

/* Reduce steps go up from the deepest level; broadcast steps go down. */
static int tree_step(gpp_net *net, uint32_t id, uint32_t step, double now,
                     gpp_errctx *err) {
  const gpp__coll *c = &net->colls[id];
  uint32_t depth = tree_depth(c->n), n = c->n;
  bool up = step < depth;
  uint32_t level = up ? depth - step : step - depth + 1;
  uint32_t lo = (1u << level) - 1, hi = (2u << level) - 1;
  uint32_t k = 0;
  GPP_TRY(gpp__net_step_reserve(net, hi - lo, err));
  for (uint32_t i = lo; i < hi && i < n; i++, k++) {
    uint32_t child = c->ranks[i], parent = c->ranks[(i - 1) / 2];
    net->step_src[k] = up ? child : parent;
    net->step_dst[k] = up ? parent : child;
  }
  return gpp__net_start_step(net, now, id, k, c->bytes, err);
}

bool gpp__coll_groups(gpp_net *net, const uint32_t *ranks, uint32_t n,
                      uint32_t *nodes, uint32_t *per_node) {
  const gpp_cluster *cl = net->cluster;
  uint32_t *cnt = net->node_scratch, distinct = 0;
  for (uint32_t i = 0; i < n; i++)
    if (cnt[ranks[i] / cl->gpus_per_node]++ == 0) distinct++;
  uint32_t g = n ? cnt[ranks[0] / cl->gpus_per_node] : 0;
  bool uniform = true;
  for (uint32_t i = 0; i < n; i++) {
    uniform = uniform && cnt[ranks[i] / cl->gpus_per_node] == g;
  }
  for (uint32_t i = 0; i < n; i++) cnt[ranks[i] / cl->gpus_per_node] = 0;
  *nodes = distinct;
  *per_node = g;
  return uniform;
}

/* Orders ranks node-major: group j (nodes in order of first appearance),
 * then ranks within it in their given order. */
static int hier_prepare(gpp_net *net, gpp__coll *c, gpp_errctx *err) {
  if (!gpp__coll_groups(net, c->ranks, c->n, &c->nodes, &c->per_node))
    GPP_RAISE(err, GPP_EINVAL, "a hierarchical collective needs the same "
              "number of ranks on every node");
  uint32_t *group = net->node_scratch, *tmp = c->ranks + c->n;
  uint32_t gpn = net->cluster->gpus_per_node, next = 0;
  for (uint32_t i = 0; i < c->n; i++) {
    uint32_t *slot = &group[c->ranks[i] / gpn];
    if (*slot == 0) *slot = ++next * c->per_node + 1; /* base of group + 1 */
    tmp[*slot - 1 - c->per_node] = c->ranks[i];
    (*slot)++;
  }
  for (uint32_t i = 0; i < c->n; i++) group[c->ranks[i] / gpn] = 0;
  memcpy(c->ranks, tmp, c->n * sizeof *tmp);
  return 0;
}

static uint32_t hier_steps(const gpp__coll *c) {
  if (c->n < 2) return 0;
  uint32_t k = c->op == GPP_COLL_ALLREDUCE ? 2 : 1;
  return k * (c->per_node - 1) + k * (c->nodes - 1);
}

/* Whether step is one of the intra-node ring's (else the inter-node). */
static bool hier_intra(const gpp__coll *c, uint32_t step) {
  uint32_t g = c->per_node, nn = c->nodes;
  if (c->op == GPP_COLL_ALLGATHER) return step >= nn - 1;
  if (c->op == GPP_COLL_REDUCE_SCATTER) return step < g - 1;
  return step < g - 1 || step >= g - 1 + 2 * (nn - 1);
}

static int hier_step(gpp_net *net, uint32_t id, uint32_t step, double now,
                     gpp_errctx *err) {
  const gpp__coll *c = &net->colls[id];
  uint32_t g = c->per_node, nn = c->nodes;
  bool intra = hier_intra(c, step);
  double bytes = intra ? c->bytes / g : c->bytes / ((double)g * nn);
  const uint32_t *r = c->ranks;
  GPP_TRY(gpp__net_step_reserve(net, nn * g, err));
  for (uint32_t j = 0; j < nn; j++)
    for (uint32_t i = 0; i < g; i++) {
      net->step_src[j * g + i] = r[j * g + i];
      net->step_dst[j * g + i] =
          intra ? r[j * g + (i + 1) % g] : r[((j + 1) % nn) * g + i];
    }
  return gpp__net_start_step(net, now, id, nn * g, bytes, err);
}

static uint32_t direct_steps(const gpp__coll *c) {
  (void)c;
  return 1;
}

static int direct_step(gpp_net *net, uint32_t id, uint32_t step, double now,
                       gpp_errctx *err) {
  (void)step;
  const gpp__coll *c = &net->colls[id];
  return gpp__net_start_flow(net, now, c->ranks[0], c->ranks[1], c->bytes, id,
                             0, err);
}

static const gpp__coll_type coll_types[] = {
    {"ring", GPP_COLL_RING,
     OP(GPP_COLL_ALLREDUCE) | OP(GPP_COLL_ALLGATHER) |
         OP(GPP_COLL_REDUCE_SCATTER),
     NULL, ring_steps, ring_step},
    {"tree", GPP_COLL_TREE, OP(GPP_COLL_ALLREDUCE), NULL, tree_steps,
     tree_step},
    {"hierarchical", GPP_COLL_HIERARCHICAL,
     OP(GPP_COLL_ALLREDUCE) | OP(GPP_COLL_ALLGATHER) |
         OP(GPP_COLL_REDUCE_SCATTER),
     hier_prepare, hier_steps, hier_step},
    {"direct", GPP_COLL_AUTO, OP(GPP_COLL_P2P), NULL, direct_steps,
     direct_step},
};

const gpp__coll_type *gpp__coll_type_of(gpp_coll_algo algo, gpp_coll_op op) {
  for (size_t i = 0; i < sizeof coll_types / sizeof coll_types[0]; i++)
    if (coll_types[i].algo == algo && (coll_types[i].ops & OP(op)))
      return &coll_types[i];
  return NULL;
}
