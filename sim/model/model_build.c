/* model_build.c -- turns expanded op specs into a model: names resolved
 * (duplicates and dangling inputs are errors), a deterministic topological
 * order (cycles are errors naming their ops), then shapes and costs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model/model_internal.h"

/* ---- a name table: ops (spec index) and aliases ----------------------- */

typedef struct name_slot {
  const char *name;
  uint32_t index;
  bool alias;
} name_slot;

typedef struct name_table {
  name_slot *slots;
  size_t mask;
} name_table;

static size_t hash_str(const char *s) {
  size_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static name_slot *lookup(const name_table *t, const char *name) {
  for (size_t i = hash_str(name) & t->mask;; i = (i + 1) & t->mask)
    if (t->slots[i].name == NULL || strcmp(t->slots[i].name, name) == 0)
      return &t->slots[i];
}

static int insert(gpp__mbuild *b, name_table *t, const char *name,
                  uint32_t index, bool alias, gpp_mark mark) {
  name_slot *s = lookup(t, name);
  if (s->name != NULL) {
    gpp_mark first = s->alias ? b->aliases[s->index].mark
                              : b->specs[s->index].mark;
    GPP_RAISE_AT(b->err, GPP_EGRAPH, &mark, "duplicate name '%s' (first "
                 "defined at line %d, column %d)", name, first.line,
                 first.column);
  }
  s->name = name;
  s->index = index;
  s->alias = alias;
  return 0;
}

static int build_table(gpp__mbuild *b, name_table *t) {
  size_t n = (size_t)b->n_specs + b->n_aliases, cap = 16;
  while (cap < 2 * n + 1) cap *= 2;
  t->slots = gpp_calloc(b->err, cap, sizeof *t->slots);
  if (t->slots == NULL) return GPP_ENOMEM;
  t->mask = cap - 1;
  for (uint32_t i = 0; i < b->n_specs; i++)
    GPP_TRY(insert(b, t, b->specs[i].name, i, false, b->specs[i].mark));
  for (uint32_t i = 0; i < b->n_aliases; i++)
    GPP_TRY(insert(b, t, b->aliases[i].name, i, true, b->aliases[i].mark));
  return 0;
}

/* ---- resolving references ---------------------------------------------- */

static const name_slot *find_ref(const name_table *t, const gpp__mref *r) {
  char buf[1024];
  for (int d = r->depth; d > 0; d--) {
    snprintf(buf, sizeof buf, "%s%s", r->scopes[d - 1], r->name);
    const name_slot *s = lookup(t, buf);
    if (s->name != NULL) return s;
  }
  const name_slot *s = lookup(t, r->name);
  return s->name != NULL ? s : NULL;
}

static int dangling(gpp__mbuild *b, const name_table *t, const gpp__mref *r) {
  const char **names = malloc((t->mask + 1) * sizeof *names);
  size_t n = 0;
  for (size_t i = 0; names != NULL && i <= t->mask; i++)
    if (t->slots[i].name != NULL) names[n++] = t->slots[i].name;
  const char *hint = names ? gpp_suggest(r->name, names, n) : NULL;
  int rc = GPP_ERR_AT(b->err, GPP_EGRAPH, &r->mark, "input '%s' names no op "
                      "or generator%s%s%s", r->name,
                      hint ? "; did you mean '" : "", hint ? hint : "",
                      hint ? "'?" : "");
  free(names);
  return rc;
}

typedef struct idx_vec {
  uint32_t *a;
  uint32_t n, cap;
} idx_vec;

static int vec_push(gpp__mbuild *b, idx_vec *v, uint32_t x) {
  if (v->n == v->cap) {
    uint32_t cap = v->cap ? v->cap * 2 : 256;
    uint32_t *a = gpp_realloc_array(b->err, v->a, cap, sizeof *a);
    if (a == NULL) return GPP_ENOMEM;
    v->a = a;
    v->cap = cap;
  }
  v->a[v->n++] = x;
  return 0;
}

/* Appends the spec indices a reference stands for. */
static int resolve_ref(gpp__mbuild *b, const name_table *t,
                       const gpp__mref *r, idx_vec *out) {
  const name_slot *s = find_ref(t, r);
  if (s == NULL) return dangling(b, t, r);
  if (!s->alias) return vec_push(b, out, s->index);
  const gpp__malias *a = &b->aliases[s->index];
  for (uint32_t i = 0; i < a->n_targets; i++) {
    gpp__mref sub = {.name = a->targets[i], .depth = 0, .mark = r->mark};
    GPP_TRY(resolve_ref(b, t, &sub, out));
  }
  return 0;
}

static int check_repeats(gpp__mbuild *b, const gpp__mspec *s,
                         const uint32_t *in, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t j = 0; j < i; j++)
      if (in[i] == in[j])
        GPP_RAISE_AT(b->err, GPP_EGRAPH, &s->mark, "op '%s' takes '%s' as an "
                     "input twice", s->name, b->specs[in[i]].name);
  return 0;
}

/* Input spec indices of every spec, as one CSR array. */
static int resolve_all(gpp__mbuild *b, const name_table *t, uint32_t **start,
                       uint32_t **edges) {
  idx_vec v = {0};
  *start = gpp_calloc(b->err, b->n_specs + 1, sizeof **start);
  if (*start == NULL) return GPP_ENOMEM;
  for (uint32_t i = 0; i < b->n_specs; i++) {
    (*start)[i] = v.n;
    for (uint32_t j = 0; j < b->specs[i].n_ins; j++) {
      int rc = resolve_ref(b, t, &b->specs[i].ins[j], &v);
      if (rc == 0)
        rc = check_repeats(b, &b->specs[i], v.a + (*start)[i],
                           v.n - (*start)[i]);
      if (rc != 0) {
        free(v.a);
        return rc;
      }
    }
  }
  (*start)[b->n_specs] = v.n;
  *edges = v.a ? v.a : gpp_calloc(b->err, 1, sizeof **edges);
  return *edges ? 0 : GPP_ENOMEM;
}

/* ---- topological order ------------------------------------------------ */

static void heap_push(uint32_t *h, uint32_t *n, uint32_t v) {
  uint32_t i = (*n)++;
  while (i > 0 && h[(i - 1) / 2] > v) {
    h[i] = h[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h[i] = v;
}

static uint32_t heap_pop(uint32_t *h, uint32_t *n) {
  uint32_t top = h[0], v = h[--(*n)], i = 0;
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= *n) break;
    if (c + 1 < *n && h[c + 1] < h[c]) c++;
    if (h[c] >= v) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = v;
  return top;
}

static int report_cycle(gpp__mbuild *b, const uint32_t *start,
                        const uint32_t *edges, const uint32_t *indeg) {
  uint32_t v = 0;
  while (indeg[v] == 0) v++;
  /* Walk backwards along unfinished inputs until a spec repeats. */
  uint32_t *seen = calloc(b->n_specs, sizeof *seen), step = 1;
  if (seen == NULL) GPP_RAISE(b->err, GPP_ENOMEM, "out of memory");
  while (seen[v] == 0) {
    seen[v] = step++;
    for (uint32_t e = start[v]; e < start[v + 1]; e++)
      if (indeg[edges[e]] > 0) {
        v = edges[e];
        break;
      }
  }
  char path[1024] = "";
  uint32_t u = v;
  do {
    size_t used = strlen(path);
    snprintf(path + used, sizeof path - used, "%s <- ", b->specs[u].name);
    for (uint32_t e = start[u]; e < start[u + 1]; e++)
      if (indeg[edges[e]] > 0 && seen[edges[e]]) {
        u = edges[e];
        break;
      }
  } while (u != v && strlen(path) < sizeof path - 64);
  free(seen);
  size_t used = strlen(path);
  snprintf(path + used, sizeof path - used, "%s", b->specs[v].name);
  GPP_RAISE_AT(b->err, GPP_EGRAPH, &b->specs[v].mark, "the graph has a "
               "cycle: %s", path);
}

/* order[k] = the spec placed k-th; the smallest ready spec index goes first,
 * so a file written in dependency order keeps its order. */
static int topo_order(gpp__mbuild *b, const uint32_t *start,
                      const uint32_t *edges, uint32_t *order) {
  uint32_t n = b->n_specs, done = 0, hn = 0;
  uint32_t *indeg = gpp_calloc(b->err, n, sizeof *indeg);
  uint32_t *heap = indeg ? gpp_calloc(b->err, n, sizeof *heap) : NULL;
  uint32_t *ostart = heap ? gpp_calloc(b->err, n + 1, sizeof *ostart) : NULL;
  uint32_t *oedges = ostart ? gpp_calloc(b->err, start[n] + 1,
                                         sizeof *oedges) : NULL;
  int rc = oedges ? 0 : GPP_ENOMEM;
  for (uint32_t v = 0; rc == 0 && v < n; v++) {
    indeg[v] = start[v + 1] - start[v];
    for (uint32_t e = start[v]; e < start[v + 1]; e++) ostart[edges[e] + 1]++;
  }
  for (uint32_t v = 0; rc == 0 && v < n; v++) ostart[v + 1] += ostart[v];
  for (uint32_t v = 0, *fill = heap; rc == 0 && v < n; v++)
    for (uint32_t e = start[v]; e < start[v + 1]; e++)
      oedges[ostart[edges[e]] + fill[edges[e]]++] = v;
  if (rc == 0) memset(heap, 0, n * sizeof *heap);
  for (uint32_t v = 0; rc == 0 && v < n; v++)
    if (indeg[v] == 0) heap_push(heap, &hn, v);
  while (rc == 0 && hn > 0) {
    uint32_t v = heap_pop(heap, &hn);
    order[done++] = v;
    for (uint32_t e = ostart[v]; e < ostart[v + 1]; e++)
      if (--indeg[oedges[e]] == 0) heap_push(heap, &hn, oedges[e]);
  }
  if (rc == 0 && done < n) rc = report_cycle(b, start, edges, indeg);
  free(indeg);
  free(heap);
  free(ostart);
  free(oedges);
  return rc;
}

/* ---- assembling ops ---------------------------------------------------- */

static int fill_inputs(gpp__mbuild *b, gpp_model *m, const uint32_t *order,
                       const uint32_t *pos, const uint32_t *start,
                       const uint32_t *edges) {
  for (uint32_t k = 0; k < m->n_ops; k++) {
    uint32_t v = order[k], n = start[v + 1] - start[v];
    gpp_op *op = &m->ops[k];
    op->inputs = gpp_arena_array(m->arena, n ? n : 1, sizeof(uint32_t),
                                 b->err);
    if (op->inputs == NULL) return GPP_ENOMEM;
    op->n_inputs = n;
    for (uint32_t j = 0; j < n; j++) {
      op->inputs[j] = pos[edges[start[v] + j]];
      m->ops[op->inputs[j]].n_outputs++;
    }
  }
  return 0;
}

static int fill_outputs(gpp__mbuild *b, gpp_model *m) {
  for (uint32_t k = 0; k < m->n_ops; k++) {
    gpp_op *op = &m->ops[k];
    op->outputs = gpp_arena_array(m->arena, op->n_outputs ? op->n_outputs : 1,
                                  sizeof(uint32_t), b->err);
    if (op->outputs == NULL) return GPP_ENOMEM;
    op->n_outputs = 0;
  }
  for (uint32_t k = 0; k < m->n_ops; k++)
    for (uint32_t j = 0; j < m->ops[k].n_inputs; j++) {
      gpp_op *u = &m->ops[m->ops[k].inputs[j]];
      u->outputs[u->n_outputs++] = k;
    }
  return 0;
}

static int make_ops(gpp__mbuild *b, gpp_model *m, const uint32_t *order,
                    const uint32_t *start, const uint32_t *edges) {
  m->n_ops = b->n_specs;
  m->ops = gpp_arena_array(m->arena, m->n_ops, sizeof *m->ops, b->err);
  uint32_t *pos = gpp_calloc(b->err, m->n_ops, sizeof *pos);
  if (m->ops == NULL || pos == NULL) {
    free(pos);
    return GPP_ENOMEM;
  }
  for (uint32_t k = 0; k < m->n_ops; k++) {
    const gpp__mspec *s = &b->specs[order[k]];
    pos[order[k]] = k;
    m->ops[k].name = gpp_arena_strdup(m->arena, s->name, b->err);
    m->ops[k].kind = s->kind;
    m->ops[k].dtype_bytes = b->dtype_bytes;
    m->ops[k].src_line = s->mark.line;
    m->ops[k].src_column = s->mark.column;
  }
  int rc = fill_inputs(b, m, order, pos, start, edges);
  free(pos);
  return rc ? rc : fill_outputs(b, m);
}

static int finish_ops(gpp__mbuild *b, gpp_model *m, const uint32_t *order) {
  for (uint32_t k = 0; k < m->n_ops; k++) {
    const gpp__mspec *s = &b->specs[order[k]];
    GPP_TRY(gpp__model_shape_op(m, k, s, b->err));
    gpp__model_derive_op(&m->ops[k], s);
  }
  m->dtype_bytes = b->dtype_bytes;
  m->n_groups = b->n_groups;
  m->groups = gpp_arena_array(m->arena, b->n_groups ? b->n_groups : 1,
                              sizeof *m->groups, b->err);
  if (m->groups == NULL) return GPP_ENOMEM;
  if (b->n_groups) memcpy(m->groups, b->groups, b->n_groups * sizeof
                          *m->groups);
  return 0;
}

int gpp__model_build(gpp__mbuild *b, gpp_model *m) {
  if (b->n_specs == 0) {
    gpp_mark at = {b->path, 1, 1};
    GPP_RAISE_AT(b->err, GPP_EGRAPH, &at, "graph: the model has no ops");
  }
  name_table t = {0};
  uint32_t *start = NULL, *edges = NULL, *order = NULL;
  int rc = build_table(b, &t);
  if (rc == 0) rc = resolve_all(b, &t, &start, &edges);
  if (rc == 0) {
    order = gpp_calloc(b->err, b->n_specs, sizeof *order);
    rc = order ? topo_order(b, start, edges, order) : GPP_ENOMEM;
  }
  if (rc == 0) rc = make_ops(b, m, order, start, edges);
  if (rc == 0) rc = finish_ops(b, m, order);
  free(t.slots);
  free(start);
  free(edges);
  free(order);
  return rc;
}
