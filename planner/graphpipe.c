/* graphpipe.c -- GraphPipe's stage partitioner (paper §5-6).
 *
 * The op graph's binary SP tree (planner/sp.h) is flattened into n-ary
 * series and parallel nodes, and a memoised DP runs for a target bottleneck
 * time per sample t_max found by binary search.  A sub-problem is a suffix
 * [i, K) of the children of a node X with at most d devices, at most s
 * stages (when limited) and the sink configuration n_out: the samples in
 * flight at the stages it feeds.  Its value is the smallest number of
 * samples in flight at its source stages (the max over them at parallel
 * joins), i.e. inflight(s) = b_s + max over successors, measured in
 * samples so that per-stage micro-batch sizes combine.  A suffix is solved
 * by peeling its first segment, which is either
 *   - one stage holding children [i, p) with a power-of-two data-parallel
 *     degree k and micro-batch b, checked against t_max and the device
 *     memory with its in-flight count, or
 *   - child i decomposed recursively with d1 of the devices;
 * in a series node the downstream rest is solved first and its value is the
 * segment's n_out; in a parallel node both share n_out and take the max.
 * With one micro-batch size (the default) the DP runs once per power of two
 * b dividing the batch and the value is b times the pipeline depth, so the
 * DP finds the shallowest stage graph meeting t_max.
 */
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"
#include "planner/sp.h"

typedef struct fnode {
  gpp_sp_kind kind;
  uint32_t op;       /* leaves */
  uint32_t first, n; /* children: kids[first .. first + n) */
  uint32_t L, H;     /* leaf positions covered */
  uint32_t sfx;      /* id of suffix 0; suffix i is sfx + i */
} fnode;

typedef struct gp {
  gpp__pctx *c;
  fnode *nodes;
  uint32_t n_nodes, *kids, n_kids, root, *leaf, n_leaves, n_sfx;
  double *pre_stat, *pre_saved, *pre_param, **pre_time;
  gpp__hmap bytes, memo;
  uint32_t *member, member_tag, *seen, seen_tag;
  const uint32_t *bs; /* micro-batch sizes a stage may use */
  uint32_t nb;
  double tmax;
  bool limited;       /* max_stages set */
  int rc;             /* first error inside the recursion */
} gp;

enum { CH_STAGE = 1, CH_RECURSE = 2 };

/* ---- flattening the binary SP tree ---- */

static void gather(const gpp_sp_tree *t, int32_t i, gpp_sp_kind kind,
                   int32_t *list, uint32_t *n) {
  const gpp_sp_node *nd = &t->nodes[i];
  if (nd->kind != kind) {
    list[(*n)++] = i;
    return;
  }
  gather(t, nd->left, kind, list, n);
  gather(t, nd->right, kind, list, n);
}

static uint32_t new_fnode(gp *g, gpp_sp_kind kind) {
  fnode *f = &g->nodes[g->n_nodes];
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->L = g->n_leaves;
  return g->n_nodes++;
}

static int flatten(gp *g, const gpp_sp_tree *t, int32_t i, uint32_t *out);

static int flatten_kids(gp *g, const gpp_sp_tree *t, const int32_t *list,
                        uint32_t n, uint32_t X) {
  uint32_t *ids = gpp_calloc(g->c->err, n, sizeof *ids);
  if (ids == NULL) return g->c->err->code;
  int rc = 0;
  for (uint32_t j = 0; j < n && rc == 0; j++) rc = flatten(g, t, list[j], &ids[j]);
  if (rc == 0) {
    g->nodes[X].first = g->n_kids;
    g->nodes[X].n = n;
    memcpy(g->kids + g->n_kids, ids, n * sizeof *ids);
    g->n_kids += n;
    g->nodes[X].sfx = g->n_sfx;
    g->n_sfx += n + 1;
  }
  free(ids);
  return rc;
}

static int flatten(gp *g, const gpp_sp_tree *t, int32_t i, uint32_t *out) {
  const gpp_sp_node *nd = &t->nodes[i];
  uint32_t X = new_fnode(g, nd->kind);
  *out = X;
  if (nd->kind == GPP_SP_LEAF) {
    g->nodes[X].op = nd->op;
    g->leaf[g->n_leaves++] = nd->op;
    g->nodes[X].H = g->n_leaves;
    return 0;
  }
  int32_t *list = gpp_calloc(g->c->err, t->n_nodes, sizeof *list);
  if (list == NULL) return g->c->err->code;
  uint32_t n = 0;
  gather(t, nd->left, nd->kind, list, &n);
  gather(t, nd->right, nd->kind, list, &n);
  int rc = flatten_kids(g, t, list, n, X);
  g->nodes[X].H = g->n_leaves;
  free(list);
  return rc;
}

/* The root is always an inner node: a one-op model becomes series(op). */
static int flatten_root(gp *g, const gpp_sp_tree *t) {
  if (t->nodes[t->root].kind != GPP_SP_LEAF)
    return flatten(g, t, t->root, &g->root);
  g->root = new_fnode(g, GPP_SP_SERIES);
  int32_t list[1] = {t->root};
  GPP_TRY(flatten_kids(g, t, list, 1, g->root));
  g->nodes[g->root].H = g->n_leaves;
  return 0;
}

/* ---- prefix sums and stage sums over leaf ranges ---- */

static int prefixes(gp *g) {
  gpp__pctx *c = g->c;
  g->pre_stat = gpp_calloc(c->err, c->n + 1, sizeof *g->pre_stat);
  g->pre_saved = gpp_calloc(c->err, c->n + 1, sizeof *g->pre_saved);
  g->pre_param = gpp_calloc(c->err, c->n + 1, sizeof *g->pre_param);
  g->pre_time = gpp_calloc(c->err, (size_t)c->B + 1, sizeof *g->pre_time);
  if (!(g->pre_stat && g->pre_saved && g->pre_param && g->pre_time))
    return c->err->code;
  for (uint32_t q = 0; q < c->n; q++) {
    uint32_t v = g->leaf[q];
    g->pre_stat[q + 1] = g->pre_stat[q] + c->stat[v];
    g->pre_saved[q + 1] = g->pre_saved[q] + c->saved[v];
    g->pre_param[q + 1] = g->pre_param[q] + c->param[v];
  }
  return 0;
}

static const double *pre_time(gp *g, uint32_t r) {
  if (g->pre_time[r]) return g->pre_time[r];
  const double *t = gpp__times(g->c, r);
  double *p = t ? gpp_calloc(g->c->err, g->c->n + 1, sizeof *p) : NULL;
  if (p == NULL) return NULL;
  for (uint32_t q = 0; q < g->c->n; q++) p[q + 1] = p[q] + t[g->leaf[q]];
  return g->pre_time[r] = p;
}

static int range_bytes(gp *g, uint32_t L, uint32_t H, double *in,
                       double *out) {
  uint64_t key = (uint64_t)L << 32 | H;
  uint64_t *v = gpp__hmap_get(&g->bytes, key);
  if (v == NULL) {
    uint32_t tag = ++g->member_tag;
    for (uint32_t q = L; q < H; q++) g->member[g->leaf[q]] = tag;
    gpp__boundary(g->c, g->leaf + L, H - L, g->member, tag, in, out,
                  g->seen, &g->seen_tag);
    v = gpp__hmap_put(&g->bytes, key, g->c->err);
    if (v == NULL) return g->c->err->code;
    memcpy(&v[0], in, sizeof *in);
    memcpy(&v[1], out, sizeof *out);
    return 0;
  }
  memcpy(in, &v[0], sizeof *in);
  memcpy(out, &v[1], sizeof *out);
  return 0;
}

static int range_sums(gp *g, uint32_t L, uint32_t H, uint32_t r,
                      gpp__stage_sums *s) {
  const double *t = pre_time(g, r);
  if (t == NULL) return g->c->err->code;
  s->time = t[H] - t[L];
  s->stat = g->pre_stat[H] - g->pre_stat[L];
  s->saved = g->pre_saved[H] - g->pre_saved[L];
  s->param = g->pre_param[H] - g->pre_param[L];
  return range_bytes(g, L, H, &s->in_bytes, &s->out_bytes);
}

/* ---- the DP ---- */

typedef struct best {
  uint32_t val;
  uint64_t choice;
} best;

static uint64_t pack(uint32_t kind, uint32_t p, uint32_t dev, uint32_t s1,
                     uint32_t lb) {
  return (uint64_t)kind << 60 | (uint64_t)p << 32 | (uint64_t)dev << 16 |
         (uint64_t)s1 << 8 | lb;
}

static uint64_t memo_key(const gp *g, uint32_t X, uint32_t i, uint32_t d,
                         uint32_t s, uint32_t nout) {
  return (uint64_t)(g->nodes[X].sfx + i) << 40 | (uint64_t)d << 28 |
         (uint64_t)s << 20 | nout;
}

static uint32_t solve(gp *g, uint32_t X, uint32_t i, uint32_t d, uint32_t s,
                      uint32_t nout);

/* The value of the rest [p, K) of X: downstream of a series segment, or a
 * sibling group of a parallel one. */
static uint32_t rest_of(gp *g, uint32_t X, uint32_t p, uint32_t d,
                        uint32_t s, uint32_t nout) {
  const fnode *x = &g->nodes[X];
  if (p == x->n) return x->kind == GPP_SP_SERIES ? nout : 0;
  return solve(g, X, p, d, s, nout);
}

static uint32_t combine(const fnode *x, uint32_t seg, uint32_t rest) {
  if (x->kind == GPP_SP_SERIES) return seg;
  return seg > rest ? seg : rest;
}

static uint32_t seg_lo(const gp *g, const fnode *x, uint32_t i) {
  return g->nodes[g->kids[x->first + i]].L;
}

static uint32_t seg_hi(const gp *g, const fnode *x, uint32_t p) {
  return g->nodes[g->kids[x->first + p - 1]].H;
}

/* One stage [i, p) with k replicas at micro-batch bs[j]; false when the
 * compute alone already exceeds t_max. */
static bool try_stage(gp *g, uint32_t X, uint32_t i, uint32_t p, uint32_t d,
                      uint32_t s, uint32_t nout, uint32_t j, uint32_t k,
                      best *bst) {
  const fnode *x = &g->nodes[X];
  uint32_t b = g->bs[j];
  gpp__stage_sums sums;
  if (range_sums(g, seg_lo(g, x, i), seg_hi(g, x, p), gpp__ceil_div(b, k),
                 &sums) != 0) {
    g->rc = g->c->err->code;
    return false;
  }
  if (sums.time / b > g->tmax) return false;
  if (gpp__stage_tps(g->c, &sums, b, k) > g->tmax) return true;
  uint32_t s_rest = g->limited ? s - 1 : 0;
  uint32_t rest = rest_of(g, X, p, d - k, s_rest, nout);
  if (rest == GPP__INF_U32) return true;
  uint32_t down = x->kind == GPP_SP_SERIES ? rest : nout;
  uint32_t val = combine(x, b + down, rest);
  if (val < bst->val && gpp__stage_fits(g->c, &sums, b, k, b + down)) {
    bst->val = val;
    bst->choice = pack(CH_STAGE, p, k, 0, gpp__log2(b));
  }
  return true;
}

static void try_stages(gp *g, uint32_t X, uint32_t i, uint32_t d, uint32_t s,
                       uint32_t nout, best *bst) {
  const fnode *x = &g->nodes[X];
  for (uint32_t p = i + 1; p <= x->n && g->rc == 0; p++) {
    bool any = false;
    for (uint32_t j = 0; j < g->nb; j++)
      for (uint32_t k = 1; k <= d && k <= g->bs[j] && k <= g->c->max_k;
           k *= 2)
        any |= try_stage(g, X, i, p, d, s, nout, j, k, bst);
    if (!any) break;
  }
}

static void try_child(gp *g, uint32_t X, uint32_t i, uint32_t d, uint32_t s,
                      uint32_t nout, uint32_t d1, uint32_t s1, best *bst) {
  const fnode *x = &g->nodes[X];
  uint32_t child = g->kids[x->first + i];
  uint32_t rest, seg;
  if (x->kind == GPP_SP_SERIES) {
    rest = rest_of(g, X, i + 1, d - d1, s - s1, nout);
    if (rest == GPP__INF_U32) return;
    seg = solve(g, child, 0, d1, s1, rest);
  } else {
    seg = solve(g, child, 0, d1, s1, nout);
    if (seg == GPP__INF_U32) return;
    rest = rest_of(g, X, i + 1, d - d1, s - s1, nout);
  }
  if (seg == GPP__INF_U32 || rest == GPP__INF_U32) return;
  uint32_t val = combine(x, seg, rest);
  if (val < bst->val) {
    bst->val = val;
    bst->choice = pack(CH_RECURSE, 0, d1, s1, 0);
  }
}

static void try_children(gp *g, uint32_t X, uint32_t i, uint32_t d,
                         uint32_t s, uint32_t nout, best *bst) {
  const fnode *x = &g->nodes[X];
  if (g->nodes[g->kids[x->first + i]].kind == GPP_SP_LEAF) return;
  bool last = i + 1 == x->n;
  for (uint32_t d1 = last ? d : 1; d1 <= d - !last && g->rc == 0; d1++) {
    if (!g->limited) {
      try_child(g, X, i, d, s, nout, d1, 0, bst);
      continue;
    }
    for (uint32_t s1 = last ? s : 1; s1 <= s - !last; s1++)
      try_child(g, X, i, d, s, nout, d1, s1, bst);
  }
}

static uint32_t solve(gp *g, uint32_t X, uint32_t i, uint32_t d, uint32_t s,
                      uint32_t nout) {
  if (d == 0 || (g->limited && s == 0) || nout >= (1u << 20) || g->rc)
    return GPP__INF_U32;
  uint64_t key = memo_key(g, X, i, d, s, nout);
  uint64_t *v = gpp__hmap_get(&g->memo, key);
  if (v) return (uint32_t)v[0];
  best bst = {GPP__INF_U32, 0};
  try_stages(g, X, i, d, s, nout, &bst);
  try_children(g, X, i, d, s, nout, &bst);
  g->c->states++;
  v = gpp__hmap_put(&g->memo, key, g->c->err);
  if (v == NULL) {
    g->rc = g->c->err->code;
    return GPP__INF_U32;
  }
  v[0] = bst.val;
  v[1] = bst.choice;
  return bst.val;
}

/* ---- reading the solution back ---- */

typedef struct specs {
  gpp__stage_spec *a;
  uint32_t n, cap;
} specs;

static int push_stage(gp *g, specs *sp, uint32_t L, uint32_t H, uint32_t k,
                      uint32_t b) {
  if (sp->n == sp->cap) {
    uint32_t cap = sp->cap ? 2 * sp->cap : 8;
    gpp__stage_spec *a = gpp_realloc_array(g->c->err, sp->a, cap, sizeof *a);
    if (a == NULL) return g->c->err->code;
    sp->a = a;
    sp->cap = cap;
  }
  gpp__stage_spec *st = &sp->a[sp->n];
  st->ops = gpp_calloc(g->c->err, H - L, sizeof *st->ops);
  if (st->ops == NULL) return g->c->err->code;
  memcpy(st->ops, g->leaf + L, (H - L) * sizeof *st->ops);
  st->n_ops = H - L;
  st->k = k;
  st->b = b;
  sp->n++;
  return 0;
}

static int extract(gp *g, uint32_t X, uint32_t i, uint32_t d, uint32_t s,
                   uint32_t nout, specs *sp);

static int extract_child(gp *g, uint32_t X, uint32_t i, uint32_t d,
                         uint32_t s, uint32_t nout, uint64_t ch, specs *sp) {
  const fnode *x = &g->nodes[X];
  uint32_t d1 = (ch >> 16) & 0xffff, s1 = (ch >> 8) & 0xff;
  uint32_t down = nout;
  if (x->kind == GPP_SP_SERIES)
    down = rest_of(g, X, i + 1, d - d1, s - s1, nout);
  GPP_TRY(extract(g, g->kids[x->first + i], 0, d1, s1, down, sp));
  return extract(g, X, i + 1, d - d1, s - s1, nout, sp);
}

static int extract(gp *g, uint32_t X, uint32_t i, uint32_t d, uint32_t s,
                   uint32_t nout, specs *sp) {
  const fnode *x = &g->nodes[X];
  if (i == x->n) return 0;
  uint64_t *v = gpp__hmap_get(&g->memo, memo_key(g, X, i, d, s, nout));
  if (v == NULL || (uint32_t)v[0] == GPP__INF_U32)
    GPP_RAISE(g->c->err, GPP_EINTERNAL, "GraphPipe DP state lost");
  uint64_t ch = v[1];
  if (ch >> 60 == CH_RECURSE)
    return extract_child(g, X, i, d, s, nout, ch, sp);
  uint32_t p = (ch >> 32) & 0xffffff, k = (ch >> 16) & 0xffff;
  uint32_t b = 1u << (ch & 0x1f);
  GPP_TRY(push_stage(g, sp, seg_lo(g, x, i), seg_hi(g, x, p), k, b));
  return extract(g, X, p, d - k, g->limited ? s - 1 : 0, nout, sp);
}

/* ---- binary search on t_max ---- */

static uint32_t top_stages(const gp *g) {
  return g->limited ? g->c->opt->max_stages : 0;
}

/* Runs the DP at g->tmax; *ok tells whether a plan exists, *cand gets it. */
static int probe(gp *g, bool *ok, gpp_planner_candidate *cand) {
  gpp__hmap_clear(&g->memo);
  uint32_t v = solve(g, g->root, 0, g->c->G, top_stages(g), 0);
  if (g->rc) return g->rc;
  *ok = v != GPP__INF_U32;
  if (!*ok) return 0;
  specs sp = {0};
  int rc = extract(g, g->root, 0, g->c->G, top_stages(g), 0, &sp);
  gpp_planner_candidate next;
  if (rc == 0) rc = gpp__candidate_build(g->c, sp.a, sp.n, true, &next);
  for (uint32_t q = 0; rc != 0 && q < sp.n; q++) free(sp.a[q].ops);
  free(sp.a);
  if (rc != 0) return rc;
  gpp__candidate_free(cand);
  *cand = next;
  return 0;
}

/* No stage can beat its costliest op at its best size and replication. */
static double lower_bound(gp *g) {
  double lo = 0;
  for (uint32_t v = 0; v < g->c->n; v++) {
    double op_best = INFINITY;
    for (uint32_t j = 0; j < g->nb; j++)
      for (uint32_t k = 1; k <= g->c->G && k <= g->bs[j] &&
                           k <= g->c->max_k; k *= 2) {
        const double *t = gpp__times(g->c, gpp__ceil_div(g->bs[j], k));
        if (t && t[v] / g->bs[j] < op_best) op_best = t[v] / g->bs[j];
      }
    if (op_best > lo && op_best < INFINITY) lo = op_best;
  }
  return lo;
}

static int bsearch_tps(gp *g, gpp_planner_candidate *cand, bool *found,
                       double f0, double span) {
  g->tmax = INFINITY;
  GPP_TRY(probe(g, found, cand));
  if (!*found) return 0;
  double lo = lower_bound(g), hi = cand->tps, tol = g->c->opt->tps_tolerance;
  for (int it = 0; hi - lo > tol * hi; it++) {
    g->tmax = 0.5 * (lo + hi);
    bool ok;
    GPP_TRY(probe(g, &ok, cand));
    if (ok) hi = cand->tps < g->tmax ? cand->tps : g->tmax;
    else lo = g->tmax;
    gpp__progress(g->c, "graphpipe", f0 + span * (1 - 1.0 / (it + 2)));
  }
  return 0;
}

/* ---- set-up and the planner entry ---- */

static int gp_init(gp *g, gpp__pctx *c, const gpp_sp_tree *t) {
  memset(g, 0, sizeof *g);
  g->c = c;
  g->limited = c->opt->max_stages > 0;
  size_t nn = (size_t)t->n_nodes + 2;
  g->nodes = gpp_calloc(c->err, nn, sizeof *g->nodes);
  g->kids = gpp_calloc(c->err, nn, sizeof *g->kids);
  g->leaf = gpp_calloc(c->err, c->n, sizeof *g->leaf);
  g->member = gpp_calloc(c->err, c->n, sizeof *g->member);
  g->seen = gpp_calloc(c->err, c->n, sizeof *g->seen);
  if (!(g->nodes && g->kids && g->leaf && g->member && g->seen))
    return c->err->code;
  GPP_TRY(flatten_root(g, t));
  if (g->n_sfx >= (1u << 24))
    GPP_RAISE(c->err, GPP_ERANGE, "model too large for the GraphPipe DP");
  GPP_TRY(prefixes(g));
  GPP_TRY(gpp__hmap_init(&g->bytes, 1024, c->err));
  return gpp__hmap_init(&g->memo, 4096, c->err);
}

static void gp_free(gp *g) {
  if (g->pre_time)
    for (uint32_t r = 0; r <= g->c->B; r++) free(g->pre_time[r]);
  free(g->pre_time);
  free(g->pre_stat);
  free(g->pre_saved);
  free(g->pre_param);
  free(g->nodes);
  free(g->kids);
  free(g->leaf);
  free(g->member);
  free(g->seen);
  gpp__hmap_free(&g->bytes);
  gpp__hmap_free(&g->memo);
}

static int search_sizes(gp *g, gpp_planner_result *out) {
  uint32_t bs[32], nb = gpp__micro_batches(g->c, bs);
  bool per_stage = g->c->opt->per_stage_micro_batch;
  uint32_t runs = per_stage ? 1 : nb;
  for (uint32_t q = 0; q < runs; q++) {
    g->bs = per_stage ? bs : &bs[q];
    g->nb = per_stage ? nb : 1;
    gpp_planner_candidate cand = {0};
    bool found = false;
    int rc = bsearch_tps(g, &cand, &found, (double)q / runs, 1.0 / runs);
    if (rc == 0 && found) rc = gpp__result_add(out, &cand, g->c->err);
    gpp__candidate_free(&cand);
    GPP_TRY(rc);
  }
  return 0;
}

static int graphpipe_run(const gpp_planner_input *in,
                         const gpp_planner_options *opt,
                         gpp_planner_result *out, gpp_errctx *err) {
  gpp__pctx c;
  GPP_TRY(gpp__pctx_init(&c, in, opt, err));
  gpp_sp_tree *t = NULL;
  gp g;
  int rc = gpp_sp_decompose_model(in->model, &t, err);
  if (rc == 0) {
    out->sp_added_pairs = (uint32_t)t->added_pairs;
    rc = gp_init(&g, &c, t);
    if (rc == 0) rc = search_sizes(&g, out);
    gp_free(&g);
  }
  out->states = c.states;
  gpp_sp_tree_destroy(t);
  gpp__pctx_free(&c);
  return rc;
}

const gpp_planner_type gpp_planner_graphpipe = {
    "graphpipe",
    "graph pipeline stages: SP decomposition, TPS binary search, memoised DP",
    graphpipe_run};
