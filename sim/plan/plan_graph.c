/* plan_graph.c -- from op globs to the stage graph.
 *
 * Every op must match the globs of exactly one stage; every op edge that
 * crosses stages becomes (or adds to) a stage edge, carrying the producer's
 * output bytes once per consuming stage; the stage graph must be acyclic.
 * Sequential schedules (GPipe, 1F1B, interleaved) then replace the graph by
 * the chain of stages in topological order, relaying every tensor through
 * the stages between its producer and its last consumer, as a pipeline over
 * a linearised op order does.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/arena.h"
#include "sim/plan/plan_internal.h"
#include "sim/plan/sched.h"

#define NO_STAGE UINT32_MAX

static int match_pattern(gpp_plan *p, uint32_t s, uint32_t pat,
                         uint32_t *owner, gpp_errctx *err) {
  const gpp_plan_stage *st = &p->stages[s];
  uint32_t hits = 0;
  for (uint32_t i = 0; i < p->model->n_ops; i++) {
    if (fnmatch(st->patterns[pat], p->model->ops[i].name, 0) != 0) continue;
    hits++;
    if (owner[i] == NO_STAGE || owner[i] == s) {
      owner[i] = s;
      continue;
    }
    GPP_RAISE_AT(err, GPP_EINVAL, &st->mark, "op '%s' is in two stages: "
                 "'%s' and '%s' (pattern '%s')", p->model->ops[i].name,
                 p->stages[owner[i]].name, st->name, st->patterns[pat]);
  }
  if (hits == 0)
    GPP_RAISE_AT(err, GPP_EINVAL, &st->mark, "stage '%s': pattern '%s' "
                 "matches no op of model '%s'", st->name, st->patterns[pat],
                 p->model->name ? p->model->name : "?");
  return 0;
}

static int fill_stage_ops(gpp_plan *p, const uint32_t *owner,
                          gpp_errctx *err) {
  for (uint32_t s = 0; s < p->n_stages; s++) {
    gpp_plan_stage *st = &p->stages[s];
    for (uint32_t i = 0; i < p->model->n_ops; i++) st->n_ops += owner[i] == s;
    st->ops = gpp_arena_array(p->arena, st->n_ops, sizeof(uint32_t), err);
    if (st->ops == NULL) return err->code;
    uint32_t k = 0;
    for (uint32_t i = 0; i < p->model->n_ops; i++)
      if (owner[i] == s) st->ops[k++] = i;
  }
  return 0;
}

static int assign_ops(gpp_plan *p, uint32_t *owner, gpp_ynode at_node,
                      gpp_errctx *err) {
  for (uint32_t i = 0; i < p->model->n_ops; i++) owner[i] = NO_STAGE;
  for (uint32_t s = 0; s < p->n_stages; s++)
    for (uint32_t k = 0; k < p->stages[s].n_patterns; k++)
      GPP_TRY(match_pattern(p, s, k, owner, err));
  gpp_mark at = gpp_ynode_mark(at_node);
  for (uint32_t i = 0; i < p->model->n_ops; i++)
    if (owner[i] == NO_STAGE)
      GPP_RAISE_AT(err, GPP_EINVAL, &at, "op '%s' (%s:%d:%d) is in no stage",
                   p->model->ops[i].name,
                   p->model->path ? p->model->path : "model",
                   p->model->ops[i].src_line, p->model->ops[i].src_column);
  return fill_stage_ops(p, owner, err);
}

/* Index of edge a -> b, appending it when new; cap is n_stages^2 bound. */
static uint32_t edge_index(gpp_plan *p, uint32_t a, uint32_t b) {
  for (uint32_t e = 0; e < p->n_edges; e++)
    if (p->edges[e].from == a && p->edges[e].to == b) return e;
  p->edges[p->n_edges] = (gpp_plan_edge){a, b, 0};
  return p->n_edges++;
}

/* Adds op u's output once to each distinct other stage consuming it. */
static void add_op_edges(gpp_plan *p, const uint32_t *owner, uint32_t u) {
  const gpp_op *op = &p->model->ops[u];
  for (uint32_t j = 0; j < op->n_outputs; j++) {
    uint32_t t = owner[op->outputs[j]];
    bool seen = t == owner[u];
    for (uint32_t k = 0; k < j && !seen; k++)
      seen = owner[op->outputs[k]] == t;
    if (!seen) p->edges[edge_index(p, owner[u], t)].bytes_per_sample +=
        op->out_bytes;
  }
}

static int link_edges(gpp_plan *p, gpp_errctx *err) {
  for (uint32_t e = 0; e < p->n_edges; e++) {
    p->stages[p->edges[e].from].n_out++;
    p->stages[p->edges[e].to].n_in++;
  }
  for (uint32_t s = 0; s < p->n_stages; s++) {
    gpp_plan_stage *st = &p->stages[s];
    st->out_edges = gpp_arena_array(p->arena, st->n_out + 1, 4, err);
    st->in_edges = gpp_arena_array(p->arena, st->n_in + 1, 4, err);
    if (st->out_edges == NULL || st->in_edges == NULL) return err->code;
    st->n_out = st->n_in = 0;
  }
  for (uint32_t e = 0; e < p->n_edges; e++) {
    gpp_plan_stage *a = &p->stages[p->edges[e].from];
    gpp_plan_stage *b = &p->stages[p->edges[e].to];
    a->out_edges[a->n_out++] = e;
    b->in_edges[b->n_in++] = e;
  }
  return 0;
}

static int build_edges(gpp_plan *p, const uint32_t *owner, gpp_errctx *err) {
  size_t max_edges = (size_t)p->n_stages * p->n_stages;
  size_t n_op_edges = 0;
  for (uint32_t i = 0; i < p->model->n_ops; i++)
    n_op_edges += p->model->ops[i].n_outputs;
  if (n_op_edges < max_edges) max_edges = n_op_edges;
  p->edges = gpp_arena_array(p->arena, max_edges + 1, sizeof *p->edges, err);
  if (p->edges == NULL) return err->code;
  for (uint32_t u = 0; u < p->model->n_ops; u++) add_op_edges(p, owner, u);
  return link_edges(p, err);
}

/* Names the stages left on a cycle after Kahn's algorithm stalls. */
static int cycle_error(gpp_plan *p, const uint32_t *indeg, gpp_errctx *err) {
  char list[512] = "";
  uint32_t first = NO_STAGE;
  for (uint32_t s = 0; s < p->n_stages; s++) {
    if (indeg[s] == 0 || indeg[s] == NO_STAGE) continue;
    if (first == NO_STAGE) first = s;
    size_t used = strlen(list);
    snprintf(list + used, sizeof list - used, "%s'%s'", used ? ", " : "",
             p->stages[s].name);
  }
  GPP_RAISE_AT(err, GPP_EGRAPH, &p->stages[first].mark, "the stage graph "
               "has a cycle through stages %s (a stage's ops must form a "
               "convex set of the op graph)", list);
}

/* Kahn's algorithm taking the lowest ready plan index first. */
static int topo_sort(gpp_plan *p, uint32_t *indeg, gpp_errctx *err) {
  p->topo = gpp_arena_array(p->arena, p->n_stages, sizeof(uint32_t), err);
  if (p->topo == NULL) return err->code;
  for (uint32_t e = 0; e < p->n_edges; e++) indeg[p->edges[e].to]++;
  for (uint32_t n = 0; n < p->n_stages; n++) {
    uint32_t s = 0;
    while (s < p->n_stages && indeg[s] != 0) s++;
    if (s == p->n_stages) return cycle_error(p, indeg, err);
    indeg[s] = NO_STAGE; /* taken */
    p->stages[s].order = n;
    p->topo[n] = s;
    for (uint32_t k = 0; k < p->stages[s].n_out; k++)
      indeg[p->edges[p->stages[s].out_edges[k]].to]--;
  }
  return 0;
}

/* The edge from topological position c to c + 1 carries every op output
 * produced at or before c and consumed after it. */
static int relay_chain(gpp_plan *p, const uint32_t *owner, gpp_errctx *err) {
  uint32_t n = p->n_stages;
  p->edges = gpp_arena_array(p->arena, n, sizeof *p->edges, err);
  if (p->edges == NULL) return err->code;
  p->n_edges = n - 1;
  for (uint32_t c = 0; c + 1 < n; c++)
    p->edges[c] = (gpp_plan_edge){p->topo[c], p->topo[c + 1], 0};
  for (uint32_t u = 0; u < p->model->n_ops; u++) {
    const gpp_op *op = &p->model->ops[u];
    uint32_t lo = p->stages[owner[u]].order, hi = lo;
    for (uint32_t j = 0; j < op->n_outputs; j++) {
      uint32_t o = p->stages[owner[op->outputs[j]]].order;
      if (o > hi) hi = o;
    }
    for (uint32_t c = lo; c < hi; c++)
      p->edges[c].bytes_per_sample += op->out_bytes;
  }
  for (uint32_t s = 0; s < n; s++) p->stages[s].n_out = p->stages[s].n_in = 0;
  return link_edges(p, err);
}

int gpp__plan_graph(gpp_plan *p, gpp_ynode stages_node, gpp_errctx *err) {
  uint32_t n_ops = p->model->n_ops;
  uint32_t *owner = gpp_calloc(err, (size_t)n_ops + p->n_stages + 1,
                               sizeof *owner);
  if (owner == NULL) return err->code;
  int rc = assign_ops(p, owner, stages_node, err);
  if (rc == 0) rc = build_edges(p, owner, err);
  if (rc == 0) rc = topo_sort(p, owner + n_ops, err);
  if (rc == 0 && p->schedule->sequential) rc = relay_chain(p, owner, err);
  free(owner);
  return rc;
}
