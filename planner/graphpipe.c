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
 *
 * Exact pruning (off with opt->exhaustive): every sub-problem has a cheap
 * lower bound (below, "lower bounds"); a choice whose bound cannot beat
 * the best value found so far is skipped without solving its parts, and a
 * sub-problem whose bound says "no plan" is not solved at all.  Stages are
 * tried from the longest that fits t_max down, so a good value comes
 * first and the bound cuts the shorter ones.  A sub-problem never does
 * worse with more devices, so when a split leaves the rest alone unable to
 * beat the best, splits giving the rest fewer devices are skipped too.
 * Only choices that could not have replaced the best are skipped, so the
 * plan is the unpruned one.
 *
 * The memo also lives across the probes of one binary search (off with
 * opt->exhaustive too).  Lowering t_max never lowers a value, so an entry
 * solved at t_old stays exact at t <= t_old when it had no plan, or when
 * its plan's costliest stage t* <= t: that plan still fits at t, with the
 * same value, and every choice tried before it was worse at t_old so is
 * still worse; the choice is the one a fresh probe makes.
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

/* A tail: leaf positions [L, H) (the children of a series node right after
 * a parallel one: a concat, a loss, ...) that a sub-problem must place in
 * one of its sink stages, which then runs micro-batch b; L == H: none. */
typedef struct tail {
  uint32_t L, H, b;
} tail;

typedef struct gp {
  gpp__pctx *c;
  fnode *nodes;
  uint32_t n_nodes, *kids, n_kids, root, *leaf, n_leaves, n_sfx;
  double *pre_stat, *pre_saved, *pre_param, **pre_time;
  gpp__mpre mp;       /* with stage modes: their prefix sums */
  double *pre_tps;    /* by leaf position: prefix sums of e (below) */
  double *pre_work;   /* by leaf position: prefix sums of w (below) */
  double *pw;         /* scratch: prefix sums of a node's child weights */
  uint32_t *dl;       /* per suffix id: stages on a path, lower bound */
  uint32_t bmin;      /* smallest micro-batch size in bs */
  bool prune;
  gpp__hmap bytes, memo;
  uint32_t *member, member_tag, *seen, seen_tag, *ops;
  const uint32_t *bs; /* micro-batch sizes a stage may use */
  uint32_t nb;
  double tmax;
  bool limited;       /* max_stages set */
  int rc;             /* first error inside the recursion */
  /* Chains (below, "chain suffixes"): per node the first child of its
   * all-leaf suffix, the tables of the current probe by (node, nout), and
   * the t* of chain sub-problems asked for in this probe. */
  bool chains;
  uint32_t *leaf_from;
  struct ctab *ctabs;
  uint32_t n_ctabs, cap_ctabs, last_X, last_nout, last_tab;
  tail last_T;
  gpp__hmap ctab_idx, ctstar;
  double **cbytes; /* per node: boundary bytes of its chain's stages */
} gp;

enum { CH_STAGE = 1, CH_RECURSE = 2 };

static const tail NO_TAIL = {0, 0, 0};

static bool has_tail(tail T) { return T.H > T.L; }

/* A sub-problem: children [i, K) of node X with at most d devices, s
 * stages (when limited), nout samples in flight downstream and tail T. */
typedef struct sub {
  uint32_t X, i, d, s, nout;
  tail T;
} sub;

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
  if (c->modes) GPP_TRY(gpp__mpre_init(c, &g->mp, g->leaf));
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

/* Leaf positions [L, H) plus the tail T: the ops of a stage. */
static uint32_t stage_ops(gp *g, uint32_t L, uint32_t H, tail T,
                          uint32_t tag) {
  uint32_t n = 0;
  for (uint32_t q = L; q < H; q++) g->ops[n++] = g->leaf[q];
  for (uint32_t q = T.L; q < T.H; q++) g->ops[n++] = g->leaf[q];
  for (uint32_t q = 0; q < n; q++) g->member[g->ops[q]] = tag;
  return n;
}

/* Bytes per sample into and out of the set leaves [L, H) plus T, read or
 * fed by all its ops, or by T's alone when tail_only (cached). */
static int range_bytes(gp *g, uint32_t L, uint32_t H, tail T, bool tail_only,
                       double *in, double *out) {
  uint64_t k0 = (uint64_t)tail_only << 63 | (uint64_t)L << 32 | H;
  uint64_t k1 = (uint64_t)T.L << 32 | T.H;
  uint64_t *v = gpp__hmap_get2(&g->bytes, k0, k1);
  if (v == NULL) {
    uint32_t tag = ++g->member_tag;
    uint32_t n = stage_ops(g, L, H, T, tag), skip = tail_only ? H - L : 0;
    gpp__boundary(g->c, g->ops + skip, n - skip, g->member, tag, in, out,
                  g->seen, &g->seen_tag);
    v = gpp__hmap_put2(&g->bytes, k0, k1, g->c->err);
    if (v == NULL) return g->c->err->code;
    memcpy(&v[0], in, sizeof *in);
    memcpy(&v[1], out, sizeof *out);
    return 0;
  }
  memcpy(in, &v[0], sizeof *in);
  memcpy(out, &v[1], sizeof *out);
  return 0;
}

static void add_range(const gp *g, const double *t, uint32_t L, uint32_t H,
                      gpp__stage_sums *s) {
  s->time += t[H] - t[L];
  s->stat += g->pre_stat[H] - g->pre_stat[L];
  s->saved += g->pre_saved[H] - g->pre_saved[L];
  s->param += g->pre_param[H] - g->pre_param[L];
}

static const double *pre_time_cb(void *g, uint32_t r) {
  return pre_time(g, r);
}

static int range_work(gp *g, uint32_t L, uint32_t H, tail T, uint32_t r,
                      gpp__stage_sums *s) {
  const double *t = pre_time(g, r);
  if (t == NULL) return g->c->err->code;
  s->time = s->stat = s->saved = s->param = 0;
  s->modes = false;
  add_range(g, t, L, H, s);
  add_range(g, t, T.L, T.H, s);
  return g->c->modes ? gpp__mpre_range(g->c, &g->mp, pre_time_cb, g, L, H,
                                       T.L, T.H, r, s)
                     : 0;
}

static int range_sums(gp *g, uint32_t L, uint32_t H, tail T, uint32_t r,
                      gpp__stage_sums *s) {
  GPP_TRY(range_work(g, L, H, T, r, s));
  return range_bytes(g, L, H, T, false, &s->in_bytes, &s->out_bytes);
}

/* ---- lower bounds ----
 * An op v adds at least e(v) = min over sizes b and replicas k of
 * t_v(ceil(b / k)) / b to the TPS of any stage holding it, so a stage
 * within t_max holds ops of total e at most t_max.  The leaf children of a
 * series node lie on one path of the stage graph, so the stages holding
 * them are at least the greedy cover of their e's in bins of t_max (the
 * greedy cover of a sequence is the least), and a node is at least as deep
 * as each child.  A sub-problem's value is then at least
 * nout + bmin * depth; a depth above its devices or stages means no plan.
 * A stage on k replicas also has k * TPS >= the sum over its ops of
 * w(v) = min k' * t_v(ceil(b / k')) / b, so d devices cannot hold ops of
 * total w above d * t_max.  A tail goes into one stage: its e's must fit
 * t_max and its w's count against the devices; and that stage, on some k
 * <= d replicas, computes at least the tail, all-reduces at least the
 * tail's weights, receives at least what the tail reads from outside the
 * sub-problem and sends at least what it feeds outside, which must fit
 * t_max for one k. */

#define DL_INF UINT32_MAX

/* Whether a stage's TPS in its best mode that fits (INFINITY: none)
 * meets t_max (which may be INFINITY). */
static bool within(const gp *g, double tps) {
  return tps < INFINITY && tps <= g->tmax;
}

/* The largest tensor degree a stage on k devices may take (stage modes:
 * a power of two dividing k, within a node, at most 8). */
static uint32_t max_tensor(const gp *g, uint32_t k) {
  uint32_t n = g->c->in->comm.gpus_per_node, t = 1;
  if (!g->c->modes) return 1;
  while (t < 8 && k % (2 * t) == 0 && 2 * t <= n && n % (2 * t) == 0) t *= 2;
  return t;
}

/* The least TPS op v adds to a stage, and the least work per sample times
 * replicas, over the sizes and replica counts allowed. */
static int op_floor(gp *g, uint32_t v, double *tps, double *work) {
  *tps = *work = INFINITY;
  for (uint32_t j = 0; j < g->nb; j++)
    for (uint32_t k = 1; k <= g->c->G && k <= g->bs[j] && k <= g->c->max_k;
         k *= 2) {
      const double *t = gpp__times(g->c, gpp__ceil_div(g->bs[j], k));
      if (t == NULL) return g->c->err->code;
      if (t[v] / g->bs[j] < *tps) *tps = t[v] / g->bs[j];
      if (k * t[v] / g->bs[j] < *work) *work = k * t[v] / g->bs[j];
      /* A tensor degree tp splits r * tp samples tp ways (stage modes); the
       * work bound k * t_v / b is then one of k / tp replicas'. */
      for (uint32_t tp = 2; tp <= max_tensor(g, k); tp *= 2) {
        uint32_t rt = gpp__ceil_div(g->bs[j], k / tp);
        const double *tt = rt <= g->c->B ? gpp__times(g->c, rt) : NULL;
        if (tt && tt[v] / tp / g->bs[j] < *tps) *tps = tt[v] / tp / g->bs[j];
      }
    }
  return 0;
}

static int leaf_weights(gp *g) {
  double tps, work;
  g->bmin = g->bs[0];
  for (uint32_t j = 1; j < g->nb; j++)
    if (g->bs[j] < g->bmin) g->bmin = g->bs[j];
  for (uint32_t q = 0; q < g->c->n; q++) {
    GPP_TRY(op_floor(g, g->leaf[q], &tps, &work));
    g->pre_tps[q + 1] = g->pre_tps[q] + tps;
    g->pre_work[q + 1] = g->pre_work[q] + work;
  }
  return 0;
}

/* e of the op at leaf position q. */
static double leaf_tps(const gp *g, uint32_t q) {
  return g->pre_tps[q + 1] - g->pre_tps[q];
}

static uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

static uint32_t kid_depth(const gp *g, uint32_t c, double cap) {
  const fnode *f = &g->nodes[c];
  if (f->kind != GPP_SP_LEAF) return g->dl[f->sfx];
  return leaf_tps(g, f->L) <= cap ? 1 : DL_INF;
}

/* Greedy cover of the leaf children of each suffix (inner children weigh
 * nothing here but bound the depth by their own). */
static void series_depths(gp *g, const fnode *f, double cap) {
  uint32_t K = f->n, *dl = g->dl + f->sfx, j = K, inner = 0;
  double *P = g->pw;
  P[0] = 0;
  for (uint32_t i = 0; i < K; i++) {
    const fnode *c = &g->nodes[g->kids[f->first + i]];
    P[i + 1] = P[i] + (c->kind == GPP_SP_LEAF ? leaf_tps(g, c->L) : 0);
  }
  dl[K] = 0;
  for (uint32_t i = K; i-- > 0;) {
    uint32_t c = g->kids[f->first + i], own = kid_depth(g, c, cap);
    if (own == DL_INF || dl[i + 1] == DL_INF) {
      dl[i] = DL_INF;
      continue;
    }
    if (g->nodes[c].kind != GPP_SP_LEAF) inner = max_u32(inner, own);
    while (P[j] - P[i] > cap) j--;
    uint32_t cover = dl[j] == DL_INF ? DL_INF : 1 + dl[j];
    dl[i] = max_u32(cover, inner);
  }
}

static void parallel_depths(gp *g, const fnode *f, double cap) {
  uint32_t *dl = g->dl + f->sfx;
  dl[f->n] = 0;
  for (uint32_t i = f->n; i-- > 0;)
    dl[i] = max_u32(dl[i + 1], kid_depth(g, g->kids[f->first + i], cap));
}

/* The depth bounds at t_max; children have higher ids than parents. */
static void depth_bounds(gp *g) {
  double cap = g->tmax * (1 + 1e-9);
  for (uint32_t X = g->n_nodes; X-- > 0;) {
    const fnode *f = &g->nodes[X];
    if (f->kind == GPP_SP_SERIES) series_depths(g, f, cap);
    else if (f->kind == GPP_SP_PARALLEL) parallel_depths(g, f, cap);
  }
}

/* Bound on the value of children [i, K) of X with d devices, s stages,
 * nout downstream and tail T; GPP__INF_U32 or more: no plan. */
static uint64_t sub_bound(const gp *g, uint32_t X, uint32_t i, uint32_t d,
                          uint32_t s, uint32_t nout, tail T) {
  if (!g->prune) return 0;
  const fnode *f = &g->nodes[X];
  uint32_t dl = g->dl[f->sfx + i];
  if (dl == DL_INF || dl > d || (g->limited && dl > s)) return GPP__INF_U32;
  uint32_t L = i < f->n ? g->nodes[g->kids[f->first + i]].L : f->H;
  double cap = g->tmax * (1 + 1e-9);
  double work = g->pre_work[f->H] - g->pre_work[L] +
                (g->pre_work[T.H] - g->pre_work[T.L]);
  if (work > d * cap || g->pre_tps[T.H] - g->pre_tps[T.L] > cap)
    return GPP__INF_U32;
  return nout + (uint64_t)g->bmin * dl;
}

/* Whether the stage holding u's tail can meet t_max for some k; false on
 * error too (g->rc set). */
static bool tail_stage_fits(gp *g, const sub *u) {
  const fnode *f = &g->nodes[u->X];
  uint32_t L = g->nodes[g->kids[f->first + u->i]].L, b = u->T.b;
  gpp__stage_sums s;
  if (range_bytes(g, L, f->H, u->T, true, &s.in_bytes, &s.out_bytes) != 0) {
    g->rc = g->c->err->code;
    return false;
  }
  for (uint32_t k = 1; k <= u->d && k <= b && k <= g->c->max_k; k *= 2) {
    if (range_work(g, 0, 0, u->T, gpp__ceil_div(b, k), &s) != 0) {
      g->rc = g->c->err->code;
      return false;
    }
    if (gpp__stage_tps(g->c, &s, b, k) <= g->tmax * (1 + 1e-9)) return true;
  }
  return false;
}

/* ---- the DP ---- */

typedef struct best {
  uint32_t val;
  uint64_t choice;
  double tstar; /* the costliest stage TPS of the plan */
} best;

/* A choice: kind (2 bits), whether the segment takes the tail (1), the
 * stage end p or the absorbed end q (20), replicas k or devices d1 (20),
 * stages s1 (8), log2 of the stage's or new tail's micro-batch (5). */
static uint64_t pack(uint32_t kind, bool take, uint32_t pq, uint32_t dev,
                     uint32_t s1, uint32_t lb) {
  return (uint64_t)kind << 62 | (uint64_t)take << 61 | (uint64_t)pq << 41 |
         (uint64_t)dev << 21 | (uint64_t)s1 << 8 | lb;
}

typedef struct choice {
  uint32_t kind, pq, dev, s1, lb;
  bool take;
} choice;

static choice unpack(uint64_t c) {
  return (choice){.kind = (uint32_t)(c >> 62), .take = (c >> 61) & 1u,
                  .pq = (uint32_t)(c >> 41) & 0xfffff,
                  .dev = (uint32_t)(c >> 21) & 0xfffff,
                  .s1 = (uint32_t)(c >> 8) & 0xff, .lb = (uint32_t)c & 0x1f};
}

/* Memo keys: suffix id (24 bits), devices (20), nout (20); and the tail's
 * leaf range (20 + 20), stages (8) and the tail's log2 size + 1 (6). */
static uint64_t key0(const gp *g, const sub *u) {
  return (uint64_t)(g->nodes[u->X].sfx + u->i) << 40 | (uint64_t)u->d << 20 |
         u->nout;
}

static uint64_t key1(const sub *u) {
  uint64_t s = (uint64_t)u->s << 8;
  if (!has_tail(u->T)) return s;
  return (uint64_t)u->T.L << 44 | (uint64_t)u->T.H << 24 | s |
         (gpp__log2(u->T.b) + 1);
}

static uint32_t solve(gp *g, sub u);

/* Memo entries: value, choice, t* and the t_max they were solved at. */
static double word_dbl(uint64_t w) {
  double x;
  memcpy(&x, &w, sizeof x);
  return x;
}

static uint64_t dbl_word(double x) {
  uint64_t w;
  memcpy(&w, &x, sizeof w);
  return w;
}

static bool entry_valid(const uint64_t *v, double tmax) {
  if (tmax > word_dbl(v[3])) return false;
  return (uint32_t)v[0] == GPP__INF_U32 || word_dbl(v[2]) <= tmax;
}

static bool is_chain(const gp *g, const sub *u);
static uint32_t chain_value(gp *g, const sub *u);
static double chain_tstar(gp *g, const sub *u);

/* t* of a sub-problem just solved (0 for an empty rest). */
static double tstar_of(gp *g, const sub *u) {
  if (u->i == g->nodes[u->X].n) return 0;
  if (is_chain(g, u)) return chain_tstar(g, u);
  const uint64_t *v = gpp__hmap_get2(&g->memo, key0(g, u), key1(u));
  return v ? word_dbl(v[2]) : INFINITY;
}

static double max_dbl(double a, double b) { return a > b ? a : b; }

static bool is_series(const gp *g, const sub *u) {
  return g->nodes[u->X].kind == GPP_SP_SERIES;
}

static uint32_t n_kids(const gp *g, const sub *u) {
  return g->nodes[u->X].n;
}

/* The value of children [p, K) of u's node with n devices, s stages, the
 * given nout and tail: downstream of a series segment, or the sibling
 * group of a parallel one.  Nothing left: a series passes nout on, a
 * parallel group adds nothing, and an unplaced tail is infeasible. */
static uint32_t rest_of(gp *g, const sub *u, uint32_t p, uint32_t d,
                        uint32_t s, uint32_t nout, tail T) {
  if (p == n_kids(g, u)) {
    if (has_tail(T)) return GPP__INF_U32;
    return is_series(g, u) ? nout : 0;
  }
  return solve(g, (sub){u->X, p, d, s, nout, T});
}

/* The fewest devices children [i, K) of X (tails aside) can run on: the
 * least d that sub_bound does not rule out; 0 without pruning. */
static uint32_t devices_needed(const gp *g, uint32_t X, uint32_t i) {
  const fnode *f = &g->nodes[X];
  if (!g->prune || i == f->n) return 0;
  uint32_t L = g->nodes[g->kids[f->first + i]].L, dl = g->dl[f->sfx + i];
  double work = g->pre_work[f->H] - g->pre_work[L];
  double cap = g->tmax * (1 + 1e-9), n = ceil(work / cap) - 1;
  if (!(n >= 0)) n = 0;
  if (n > 1e9) return DL_INF;
  while (work > n * cap) n++;
  return max_u32(dl, (uint32_t)n);
}

/* A bound on rest_of (tails aside). */
static uint64_t rest_bound(const gp *g, const sub *u, uint32_t p, uint32_t d,
                           uint32_t s, uint32_t nout) {
  if (p == n_kids(g, u)) return is_series(g, u) ? nout : 0;
  return sub_bound(g, u->X, p, d, s, nout, NO_TAIL);
}

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* A bound on every stage [i, p') with p' <= p on k replicas at micro-batch
 * b: it grows as p' falls, so the first stage it rules out ends the
 * scan. */
static uint64_t stage_bound(const gp *g, const sub *u, uint32_t p,
                            uint32_t b, uint32_t k) {
  uint32_t s_rest = g->limited ? u->s - 1 : 0;
  uint64_t rest = rest_bound(g, u, p, u->d - k, s_rest, u->nout);
  if (is_series(g, u)) return b + rest;
  return max_u64(b + (uint64_t)u->nout, rest);
}

static uint32_t seg_lo(const gp *g, const sub *u, uint32_t i) {
  return g->nodes[g->kids[g->nodes[u->X].first + i]].L;
}

static uint32_t seg_hi(const gp *g, const sub *u, uint32_t p) {
  return g->nodes[g->kids[g->nodes[u->X].first + p - 1]].H;
}

/* What a segment of u sees when it takes u's tail or not: the in-flight
 * samples downstream of its sink stages outside the rest (parallel), and
 * the rest's nout and tail.  In a parallel node the stage that takes the
 * tail (micro-batch T.b) is fed by every other sibling's sink stages. */
static void tail_split(const gp *g, const sub *u, bool take, uint32_t *seg_nout,
                       uint32_t *rest_nout, tail *rest_T) {
  bool tailed = has_tail(u->T);
  *rest_T = take ? NO_TAIL : u->T;
  *rest_nout = u->nout;
  *seg_nout = u->nout;
  if (is_series(g, u) || !tailed) return;
  if (take) *rest_nout = u->nout + u->T.b;
  else *seg_nout = u->nout + u->T.b;
}

/* A stage of children [i, p) (plus u's tail when take) on k replicas at
 * micro-batch b: its value and the rest, or INF.  *rest gets the rest. */
static uint32_t eval_stage(gp *g, const sub *u, uint32_t p, uint32_t b,
                           uint32_t k, bool take, sub *rest, uint32_t *own) {
  uint32_t seg_nout, rest_nout, s_rest = g->limited ? u->s - 1 : 0;
  tail rT;
  tail_split(g, u, take, &seg_nout, &rest_nout, &rT);
  *rest = (sub){u->X, p, u->d - k, s_rest, rest_nout, rT};
  uint32_t rv = rest_of(g, u, p, u->d - k, s_rest, rest_nout, rT);
  if (rv == GPP__INF_U32) return GPP__INF_U32;
  *own = b + (is_series(g, u) ? rv : seg_nout);
  return is_series(g, u) ? *own : max_u32(*own, rv);
}

/* The stage's sums at micro-batch b on k replicas (with u's tail when
 * take); false on error. */
static bool stage_sums(gp *g, const sub *u, uint32_t p, uint32_t b,
                       uint32_t k, bool take, gpp__stage_sums *sums) {
  if (range_sums(g, seg_lo(g, u, u->i), seg_hi(g, u, p),
                 take ? u->T : NO_TAIL, gpp__ceil_div(b, k), sums) != 0) {
    g->rc = g->c->err->code;
    return false;
  }
  return true;
}

/* One stage [i, p) with k replicas at micro-batch bs[j], taking the tail or
 * not; false when the bound rules out this and every shorter stage.  The
 * TPS is checked before the rest is solved. */
static bool try_stage(gp *g, const sub *u, uint32_t p, uint32_t j, uint32_t k,
                      best *bst) {
  uint32_t b = g->bs[j];
  gpp__stage_sums base, with_tail, *sums;
  if (stage_bound(g, u, p, b, k) >= bst->val) return false;
  if (!stage_sums(g, u, p, b, k, false, &base)) return false;
  bool tailed = has_tail(u->T), last = p == n_kids(g, u);
  for (int take = 0; take <= 1; take++) {
    if (take && (!tailed || b != u->T.b)) continue;
    if (is_series(g, u) && tailed && last != (bool)take) continue;
    sums = &base;
    if (take) {
      if (!stage_sums(g, u, p, b, k, true, &with_tail)) return false;
      sums = &with_tail;
    }
    double tps = gpp__stage_tps(g->c, sums, b, k);
    if (tps > g->tmax) continue;
    sub rest;
    uint32_t own, val = eval_stage(g, u, p, b, k, take, &rest, &own);
    if (val >= bst->val) continue;
    tps = gpp__stage_best(g->c, sums, b, k, own, NULL, NULL);
    if (!within(g, tps)) continue; /* no mode holds its stash in t_max */
    bst->val = val;
    bst->choice = pack(CH_STAGE, take, p, k, 0, gpp__log2(b));
    bst->tstar = max_dbl(tps, tstar_of(g, &rest));
  }
  return true;
}

/* The largest p such that the compute of stage [i, p) at micro-batch b
 * on k replicas is within t_max (it grows with p); i when none. */
static uint32_t last_fit_at(gp *g, const sub *u, uint32_t b, uint32_t k,
                            uint32_t tp) {
  const double *t = pre_time(g, gpp__ceil_div(b, k / tp));
  if (t == NULL) {
    g->rc = g->c->err->code;
    return u->i;
  }
  uint32_t L = seg_lo(g, u, u->i), lo = u->i, hi = n_kids(g, u);
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo + 1) / 2;
    if ((t[seg_hi(g, u, mid)] - t[L]) / tp / b > g->tmax) hi = mid - 1;
    else lo = mid;
  }
  return lo;
}

/* ... with stage modes, the largest over the tensor degrees allowed. */
static uint32_t last_fit(gp *g, const sub *u, uint32_t b, uint32_t k) {
  uint32_t p = last_fit_at(g, u, b, k, 1);
  for (uint32_t tp = 2; tp <= max_tensor(g, k); tp *= 2) {
    if (gpp__ceil_div(b, k / tp) > g->c->B) break;
    uint32_t q = last_fit_at(g, u, b, k, tp);
    if (q > p) p = q;
  }
  return p;
}

/* For each size and replica count, stages [i, p) from the longest whose
 * compute fits t_max down to one child. */
static void try_stages(gp *g, const sub *u, best *bst) {
  uint32_t K = n_kids(g, u);
  for (uint32_t j = 0; j < g->nb; j++)
    for (uint32_t k = 1; k <= u->d && k <= g->bs[j] && k <= g->c->max_k;
         k *= 2)
      for (uint32_t p = last_fit(g, u, g->bs[j], k); p > u->i && g->rc == 0;
           p--) {
        if (p < K && k == u->d) continue;
        if (!try_stage(g, u, p, j, k, bst)) break;
      }
}

/* Child i of u decomposed with d1 devices and s1 stages.  In a series
 * node it may absorb the following children [i + 1, q) as a tail with
 * micro-batch tb (q == i + 1: none); in a parallel node it may take u's
 * tail.  Returns the value; *child and *rest get the sub-problems. */
static uint32_t eval_recurse(gp *g, const sub *u, const choice *ch,
                             sub *child, sub *rest, uint32_t *rv_out) {
  uint32_t i = u->i, q = is_series(g, u) ? ch->pq : i + 1;
  uint32_t X = g->kids[g->nodes[u->X].first + i];
  uint32_t d = u->d - ch->dev, s = u->s - ch->s1;
  if (!is_series(g, u)) {
    uint32_t seg_nout, rest_nout;
    tail rT;
    tail_split(g, u, ch->take, &seg_nout, &rest_nout, &rT);
    *rest = (sub){u->X, q, d, s, rest_nout, rT};
    *child = (sub){X, 0, ch->dev, ch->s1, seg_nout,
                   ch->take ? u->T : NO_TAIL};
    uint32_t cv = solve(g, *child);
    if (cv == GPP__INF_U32) return cv;
    uint32_t rv = *rv_out = rest_of(g, u, q, d, s, rest_nout, rT);
    return rv == GPP__INF_U32 ? rv : max_u32(cv, rv);
  }
  tail N = NO_TAIL;
  if (q > i + 1) N = (tail){seg_lo(g, u, i + 1), seg_hi(g, u, q), 1u << ch->lb};
  bool last = q == n_kids(g, u);
  tail rT = u->T;
  if (last && has_tail(u->T)) {
    if (!has_tail(N)) N = u->T;
    else if (N.H != u->T.L || N.b != u->T.b) return GPP__INF_U32;
    else N.H = u->T.H;
    rT = NO_TAIL;
  }
  *rest = (sub){u->X, q, d, s, u->nout, rT};
  uint32_t rv = *rv_out = rest_of(g, u, q, d, s, u->nout, rT);
  if (rv == GPP__INF_U32) return rv;
  *child = (sub){X, 0, ch->dev, ch->s1, rv, N};
  return solve(g, *child);
}

/* Tries one split; returns a bound on the value of every split giving the
 * child more devices (the rest, which gets fewer, only gets worse), or 0
 * when unknown. */
static uint64_t try_recurse(gp *g, const sub *u, choice ch, best *bst) {
  sub child, rest;
  uint32_t rv = 0, v = eval_recurse(g, u, &ch, &child, &rest, &rv);
  if (v < bst->val) {
    bst->val = v;
    bst->choice = pack(CH_RECURSE, ch.take, ch.pq, ch.dev, ch.s1, ch.lb);
    bst->tstar = max_dbl(tstar_of(g, &child), tstar_of(g, &rest));
  }
  if (!g->prune || rv == 0 || rv == GPP__INF_U32 || !is_series(g, u))
    return rv;
  return rv + (uint64_t)g->bmin * g->dl[g->nodes[child.X].sfx];
}

/* A bound on decomposing child i (with q for a series node); the child's
 * own tail is left out. */
static uint64_t recurse_bound(const gp *g, const sub *u, uint32_t q) {
  uint32_t X = g->kids[g->nodes[u->X].first + u->i];
  uint64_t rest = rest_bound(g, u, q, u->d, u->s, u->nout);
  if (rest >= GPP__INF_U32) return rest;
  uint32_t dl = g->prune ? g->dl[g->nodes[X].sfx] : 0;
  if (dl == DL_INF) return GPP__INF_U32;
  uint64_t own = (uint64_t)g->bmin * dl;
  return is_series(g, u) ? rest + own : max_u64(u->nout + own, rest);
}

/* Every device and stage split for child i given q (and the tail size),
 * each side getting at least the devices it needs. */
static uint32_t chain_devices(gp *g, const sub *u, uint32_t v);

/* Series splits of u whose rest (children [q, K)) is a chain: the rest's
 * value is constant over a run of d1 (while its devices stay above one
 * threshold of its table), and within a run the child's value only falls
 * as d1 grows, so a run is evaluated at its end and, when that beats the
 * best, at the first d1 reaching the same value (binary search), which is
 * the d1 that the scan over every d1 keeps.  Returns the d1 after the run
 * starting at a; *stop when no larger d1 can beat the best. */
static uint32_t try_run(gp *g, const sub *u, choice ch, uint32_t a,
                        uint32_t dmax, best *bst, bool *stop) {
  sub rest = {u->X, ch.pq, u->d - a, 0, u->nout, u->T}, child, r2;
  uint32_t rv = chain_value(g, &rest), rv2;
  *stop = true;
  if (rv == GPP__INF_U32) return a;
  uint32_t e = u->d - chain_devices(g, &rest, rv);
  if (e > dmax) e = dmax;
  ch.dev = e;
  uint32_t ve = eval_recurse(g, u, &ch, &child, &r2, &rv2), lo = a, hi = e;
  while (ve < bst->val && lo < hi && g->rc == 0) {
    ch.dev = lo + (hi - lo) / 2;
    if (eval_recurse(g, u, &ch, &child, &r2, &rv2) <= ve) hi = ch.dev;
    else lo = ch.dev + 1;
  }
  ch.dev = lo;
  if (ve < bst->val) try_recurse(g, u, ch, bst);
  uint32_t kid = g->kids[g->nodes[u->X].first + u->i];
  uint32_t dl = g->dl[g->nodes[kid].sfx];
  *stop = dl == DL_INF || rv + (uint64_t)g->bmin * dl >= bst->val;
  return e + 1;
}

static bool rest_is_chain(const gp *g, const sub *u, uint32_t q) {
  sub rest = {u->X, q, 1, 0, u->nout, u->T};
  return !g->limited && is_series(g, u) && q < n_kids(g, u) &&
         is_chain(g, &rest);
}

/* The values of child i of parallel node u on d1 devices (*cv) and of
 * its siblings [i + 1, K) on the others (*rv); INF: no plan. */
static void par_parts(gp *g, const sub *u, choice ch, uint32_t d1,
                      uint32_t *cv, uint32_t *rv) {
  uint32_t seg_nout, rest_nout, q = u->i + 1;
  uint32_t X = g->kids[g->nodes[u->X].first + u->i];
  tail rT;
  tail_split(g, u, ch.take, &seg_nout, &rest_nout, &rT);
  *cv = solve(g, (sub){X, 0, d1, 0, seg_nout, ch.take ? u->T : NO_TAIL});
  *rv = rest_of(g, u, q, u->d - d1, 0, rest_nout, rT);
}

/* The least d1 in [lo, hi] at which the child's value is at most vmax,
 * or (vmax INF) at most its siblings'; both tests are false then true as
 * d1 grows.  hi + 1 when none. */
static uint32_t first_d1(gp *g, const sub *u, choice ch, uint32_t lo,
                         uint32_t hi, uint32_t vmax) {
  uint32_t a = lo, b = hi + 1;
  while (a < b && g->rc == 0) {
    uint32_t mid = a + (b - a) / 2, cv, rv;
    par_parts(g, u, ch, mid, &cv, &rv);
    bool ok = vmax == GPP__INF_U32 ? cv <= rv : cv <= vmax;
    if (ok) b = mid;
    else a = mid + 1;
  }
  return a;
}

/* Parallel splits without a stage limit: the child's value cv(d1) falls
 * and its siblings' rv(d1) rises as d1 grows (a sub-problem never does
 * worse with more devices), so max(cv, rv) is least where they cross.
 * Two binary searches find the crossing c and then the least d1 reaching
 * that value -- the d1 the scan over every d1 keeps -- in O(log d)
 * evaluations instead of O(d), which is what lets parallel models scale
 * to thousands of GPUs. */
static void try_par_bisect(gp *g, const sub *u, choice ch, uint32_t lo,
                           uint32_t hi, best *bst) {
  uint32_t c = first_d1(g, u, ch, lo, hi, GPP__INF_U32), cv, rv, v;
  uint32_t vc = GPP__INF_U32, vb = GPP__INF_U32;
  if (c <= hi) {
    par_parts(g, u, ch, c, &cv, &rv);
    vc = max_u32(cv, rv);
  }
  if (c > lo) {
    par_parts(g, u, ch, c - 1, &cv, &rv);
    vb = max_u32(cv, rv);
  }
  v = vb <= vc ? vb : vc;
  if (v == GPP__INF_U32 || v >= bst->val || g->rc) return;
  ch.dev = vb <= vc ? first_d1(g, u, ch, lo, c - 1, v) : c;
  try_recurse(g, u, ch, bst);
}

static void try_splits(gp *g, const sub *u, choice ch, bool last,
                       best *bst) {
  uint32_t q = is_series(g, u) ? ch.pq : u->i + 1;
  uint64_t lb = recurse_bound(g, u, q);
  uint32_t kid = g->kids[g->nodes[u->X].first + u->i];
  uint32_t lo = max_u32(1, devices_needed(g, kid, 0));
  uint32_t rest = max_u32(!last, devices_needed(g, u->X, q));
  if (rest == DL_INF || rest >= u->d) return;
  if (!is_series(g, u) && !last && !g->limited && g->prune &&
      lo <= u->d - rest) {
    if (lb < bst->val) try_par_bisect(g, u, ch, lo, u->d - rest, bst);
    return;
  }
  if (rest_is_chain(g, u, q)) {
    bool stop = false;
    for (uint32_t d1 = lo; !stop && d1 <= u->d - rest && g->rc == 0 &&
                           lb < bst->val;)
      d1 = try_run(g, u, ch, d1, u->d - rest, bst, &stop);
    return;
  }
  for (uint32_t d1 = last ? u->d : lo; d1 <= u->d - rest && g->rc == 0 &&
                                       lb < bst->val; d1++) {
    ch.dev = d1;
    if (!g->limited) {
      ch.s1 = 0;
      if (try_recurse(g, u, ch, bst) >= bst->val && g->prune) break;
      continue;
    }
    for (uint32_t s1 = last ? u->s : 1; s1 <= u->s - !last; s1++) {
      ch.s1 = s1;
      try_recurse(g, u, ch, bst);
    }
  }
}

static void try_children(gp *g, const sub *u, best *bst) {
  uint32_t K = n_kids(g, u), i = u->i;
  if (g->nodes[g->kids[g->nodes[u->X].first + i]].kind == GPP_SP_LEAF) return;
  if (!is_series(g, u)) {
    for (int take = 0; take <= (int)has_tail(u->T); take++)
      try_splits(g, u, (choice){.take = take}, i + 1 == K, bst);
    return;
  }
  try_splits(g, u, (choice){.pq = i + 1}, i + 1 == K, bst);
  for (uint32_t q = i + 2; q <= K && g->rc == 0; q++)
    for (uint32_t j = 0; j < g->nb; j++)
      try_splits(g, u, (choice){.pq = q, .lb = gpp__log2(g->bs[j])}, q == K,
                 bst);
}

static uint32_t solve(gp *g, sub u) {
  if (u.d == 0 || (g->limited && u.s == 0) || u.nout >= (1u << 20) || g->rc)
    return GPP__INF_U32;
  if (is_chain(g, &u)) return chain_value(g, &u);
  uint64_t k0 = key0(g, &u), k1 = key1(&u);
  uint64_t *v = gpp__hmap_get2(&g->memo, k0, k1);
  if (v && entry_valid(v, g->tmax)) return (uint32_t)v[0];
  uint64_t lb = sub_bound(g, u.X, u.i, u.d, u.s, u.nout, u.T);
  best bst = {GPP__INF_U32, 0, 0};
  if (lb < GPP__INF_U32 &&
      (!g->prune || !has_tail(u.T) || tail_stage_fits(g, &u))) {
    try_stages(g, &u, &bst);
    if (bst.val > lb) try_children(g, &u, &bst);
    g->c->states++;
  }
  v = gpp__hmap_put2(&g->memo, k0, k1, g->c->err);
  if (v == NULL) {
    g->rc = g->c->err->code;
    return GPP__INF_U32;
  }
  v[0] = bst.val;
  v[1] = bst.choice;
  v[2] = dbl_word(bst.tstar);
  v[3] = dbl_word(g->tmax);
  return bst.val;
}

/* ---- chain suffixes ----
 * Children [i, K) of a series node that are all leaves, with no stage
 * limit and one micro-batch size b (the default search) form a chain
 * (with a tail, the stage ending at K holds it: the branch of a parallel
 * model that takes the concat and loss), whose value with d devices is
 * nout + b * s for the fewest stages s of a plan on at most d devices.  Instead of one sub-problem per device
 * count, a table per (node, nout, tail) and probe gives D(i, s): the fewest
 * devices on which children [i, K) run as exactly s stages within t_max
 * and memory (the first stage holding nout + b * s samples in flight), by
 *   D(i, s) = min over stages [i, p) on k replicas of k + D(p, s - 1),
 * D(K, 0) = 0.  The value for d is then nout + b * min{s : D(i, s) <= d}:
 * the same as the per-device-count DP's, since a rest with fewer stages
 * both scores better and holds fewer samples.  Its size does not depend
 * on the GPU count, which is what lets the search scale to thousands of
 * GPUs on sequential models.  The choice, read back only for the plan and
 * for t*, is the first stage in the DP's own order (k ascending, p
 * descending) reaching the value, as the per-device-count DP picks it.
 * The tables are rebuilt at every probe, while the per-device-count memo
 * lives across probes, so below CHAIN_MIN_GPUS GPUs (few device counts)
 * the memo is cheaper and chains go through it. */

#define CHAIN_MIN_GPUS 16u

typedef struct ctab {
  uint32_t i0, S; /* children [i0, K); up to S stages */
  tail T;         /* held by the stage ending at K */
  uint32_t *D;    /* (K - i0 + 1) x (S + 1): D(i, s) at (i - i0, s) */
  /* Per row, the stage counts s whose D(i, s) is below that of every
   * smaller s (the others never give a value), ascending: front[i - i0]
   * holds n_front[i - i0] of them, in the row's own storage. */
  uint32_t *front, *n_front;
} ctab;

static bool is_chain(const gp *g, const sub *u) {
  return g->chains && is_series(g, u) &&
         u->i >= g->leaf_from[u->X] && u->i < n_kids(g, u);
}

static uint32_t *ctab_row(const ctab *t, uint32_t i) {
  return t->D + (size_t)(i - t->i0) * (t->S + 1);
}

static uint32_t *ctab_front(const ctab *t, uint32_t i) {
  return t->front + (size_t)(i - t->i0) * (t->S + 1);
}

static void ctab_set_front(ctab *t, uint32_t i) {
  const uint32_t *Di = ctab_row(t, i);
  uint32_t *F = ctab_front(t, i), n = 0, least = GPP__INF_U32;
  for (uint32_t s = 0; s <= t->S; s++)
    if (Di[s] < least) {
      least = Di[s];
      F[n++] = s;
    }
  t->n_front[i - t->i0] = n;
}

/* Boundary bytes per sample, in and out, of chain stage [i, p) of node X,
 * kept for the whole search (they do not depend on t_max); NULL on error
 * (g->rc set). */
static const double *chain_bytes(gp *g, uint32_t X, uint32_t i, uint32_t p) {
  uint32_t i0 = g->leaf_from[X], n = g->nodes[X].n - i0;
  if (g->cbytes[X] == NULL) {
    size_t cells = (size_t)(n + 1) * (n + 1) * 2;
    g->cbytes[X] = gpp_calloc(g->c->err, cells, sizeof **g->cbytes);
    if (g->cbytes[X] == NULL) {
      g->rc = g->c->err->code;
      return NULL;
    }
    for (size_t q = 0; q < cells; q++) g->cbytes[X][q] = -1;
  }
  double *v = g->cbytes[X] + ((size_t)(i - i0) * (n + 1) + (p - i0)) * 2;
  if (v[0] < 0) {
    sub u = {X, i, 0, 0, 0, NO_TAIL};
    if (range_bytes(g, seg_lo(g, &u, i), seg_hi(g, &u, p), NO_TAIL, false,
                    &v[0], &v[1]) != 0) {
      g->rc = g->c->err->code;
      return NULL;
    }
  }
  return v;
}

/* The sums of chain stage [i, p) of u's node on k replicas at b, with
 * u's tail when p is the end. */
static bool chain_sums(gp *g, const sub *u, uint32_t p, uint32_t b,
                       uint32_t k, gpp__stage_sums *sums) {
  if (p == n_kids(g, u) && has_tail(u->T))
    return stage_sums(g, u, p, b, k, true, sums);
  const double *by = chain_bytes(g, u->X, u->i, p);
  if (by == NULL) return false;
  if (range_work(g, seg_lo(g, u, u->i), seg_hi(g, u, p), NO_TAIL,
                 gpp__ceil_div(b, k), sums) != 0) {
    g->rc = g->c->err->code;
    return false;
  }
  sums->in_bytes = by[0];
  sums->out_bytes = by[1];
  return true;
}

/* D(i, .) from the rows after it: every stage [i, p) on k replicas within
 * t_max, each s while the stage's memory holds nout + b * s samples. */
static void ctab_fill_row(gp *g, ctab *t, uint32_t X, uint32_t nout,
                          uint32_t i) {
  uint32_t K = g->nodes[X].n, b = g->bs[0], G = g->c->G, *Di = ctab_row(t, i);
  sub u = {X, i, G, 0, nout, t->T};
  for (uint32_t k = 1; k <= G && k <= b && k <= g->c->max_k; k *= 2)
    for (uint32_t p = last_fit(g, &u, b, k); p > i && g->rc == 0; p--) {
      gpp__stage_sums sums;
      if (!chain_sums(g, &u, p, b, k, &sums)) return;
      if (gpp__stage_tps_floor(g->c, &sums, b, k) > g->tmax) continue;
      double room = NAN; /* with modes, computed when first needed */
      const uint32_t *Dp = ctab_row(t, p), *F = ctab_front(t, p);
      for (uint32_t q = 0; q < t->n_front[p - t->i0]; q++) {
        uint32_t s = F[q] + 1;
        if (s > t->S || s > K - i) break;
        if (k + Dp[s - 1] > G || k + Dp[s - 1] >= Di[s]) continue;
        if (g->c->modes && isnan(room))
          room = gpp__stage_room(g->c, &sums, b, k, g->tmax);
        if (g->c->modes ? nout + (double)b * s > room
                        : !gpp__stage_fits(g->c, &sums, b, k,
                                           nout + (double)b * s))
          break;
        Di[s] = k + Dp[s - 1];
      }
    }
  ctab_set_front(t, i);
}

static int ctab_build(gp *g, uint32_t X, uint32_t nout, tail T, ctab *t) {
  uint32_t K = g->nodes[X].n, n;
  t->i0 = g->leaf_from[X];
  t->T = T;
  n = K - t->i0;
  t->S = n < g->c->G ? n : g->c->G;
  size_t cells = (size_t)(n + 1) * (t->S + 1);
  t->D = gpp_calloc(g->c->err, 2 * cells + n + 1, sizeof *t->D);
  if (t->D == NULL) return g->c->err->code;
  t->front = t->D + cells;
  t->n_front = t->front + cells;
  memset(t->D, 0xff, cells * sizeof *t->D);
  ctab_row(t, K)[0] = 0;
  ctab_set_front(t, K);
  for (uint32_t i = K; i-- > t->i0 && g->rc == 0;)
    ctab_fill_row(g, t, X, nout, i);
  g->c->states += n; /* a row D(i, .) counts as one state */
  return g->rc;
}

static bool same_tail(tail a, tail b) {
  return a.L == b.L && a.H == b.H && a.b == b.b;
}

static void chain_last(gp *g, const sub *u, uint32_t tab) {
  g->last_X = u->X;
  g->last_nout = u->nout;
  g->last_T = u->T;
  g->last_tab = tab;
}

/* A free slot in g->ctabs; NULL on error (g->rc set). */
static ctab *ctab_slot(gp *g) {
  if (g->n_ctabs == g->cap_ctabs) {
    uint32_t cap = g->cap_ctabs ? 2 * g->cap_ctabs : 16;
    ctab *a = gpp_realloc_array(g->c->err, g->ctabs, cap, sizeof *a);
    if (a == NULL) {
      g->rc = g->c->err->code;
      return NULL;
    }
    g->ctabs = a;
    g->cap_ctabs = cap;
  }
  return &g->ctabs[g->n_ctabs];
}

/* The table of u's (X, nout, tail) for this probe, built on first use;
 * NULL on error (g->rc set).  The tail's size is the one size searched. */
static const ctab *chain_table(gp *g, const sub *u) {
  if (g->n_ctabs && u->X == g->last_X && u->nout == g->last_nout &&
      same_tail(u->T, g->last_T))
    return &g->ctabs[g->last_tab];
  uint64_t k0 = (uint64_t)u->X << 32 | u->nout;
  uint64_t k1 = (uint64_t)u->T.L << 32 | u->T.H;
  uint64_t *v = gpp__hmap_get2(&g->ctab_idx, k0, k1);
  if (v) {
    chain_last(g, u, (uint32_t)v[0]);
    return &g->ctabs[v[0]];
  }
  ctab *t = ctab_slot(g);
  if (t == NULL) return NULL;
  int rc = ctab_build(g, u->X, u->nout, u->T, t);
  v = rc == 0 ? gpp__hmap_put2(&g->ctab_idx, k0, k1, g->c->err) : NULL;
  if (v == NULL) {
    free(t->D);
    g->rc = rc ? rc : g->c->err->code;
    return NULL;
  }
  v[0] = g->n_ctabs++;
  chain_last(g, u, (uint32_t)v[0]);
  return t;
}

static uint32_t chain_value(gp *g, const sub *u) {
  const ctab *t = chain_table(g, u);
  if (t == NULL) return GPP__INF_U32;
  const uint32_t *Di = ctab_row(t, u->i), *F = ctab_front(t, u->i);
  for (uint32_t q = 0; q < t->n_front[u->i - t->i0]; q++)
    if (Di[F[q]] <= u->d) return u->nout + g->bs[0] * F[q];
  return GPP__INF_U32;
}

/* The fewest devices on which chain u reaches its value v. */
static uint32_t chain_devices(gp *g, const sub *u, uint32_t v) {
  const ctab *t = chain_table(g, u);
  return t ? ctab_row(t, u->i)[(v - u->nout) / g->bs[0]] : u->d;
}

/* The tables and t*s of one probe are dropped before the next. */
static void chains_reset(gp *g) {
  for (uint32_t q = 0; q < g->n_ctabs; q++) free(g->ctabs[q].D);
  g->n_ctabs = 0;
  gpp__hmap_clear(&g->ctab_idx);
  gpp__hmap_clear(&g->ctstar);
}

/* The chain's first stage [i, *p) on *k replicas and its TPS; false when
 * none reaches the value (no plan) or on error. */
static bool chain_choice(gp *g, const sub *u, uint32_t *p, uint32_t *k,
                         double *tps) {
  uint32_t v = chain_value(g, u), K = n_kids(g, u), b = g->bs[0];
  for (*k = 1; v != GPP__INF_U32 && *k <= u->d && *k <= b &&
               *k <= g->c->max_k; *k *= 2)
    for (*p = last_fit(g, u, b, *k); *p > u->i && g->rc == 0; (*p)--) {
      if (*p < K && *k == u->d) continue;
      sub rest = {u->X, *p, u->d - *k, 0, u->nout, u->T};
      uint32_t rv = *p == K ? u->nout : chain_value(g, &rest);
      gpp__stage_sums sums;
      if (rv == GPP__INF_U32 || b + rv != v) continue;
      if (!chain_sums(g, u, *p, b, *k, &sums)) return false;
      if (gpp__stage_tps_floor(g->c, &sums, b, *k) > g->tmax) continue;
      *tps = gpp__stage_best(g->c, &sums, b, *k, v, NULL, NULL);
      /* The table's own test (ctab_fill_row), so that it finds its cell. */
      if (g->c->modes ? gpp__stage_room(g->c, &sums, b, *k, g->tmax) >= v
                      : within(g, *tps))
        return true;
    }
  return false;
}

static double chain_tstar(gp *g, const sub *u) {
  uint64_t k0 = key0(g, u), k1 = key1(u);
  uint64_t *v = gpp__hmap_get2(&g->ctstar, k0, k1);
  if (v) return word_dbl(v[0]);
  uint32_t p, k;
  double tps, ts = INFINITY;
  if (chain_choice(g, u, &p, &k, &tps)) {
    sub rest = {u->X, p, u->d - k, 0, u->nout, u->T};
    ts = max_dbl(tps, tstar_of(g, &rest));
  }
  v = gpp__hmap_put2(&g->ctstar, k0, k1, g->c->err);
  if (v == NULL) {
    g->rc = g->c->err->code;
    return INFINITY;
  }
  v[0] = dbl_word(ts);
  return ts;
}

/* Per series node, the first child of its all-leaf suffix. */
static void leaf_suffixes(gp *g) {
  for (uint32_t X = 0; X < g->n_nodes; X++) {
    const fnode *f = &g->nodes[X];
    uint32_t i = f->n;
    while (i > 0 && g->nodes[g->kids[f->first + i - 1]].kind == GPP_SP_LEAF)
      i--;
    g->leaf_from[X] = f->kind == GPP_SP_SERIES ? i : f->n;
  }
}

/* ---- reading the solution back ---- */

typedef struct specs {
  gpp__stage_spec *a;
  uint32_t n, cap;
} specs;

static int push_stage(gp *g, specs *sp, uint32_t L, uint32_t H, tail T,
                      uint32_t k, uint32_t b) {
  if (sp->n == sp->cap) {
    uint32_t cap = sp->cap ? 2 * sp->cap : 8;
    gpp__stage_spec *a = gpp_realloc_array(g->c->err, sp->a, cap, sizeof *a);
    if (a == NULL) return g->c->err->code;
    sp->a = a;
    sp->cap = cap;
  }
  gpp__stage_spec *st = &sp->a[sp->n];
  uint32_t n = (H - L) + (T.H - T.L);
  st->ops = gpp_calloc(g->c->err, n, sizeof *st->ops);
  if (st->ops == NULL) return g->c->err->code;
  memcpy(st->ops, g->leaf + L, (H - L) * sizeof *st->ops);
  memcpy(st->ops + (H - L), g->leaf + T.L, (T.H - T.L) * sizeof *st->ops);
  st->n_ops = n;
  st->k = k;
  st->b = b;
  sp->n++;
  return 0;
}

static int extract(gp *g, sub u, specs *sp) {
  if (u.i == n_kids(g, &u)) return 0;
  if (is_chain(g, &u)) {
    uint32_t p, k;
    double tps;
    if (!chain_choice(g, &u, &p, &k, &tps))
      GPP_RAISE(g->c->err, g->rc ? g->rc : GPP_EINTERNAL,
                "GraphPipe chain choice lost");
    bool end = p == n_kids(g, &u);
    GPP_TRY(push_stage(g, sp, seg_lo(g, &u, u.i), seg_hi(g, &u, p),
                       end ? u.T : NO_TAIL, k, g->bs[0]));
    return extract(g, (sub){u.X, p, u.d - k, 0, u.nout, u.T}, sp);
  }
  uint64_t *v = gpp__hmap_get2(&g->memo, key0(g, &u), key1(&u));
  if (v == NULL || (uint32_t)v[0] == GPP__INF_U32)
    GPP_RAISE(g->c->err, GPP_EINTERNAL, "GraphPipe DP state lost");
  choice ch = unpack(v[1]);
  sub child, rest;
  if (ch.kind == CH_RECURSE) {
    uint32_t rv;
    if (eval_recurse(g, &u, &ch, &child, &rest, &rv) == GPP__INF_U32)
      GPP_RAISE(g->c->err, GPP_EINTERNAL, "GraphPipe DP choice lost");
    GPP_TRY(extract(g, child, sp));
    return extract(g, rest, sp);
  }
  uint32_t b = 1u << ch.lb, own;
  eval_stage(g, &u, ch.pq, b, ch.dev, ch.take, &rest, &own);
  GPP_TRY(push_stage(g, sp, seg_lo(g, &u, u.i), seg_hi(g, &u, ch.pq),
                     ch.take ? u.T : NO_TAIL, ch.dev, b));
  return extract(g, rest, sp);
}

/* ---- binary search on t_max ---- */

static uint32_t top_stages(const gp *g) {
  return g->limited ? g->c->opt->max_stages : 0;
}

/* Runs the DP at g->tmax; *ok tells whether a plan exists, *cand gets it. */
static int probe(gp *g, bool *ok, gpp_planner_candidate *cand) {
  if (!g->prune) gpp__hmap_clear(&g->memo);
  chains_reset(g);
  depth_bounds(g);
  sub top = {g->root, 0, g->c->G, top_stages(g), 0, NO_TAIL};
  uint32_t v = solve(g, top);
  if (g->rc) return g->rc;
  *ok = v != GPP__INF_U32;
  if (!*ok) return 0;
  specs sp = {0};
  int rc = extract(g, top, &sp);
  gpp_planner_candidate next;
  if (rc == 0) rc = gpp__candidate_build(g->c, sp.a, sp.n, true, false, &next);
  for (uint32_t q = 0; rc != 0 && q < sp.n; q++) free(sp.a[q].ops);
  free(sp.a);
  if (rc != 0) return rc;
  gpp__candidate_free(cand);
  *cand = next;
  return 0;
}

/* No stage can beat its costliest op at its best size and replication,
 * and the GPUs cannot beat the total work: a stage of k replicas at b has
 * TPS >= k * t(ceil(b / k)) / b / k for each op, summed over the stages'
 * ops and devices, so max TPS >= sum over ops of their least
 * k * t(ceil(b / k)) / b, over the GPU count. */
static double lower_bound(gp *g) {
  double lo = 0, work = 0;
  for (uint32_t v = 0; v < g->c->n; v++) {
    double op_best, w_best;
    if (op_floor(g, v, &op_best, &w_best) != 0) continue;
    if (op_best > lo && op_best < INFINITY) lo = op_best;
    if (w_best < INFINITY) work += w_best;
  }
  work /= g->c->G;
  return work > lo ? work : lo;
}

/* Bisection on a log scale: the probes needed grow with log(hi / lo)
 * rather than hi / lo. */
static int bsearch_tps(gp *g, gpp_planner_candidate *cand, bool *found,
                       double f0, double span) {
  g->tmax = INFINITY;
  GPP_TRY(probe(g, found, cand));
  if (!*found) return 0;
  double lo = lower_bound(g), hi = cand->tps, tol = g->c->opt->tps_tolerance;
  for (int it = 0; hi - lo > tol * hi; it++) {
    g->tmax = lo > 0 ? sqrt(lo * hi) : 0.5 * hi;
    if (g->tmax - lo < 0.5 * tol * hi || hi - g->tmax < 0.5 * tol * hi)
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
  g->ops = gpp_calloc(c->err, c->n, sizeof *g->ops);
  g->pre_tps = gpp_calloc(c->err, c->n + 1, sizeof *g->pre_tps);
  g->pre_work = gpp_calloc(c->err, c->n + 1, sizeof *g->pre_work);
  g->pw = gpp_calloc(c->err, nn + 1, sizeof *g->pw);
  g->leaf_from = gpp_calloc(c->err, nn, sizeof *g->leaf_from);
  g->cbytes = gpp_calloc(c->err, nn, sizeof *g->cbytes);
  if (!(g->nodes && g->kids && g->leaf && g->member && g->seen && g->ops &&
        g->pre_tps && g->pre_work && g->pw && g->leaf_from && g->cbytes))
    return c->err->code;
  GPP_TRY(flatten_root(g, t));
  leaf_suffixes(g);
  g->dl = gpp_calloc(c->err, g->n_sfx, sizeof *g->dl);
  if (g->dl == NULL) return c->err->code;
  g->prune = !c->opt->exhaustive;
  if (g->n_sfx >= (1u << 24) || c->n >= (1u << 20))
    GPP_RAISE(c->err, GPP_ERANGE, "model too large for the GraphPipe DP");
  GPP_TRY(prefixes(g));
  GPP_TRY(gpp__hmap_init(&g->bytes, 1024, c->err));
  GPP_TRY(gpp__hmap_init(&g->ctab_idx, 64, c->err));
  GPP_TRY(gpp__hmap_init(&g->ctstar, 1024, c->err));
  return gpp__hmap_init(&g->memo, 4096, c->err);
}

static void gp_free(gp *g) {
  if (g->pre_time)
    for (uint32_t r = 0; r <= g->c->B; r++) free(g->pre_time[r]);
  free(g->pre_time);
  gpp__mpre_free(g->c, &g->mp);
  free(g->pre_stat);
  free(g->pre_saved);
  free(g->pre_param);
  free(g->nodes);
  free(g->kids);
  free(g->leaf);
  free(g->member);
  free(g->seen);
  free(g->ops);
  free(g->pre_tps);
  free(g->pre_work);
  free(g->pw);
  free(g->dl);
  gpp__hmap_free(&g->bytes);
  gpp__hmap_free(&g->memo);
  if (g->ctab_idx.slots) chains_reset(g);
  free(g->ctabs);
  for (uint32_t X = 0; g->cbytes && X < g->n_nodes; X++) free(g->cbytes[X]);
  free(g->cbytes);
  free(g->leaf_from);
  gpp__hmap_free(&g->ctab_idx);
  gpp__hmap_free(&g->ctstar);
}

/* The bisection with fresh bounds and memo (they depend on the modes). */
static int search_bottleneck(gp *g, gpp_planner_candidate *cand, bool *found,
                             double frac0, double span) {
  GPP_TRY(leaf_weights(g));
  gpp__hmap_clear(&g->memo);
  GPP_TRY(bsearch_tps(g, cand, found, frac0, span));
  return *found ? gpp__candidate_estimate(g->c, cand) : 0;
}

/* One search with stage sizes from bs[0..nb-1] (one size when nb is 1);
 * keep: whether a plan found is added to out. */
static int search_one(gp *g, uint32_t *bs, uint32_t nb, double frac0,
                      double span, bool (*keep)(const gpp_planner_candidate *,
                                                uint32_t),
                      gpp_planner_result *out) {
  g->bs = bs;
  g->nb = nb;
  g->chains = g->prune && !g->limited && g->nb == 1 &&
              g->c->G >= CHAIN_MIN_GPUS;
  gpp_planner_candidate cand = {0}, plain = {0};
  bool found = false, found_plain = false, modes = g->c->modes;
  int rc = search_bottleneck(g, &cand, &found, frac0, span);
  /* The least bottleneck is not always the fastest iteration: a mode can
   * lower it with a deeper pipeline that runs slower (gpt on 16 Summit
   * GPUs, tests/test_planner.c), and a mode's estimate errs more.  So the
   * plan of the search without modes is a candidate too, and the modes'
   * one joins it when it uses a mode or is estimated faster; --refine
   * simulates both. */
  if (rc == 0 && modes) {
    g->c->modes = false;
    rc = search_bottleneck(g, &plain, &found_plain, frac0, span);
    g->c->modes = true;
  }
  bool both = gpp__modes_plan_kept(&cand, found, &plain, found_plain);
  if (rc == 0 && found_plain && (keep == NULL || keep(&plain, bs[nb - 1])))
    rc = gpp__result_add(out, &plain, g->c->err);
  if (rc == 0 && both && (keep == NULL || keep(&cand, bs[nb - 1])))
    rc = gpp__result_add(out, &cand, g->c->err);
  gpp__candidate_free(&cand);
  gpp__candidate_free(&plain);
  return rc;
}

/* A per-stage result is new when its largest size is its cap (else the
 * search at that smaller cap found it) and some stage is smaller (else it
 * is the one-size plan at the cap). */
static bool mixed_at_cap(const gpp_planner_candidate *c, uint32_t cap) {
  bool smaller = false;
  for (uint32_t s = 0; s < c->n_stages; s++)
    smaller = smaller || c->stages[s].micro_batch < cap;
  return c->micro_batch == cap && smaller;
}

/* One search per micro-batch size bs[q] (ascending).  Per-stage sizes
 * (paper Fig. 5) add, per size, a search in which each stage picks any
 * size up to bs[q]: the pipeline's fill grows with the largest size, so
 * the cap bounds it, and the one-size plans stay candidates (the sizes
 * per stage are not always faster once simulated: `plan --explain`). */
static int search_sizes(gp *g, gpp_planner_result *out) {
  uint32_t bs[32], nb = gpp__micro_batches(g->c, bs);
  bool per_stage = g->c->opt->per_stage_micro_batch;
  uint32_t runs = per_stage ? 2 * nb - 1 : nb;
  for (uint32_t q = 0; q < nb; q++) {
    uint32_t r = per_stage && q > 0 ? 2 * q - 1 : q;
    GPP_TRY(search_one(g, &bs[q], 1, (double)r / runs, 1.0 / runs, NULL,
                       out));
    if (per_stage && q > 0)
      GPP_TRY(search_one(g, bs, q + 1, (double)(r + 1) / runs, 1.0 / runs,
                         mixed_at_cap, out));
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
