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
 * GraphPipe's), tensor degrees those of the stage modes.
 * Stage boundary bytes are the cuts of I and J (what leaves I, what leaves
 * J), exact for chains.  Like Piper, the DP runs on the layer graph
 * (planner/layers.c: a Transformer layer, an MLP layer, ...), so ideals
 * are sets of layers, and the planner refuses graphs with more than
 * IDEALS_LIMIT (40,000) of them: "no plan found (N ideals > limit)",
 * GPP_ENOPLAN.
 * Search: opt->exhaustive solves every cell, scanning every ideal J > I
 * (the reference).  Otherwise, when stage costs grow with the stage:
 * - up to ON_DEMAND_MAX_GPUS GPUs only the cells the answer reads are
 *   solved, on demand: the whole suffix as one stage first, then the
 *   supersets of I walked depth-first through the cover relation (each J
 *   once: layers added in increasing order), a branch cut for a replica
 *   count d once the stage's work (a lower bound of its TPS growing with
 *   J) exceeds the cap or, in the first pass, the cell's value, or its
 *   memory at one micro-batch in flight does not fit; a stage whose rest
 *   exceeds the cell's value is not priced;
 * - beyond, the scan walks the same supersets under a cap on the stage
 *   TPS (least_bottleneck: growing caps in the first pass), with the same
 *   branch cuts, and prices only what a plan within the cap can hold: the
 *   cells (I, k) whose prefix fits in G - k GPUs, and stages that round
 *   the GPU-seconds they need up to whole GPUs by no more than the whole
 *   plan can spare (gpu_seconds).
 * Ties are broken as the reference scan meets them (earlier J in size
 * order, then fewer replicas), so every mode gives the same plan.
 * Stage modes (planner/internal.h): after the plain search, a second one
 * prices each stage in its fastest mode that holds the cell's in-flight
 * count (gpp__stage_best in offer), its plan joining the plain one's as a
 * candidate.  Its cuts use bounds valid over every mode: work at least
 * the cheapest tensor degree's compute (pair_work), GPU-seconds of tensor
 * groups (W_AT), a stage's TPS at least gpp__stage_tps_floor (offer_tps),
 * memory fitting in some mode; its caps start at the plain least
 * bottleneck.  It runs where the plain plan shows modes may gain
 * (modes_help, measured there).
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
  /* Covers: ideal i plus layer cov_v[e] is ideal cov_id[e], for e in
   * cov_off[i] .. cov_off[i + 1], layers ascending. */
  uint32_t *cov_off, *cov_v, *cov_id;
  size_t n_cov, cov_cap;
} ideals;

static uint64_t *bits_of(const ideals *s, uint32_t i) {
  return s->bits + (size_t)i * s->W;
}

static uint64_t hash_bits(const uint64_t *b, uint32_t W) {
  uint64_t h = 1469598103934665603ull;
  for (uint32_t w = 0; w < W; w++) h = (h ^ b[w]) * 1099511628211ull;
  return h == UINT64_MAX ? 0 : h;
}

/* Ideals sharing a hash are chained by probing key, key+1, ...; the id
 * of b, or UINT32_MAX with *key its free slot. */
static uint32_t find_ideal(const ideals *s, const uint64_t *b,
                           uint64_t *key) {
  for (*key = hash_bits(b, s->W);; (*key)++) {
    if (*key == UINT64_MAX) *key = 0;
    uint64_t *v = gpp__hmap_get(&s->index, *key);
    if (v == NULL) return UINT32_MAX;
    if (memcmp(bits_of(s, (uint32_t)v[0]), b, s->W * 8) == 0)
      return (uint32_t)v[0];
  }
}

static int grow_ideals(ideals *s, gpp_errctx *err) {
  uint32_t cap = s->cap ? 2 * s->cap : 64;
  if (cap > s->limit) cap = s->limit;
  uint64_t *nb = gpp_realloc_array(err, s->bits, (size_t)cap * s->W, 8);
  if (nb == NULL) return err->code;
  s->bits = nb;
  uint32_t *ns = gpp_realloc_array(err, s->size, cap, sizeof *ns);
  if (ns == NULL) return err->code;
  s->size = ns;
  uint32_t *no = gpp_realloc_array(err, s->cov_off, (size_t)cap + 1,
                                   sizeof *no);
  if (no == NULL) return err->code;
  s->cov_off = no;
  s->cap = cap;
  return 0;
}

/* *id gets b's id, or UINT32_MAX once over the limit. */
static int add_ideal(ideals *s, const uint64_t *b, uint32_t size,
                     uint32_t *id, gpp_errctx *err) {
  uint64_t key;
  if ((*id = find_ideal(s, b, &key)) != UINT32_MAX) return 0;
  if (s->n == s->limit) {
    s->n++; /* over the limit: stop */
    return 0;
  }
  if (s->n == s->cap) GPP_TRY(grow_ideals(s, err));
  memcpy(bits_of(s, s->n), b, s->W * 8);
  s->size[s->n] = size;
  uint64_t *v = gpp__hmap_put(&s->index, key, err);
  if (v == NULL) return err->code;
  v[0] = *id = s->n++;
  return 0;
}

static int add_cover(ideals *s, uint32_t v, uint32_t id, gpp_errctx *err) {
  if (s->n_cov == s->cov_cap) {
    size_t cap = s->cov_cap ? 2 * s->cov_cap : 256;
    uint32_t *nv = gpp_realloc_array(err, s->cov_v, cap, sizeof *nv);
    if (nv == NULL) return err->code;
    s->cov_v = nv;
    uint32_t *ni = gpp_realloc_array(err, s->cov_id, cap, sizeof *ni);
    if (ni == NULL) return err->code;
    s->cov_id = ni;
    s->cov_cap = cap;
  }
  s->cov_v[s->n_cov] = v;
  s->cov_id[s->n_cov++] = id;
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
 * it, recording the covers. */
static int enumerate(ideals *s, gpp_errctx *err) {
  uint64_t *tmp = gpp_calloc(err, s->W, 8);
  if (tmp == NULL) return err->code;
  uint32_t id;
  int rc = add_ideal(s, tmp, 0, &id, err);
  for (uint32_t i = 0; rc == 0 && i < s->n && s->n <= s->limit; i++) {
    s->cov_off[i] = (uint32_t)s->n_cov;
    for (uint32_t v = 0; rc == 0 && v < s->L->n && s->n <= s->limit; v++) {
      if (!addable(s->L, bits_of(s, i), v)) continue;
      memcpy(tmp, bits_of(s, i), s->W * 8);
      tmp[v / 64] |= 1ull << (v % 64);
      rc = add_ideal(s, tmp, s->size[i] + 1, &id, err);
      if (rc == 0 && id != UINT32_MAX) rc = add_cover(s, v, id, err);
    }
  }
  if (rc == 0 && s->n <= s->limit) s->cov_off[s->n] = (uint32_t)s->n_cov;
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

/* On demand pays off while few cells are read: on MMT (summit, batch
 * 128; CPU seconds, 2026-12-05) 2.4 s against 8 s for the capped scan at 4
 * GPUs, but 10 s against 2.8 s at 8, where the capped scan's cuts bite. */
#define ON_DEMAND_MAX_GPUS 4u

typedef struct dfs_item {
  uint32_t j, from, mask; /* ideal, least layer to add, replica counts */
} dfs_item;

typedef struct pp {
  gpp__pctx *c;
  ideals *s;
  uint32_t G, b, full, empty, nr;
  uint32_t *order;         /* ideals by decreasing size */
  uint32_t *rank;          /* an ideal's place in order */
  double *sum;             /* per ideal: nr times, stat, saved, param, cut,
                              GPU-seconds */
  double *msum;            /* with modes, per ideal (NM): see MT below */
  double *lsum;            /* the same per layer (modes_sums) */
  double *g;               /* ideals x (G + 1) */
  uint32_t *nxt, *reps, *nst; /* choice; stages of g's suffix plan */
  uint32_t *kmin;          /* scan: per solved ideal, its least k with a
                              plan (G + 1: none) */
  uint32_t kmax;           /* scan: the cells of the ideal solved */
  double slack;            /* G * cap - W(all) (gpu_seconds) */
  double cap;              /* the stage TPS allowed */
  bool stages_first;       /* second pass: fewest stages within cap */
  bool prune;              /* cuts (costs grow; not exhaustive) */
  bool prune_plain, prune_modes; /* the same, per pass */
  bool on_demand;          /* only the cells the answer reads */
  uint32_t pass, *stamp;   /* a cell is solved in this pass when equal */
  dfs_item *stack;
  size_t top, stack_cap;
} pp;

#define NS(p) ((p)->nr + 5)
/* An ideal's modes figures (msum, NM per ideal, apart from sum: most
 * stages never read them): at MT(q, j) the GPP__AT_TIME seconds of
 * replica count 2^q at tensor degree 2^j, then GPP__MS_*, then at
 * MR(q, j) its forward and re-run seconds (GPP__AT_FWD ..), and last its
 * GPU-seconds with modes (W_AT). */
#define NTP GPP__MAX_TP_LOG2
#define NM(p) ((p)->nr * NTP * GPP__AT_N + GPP__MS_N + 1)
#define W_AT(p) (NM(p) - 1)
#define MT(q, j) ((q) * NTP + (j))
#define MS_AT(p) ((p)->nr * NTP)
#define MR(p, q, j) (MS_AT(p) + GPP__MS_N + ((q) * NTP + (j)) * 3)
#define GI(p, i, k) ((size_t)(i) * ((p)->G + 1) + (k))

static bool use_d(const pp *p, uint32_t q) {
  return q < p->nr && (1u << q) <= p->c->max_k;
}

/* With stage modes, op v's figures at replica count 2^q: the GPP__AT_*
 * seconds at each tensor degree (NaN beyond the batch), and the least
 * GPU-seconds per sample in a tensor group (lowering *w). */
static int op_modes(pp *p, uint32_t v, uint32_t q, double *sm, double *w) {
  gpp__pctx *c = p->c;
  uint32_t d = 1u << q, r = gpp__ceil_div(p->b, d);
  for (uint32_t j = 0; j < NTP; j++) {
    uint32_t t = 1u << j;
    if (r * t > c->B) {
      sm[MT(q, j)] = NAN;
      continue;
    }
    const double *tt = gpp__times(c, r * t), *x = gpp__xtimes(c, r * t);
    if (tt == NULL || x == NULL) return c->err->code;
    sm[MT(q, j)] += tt[v];
    for (int a = 0; a < 3; a++) sm[MR(p, q, j) + a] += x[(size_t)a * c->n + v];
    p->prune_modes = p->prune_modes && tt[v] >= 0;
    if (j > 0 && use_d(p, q) && gpp__tensor_fits(c, t, d) &&
        (double)(d / t) * tt[v] / p->b < *w)
      *w = (double)(d / t) * tt[v] / p->b;
  }
  return 0;
}

static int ideal_sums(pp *p, uint32_t i) {
  gpp__pctx *c = p->c;
  const uint64_t *b = bits_of(p->s, i);
  double *sm = p->sum + (size_t)i * NS(p);
  memset(sm, 0, NS(p) * sizeof *sm);
  const uint32_t *of = p->s->L->of;
  for (uint32_t v = 0; v < c->n; v++) {
    if (!has(b, of[v])) continue;
    double w = INFINITY;
    for (uint32_t q = 0; q < p->nr; q++) {
      const double *t = gpp__times(c, gpp__ceil_div(p->b, 1u << q));
      if (t == NULL) return c->err->code;
      sm[q] += t[v];
      p->prune_plain = p->prune_plain && t[v] >= 0;
      if (use_d(p, q) && (1u << q) * t[v] / p->b < w) w = (1u << q) * t[v] / p->b;
    }
    sm[p->nr + 4] += w;
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

/* With stage modes: each layer's figures (lsum, with its ops' GPU-seconds
 * in tensor groups), then each ideal's as its parent's in the cover
 * relation plus its last layer's (ideals are numbered after their
 * parents). */
static int modes_sums(pp *p) {
  gpp__pctx *c = p->c;
  const ideals *s = p->s;
  size_t nm = NM(p);
  for (uint32_t v = 0; v < c->n; v++) {
    double *lm = p->lsum + (size_t)s->L->of[v] * nm;
    double w = INFINITY;
    for (uint32_t q = 0; q < p->nr; q++) {
      const double *t = gpp__times(c, gpp__ceil_div(p->b, 1u << q));
      if (t == NULL) return c->err->code;
      if (use_d(p, q) && (1u << q) * t[v] / p->b < w) w = (1u << q) * t[v] / p->b;
    }
    for (uint32_t q = 0; q < p->nr; q++) GPP_TRY(op_modes(p, v, q, lm, &w));
    lm[W_AT(p)] += w;
    gpp__modes_add(c, v, lm + MS_AT(p));
  }
  bool *done = gpp_calloc(c->err, s->n, sizeof *done);
  if (done == NULL) return c->err->code;
  done[p->empty] = true;
  for (uint32_t i = 0; i < s->n; i++)
    for (uint32_t e = s->cov_off[i]; done[i] && e < s->cov_off[i + 1]; e++) {
      uint32_t id = s->cov_id[e];
      if (done[id]) continue;
      const double *a = p->msum + (size_t)i * nm,
                   *l = p->lsum + (size_t)s->cov_v[e] * nm;
      double *m = p->msum + (size_t)id * nm;
      for (size_t x = 0; x < nm; x++) m[x] = a[x] + l[x];
      done[id] = true;
    }
  free(done);
  return 0;
}

/* A stage's sums; with stage modes, their figures are added only where
 * read (pair_modes: lvl 1 the compute per tensor degree, 2 all), as most
 * stages are settled by the default mode's. */
typedef struct pst {
  gpp__stage_sums s;
  uint32_t i, j, q;
  int lvl;
} pst;

static void pair_sums(const pp *p, uint32_t i, uint32_t j, uint32_t q,
                      pst *ps) {
  gpp__stage_sums *s = &ps->s;
  const double *a = p->sum + (size_t)i * NS(p), *b = p->sum + (size_t)j * NS(p);
  ps->i = i;
  ps->j = j;
  ps->q = q;
  ps->lvl = 0;
  s->time = b[q] - a[q];
  s->stat = b[p->nr] - a[p->nr];
  s->saved = b[p->nr + 1] - a[p->nr + 1];
  s->param = b[p->nr + 2] - a[p->nr + 2];
  s->in_bytes = a[p->nr + 3];
  s->out_bytes = b[p->nr + 3];
  s->modes = false;
}

/* The stage's sums with the modes' figures up to lvl (with modes). */
static gpp__stage_sums *pair_modes(const pp *p, pst *ps, int lvl) {
  gpp__stage_sums *s = &ps->s;
  const double *a = p->msum + (size_t)ps->i * NM(p),
               *b = p->msum + (size_t)ps->j * NM(p);
  uint32_t q = ps->q;
  if (ps->lvl < 1 && lvl >= 1) {
    for (uint32_t l = 0; l < NTP; l++) {
      s->at[l][GPP__AT_TIME] = b[MT(q, l)] - a[MT(q, l)];
      for (int x = GPP__AT_FWD; x < GPP__AT_N; x++) s->at[l][x] = 0;
    }
    s->lay_saved = p->c->max_layer_saved; /* the model's: upper bounds */
    s->lay_param = s->first_param = p->c->max_layer_param;
    s->modes = true;
  }
  if (ps->lvl < 2 && lvl >= 2) {
    for (int x = 0; x < GPP__MS_N; x++)
      s->ms[x] = b[MS_AT(p) + x] - a[MS_AT(p) + x];
    for (uint32_t l = 0; l < NTP; l++)
      for (int x = 0; x < 3; x++)
        s->at[l][GPP__AT_FWD + x] = b[MR(p, q, l) + x] - a[MR(p, q, l) + x];
  }
  if (lvl > ps->lvl) ps->lvl = lvl;
  return s;
}

/* The stage's compute in its cheapest mode (gpp__stage_work_floor): its
 * default mode's when that is within bound. */
static double pair_work(const pp *p, pst *ps, uint32_t d, double bound) {
  if (!p->c->modes || ps->s.time <= bound) return ps->s.time;
  return gpp__stage_work_floor(p->c, pair_modes(p, ps, 1), d);
}

/* Whether some mode of the stage holds infl samples: the default mode's
 * memory first. */
static bool pair_fits(const pp *p, pst *ps, uint32_t d, double infl) {
  bool modes = ps->s.modes;
  ps->s.modes = false;
  bool ok = gpp__stage_fits(p->c, &ps->s, p->b, d, infl);
  ps->s.modes = modes;
  return ok || (p->c->modes &&
                gpp__stage_fits(p->c, pair_modes(p, ps, 2), p->b, d, infl));
}

/* Whether the suffix plan (val, st) through ideal j on d replicas beats
 * cell at; equal ones keep what the reference scan meets first: the
 * earlier j in order, then the fewer replicas. */
static bool beats(const pp *p, size_t at, double val, uint32_t st,
                  uint32_t j, uint32_t d) {
  if (gpp__seq_better(val, st, p->g[at], p->nst[at], p->stages_first))
    return true;
  if (val != p->g[at] || st != p->nst[at]) return false;
  uint32_t rj = p->rank[j], rc = p->rank[p->nxt[at]];
  return rj < rc || (rj == rc && d < p->reps[at]);
}

/* The TPS of a stage to offer: its estimate, or with stage modes a floor
 * under all of them (offer prices the fastest mode that holds the cell's
 * in-flight count once the floor may beat the cell). */
static double offer_tps(const pp *p, pst *ps, uint32_t d) {
  return p->c->modes ? gpp__stage_tps_floor(p->c, pair_modes(p, ps, 1), p->b, d)
                     : gpp__stage_tps(p->c, &ps->s, p->b, d);
}

/* Offers stage J \ I on d replicas, of TPS t (with modes, a floor), to
 * cell (i, k). */
static void offer(pp *p, uint32_t i, uint32_t k, uint32_t j, uint32_t d,
                  double t, pst *ps) {
  size_t at = GI(p, i, k);
  double rest = j == p->full ? 0 : p->g[GI(p, j, k - d)];
  uint32_t st = 1 + (j == p->full ? 0 : p->nst[GI(p, j, k - d)]);
  double val = t > rest ? t : rest;
  if (rest == INFINITY || !beats(p, at, val, st, j, d)) return;
  if (p->c->modes) {
    /* t was a floor under the modes (offer_tps). */
    t = gpp__stage_best(p->c, pair_modes(p, ps, 2), p->b, d,
                        (double)st * p->b, NULL, NULL);
    val = t > rest ? t : rest;
    if (t == INFINITY || t > p->cap || !beats(p, at, val, st, j, d)) return;
  } else if (!pair_fits(p, ps, d, (double)st * p->b)) {
    return;
  }
  p->g[at] = val;
  p->nst[at] = st;
  p->nxt[at] = j;
  p->reps[at] = d;
}

/* ---- every cell, every ideal J > I (cut when costs grow) ---- */

/* Whether no superset of J can make a stage J' \ I on d replicas of cell
 * I: its work-only TPS (a lower bound growing with J) exceeds the cap, or
 * its memory with one micro-batch in flight does not fit. */
static bool cut_below(const pp *p, pst *ps, uint32_t d) {
  return p->prune && (pair_work(p, ps, d, p->cap * p->b) / p->b > p->cap ||
                      !pair_fits(p, ps, d, p->b));
}

/* GPU-seconds per sample of ideal i's layers, each on its most
 * frugal replica count: a stage of TPS t <= cap on d replicas has
 * d * cap >= its GPU-seconds, so a plan within the cap spends at most
 * slack = G * cap - W(all) on rounding stages up to whole GPUs. */
static double gpu_seconds(const pp *p, uint32_t i) {
  return p->c->modes ? p->msum[(size_t)i * NM(p) + W_AT(p)]
                     : p->sum[(size_t)i * NS(p) + p->nr + 4];
}

/* Offers stage J \ I on the replica counts of mask to the cells (i, k)
 * the answer may read (k <= kmax); returns the counts whose supersets of
 * J may still do.  With cuts, a stage rounding up more than the slack is
 * not offered: no plan within the cap holds it. */
static uint32_t relax_pair(pp *p, uint32_t i, uint32_t j, uint32_t mask) {
  uint32_t keep = 0;
  for (uint32_t q = 0; use_d(p, q); q++) {
    uint32_t d = 1u << q;
    if (!(mask & d)) continue;
    pst s;
    pair_sums(p, i, j, q, &s);
    if (cut_below(p, &s, d) || (j != p->full && d + 1 > p->kmax)) continue;
    keep |= d;
    double waste = d * p->cap - (gpu_seconds(p, j) - gpu_seconds(p, i));
    if (p->prune && waste > p->slack) continue;
    p->c->states++;
    double t = offer_tps(p, &s, d);
    for (uint32_t k = d + p->kmin[j]; t <= p->cap && k <= p->kmax; k++)
      offer(p, i, k, j, d, t, &s);
  }
  return keep;
}

/* With cuts, the cells (i, k) the answer may read: its prefix needs at
 * least W(i) / cap GPUs (and one unless empty). */
static uint32_t reachable_k(const pp *p, uint32_t i) {
  if (!p->prune || i == p->empty) return p->G;
  double need = p->cap < INFINITY ? ceil(gpu_seconds(p, i) / p->cap - 1e-9)
                                  : 1;
  if (need < 1) need = 1;
  return need >= p->G ? 0 : p->G - (uint32_t)need;
}

static void init_cell(pp *p, uint32_t i, uint32_t k) {
  p->g[GI(p, i, k)] = i == p->full ? 0 : INFINITY;
  p->nst[GI(p, i, k)] = i == p->full ? 0 : UINT32_MAX;
}

static int push(pp *p, dfs_item it);
static int push_covers(pp *p, uint32_t j, uint32_t from, uint32_t mask);

/* Every ideal J > I, each once: the supersets walked through the cover
 * relation adding layers in increasing order (layers are numbered in
 * topological order, so every step is an ideal), instead of a scan of all
 * ideals with a subset test.  offer() breaks ties by J's rank, not by the
 * order met, so the cells are the scan's. */
static int solve_ideal(pp *p, uint32_t i) {
  for (uint32_t k = 0; k <= p->G; k++) init_cell(p, i, k);
  p->kmin[i] = 0;
  if (i == p->full) return 0;
  p->kmax = reachable_k(p, i);
  relax_pair(p, i, p->full, UINT32_MAX);
  size_t base = p->top;
  GPP_TRY(push_covers(p, i, 0, UINT32_MAX));
  while (p->top > base) {
    dfs_item it = p->stack[--p->top];
    uint32_t keep = relax_pair(p, i, it.j, it.mask);
    if (keep) GPP_TRY(push_covers(p, it.j, it.from, keep));
  }
  for (p->kmin[i] = 0; p->kmin[i] <= p->G; p->kmin[i]++)
    if (p->g[GI(p, i, p->kmin[i])] < INFINITY) break;
  return 0;
}

/* ---- on demand: the cells the answer reads, supersets walked with cuts */

static int push(pp *p, dfs_item it) {
  if (p->top == p->stack_cap) {
    size_t cap = p->stack_cap ? 2 * p->stack_cap : 256;
    dfs_item *ns = gpp_realloc_array(p->c->err, p->stack, cap, sizeof *ns);
    if (ns == NULL) return p->c->err->code;
    p->stack = ns;
    p->stack_cap = cap;
  }
  p->stack[p->top++] = it;
  return 0;
}

/* Pushes the covers of j by layers from `from` on (not the full set). */
static int push_covers(pp *p, uint32_t j, uint32_t from, uint32_t mask) {
  const ideals *s = p->s;
  for (uint32_t e = s->cov_off[j]; e < s->cov_off[j + 1]; e++)
    if (s->cov_v[e] >= from && s->cov_id[e] != p->full)
      GPP_TRY(push(p, (dfs_item){s->cov_id[e], s->cov_v[e] + 1, mask}));
  return 0;
}

static int solve_cell(pp *p, uint32_t i, uint32_t k);

/* Tries stage J \ I on d replicas for cell (i, k), solving its rest;
 * *deeper: whether a superset of J may still do (its work-only TPS, a lower
 * bound growing with J, within the cap and in the first pass within the
 * cell's value; its memory at one micro-batch in flight fitting). */
static int try_stage(pp *p, uint32_t i, uint32_t k, uint32_t j, uint32_t q,
                     bool *deeper) {
  uint32_t d = 1u << q;
  double cur = p->stages_first ? INFINITY : p->g[GI(p, i, k)];
  pst s;
  pair_sums(p, i, j, q, &s);
  double lb = pair_work(p, &s, d, fmin(p->cap, cur) * p->b) / p->b;
  *deeper = lb <= p->cap && lb <= cur && pair_fits(p, &s, d, p->b);
  if (!*deeper) return 0;
  GPP_TRY(solve_cell(p, j, k - d));
  if (p->g[GI(p, j, k - d)] > cur) return 0;
  p->c->states++;
  double t = offer_tps(p, &s, d);
  if (t <= p->cap) offer(p, i, k, j, d, t, &s);
  return 0;
}

static int walk_supersets(pp *p, uint32_t i, uint32_t k, uint32_t mask) {
  size_t base = p->top;
  GPP_TRY(push_covers(p, i, 0, mask));
  while (p->top > base) {
    dfs_item it = p->stack[--p->top];
    uint32_t keep = 0;
    for (uint32_t q = 0; (1u << q) <= it.mask; q++) {
      bool deeper = false;
      if (it.mask & (1u << q))
        GPP_TRY(try_stage(p, i, k, it.j, q, &deeper));
      if (deeper) keep |= 1u << q;
    }
    if (keep) GPP_TRY(push_covers(p, it.j, it.from, keep));
  }
  return 0;
}

/* Cell (i, k): the whole suffix as one stage first (a bound for the
 * walk), then the supersets with d < k replicas (d = k leaves no GPU for
 * a rest). */
static int solve_cell(pp *p, uint32_t i, uint32_t k) {
  size_t at = GI(p, i, k);
  if (p->stamp[at] == p->pass) return 0;
  p->stamp[at] = p->pass;
  init_cell(p, i, k);
  if (i == p->full || k == 0) return 0;
  uint32_t mask = 0;
  for (uint32_t q = 0; use_d(p, q) && (1u << q) <= k; q++) {
    uint32_t d = 1u << q;
    pst s;
    pair_sums(p, i, p->full, q, &s);
    p->c->states++;
    double t = offer_tps(p, &s, d);
    if (t <= p->cap) offer(p, i, k, p->full, d, t, &s);
    if (d < k) mask |= d;
  }
  if (mask == 0) return 0;
  return walk_supersets(p, i, k, mask);
}

/* One pass: the value g(empty, G) and the choices leading to it. */
static int solve_pass(pp *p) {
  p->slack = p->cap < INFINITY
                 ? p->G * p->cap - gpu_seconds(p, p->full) + 1e-9 * p->cap
                 : INFINITY;
  if (p->on_demand) {
    p->pass++;
    return solve_cell(p, p->empty, p->G);
  }
  for (uint32_t q = 0; q < p->s->n; q++) GPP_TRY(solve_ideal(p, p->order[q]));
  return 0;
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
  if (rc == 0) rc = gpp__candidate_build(p->c, sp, n, false, true, cand);
  for (uint32_t q = 0; rc != 0 && q < n; q++) free(sp[q].ops);
  free(sp);
  return rc;
}

/* With stage modes, per layer the work-only TPS at replica count 2^q in
 * tensor groups of 2^j (its ops' seconds at r * 2^j samples over 2^j),
 * into per[layer * w + q * nt + j]; INFINITY where the group may not
 * split the stage. */
static int tensor_bounds(pp *p, uint32_t q, uint32_t nt, uint32_t w,
                         double *per) {
  gpp__pctx *c = p->c;
  uint32_t d = 1u << q, r = gpp__ceil_div(p->b, d);
  for (uint32_t j = 1; j < nt; j++) {
    uint32_t t = 1u << j;
    bool ok = r * t <= c->B && gpp__tensor_fits(c, t, d);
    const double *tt = ok ? gpp__times(c, r * t) : NULL;
    if (ok && tt == NULL) return c->err->code;
    for (uint32_t l = 0; !ok && l < p->s->L->n; l++)
      per[(size_t)l * w + q * nt + j] = INFINITY;
    for (uint32_t v = 0; ok && v < c->n; v++)
      per[(size_t)p->s->L->of[v] * w + q * nt + j] += tt[v] / t / p->b;
  }
  return 0;
}

/* A lower bound of the least bottleneck: every layer lies in some stage,
 * whose work-only TPS is at least the layer's at its best replica count.
 * *whole: the whole model's work-only TPS at its worst replica count, over
 * which no stage's lower bound goes. */
static int bottleneck_bounds(pp *p, double *lb, double *whole) {
  gpp__pctx *c = p->c;
  uint32_t nt = c->modes ? GPP__MAX_TP_LOG2 : 1, w = p->nr * nt;
  double *per = gpp_calloc(c->err, (size_t)p->s->L->n * w, sizeof *per);
  if (per == NULL) return c->err->code;
  *whole = 0;
  int rc = 0;
  for (uint32_t q = 0; use_d(p, q) && rc == 0; q++) {
    const double *t = gpp__times(c, gpp__ceil_div(p->b, 1u << q));
    if (t == NULL) { rc = c->err->code; break; }
    double sum = 0;
    for (uint32_t v = 0; v < c->n; v++) {
      per[(size_t)p->s->L->of[v] * w + q * nt] += t[v] / p->b;
      sum += t[v] / p->b;
    }
    if (sum > *whole) *whole = sum;
    rc = tensor_bounds(p, q, nt, w, per);
  }
  *lb = 0;
  for (uint32_t l = 0; l < p->s->L->n && rc == 0; l++) {
    double best = INFINITY;
    for (uint32_t x = 0; x < w; x++)
      if (per[(size_t)l * w + x] < best) best = per[(size_t)l * w + x];
    if (best > *lb) *lb = best;
  }
  free(per);
  return rc;
}

/* The first pass (least bottleneck) under caps growing (GPP__CAP_GROWTH)
 * from a lower bound (the largest layer's, or the whole model's
 * GPU-seconds over G GPUs): a stage over the cap is never priced, and a
 * cell whose least bottleneck is within the cap gets the same value and
 * choice as without one (every plan within the cap is offered), so the
 * first cap the whole model's cell meets gives the reference's answer.
 * Once the cap passes every stage's work-only bound, the pass runs
 * uncapped; on demand it does at once (its walks cut on the cells'
 * values instead).  Any first cap gives that answer, so with cuts it
 * starts at start where that is above the bound. */
static int least_bottleneck(pp *p, double start) {
  p->stages_first = false;
  double lb = 0, whole = 0;
  if (p->prune && !p->on_demand) GPP_TRY(bottleneck_bounds(p, &lb, &whole));
  if (lb > 0 && gpu_seconds(p, p->full) / p->G > lb)
    lb = gpu_seconds(p, p->full) / p->G;
  if (p->prune && !p->on_demand && start < INFINITY && start > lb)
    lb = start;
  for (p->cap = lb > 0 ? lb : INFINITY;; p->cap *= GPP__CAP_GROWTH) {
    if (p->cap > whole) p->cap = INFINITY;
    GPP_TRY(solve_pass(p));
    if (p->cap == INFINITY || p->g[GI(p, p->empty, p->G)] < INFINITY)
      return 0;
  }
}

/* One search: the least bottleneck (*least; its first cap at least
 * start), then the fewest stages within the TPS tolerance of it; its plan
 * in *cand when *found. */
static int pp_search(pp *p, gpp_planner_candidate *cand, bool *found,
                     double start, double *least) {
  p->prune = p->c->modes ? p->prune_modes : p->prune_plain;
  p->on_demand = p->prune && p->G <= ON_DEMAND_MAX_GPUS;
  GPP_TRY(least_bottleneck(p, start));
  double best = *least = p->g[GI(p, p->empty, p->G)];
  p->cap = best * (1 + p->c->opt->tps_tolerance);
  p->stages_first = true;
  if (best < INFINITY) GPP_TRY(solve_pass(p));
  return read_plan(p, cand, found);
}

/* Whether stage modes may help at this size, from the plain search's
 * plan (in the cells, plain its candidate): in their best modes its
 * stages have a lower bottleneck (the candidate with modes takes one only
 * where it is faster, as the plan fits without).  Pricing modes costs
 * Piper's search as much as the plain one (the demo, MMT on 16 Summit
 * GPUs: Piper 8.2 s against 3.5 s, the demo 17.7 s), and there they
 * never lower the least bottleneck (the same at every micro-batch size, 8
 * and 16 GPUs), so the modes' search runs where the plain plan shows they
 * may or no plain plan fits. */
static int modes_help(pp *p, const gpp_planner_candidate *plain,
                      bool *help) {
  gpp_planner_candidate probe = {0};
  bool found = false;
  int rc = read_plan(p, &probe, &found);
  *help = rc == 0 && found && probe.tps < plain->tps;
  gpp__candidate_free(&probe);
  return rc;
}

/* One micro-batch size: the search without stage modes, then, with them,
 * a search pricing them (as GraphPipe and PipeDream), keeping the plain
 * plan and the modes' one when it uses a mode or is estimated faster.
 * The modes' search starts its caps at the plain least bottleneck, which
 * it usually meets (any first cap gives the reference's answer, a low one
 * only prunes more): one capped pass instead of several (MMT on 16 Summit
 * GPUs: the same values). */
/* With stage modes, their sums (msum). */
static int modes_alloc(pp *p) {
  p->msum = gpp_calloc(p->c->err, (size_t)p->s->n * NM(p), sizeof *p->msum);
  p->lsum = gpp_calloc(p->c->err, (size_t)p->s->L->n * NM(p),
                       sizeof *p->lsum);
  if (!(p->msum && p->lsum)) return p->c->err->code;
  p->prune_modes = p->prune_plain;
  return modes_sums(p);
}

static int pp_one_size(pp *p, gpp_planner_result *out) {
  p->nr = gpp__log2(p->b < p->G ? p->b : p->G) + 1;
  free(p->sum);
  free(p->msum);
  free(p->lsum);
  p->msum = p->lsum = NULL;
  p->sum = gpp_calloc(p->c->err, (size_t)p->s->n * NS(p), sizeof *p->sum);
  if (p->sum == NULL) return p->c->err->code;
  p->prune_plain = !p->c->opt->exhaustive && gpp__costs_grow(p->c);
  for (uint32_t i = 0; i < p->s->n; i++) GPP_TRY(ideal_sums(p, i));
  gpp_planner_candidate plain = {0}, cand = {0};
  bool found = false, found_plain = false, modes = p->c->modes;
  double least = INFINITY;
  p->c->modes = false;
  int rc = pp_search(p, &plain, &found_plain, INFINITY, &least);
  p->c->modes = modes;
  bool help = modes;
  if (rc == 0 && modes && found_plain) rc = modes_help(p, &plain, &help);
  if (rc == 0 && help) rc = modes_alloc(p);
  if (rc == 0 && help) rc = pp_search(p, &cand, &found, least, &least);
  return gpp__add_plans(out, rc, &plain, found_plain, &cand, found,
                        p->c->err);
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

static int alloc_walk(pp *p) {
  const ideals *s = p->s;
  p->stamp = gpp_calloc(p->c->err, (size_t)s->n * (p->G + 1),
                        sizeof *p->stamp);
  p->kmin = gpp_calloc(p->c->err, s->n, sizeof *p->kmin);
  p->rank = gpp_calloc(p->c->err, s->n, sizeof *p->rank);
  if (!(p->stamp && p->rank && p->kmin)) return p->c->err->code;
  for (uint32_t q = 0; q < s->n; q++) p->rank[p->order[q]] = q;
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
  GPP_TRY(alloc_walk(p));
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
  free(p.order); free(p.sum); free(p.msum); free(p.lsum); free(p.g); free(p.nxt); free(p.reps);
  free(p.nst); free(p.rank); free(p.stamp); free(p.kmin); free(p.stack);
  free(s.bits); free(s.size); free(s.cov_off); free(s.cov_v); free(s.cov_id);
  gpp__hmap_free(&s.index);
  gpp__layers_free(&L);
  return rc;
}

const gpp_planner_type gpp_planner_piper = {
    "piper", "Piper: DP over downsets (ideals) of the layer graph, 1f1b", piper_run};
