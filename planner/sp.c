/* sp.c -- series-parallel decomposition with sp-ization by edge addition
 * (the method is described in sp.h). */
#include "planner/sp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The working state of one decomposition; node ids n and n+1 are the
 * virtual source and sink. */
typedef struct spb {
  uint32_t n, N, W;       /* ops, ops + 2, bitset words */
  uint32_t *soff, *succ;  /* directed successors (CSR) */
  uint32_t *poff, *pred;  /* directed predecessors (CSR) */
  uint32_t *topo;         /* all N nodes, topological */
  uint64_t *anc;          /* N bitsets of ancestors, by node id */
  uint32_t *mark, stamp;  /* membership of the set being split */
  uint32_t *label, *depth;
  gpp_sp_tree *t;
  gpp_errctx *err;
} spb;

static bool anc_has(const spb *s, uint32_t b, uint32_t a) {
  return (s->anc[(size_t)b * s->W + a / 64] >> (a % 64)) & 1u;
}

static int32_t new_node(spb *s, gpp_sp_kind kind, uint32_t op, int32_t l,
                        int32_t r) {
  gpp_sp_node *nd = &s->t->nodes[s->t->n_nodes];
  nd->kind = kind;
  nd->op = op;
  nd->left = l;
  nd->right = r;
  return (int32_t)s->t->n_nodes++;
}

/* Joins parts (results of build, -1 = empty) right-nested. */
static int32_t fold(spb *s, gpp_sp_kind kind, const int32_t *parts,
                    uint32_t k) {
  int32_t cur = -1;
  for (uint32_t i = k; i-- > 0;) {
    if (parts[i] < 0) continue;
    cur = cur < 0 ? parts[i] : new_node(s, kind, 0, parts[i], cur);
  }
  return cur;
}

static int build(spb *s, const uint32_t *S, uint32_t k, int32_t *out);

/* Builds each of the k parts given as consecutive runs of `order` with
 * lengths len[], then folds them. */
static int build_parts(spb *s, gpp_sp_kind kind, const uint32_t *order,
                       const uint32_t *len, uint32_t n_parts, int32_t *out) {
  int32_t *parts = gpp_calloc(s->err, n_parts, sizeof *parts);
  if (parts == NULL) return s->err->code;
  int rc = 0;
  for (uint32_t i = 0, at = 0; i < n_parts && rc == 0; at += len[i++])
    rc = build(s, order + at, len[i], &parts[i]);
  if (rc == 0) *out = fold(s, kind, parts, n_parts);
  free(parts);
  return rc;
}

static void set_mark(spb *s, const uint32_t *S, uint32_t k) {
  s->stamp++;
  for (uint32_t i = 0; i < k; i++) s->mark[S[i]] = s->stamp;
}

static bool in_set(const spb *s, uint32_t v) {
  return s->mark[v] == s->stamp;
}

/* Labels weakly connected components of S; returns their number. */
static uint32_t components(spb *s, const uint32_t *S, uint32_t k,
                           uint32_t *queue) {
  set_mark(s, S, k);
  for (uint32_t i = 0; i < k; i++) s->label[S[i]] = UINT32_MAX;
  uint32_t nc = 0;
  for (uint32_t i = 0; i < k; i++) {
    if (s->label[S[i]] != UINT32_MAX) continue;
    uint32_t head = 0, tail = 0;
    queue[tail++] = S[i];
    s->label[S[i]] = nc;
    while (head < tail) {
      uint32_t v = queue[head++];
      const uint32_t *lists[2] = {s->succ + s->soff[v], s->pred + s->poff[v]};
      uint32_t lens[2] = {s->soff[v + 1] - s->soff[v],
                          s->poff[v + 1] - s->poff[v]};
      for (int d = 0; d < 2; d++)
        for (uint32_t j = 0; j < lens[d]; j++) {
          uint32_t u = lists[d][j];
          if (!in_set(s, u) || s->label[u] != UINT32_MAX) continue;
          s->label[u] = nc;
          queue[tail++] = u;
        }
    }
    nc++;
  }
  return nc;
}

/* Stable counting sort of S by label into order, lengths into len. */
static int group_by_label(const spb *s, const uint32_t *S, uint32_t k,
                          uint32_t nc, uint32_t *order, uint32_t *len) {
  uint32_t *at = gpp_calloc(s->err, nc, sizeof *at);
  if (at == NULL) return s->err->code;
  memset(len, 0, nc * sizeof *len);
  for (uint32_t i = 0; i < k; i++) len[s->label[S[i]]]++;
  for (uint32_t c = 1; c < nc; c++) at[c] = at[c - 1] + len[c - 1];
  for (uint32_t i = 0; i < k; i++) order[at[s->label[S[i]]]++] = S[i];
  free(at);
  return 0;
}

static int split_parallel(spb *s, const uint32_t *S, uint32_t k, uint32_t nc,
                          int32_t *out) {
  uint32_t *order = gpp_calloc(s->err, k, sizeof *order);
  uint32_t *len = gpp_calloc(s->err, nc, sizeof *len);
  int rc = (order && len) ? 0 : s->err->code;
  if (rc == 0) rc = group_by_label(s, S, k, nc, order, len);
  if (rc == 0) rc = build_parts(s, GPP_SP_PARALLEL, order, len, nc, out);
  free(order);
  free(len);
  return rc;
}

/* z[j]: the first index i < j with S[i] not an ancestor of S[j] (else j).
 * A prefix of length i is a series cut iff min over j >= i of z[j] >= i. */
static uint32_t series_cuts(const spb *s, const uint32_t *S, uint32_t k,
                            uint32_t *z, uint32_t *len) {
  for (uint32_t j = 0; j < k; j++) {
    uint32_t i = 0;
    while (i < j && anc_has(s, S[j], S[i])) i++;
    z[j] = i;
  }
  uint32_t n_parts = 0, last = 0, sufmin = UINT32_MAX;
  for (uint32_t j = k; j-- > 1;) {
    if (z[j] < sufmin) sufmin = z[j];
    z[j] = sufmin; /* reuse: now the suffix minimum */
  }
  for (uint32_t i = 1; i < k; i++)
    if (z[i] >= i) {
      len[n_parts++] = i - last;
      last = i;
    }
  if (n_parts > 0) len[n_parts++] = k - last;
  return n_parts;
}

static void depths(spb *s, const uint32_t *S, uint32_t k, uint32_t *maxd) {
  *maxd = 0;
  for (uint32_t i = 0; i < k; i++) {
    uint32_t v = S[i], d = 0;
    for (uint32_t j = s->poff[v]; j < s->poff[v + 1]; j++)
      if (in_set(s, s->pred[j]) && s->depth[s->pred[j]] + 1 > d)
        d = s->depth[s->pred[j]] + 1;
    s->depth[v] = d;
    if (d > *maxd) *maxd = d;
  }
}

static uint64_t popcount_and(const uint64_t *a, const uint64_t *b,
                             uint32_t W) {
  uint64_t c = 0;
  for (uint32_t w = 0; w < W; w++) c += (uint64_t)__builtin_popcountll(a[w] & b[w]);
  return c;
}

/* Pairs (a, b), depth(a) < L <= depth(b), with a not an ancestor of b. */
static uint64_t added_at(const spb *s, const uint32_t *S, uint32_t k,
                         uint32_t L, const uint64_t *mask, uint64_t n_a) {
  uint64_t added = 0;
  for (uint32_t i = 0; i < k; i++)
    if (s->depth[S[i]] >= L)
      added += n_a - popcount_and(s->anc + (size_t)S[i] * s->W, mask, s->W);
  return added;
}

static uint32_t best_layer(spb *s, const uint32_t *S, uint32_t k,
                           uint32_t maxd, uint64_t *mask, uint64_t *best) {
  uint32_t best_L = 1;
  uint64_t n_a = 0;
  *best = UINT64_MAX;
  memset(mask, 0, s->W * sizeof *mask);
  for (uint32_t L = 1; L <= maxd; L++) {
    for (uint32_t i = 0; i < k; i++)
      if (s->depth[S[i]] == L - 1) {
        mask[S[i] / 64] |= 1ull << (S[i] % 64);
        n_a++;
      }
    uint64_t a = added_at(s, S, k, L, mask, n_a);
    if (a < *best) {
      *best = a;
      best_L = L;
    }
  }
  return best_L;
}

/* S is connected and has no series cut: serialise it between two layers. */
static int spize(spb *s, const uint32_t *S, uint32_t k, int32_t *out) {
  uint32_t maxd;
  depths(s, S, k, &maxd);
  uint64_t *mask = gpp_calloc(s->err, s->W, sizeof *mask);
  uint32_t *order = gpp_calloc(s->err, k, sizeof *order);
  int rc = (mask && order) ? 0 : s->err->code;
  if (rc == 0) {
    uint64_t added;
    uint32_t L = best_layer(s, S, k, maxd, mask, &added);
    uint32_t len[2] = {0, 0};
    for (uint32_t i = 0; i < k; i++)
      if (s->depth[S[i]] < L) order[len[0]++] = S[i];
    for (uint32_t i = 0; i < k; i++)
      if (s->depth[S[i]] >= L) order[len[0] + len[1]++] = S[i];
    s->t->was_sp = false;
    s->t->added_pairs += added;
    rc = build_parts(s, GPP_SP_SERIES, order, len, 2, out);
  }
  free(mask);
  free(order);
  return rc;
}

static int split_connected(spb *s, const uint32_t *S, uint32_t k,
                           int32_t *out) {
  uint32_t *z = gpp_calloc(s->err, k, sizeof *z);
  uint32_t *len = gpp_calloc(s->err, k, sizeof *len);
  int rc = (z && len) ? 0 : s->err->code;
  if (rc == 0) {
    uint32_t n_parts = series_cuts(s, S, k, z, len);
    rc = n_parts > 0 ? build_parts(s, GPP_SP_SERIES, S, len, n_parts, out)
                     : spize(s, S, k, out);
  }
  free(z);
  free(len);
  return rc;
}

/* S: a convex set of node ids in topological order. */
static int build(spb *s, const uint32_t *S, uint32_t k, int32_t *out) {
  if (k == 1) {
    *out = S[0] < s->n ? new_node(s, GPP_SP_LEAF, S[0], -1, -1) : -1;
    return 0;
  }
  uint32_t *queue = gpp_calloc(s->err, k, sizeof *queue);
  if (queue == NULL) return s->err->code;
  uint32_t nc = components(s, S, k, queue);
  free(queue);
  return nc > 1 ? split_parallel(s, S, k, nc, out)
                : split_connected(s, S, k, out);
}

/* CSR lists: owner[e] holds val[e]. at: N scratch entries. */
static void csr_fill(uint32_t N, const uint32_t *owner, const uint32_t *val,
                     size_t ne, uint32_t *off, uint32_t *list, uint32_t *at) {
  memset(off, 0, (N + 1) * sizeof *off);
  for (size_t e = 0; e < ne; e++) off[owner[e] + 1]++;
  for (uint32_t v = 0; v < N; v++) off[v + 1] += off[v];
  memcpy(at, off, N * sizeof *at);
  for (size_t e = 0; e < ne; e++) list[at[owner[e]]++] = val[e];
}

static int topo_sort(spb *s) {
  uint32_t *indeg = gpp_calloc(s->err, s->N, sizeof *indeg);
  if (indeg == NULL) return s->err->code;
  for (uint32_t v = 0; v < s->N; v++) indeg[v] = s->poff[v + 1] - s->poff[v];
  uint32_t head = 0, tail = 0;
  for (uint32_t v = 0; v < s->N; v++)
    if (indeg[v] == 0) s->topo[tail++] = v;
  while (head < tail) {
    uint32_t v = s->topo[head++];
    for (uint32_t j = s->soff[v]; j < s->soff[v + 1]; j++)
      if (--indeg[s->succ[j]] == 0) s->topo[tail++] = s->succ[j];
  }
  uint32_t stuck = 0;
  while (stuck < s->n && indeg[stuck] == 0) stuck++;
  free(indeg);
  if (tail < s->N)
    GPP_RAISE(s->err, GPP_EGRAPH, "the op graph has a cycle through op %u",
              stuck);
  return 0;
}

static void ancestors(spb *s) {
  for (uint32_t i = 0; i < s->N; i++) {
    uint32_t v = s->topo[i];
    uint64_t *a = s->anc + (size_t)v * s->W;
    for (uint32_t j = s->poff[v]; j < s->poff[v + 1]; j++) {
      uint32_t p = s->pred[j];
      const uint64_t *ap = s->anc + (size_t)p * s->W;
      for (uint32_t w = 0; w < s->W; w++) a[w] |= ap[w];
      a[p / 64] |= 1ull << (p % 64);
    }
  }
}

/* Edges plus source -> every op without inputs, every op without outputs
 * -> sink. */
static int make_edges(spb *s, const uint32_t *from, const uint32_t *to,
                      size_t ne, uint32_t **ef, uint32_t **et, size_t *nt) {
  bool *has_in = gpp_calloc(s->err, s->n, sizeof *has_in);
  bool *has_out = gpp_calloc(s->err, s->n, sizeof *has_out);
  *ef = gpp_calloc(s->err, ne + 2 * (size_t)s->n, sizeof **ef);
  *et = gpp_calloc(s->err, ne + 2 * (size_t)s->n, sizeof **et);
  int rc = (has_in && has_out && *ef && *et) ? 0 : s->err->code;
  size_t k = 0;
  for (size_t e = 0; rc == 0 && e < ne; e++) {
    if (from[e] >= s->n || to[e] >= s->n || from[e] == to[e])
      rc = GPP_ERR(s->err, GPP_EGRAPH, "edge %zu (%u -> %u) is a self-loop or "
                   "names an op outside 0..%u", e, from[e], to[e], s->n - 1);
    else {
      has_out[from[e]] = has_in[to[e]] = true;
      (*ef)[k] = from[e], (*et)[k++] = to[e];
    }
  }
  for (uint32_t v = 0; rc == 0 && v < s->n; v++) {
    if (!has_in[v]) (*ef)[k] = s->n, (*et)[k++] = v;
    if (!has_out[v]) (*ef)[k] = v, (*et)[k++] = s->n + 1;
  }
  *nt = k;
  free(has_in);
  free(has_out);
  return rc;
}

static void spb_free(spb *s) {
  free(s->soff); free(s->succ); free(s->poff); free(s->pred);
  free(s->topo); free(s->anc); free(s->mark); free(s->label);
  free(s->depth);
}

static int spb_init(spb *s, const uint32_t *from, const uint32_t *to,
                    size_t ne) {
  uint32_t *ef = NULL, *et = NULL;
  size_t nt = 0;
  int rc = make_edges(s, from, to, ne, &ef, &et, &nt);
  s->N = s->n + 2;
  s->W = (s->N + 63) / 64;
  s->soff = gpp_calloc(s->err, s->N + 1, sizeof *s->soff);
  s->poff = gpp_calloc(s->err, s->N + 1, sizeof *s->poff);
  s->succ = gpp_calloc(s->err, nt, sizeof *s->succ);
  s->pred = gpp_calloc(s->err, nt, sizeof *s->pred);
  s->topo = gpp_calloc(s->err, s->N, sizeof *s->topo);
  s->anc = gpp_calloc(s->err, (size_t)s->N * s->W, sizeof *s->anc);
  s->mark = gpp_calloc(s->err, s->N, sizeof *s->mark);
  s->label = gpp_calloc(s->err, s->N, sizeof *s->label);
  s->depth = gpp_calloc(s->err, s->N, sizeof *s->depth);
  if (rc == 0 && !(s->soff && s->poff && s->succ && s->pred && s->topo &&
                   s->anc && s->mark && s->label && s->depth))
    rc = s->err->code;
  if (rc == 0) {
    csr_fill(s->N, ef, et, nt, s->soff, s->succ, s->label);
    csr_fill(s->N, et, ef, nt, s->poff, s->pred, s->label);
    rc = topo_sort(s);
  }
  if (rc == 0) ancestors(s);
  free(ef);
  free(et);
  return rc;
}

int gpp_sp_decompose(uint32_t n, const uint32_t *from, const uint32_t *to,
                     size_t n_edges, gpp_sp_tree **out, gpp_errctx *err) {
  *out = NULL;
  if (n == 0) GPP_RAISE(err, GPP_EINVAL, "cannot decompose an empty graph");
  spb s = {.n = n, .err = err};
  gpp_sp_tree *t = gpp_calloc(err, 1, sizeof *t);
  if (t == NULL) return err->code;
  t->nodes = gpp_calloc(err, 2 * (size_t)n, sizeof *t->nodes);
  t->n_ops = n;
  t->was_sp = true;
  s.t = t;
  int rc = t->nodes ? spb_init(&s, from, to, n_edges) : err->code;
  if (rc == 0) rc = build(&s, s.topo, s.N, &t->root);
  spb_free(&s);
  if (rc != 0) {
    gpp_sp_tree_destroy(t);
    return rc;
  }
  *out = t;
  return 0;
}

int gpp_sp_decompose_model(const gpp_model *m, gpp_sp_tree **out,
                           gpp_errctx *err) {
  size_t ne = 0;
  for (uint32_t i = 0; i < m->n_ops; i++) ne += m->ops[i].n_inputs;
  uint32_t *from = gpp_calloc(err, ne, sizeof *from);
  uint32_t *to = gpp_calloc(err, ne, sizeof *to);
  int rc = (from && to) ? 0 : err->code;
  size_t k = 0;
  for (uint32_t i = 0; rc == 0 && i < m->n_ops; i++)
    for (uint32_t j = 0; j < m->ops[i].n_inputs; j++) {
      from[k] = m->ops[i].inputs[j];
      to[k++] = i;
    }
  if (rc == 0) rc = gpp_sp_decompose(m->n_ops, from, to, ne, out, err);
  free(from);
  free(to);
  return rc;
}

void gpp_sp_tree_destroy(gpp_sp_tree *t) {
  if (t == NULL) return;
  free(t->nodes);
  free(t);
}

static void put(char *buf, size_t len, size_t *at, const char *text) {
  size_t n = strlen(text);
  if (*at < len) snprintf(buf + *at, len - *at, "%s", text);
  *at += n;
}

static void format_node(const gpp_sp_tree *t, int32_t i,
                        const char *const *names, char *buf, size_t len,
                        size_t *at) {
  const gpp_sp_node *nd = &t->nodes[i];
  if (nd->kind == GPP_SP_LEAF) {
    char num[16];
    snprintf(num, sizeof num, "%u", nd->op);
    put(buf, len, at, names ? names[nd->op] : num);
    return;
  }
  put(buf, len, at, nd->kind == GPP_SP_SERIES ? "S(" : "P(");
  format_node(t, nd->left, names, buf, len, at);
  put(buf, len, at, ",");
  format_node(t, nd->right, names, buf, len, at);
  put(buf, len, at, ")");
}

size_t gpp_sp_format(const gpp_sp_tree *t, const char *const *names,
                     char *buf, size_t len) {
  size_t at = 0;
  if (len > 0) buf[0] = '\0';
  if (t->root >= 0) format_node(t, t->root, names, buf, len, &at);
  return at;
}

static double count_ideals(const gpp_sp_tree *t, int32_t i) {
  const gpp_sp_node *nd = &t->nodes[i];
  if (nd->kind == GPP_SP_LEAF) return 2;
  double a = count_ideals(t, nd->left), b = count_ideals(t, nd->right);
  return nd->kind == GPP_SP_SERIES ? a + b - 1 : a * b;
}

double gpp_sp_count_ideals(const gpp_sp_tree *t) {
  return t->root >= 0 ? count_ideals(t, t->root) : 1;
}
