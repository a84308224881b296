/* piper.c -- Piper's partitioner (NeurIPS'21), the second sequential
 * baseline: a DP over the downsets (ideals) of the layer DAG.  Every stage is
 * the difference J \ I of two nested ideals, so stages are convex and run
 * in a line (schedule 1f1b).  Over suffixes, with I the ops already placed:
 *   g(I, k) = min over ideals J > I, d | d <= k of
 *             max(TPS(J \ I, d), g(J, k - d)),      g(V, k) = 0,
 * memory checked with the in-flight count of the synchronous 1F1B schedule
 * the plan is replayed with, 1 + the stages after it (Piper's s / d
 * counts round-robin replicas), and, as in PipeDream (pipedream.c), a
 * second pass keeping the fewest stages within the TPS tolerance of the
 * least bottleneck.  Data-parallel degrees are powers of two (as
 * GraphPipe's); tensor parallelism is not modelled.
 * Stage boundary bytes are the cuts of I and J (what leaves I, what leaves
 * J), exact for chains.  Like Piper, the DP runs on the layer graph
 * (planner/layers.c: a Transformer layer, an MLP layer, ...), so ideals
 * are sets of layers, and the planner refuses graphs with more than
 * IDEALS_LIMIT (40,000) of them: "no plan found (N ideals > limit)",
 * GPP_ENOPLAN.
 */
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"
#include "planner/sp.h"

typedef struct ideals {
  const gpp__layers *L;    /* ideals are sets of layers */
  uint32_t n, W, cap, limit;
  uint64_t *bits;          /* n x W */
  uint32_t *size;
  gpp__hmap index;         /* hash of bits -> ideal ids (chained by probe) */
} ideals;

static uint64_t *bits_of(const ideals *s, uint32_t i) {
  return s->bits + (size_t)i * s->W;
}

static uint64_t hash_bits(const uint64_t *b, uint32_t W) {
  uint64_t h = 1469598103934665603ull;
  for (uint32_t w = 0; w < W; w++) h = (h ^ b[w]) * 1099511628211ull;
  return h == UINT64_MAX ? 0 : h;
}

/* Ideals sharing a hash are chained by probing key, key+1, ... */
static bool find_ideal(const ideals *s, const uint64_t *b, uint64_t *key) {
  for (*key = hash_bits(b, s->W);; (*key)++) {
    if (*key == UINT64_MAX) *key = 0;
    uint64_t *v = gpp__hmap_get(&s->index, *key);
    if (v == NULL) return false;
    if (memcmp(bits_of(s, (uint32_t)v[0]), b, s->W * 8) == 0) return true;
  }
}

static int add_ideal(ideals *s, const uint64_t *b, uint32_t size,
                     gpp_errctx *err) {
  uint64_t key;
  if (find_ideal(s, b, &key)) return 0;
  if (s->n == s->limit) {
    s->n++; /* over the limit: stop */
    return 0;
  }
  if (s->n == s->cap) {
    uint32_t cap = s->cap ? 2 * s->cap : 64;
    if (cap > s->limit) cap = s->limit;
    uint64_t *nb = gpp_realloc_array(err, s->bits, (size_t)cap * s->W, 8);
    if (nb == NULL) return err->code;
    s->bits = nb;
    uint32_t *ns = gpp_realloc_array(err, s->size, cap, sizeof *ns);
    if (ns == NULL) return err->code;
    s->size = ns;
    s->cap = cap;
  }
  memcpy(bits_of(s, s->n), b, s->W * 8);
  s->size[s->n] = size;
  uint64_t *v = gpp__hmap_put(&s->index, key, err);
  if (v == NULL) return err->code;
  v[0] = s->n++;
  return 0;
}

static bool has(const uint64_t *b, uint32_t v) {
  return (b[v / 64] >> (v % 64)) & 1u;
}

static bool addable(const gpp__layers *L, const uint64_t *b, uint32_t v) {
  if (has(b, v)) return false;
  for (uint32_t e = L->in_off[v]; e < L->in_off[v + 1]; e++)
    if (!has(b, L->from[e])) return false;
  return true;
}

/* Breadth-first: each ideal grows by one layer whose inputs are all in
 * it. */
static int enumerate(ideals *s, gpp_errctx *err) {
  uint64_t *tmp = gpp_calloc(err, s->W, 8);
  if (tmp == NULL) return err->code;
  int rc = add_ideal(s, tmp, 0, err);
  for (uint32_t i = 0; rc == 0 && i < s->n && s->n <= s->limit; i++)
    for (uint32_t v = 0; rc == 0 && v < s->L->n && s->n <= s->limit; v++) {
      if (!addable(s->L, bits_of(s, i), v)) continue;
      memcpy(tmp, bits_of(s, i), s->W * 8);
      tmp[v / 64] |= 1ull << (v % 64);
      rc = add_ideal(s, tmp, s->size[i] + 1, err);
    }
  free(tmp);
  return rc;
}

static int too_many(const ideals *s, gpp_errctx *err) {
  gpp_sp_tree *t = NULL;
  double total = -1;
  gpp_errctx quiet = {0};
  const gpp__layers *L = s->L;
  if (gpp_sp_decompose(L->n, L->from, L->to, L->n_edges, &t, &quiet) == 0 &&
      t->was_sp)
    total = gpp_sp_count_ideals(t);
  gpp_sp_tree_destroy(t);
  if (total > 0)
    GPP_RAISE(err, GPP_ENOPLAN, "no plan found (%.0f ideals of %u layers > "
              "limit %u)", total, L->n, s->limit);
  GPP_RAISE(err, GPP_ENOPLAN, "no plan found (more than %u ideals of %u "
            "layers > limit %u)", s->limit, L->n, s->limit);
}

/* ---- the DP ---- */

typedef struct pp {
  gpp__pctx *c;
  ideals *s;
  uint32_t G, b, full, empty, nr;
  uint32_t *order;         /* ideals by decreasing size */
  double *sum;             /* per ideal: [nr times, stat, saved, param, cut] */
  double *g;               /* ideals x (G + 1) */
  uint32_t *nxt, *reps, *nst; /* choice; stages of g's suffix plan */
  double cap;              /* second pass: the stage TPS allowed */
} pp;

#define NS(p) ((p)->nr + 4)
#define GI(p, i, k) ((size_t)(i) * ((p)->G + 1) + (k))

static int ideal_sums(pp *p, uint32_t i) {
  gpp__pctx *c = p->c;
  const uint64_t *b = bits_of(p->s, i);
  double *sm = p->sum + (size_t)i * NS(p);
  memset(sm, 0, NS(p) * sizeof *sm);
  const uint32_t *of = p->s->L->of;
  for (uint32_t v = 0; v < c->n; v++) {
    if (!has(b, of[v])) continue;
    for (uint32_t q = 0; q < p->nr; q++) {
      const double *t = gpp__times(c, gpp__ceil_div(p->b, 1u << q));
      if (t == NULL) return c->err->code;
      sm[q] += t[v];
    }
    sm[p->nr] += c->stat[v];
    sm[p->nr + 1] += c->saved[v];
    sm[p->nr + 2] += c->param[v];
    for (uint32_t j = 0; j < c->m->ops[v].n_outputs; j++) {
      uint32_t u = c->m->ops[v].outputs[j];
      if (has(b, of[u])) continue;
      sm[p->nr + 3] += c->outb[v];
      break;
    }
  }
  return 0;
}

static bool subset(const pp *p, uint32_t i, uint32_t j) {
  const uint64_t *a = bits_of(p->s, i), *b = bits_of(p->s, j);
  for (uint32_t w = 0; w < p->s->W; w++)
    if (a[w] & ~b[w]) return false;
  return true;
}

static void pair_sums(const pp *p, uint32_t i, uint32_t j, uint32_t q,
                      gpp__stage_sums *s) {
  const double *a = p->sum + (size_t)i * NS(p), *b = p->sum + (size_t)j * NS(p);
  s->time = b[q] - a[q];
  s->stat = b[p->nr] - a[p->nr];
  s->saved = b[p->nr + 1] - a[p->nr + 1];
  s->param = b[p->nr + 2] - a[p->nr + 2];
  s->in_bytes = a[p->nr + 3];
  s->out_bytes = b[p->nr + 3];
}

/* Stage J \ I for every k and power-of-two d. */
static void relax_pair(pp *p, uint32_t i, uint32_t j) {
  for (uint32_t q = 0; q < p->nr; q++) {
    uint32_t d = 1u << q;
    if (d > p->c->max_k) break;
    gpp__stage_sums s;
    pair_sums(p, i, j, q, &s);
    double t = gpp__stage_tps(p->c, &s, p->b, d);
    if (t > p->cap) continue;
    for (uint32_t k = d; k <= p->G; k++) {
      size_t at = GI(p, i, k);
      double rest = j == p->full ? 0 : p->g[GI(p, j, k - d)];
      uint32_t st = 1 + (j == p->full ? 0 : p->nst[GI(p, j, k - d)]);
      double val = t > rest ? t : rest;
      if (rest == INFINITY ||
          !gpp__seq_better(val, st, p->g[at], p->nst[at], p->cap < INFINITY))
        continue;
      if (!gpp__stage_fits(p->c, &s, p->b, d, (double)st * p->b)) continue;
      p->g[at] = val;
      p->nst[at] = st;
      p->nxt[at] = j;
      p->reps[at] = d;
    }
  }
}

static void solve_ideal(pp *p, uint32_t i) {
  bool full = i == p->full;
  for (uint32_t k = 0; k <= p->G; k++) {
    p->g[GI(p, i, k)] = full ? 0 : INFINITY;
    p->nst[GI(p, i, k)] = full ? 0 : UINT32_MAX;
  }
  if (full) return;
  p->c->states += p->G;
  for (uint32_t q = 0; q < p->s->n; q++) {
    uint32_t j = p->order[q];
    if (p->s->size[j] <= p->s->size[i]) break;
    if (subset(p, i, j)) relax_pair(p, i, j);
  }
}

static int read_plan(pp *p, gpp_planner_candidate *cand, bool *found) {
  *found = p->g[GI(p, p->empty, p->G)] < INFINITY;
  if (!*found) return 0;
  gpp__stage_spec *sp = gpp_calloc(p->c->err, p->c->n, sizeof *sp);
  if (sp == NULL) return p->c->err->code;
  uint32_t n = 0, i = p->empty, k = p->G;
  int rc = 0;
  while (i != p->full && rc == 0) {
    uint32_t j = p->nxt[GI(p, i, k)], d = p->reps[GI(p, i, k)];
    const uint64_t *a = bits_of(p->s, i), *b = bits_of(p->s, j);
    sp[n] = (gpp__stage_spec){gpp_calloc(p->c->err, p->c->n, 4), 0, d, p->b};
    if (sp[n].ops == NULL) rc = p->c->err->code;
    for (uint32_t v = 0; rc == 0 && v < p->c->n; v++)
      if (has(b, p->s->L->of[v]) && !has(a, p->s->L->of[v]))
        sp[n].ops[sp[n].n_ops++] = v;
    n++;
    i = j;
    k -= d;
  }
  if (rc == 0) rc = gpp__candidate_build(p->c, sp, n, false, cand);
  for (uint32_t q = 0; rc != 0 && q < n; q++) free(sp[q].ops);
  free(sp);
  return rc;
}

static int pp_one_size(pp *p, gpp_planner_result *out) {
  p->nr = gpp__log2(p->b < p->G ? p->b : p->G) + 1;
  free(p->sum);
  p->sum = gpp_calloc(p->c->err, (size_t)p->s->n * NS(p), sizeof *p->sum);
  if (p->sum == NULL) return p->c->err->code;
  for (uint32_t i = 0; i < p->s->n; i++) GPP_TRY(ideal_sums(p, i));
  p->cap = INFINITY;
  for (uint32_t q = 0; q < p->s->n; q++) solve_ideal(p, p->order[q]);
  double best = p->g[GI(p, p->empty, p->G)];
  p->cap = best * (1 + p->c->opt->tps_tolerance);
  for (uint32_t q = 0; best < INFINITY && q < p->s->n; q++)
    solve_ideal(p, p->order[q]);
  gpp_planner_candidate cand = {0};
  bool found;
  int rc = read_plan(p, &cand, &found);
  if (rc == 0 && found) rc = gpp__result_add(out, &cand, p->c->err);
  return rc;
}

/* Counting sort of the ideals by decreasing size. */
static int order_by_size(pp *p) {
  const ideals *s = p->s;
  uint32_t n = s->L->n;
  uint32_t *at = gpp_calloc(p->c->err, (size_t)n + 2, sizeof *at);
  if (at == NULL) return p->c->err->code;
  for (uint32_t i = 0; i < s->n; i++) at[n - s->size[i] + 1]++;
  for (uint32_t z = 1; z <= n + 1; z++) at[z] += at[z - 1];
  for (uint32_t i = 0; i < s->n; i++) p->order[at[n - s->size[i]]++] = i;
  free(at);
  return 0;
}

static int pp_run(pp *p, gpp_planner_result *out) {
  ideals *s = p->s;
  p->order = gpp_calloc(p->c->err, s->n, sizeof *p->order);
  p->g = gpp_calloc(p->c->err, (size_t)s->n * (p->G + 1), sizeof *p->g);
  p->nxt = gpp_calloc(p->c->err, (size_t)s->n * (p->G + 1), sizeof *p->nxt);
  p->reps = gpp_calloc(p->c->err, (size_t)s->n * (p->G + 1), sizeof *p->reps);
  p->nst = gpp_calloc(p->c->err, (size_t)s->n * (p->G + 1), sizeof *p->nst);
  if (!(p->order && p->g && p->nxt && p->reps && p->nst))
    return p->c->err->code;
  for (uint32_t i = 0; i < s->n; i++) {
    if (s->size[i] == s->L->n) p->full = i;
    if (s->size[i] == 0) p->empty = i;
  }
  GPP_TRY(order_by_size(p));
  uint32_t bs[32], nb = gpp__micro_batches(p->c, bs);
  for (uint32_t q = 0; q < nb; q++) {
    p->b = bs[q];
    GPP_TRY(pp_one_size(p, out));
    gpp__progress(p->c, "piper", (q + 1.0) / nb);
  }
  return 0;
}

static int piper_run(const gpp_planner_input *in,
                     const gpp_planner_options *opt, gpp_planner_result *out,
                     gpp_errctx *err) {
  gpp__layers L;
  GPP_TRY(gpp__layers_build(in->model, &L, err));
  ideals s = {.L = &L};
  s.W = (L.n + 63) / 64;
  s.limit = opt->ideals_limit ? opt->ideals_limit : GPP_PIPER_IDEALS_LIMIT;
  int rc = gpp__hmap_init(&s.index, 1024, err);
  if (rc == 0) rc = enumerate(&s, err);
  if (rc == 0 && s.n > s.limit) rc = too_many(&s, err);
  gpp__pctx c;
  pp p = {0};
  if (rc == 0) rc = gpp__pctx_init(&c, in, opt, err);
  if (rc == 0) {
    p = (pp){.c = &c, .s = &s, .G = c.G};
    rc = pp_run(&p, out);
    out->states = c.states;
    gpp__pctx_free(&c);
  }
  free(p.order); free(p.sum); free(p.g); free(p.nxt); free(p.reps);
  free(p.nst);
  free(s.bits);
  free(s.size);
  gpp__hmap_free(&s.index);
  gpp__layers_free(&L);
  return rc;
}

const gpp_planner_type gpp_planner_piper = {
    "piper", "Piper: DP over downsets (ideals) of the layer graph, 1f1b", piper_run};
