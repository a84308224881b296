/* sp.h -- series-parallel decomposition of an op DAG into a binary tree.
 *
 * The graph is read as a node-series-parallel graph (the form FlexFlow's
 * SeriesParallelDecomposition uses): a leaf is one op, series(A, B) means
 * every op of A precedes every op of B, parallel(A, B) means no op of A is
 * connected to one of B.  Method, on a convex set S of ops:
 *   1. one op: a leaf;
 *   2. weakly disconnected: parallel composition of the components;
 *   3. otherwise every valid series cut (a prefix A of the topological order
 *      such that each op of A reaches each op of S \ A) splits S into a
 *      series of pieces, all found in one pass;
 *   4. connected with no valid cut, S is not SP.  It is made SP by adding
 *      dependencies (FlexFlow's sp-ization by edge addition): ops are
 *      layered by longest-path depth inside S and S is serialised between
 *      the layers L-1 and L, at the layer L that adds the fewest new
 *      ordered pairs (ties: the lowest L).  Both halves recurse.
 * A virtual source and sink are added around the graph first, so that a
 * graph with several sources or sinks is still one two-terminal SP graph;
 * their leaves are dropped from the result.  The tree is right-nested:
 * series(p1, series(p2, p3)).
 */
#ifndef GPP_PLANNER_SP_H
#define GPP_PLANNER_SP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/common/err.h"
#include "sim/model/model.h"

typedef enum { GPP_SP_LEAF, GPP_SP_SERIES, GPP_SP_PARALLEL } gpp_sp_kind;

typedef struct gpp_sp_node {
  gpp_sp_kind kind;
  uint32_t op;         /* leaves */
  int32_t left, right; /* node indices; -1 for leaves */
} gpp_sp_node;

typedef struct gpp_sp_tree {
  gpp_sp_node *nodes;
  uint32_t n_nodes;
  int32_t root;
  uint32_t n_ops;
  bool was_sp;         /* no dependency had to be added */
  uint64_t added_pairs;/* ordered op pairs made dependent by sp-ization */
} gpp_sp_tree;

/* Decomposes the DAG of n ops with edges from[i] -> to[i].  A cycle or an
 * edge naming a missing op raises GPP_EGRAPH; n == 0 raises GPP_EINVAL. */
int gpp_sp_decompose(uint32_t n, const uint32_t *from, const uint32_t *to,
                     size_t n_edges, gpp_sp_tree **out, gpp_errctx *err);
/* The same over a model's op edges. */
int gpp_sp_decompose_model(const gpp_model *m, gpp_sp_tree **out,
                           gpp_errctx *err);
void gpp_sp_tree_destroy(gpp_sp_tree *t);

/* Writes the tree as text, e.g. "S(a,P(b,c))" with ops named by names[]
 * (or by index when names is NULL).  Returns the length it needed, as
 * snprintf does. */
size_t gpp_sp_format(const gpp_sp_tree *t, const char *const *names,
                     char *buf, size_t len);

/* Number of downsets (ideals) of the SP graph the tree describes:
 * series multiplies out as a + b - 1, parallel as a * b, a leaf has 2. */
double gpp_sp_count_ideals(const gpp_sp_tree *t);

#endif
