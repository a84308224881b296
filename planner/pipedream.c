/* pipedream.c -- PipeDream's partitioner (SOSP'19), the sequential
 * baseline: ops in topological order form one chain, cut into contiguous
 * stages, each replicated on m' machines (any count), schedule 1f1b.
 *
 * PipeDream's recurrence is A(j, m) = min over i < j, m' < m of
 * max(A(i, m - m'), 2 C_i, T(i+1 -> j, m')) over prefixes.  It is run here
 * over suffixes, which is the same recursion read from the other end and
 * lets a stage's memory check see the stages after it:
 *   A(i, m) = min over j > i, m' <= m of max(T(i -> j, m'), A(j, m - m'))
 * where T is the shared stage cost (planner/internal.h): compute plus
 * amortised gradient sync, and the boundary transfers C_i (activations one
 * way, gradients the other: PipeDream's 2 C_i) as the communication term.
 * The plan is replayed with the synchronous 1F1B schedule (as the paper's
 * baselines ran on GraphPipe's runtime), where a pipeline's depth costs
 * warm-up time and stashed activations, so a second pass keeps the fewest
 * stages that meet the least bottleneck (fill_table), and a stage's
 * memory is checked with 1F1B's in-flight count, 1 + the stages after it
 * (NOAM counts PipeDream's asynchronous round-robin replicas instead).  On
 * a chain this is GraphPipe's objective too: least bottleneck, then least
 * depth.
 * Boundary bytes are the chain cut: every op before the cut with a consumer
 * after it, as PipeDream's activation sizes on its linearised graph.
 * Values are seconds per micro-batch; the DP runs once per power-of-two
 * micro-batch size dividing the batch.
 * Search: opt->exhaustive tries every (j, m') of every cell (the
 * reference).  By default a cell drops a replica count m' once the stage's
 * work alone (a lower bound growing with j) exceeds the cell's value (first
 * pass) or the cap, or its memory with one micro-batch in flight does not
 * fit, and leaves the m' for this j once every rest A(j, m'' <= m - m') is
 * infinite or, in the first pass, exceeds the cell's value.  Both passes
 * run under a cap on the stage time (the first under caps growing from a
 * lower bound, least_bottleneck), which prices only what a plan within it
 * can hold: cells (i, m) whose prefix fits in G - m GPUs, and stages that
 * round their GPU-seconds up to whole GPUs by no more than the plan can
 * spare (pre_w, slack).  The order of the candidates tried is the
 * reference's, so both keep the same plan.  States count stages priced.
 * Stage modes (planner/internal.h): per micro-batch size a second search
 * prices each stage in its fastest mode that holds its 1F1B in-flight
 * count (gpp__stage_best) and its plan joins the plain one's as a
 * candidate (gpp__modes_plan_kept).  Its cuts are the same on bounds
 * valid over every mode: a stage's work is at least its compute in its
 * cheapest tensor degree (gpp__stage_work_floor, growing with j), its
 * GPU-seconds at least its ops' in tensor groups (pre_w, tensor_work),
 * its TPS at least gpp__stage_tps_floor (a stage that floor rules out is
 * not priced), and its memory fits when some mode's does
 * (gpp__stage_fits, growing with j as every mode's memory does).  The
 * modes' sums are read only where the default mode's do not settle a
 * stage (mode_sums).  From MODES_NODES_FROM GPUs its stages take whole
 * nodes (measured below).
 */
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

typedef struct pd {
  gpp__pctx *c;
  uint32_t n, G, b;
  double *cut;           /* cut[j]: bytes per sample crossing j-1 | j */
  double *pre_stat, *pre_saved, *pre_param;
  double **pre_time;     /* by replica sample count r, lazily */
  double *A;             /* (n + 1) x (G + 1) */
  uint32_t *next, *reps; /* choice: end of the first stage, its replicas */
  uint32_t *nst;         /* stages of A's suffix plan */
  double cap;            /* the stage time allowed */
  bool stages_first;     /* second pass: fewest stages within the cap */
  bool prune;            /* cuts on (not exhaustive, costs that grow) */
  bool times_ok;         /* no op time read is negative */
  double *pm;            /* pm(j, m) = min over m'' <= m of A(j, m'') */
  double *pre_w;         /* GPU-seconds per micro-batch of the prefix, each
                            op on its most frugal replica count */
  double slack;          /* G * cap - pre_w[n]: what rounding stages up to
                            whole GPUs may spend in a plan within the cap */
  uint32_t *alive;       /* a cell's replica counts still tried */
  gpp__mpre mp;          /* with stage modes: their prefix sums */
  uint32_t unit;         /* stage sizes are multiples of it (modes pass) */
  int lvl;               /* of the stage's sums: 0 default mode only, 1 and
                            the compute per tensor degree, 2 all */
} pd;

#define AT(p, i, m) ((size_t)(i) * ((p)->G + 1) + (m))

/* An op at position v feeds every cut up to its last consumer. */
static void chain_cuts(pd *p) {
  const gpp_model *m = p->c->m;
  for (uint32_t v = 0; v < p->n; v++) {
    uint32_t last = v;
    for (uint32_t j = 0; j < m->ops[v].n_outputs; j++)
      if (m->ops[v].outputs[j] > last) last = m->ops[v].outputs[j];
    for (uint32_t j = v + 1; j <= last; j++) p->cut[j] += p->c->outb[v];
  }
}

static const double *pre_time(pd *p, uint32_t r) {
  if (p->pre_time[r]) return p->pre_time[r];
  const double *t = gpp__times(p->c, r);
  double *q = t ? gpp_calloc(p->c->err, p->n + 1, sizeof *q) : NULL;
  if (q == NULL) return NULL;
  for (uint32_t v = 0; v < p->n; v++) {
    q[v + 1] = q[v] + t[v];
    p->times_ok = p->times_ok && t[v] >= 0;
  }
  return p->pre_time[r] = q;
}

/* The cuts (pipedream.c, piper.c) need stage costs that only grow with
 * the stage: no negative (or NaN) memory, weight bytes or communication
 * parameter; op times are checked by each planner as it reads them. */
bool gpp__costs_grow(const gpp__pctx *c) {
  bool ok = c->in->comm.p2p_latency >= 0 && c->in->comm.p2p_sec_per_byte >= 0;
  for (uint32_t j = 0; j < GPP_PLANNER_MAX_LOG2; j++)
    ok = ok && c->in->comm.ar_latency[j] >= 0 &&
         c->in->comm.ar_sec_per_byte[j] >= 0;
  for (uint32_t v = 0; v < c->n; v++)
    ok = ok && c->stat[v] >= 0 && c->saved[v] >= 0 && c->param[v] >= 0;
  return ok;
}

static const double *pre_time_cb(void *p, uint32_t r) {
  return pre_time(p, r);
}

static int stage_sums(pd *p, uint32_t i, uint32_t j, uint32_t k,
                      gpp__stage_sums *s) {
  uint32_t r = gpp__ceil_div(p->b, k);
  const double *t = pre_time(p, r);
  if (t == NULL) return p->c->err->code;
  s->time = t[j] - t[i];
  s->stat = p->pre_stat[j] - p->pre_stat[i];
  s->saved = p->pre_saved[j] - p->pre_saved[i];
  s->param = p->pre_param[j] - p->pre_param[i];
  s->in_bytes = p->cut[i];
  s->out_bytes = j < p->n ? p->cut[j] : 0;
  s->modes = false;
  p->lvl = 0;
  return 0;
}

/* With stage modes, adds their sums to s up to level lvl (pd.lvl), each
 * part once: they are read only where the default mode's figures do not
 * settle the question. */
static int mode_sums(pd *p, uint32_t i, uint32_t j, uint32_t k, int lvl,
                     gpp__stage_sums *s) {
  uint32_t r = gpp__ceil_div(p->b, k);
  if (p->lvl < 1 && lvl >= 1)
    GPP_TRY(gpp__mpre_times(p->c, pre_time_cb, p, i, j, 0, 0, r, s));
  if (p->lvl < 2 && lvl >= 2)
    GPP_TRY(gpp__mpre_rest(p->c, &p->mp, i, j, 0, 0, r, s));
  if (lvl > p->lvl) p->lvl = lvl;
  return 0;
}

/* Whether some mode of the stage holds infl samples: the default mode's
 * memory first, the modes' sums only when it does not. */
static int stage_fits(pd *p, uint32_t i, uint32_t j, uint32_t k,
                      gpp__stage_sums *s, double infl, bool *ok) {
  bool modes = s->modes;
  s->modes = false;
  *ok = gpp__stage_fits(p->c, s, p->b, k, infl);
  s->modes = modes;
  if (*ok || !p->c->modes) return 0;
  GPP_TRY(mode_sums(p, i, j, k, 2, s));
  *ok = gpp__stage_fits(p->c, s, p->b, k, infl);
  return 0;
}

static bool better(const pd *p, size_t at, double val, uint32_t stages) {
  return gpp__seq_better(val, stages, p->A[at], p->nst[at],
                         p->stages_first);
}

/* Stage [i, j) on k of the m machines left, of sums s; updates A(i, m). */
static int relax(pd *p, uint32_t i, uint32_t j, uint32_t m, uint32_t k,
                 gpp__stage_sums *s) {
  size_t at = AT(p, i, m);
  double rest = j == p->n ? 0 : p->A[AT(p, j, m - k)];
  uint32_t stages = 1 + (j == p->n ? 0 : p->nst[AT(p, j, m - k)]);
  if (rest == INFINITY || !better(p, at, rest, stages)) return 0;
  /* With modes, no mode is faster than the floor: a stage it rules out
   * is not priced. */
  if (p->c->modes) {
    GPP_TRY(mode_sums(p, i, j, k, 1, s));
    double lb = gpp__stage_tps_floor(p->c, s, p->b, k) * p->b;
    if (lb > p->cap || !better(p, at, lb > rest ? lb : rest, stages))
      return 0;
  }
  GPP_TRY(mode_sums(p, i, j, k, p->c->modes ? 2 : 0, s));
  p->c->states++;
  /* With modes, the fastest mode that holds the stage's in-flight count
   * (INFINITY: none). */
  double infl = (double)stages * p->b;
  double t = (p->c->modes ? gpp__stage_best(p->c, s, p->b, k, infl, NULL, NULL)
                          : gpp__stage_tps(p->c, s, p->b, k)) * p->b;
  double val = t > rest ? t : rest;
  if (t <= p->cap && better(p, at, val, stages) &&
      (p->c->modes ? t < INFINITY
                   : gpp__stage_fits(p->c, s, p->b, k, infl))) {
    p->A[at] = val;
    p->nst[at] = stages;
    p->next[at] = j;
    p->reps[at] = k;
  }
  return 0;
}

static int fill_cell_all(pd *p, uint32_t i, uint32_t m) {
  for (uint32_t j = i + 1; j <= p->n; j++)
    for (uint32_t k = p->unit; k <= m && k <= p->b && k <= p->c->max_k;
         k += p->unit) {
      if (j < p->n && k == m) break;
      gpp__stage_sums s;
      GPP_TRY(stage_sums(p, i, j, k, &s));
      GPP_TRY(relax(p, i, j, m, k, &s));
    }
  return 0;
}

/* Tries stage [i, j) on k for cell (i, m); *alive: whether a longer stage
 * on k may still do (its work, growing with j, within the cell's value in
 * the first pass or the cap in the second; its memory at one micro-batch
 * in flight fitting). */
static int try_stage(pd *p, uint32_t i, uint32_t j, uint32_t m, uint32_t k,
                     bool *alive) {
  gpp__stage_sums s;
  GPP_TRY(stage_sums(p, i, j, k, &s));
  double bound = p->stages_first ? p->cap : p->A[AT(p, i, m)];
  if (bound > p->cap) bound = p->cap;
  /* With modes, their floor is read only where the default mode's time
   * would end the stage (the floor is at most its time). */
  bool work_ok = s.time / p->b * p->b <= bound, mem_ok = false;
  if (!work_ok && p->c->modes) {
    GPP_TRY(mode_sums(p, i, j, k, 1, &s));
    work_ok = gpp__stage_work_floor(p->c, &s, k) / p->b * p->b <= bound;
  }
  if (work_ok) GPP_TRY(stage_fits(p, i, j, k, &s, p->b, &mem_ok));
  *alive = work_ok && mem_ok;
  if (*alive && (j == p->n || k < m)) GPP_TRY(relax(p, i, j, m, k, &s));
  return 0;
}

static double need_gpus(const pd *p, uint32_t i, uint32_t j);

/* Whether this and every larger replica count k' for stage [i, j) of
 * cell (i, m) can be skipped: every rest A(j, m - k'') for k'' >= k is
 * infinite or, in the first pass, above the cell's value; or the stage
 * rounds up more than the slack (growing with k). */
static bool rests_too_high(const pd *p, uint32_t i, uint32_t j, uint32_t m,
                           uint32_t k) {
  if (p->prune && k * p->cap - (p->pre_w[j] - p->pre_w[i]) > p->slack)
    return true;
  if (j == p->n || k >= m) return false;
  double pm = p->pm[AT(p, j, m - k)];
  return pm == INFINITY || (!p->stages_first && pm > p->A[AT(p, i, m)]);
}

/* The first stage end j > i whose rest [j, n) fits in the m - 1 GPUs a
 * stage leaves (need_gpus falls as j grows): before it every rest is
 * infinite. */
static uint32_t first_end(const pd *p, uint32_t i, uint32_t m) {
  uint32_t lo = i + 1, hi = p->n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (need_gpus(p, mid, p->n) <= m - 1) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/* The reference's order (j, then k), over the replica counts alive; with
 * cuts j starts where a rest can fit and stops once the stage's GPU-seconds
 * over its largest replica count alive (a lower bound of its work) pass
 * the cap. */
static int fill_cell_cut(pd *p, uint32_t i, uint32_t m) {
  uint32_t n_alive = 0;
  double spare = p->pre_w[p->n] - p->pre_w[i] + p->slack; /* k * cap <= */
  for (uint32_t k = p->unit; k <= m && k <= p->b && k <= p->c->max_k &&
                            !(k * p->cap > spare);
       k += p->unit)
    p->alive[n_alive++] = k;
  for (uint32_t j = first_end(p, i, m); j <= p->n && n_alive > 0; j++) {
    if (p->pre_w[j] - p->pre_w[i] > p->cap * p->alive[n_alive - 1]) break;
    uint32_t w = 0, a = 0;
    for (; a < n_alive && !rests_too_high(p, i, j, m, p->alive[a]); a++) {
      bool alive;
      GPP_TRY(try_stage(p, i, j, m, p->alive[a], &alive));
      if (alive) p->alive[w++] = p->alive[a];
    }
    if (w < a)
      memmove(p->alive + w, p->alive + a, (n_alive - a) * sizeof *p->alive);
    n_alive -= a - w;
  }
  return 0;
}

static void fill_pm(pd *p, uint32_t i) {
  p->pm[AT(p, i, 0)] = p->A[AT(p, i, 0)];
  for (uint32_t m = 1; m <= p->G; m++) {
    double a = p->A[AT(p, i, m)], b = p->pm[AT(p, i, m - 1)];
    p->pm[AT(p, i, m)] = a < b ? a : b;
  }
}

/* GPUs that ops [i, j) need at least under the cap (one when any). */
static double need_gpus(const pd *p, uint32_t i, uint32_t j) {
  double need = p->cap < INFINITY
                    ? ceil((p->pre_w[j] - p->pre_w[i]) / p->cap - 1e-9)
                    : 1;
  return i == j ? 0 : need < 1 ? 1 : need;
}

/* With cuts under a cap, the cells (i, m) a plan within it may read and
 * have a value: the prefix [0, i) fits in G - m GPUs, the rest in m. */
static void reachable_m(const pd *p, uint32_t i, uint32_t *lo,
                        uint32_t *hi) {
  *lo = 1;
  *hi = p->G;
  if (!p->prune) return;
  double pre = need_gpus(p, 0, i), rest = need_gpus(p, i, p->n);
  *hi = pre >= p->G ? 0 : p->G - (uint32_t)pre;
  if (rest > *lo) *lo = rest > p->G ? p->G + 1 : (uint32_t)rest;
}

static int fill_row(pd *p, uint32_t i) {
  p->A[AT(p, i, 0)] = INFINITY;
  uint32_t lo, hi;
  reachable_m(p, i, &lo, &hi);
  for (uint32_t m = 1; m <= p->G; m++) {
    p->A[AT(p, i, m)] = INFINITY;
    p->nst[AT(p, i, m)] = UINT32_MAX;
    if (m < lo || m > hi || m % p->unit != 0) continue;
    GPP_TRY(p->prune ? fill_cell_cut(p, i, m) : fill_cell_all(p, i, m));
  }
  fill_pm(p, i);
  return 0;
}

/* With stage modes, a stage on k devices in tensor groups of t computes
 * at least each op's seconds at ceil(b / k) * t samples over t, on k / t
 * replicas: lowers w (GPU-seconds) and best (seconds) to those. */
static int tensor_work(pd *p, uint32_t k, double *w, double *best) {
  uint32_t r = gpp__ceil_div(p->b, k);
  for (uint32_t t = 2; t <= 8 && r * t <= p->c->B; t *= 2) {
    if (!gpp__tensor_fits(p->c, t, k)) continue;
    const double *tt = gpp__times(p->c, r * t);
    if (tt == NULL) return p->c->err->code;
    for (uint32_t v = 0; v < p->n; v++) {
      if (k / t * tt[v] < w[v]) w[v] = k / t * tt[v];
      if (tt[v] / t < best[v]) best[v] = tt[v] / t;
    }
  }
  return 0;
}

/* pre_w, and lower bounds of the least bottleneck (*lb: the costliest op
 * on its best replica count, the whole model's GPU-seconds over G GPUs)
 * and *whole, over which no stage's work goes. */
static int frugal_work(pd *p, double *lb, double *whole) {
  uint32_t K = p->G;
  if (K > p->b) K = p->b;
  if (K > p->c->max_k) K = p->c->max_k;
  double *w = gpp_calloc(p->c->err, p->n, sizeof *w);
  double *best = gpp_calloc(p->c->err, p->n, sizeof *best);
  if (!(w && best)) {
    free(w);
    free(best);
    return p->c->err->code;
  }
  *whole = 0;
  int rc = 0;
  for (uint32_t k = 1; k <= K && rc == 0; k++) {
    const double *t = gpp__times(p->c, gpp__ceil_div(p->b, k));
    if (t == NULL) {
      rc = p->c->err->code;
      break;
    }
    double sum = 0;
    for (uint32_t v = 0; v < p->n; v++) {
      if (k == 1 || k * t[v] < w[v]) w[v] = k * t[v];
      if (k == 1 || t[v] < best[v]) best[v] = t[v];
      sum += t[v];
    }
    if (sum > *whole) *whole = sum;
    if (p->c->modes) rc = tensor_work(p, k, w, best);
  }
  *lb = 0;
  for (uint32_t v = 0; v < p->n; v++) {
    p->pre_w[v + 1] = p->pre_w[v] + w[v];
    if (best[v] > *lb) *lb = best[v];
  }
  if (p->pre_w[p->n] / p->G > *lb) *lb = p->pre_w[p->n] / p->G;
  free(w);
  free(best);
  return rc;
}

static int fill_pass(pd *p) {
  p->slack = p->cap < INFINITY
                 ? p->G * p->cap - p->pre_w[p->n] + 1e-9 * p->cap
                 : INFINITY;
  for (uint32_t i = p->n; i-- > 0;) GPP_TRY(fill_row(p, i));
  return 0;
}

/* The first pass under caps growing from a lower bound (as
 * piper.c's least_bottleneck): a cell whose least bottleneck is within
 * the cap gets the reference's value and choice, so the first cap the
 * whole chain's cell meets gives the reference's answer. */
static int least_bottleneck(pd *p) {
  double lb = 0, whole = 0;
  if (p->prune) GPP_TRY(frugal_work(p, &lb, &whole));
  for (p->cap = lb > 0 ? lb : INFINITY;; p->cap *= GPP__CAP_GROWTH) {
    if (p->cap > whole) p->cap = INFINITY;
    GPP_TRY(fill_pass(p));
    if (p->cap == INFINITY || p->A[AT(p, 0, p->G)] < INFINITY) return 0;
  }
}

/* Two passes: the least bottleneck A(0, G), then the fewest stages with
 * every stage within the planners' TPS tolerance of it (what GraphPipe's
 * binary search settles on), so that the pipeline is no deeper than the
 * bottleneck needs.  The greedy tie-break of the first pass alone is not
 * enough: a suffix prefers a lower bottleneck of its own over fewer
 * stages, even where another stage bounds the whole plan. */
static int fill_table(pd *p) {
  for (uint32_t k = 1; k <= p->b && k <= p->G && k <= p->c->max_k; k++)
    if (pre_time(p, gpp__ceil_div(p->b, k)) == NULL) return p->c->err->code;
  p->prune = !p->c->opt->exhaustive && p->times_ok && gpp__costs_grow(p->c);
  p->stages_first = false;
  GPP_TRY(least_bottleneck(p));
  double best = p->A[AT(p, 0, p->G)];
  if (best == INFINITY) return 0;
  p->cap = best * (1 + p->c->opt->tps_tolerance);
  p->stages_first = true;
  return fill_pass(p);
}

static int read_plan(pd *p, gpp_planner_candidate *cand, bool *found) {
  *found = p->A[AT(p, 0, p->G)] < INFINITY;
  if (!*found) return 0;
  gpp__stage_spec *sp = gpp_calloc(p->c->err, p->n, sizeof *sp);
  if (sp == NULL) return p->c->err->code;
  uint32_t n = 0, i = 0, m = p->G;
  int rc = 0;
  while (i < p->n && rc == 0) {
    uint32_t j = p->next[AT(p, i, m)], k = p->reps[AT(p, i, m)];
    sp[n] = (gpp__stage_spec){gpp_calloc(p->c->err, j - i, sizeof(uint32_t)),
                              j - i, k, p->b};
    if (sp[n].ops == NULL) rc = p->c->err->code;
    for (uint32_t v = i; rc == 0 && v < j; v++) sp[n].ops[v - i] = v;
    n++;
    i = j;
    m -= k;
  }
  if (rc == 0) rc = gpp__candidate_build(p->c, sp, n, false, true, cand);
  for (uint32_t q = 0; rc != 0 && q < n; q++) free(sp[q].ops);
  free(sp);
  return rc;
}

static int pd_alloc(pd *p, gpp__pctx *c) {
  memset(p, 0, sizeof *p);
  p->c = c;
  p->times_ok = true;
  p->unit = 1;
  p->n = c->n;
  p->G = c->G;
  size_t cells = (size_t)(p->n + 1) * (p->G + 1);
  p->cut = gpp_calloc(c->err, p->n + 1, sizeof *p->cut);
  p->pre_stat = gpp_calloc(c->err, p->n + 1, sizeof *p->pre_stat);
  p->pre_saved = gpp_calloc(c->err, p->n + 1, sizeof *p->pre_saved);
  p->pre_param = gpp_calloc(c->err, p->n + 1, sizeof *p->pre_param);
  p->pre_time = gpp_calloc(c->err, (size_t)c->B + 1, sizeof *p->pre_time);
  p->A = gpp_calloc(c->err, cells, sizeof *p->A);
  p->next = gpp_calloc(c->err, cells, sizeof *p->next);
  p->reps = gpp_calloc(c->err, cells, sizeof *p->reps);
  p->nst = gpp_calloc(c->err, cells, sizeof *p->nst);
  p->pm = gpp_calloc(c->err, cells, sizeof *p->pm);
  p->alive = gpp_calloc(c->err, (size_t)p->G + 1, sizeof *p->alive);
  p->pre_w = gpp_calloc(c->err, p->n + 1, sizeof *p->pre_w);
  if (!(p->cut && p->pre_stat && p->pre_saved && p->pre_param &&
        p->pre_time && p->A && p->next && p->reps && p->nst && p->pm &&
        p->alive && p->pre_w))
    return c->err->code;
  for (uint32_t v = 0; v < p->n; v++) {
    p->pre_stat[v + 1] = p->pre_stat[v] + c->stat[v];
    p->pre_saved[v + 1] = p->pre_saved[v] + c->saved[v];
    p->pre_param[v + 1] = p->pre_param[v] + c->param[v];
  }
  chain_cuts(p);
  return c->modes ? gpp__mpre_init(c, &p->mp, NULL) : 0;
}

static void pd_free(pd *p) {
  if (p->pre_time)
    for (uint32_t r = 0; r <= p->c->B; r++) free(p->pre_time[r]);
  free(p->pre_time);
  free(p->cut);
  free(p->pre_stat);
  free(p->pre_saved);
  free(p->pre_param);
  free(p->A);
  free(p->next);
  free(p->reps);
  free(p->nst);
  free(p->pm);
  free(p->alive);
  free(p->pre_w);
  gpp__mpre_free(p->c, &p->mp);
}

/* The modes pass visits as many stages as the plain pass and prices
 * many in several modes: from MODES_NODES_FROM GPUs on, its stages take
 * whole nodes (on a cluster of whole nodes); the plain pass, whose plan
 * stays a candidate, still tries every size.  Measured on DGX H100 nodes,
 * 8 samples per GPU (2026-12-06, CPU seconds of the whole search, the
 * estimate of its best plan, every size against whole nodes): at 128 and
 * 256 GPUs gpt and mmt get the same plans (gpt 0.42 s against 0.20 s and
 * 1.5 s against 0.67 s, mmt 0.92 s against 0.38 s and 3.6 s against
 * 1.3 s); dlrm 6.32 ms against 5.69 ms (2.5 s against 0.73 s) and 7.42 ms
 * against 6.63 ms (16.8 s against 3.0 s); candle_uno 6.73 ms against
 * 6.64 ms (15.7 s against 2.9 s) and 9.44 ms against 9.57 ms (72 s against
 * 14 s; simulated 9.88 ms against 9.66 ms).  At 1,024 GPUs whole nodes
 * keep gpt and mmt under issue 16's 20 s. */
#define MODES_NODES_FROM 128u

static uint32_t modes_unit(const gpp__pctx *c) {
  uint32_t g = c->in->comm.gpus_per_node;
  return c->G >= MODES_NODES_FROM && g > 1 && c->G % g == 0 ? g : 1;
}

/* One micro-batch size: with stage modes, a search pricing them, then the
 * search without (as GraphPipe: the least bottleneck is not always the
 * fastest iteration, and a mode's estimate errs more), keeping the plain
 * plan and the modes' one when it uses a mode or is estimated faster. */
static int pd_size(pd *p, gpp_planner_result *out) {
  gpp_planner_candidate plain = {0}, cand = {0};
  bool found = false, found_plain = false, modes = p->c->modes;
  int rc = 0;
  if (modes) {
    p->unit = modes_unit(p->c);
    rc = fill_table(p);
    p->unit = 1;
    if (rc == 0) rc = read_plan(p, &cand, &found);
    p->c->modes = false;
  }
  if (rc == 0) rc = fill_table(p);
  if (rc == 0) rc = read_plan(p, &plain, &found_plain);
  p->c->modes = modes;
  return gpp__add_plans(out, rc, &plain, found_plain, &cand, found,
                        p->c->err);
}

static int pd_sizes(pd *p, gpp_planner_result *out) {
  uint32_t bs[32], nb = gpp__micro_batches(p->c, bs);
  for (uint32_t q = 0; q < nb; q++) {
    p->b = bs[q];
    GPP_TRY(pd_size(p, out));
    gpp__progress(p->c, "pipedream", (q + 1.0) / nb);
  }
  return 0;
}

static int pipedream_run(const gpp_planner_input *in,
                         const gpp_planner_options *opt,
                         gpp_planner_result *out, gpp_errctx *err) {
  gpp__pctx c;
  GPP_TRY(gpp__pctx_init(&c, in, opt, err));
  pd p;
  int rc = pd_alloc(&p, &c);
  if (rc == 0) rc = pd_sizes(&p, out);
  out->states = c.states;
  pd_free(&p);
  gpp__pctx_free(&c);
  return rc;
}

const gpp_planner_type gpp_planner_pipedream = {
    "pipedream",
    "PipeDream: DP over the linearised op chain with stage replication",
    pipedream_run};
