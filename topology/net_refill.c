/* net_refill.c -- exact incremental re-sharing: the progressive filling of
 * the new flow set, run only where it differs from the last one.
 *
 * Progressive filling raises every rate together; at level x each flow
 * carries min(x, its final rate) and a link saturates at the level where
 * that load reaches its capacity, settling the flows still rising there.
 * After a batch, the filling of the new flow set agrees with the old one
 * on every link none of whose flows changed: such a link carries the same
 * load at every level, so it saturates where it did and settles the flows
 * it settled.  So the filling needs to visit only "affected" links, those
 * with a flow whose course differs, in order of level:
 * - a flow nothing touched behaves as before: it rises until its old rate
 *   and stays there (its cap is its old rate);
 * - the batch's arrivals, and flows whose old bottleneck (bneck) no longer
 *   settles them, rise until a link saturates under them or they reach
 *   their route bottleneck ub (cap ub);
 * - a settled flow stays at its new rate.
 * An affected link has two events in one heap: its saturation, at the
 * water level its flows' caps give (recomputed whenever one of its flows
 * changes course), and its release, at its old level: if the filling gets
 * there and the link has not saturated, the flows it used to settle rise
 * on.  Popped in order of level (saturations first on a tie, then
 * releases, then flows reaching ub), a saturation settles its rising flows
 * and any untouched flow above its level; a release lets its flows rise;
 * each such change re-levels the other binding links of the flow.  Links
 * that cannot bind (gpp__link_constrains) never saturate and are skipped,
 * as in net_fill.c.
 *
 * The cost is the affected links and changed flows, not the component.
 * When it grows past a budget the caller restores the old rates
 * (gpp__net_refill_undo) and fills the closed component instead.
 */
#include <math.h>

#include "topology/net_internal.h"

/* Rates within this relative distance of their old value are the old
 * value: rounding of a recomputed level, not a change. */
#define SAME_REL_TOL 1e-12
/* A link this close to its capacity may be some flow's bottleneck. */
#define SATURATED_REL_TOL 1e-9
/* Ids in net->shares: a link's release; a flow reaching its ub
 * (GPP__CAP_BIT). */
#define REL_BIT 0x40000000u

typedef struct refill {
  gpp_net *net;
  double t, level;
  uint64_t work, budget;
  uint64_t saturations; /* links that saturated and settled flows */
  gpp_errctx *err;
} refill;

static bool touched(const gpp_net *net, const gpp__flow *f) {
  return f->mark == net->epoch;
}

static bool rising(const gpp_net *net, const gpp__flow *f) {
  return touched(net, f) && !f->fixed;
}

/* A flow's cap in the filling: where it stops rising. */
static double flow_cap(const gpp_net *net, const gpp__flow *f) {
  return rising(net, f) ? f->ub : f->rate;
}

/* Marks the flow touched: its bytes brought up to t at its old rate. */
static int touch(refill *r, uint32_t id) {
  gpp_net *net = r->net;
  gpp__flow *f = &net->flows[id];
  if (touched(net, f)) return 0;
  GPP_TRY(gpp__grow((void **)&net->comp_flows, &net->cap_comp_flows,
                    net->n_comp_flows + 1, sizeof(uint32_t), r->err));
  net->comp_flows[net->n_comp_flows++] = id;
  f->mark = net->epoch;
  gpp__flow_progress(f, r->t);
  f->old_bneck = f->bneck;
  f->fixed = true;
  return 0;
}

/* The exact level, not below the filling's, at which the link's flows'
 * caps fill it; INFINITY when they never do.  Starting from an even split
 * of the room among the flows above the level, each round moves the caps
 * below the current guess to the settled side, which only raises the
 * guess, until no cap lies below it. */
static int water_level(refill *r, const gpp__nlink *l, double *out) {
  gpp_net *net = r->net;
  GPP_TRY(gpp__grow((void **)&net->caps, &net->cap_caps, l->n,
                    sizeof *net->caps, r->err));
  double *caps = net->caps, room = l->bw;
  uint32_t m = 0;
  for (uint32_t j = 0; j < l->n; j++) {
    double c = flow_cap(net, &net->flows[l->flows[j].flow]);
    if (c < r->level) room -= c;
    else caps[m++] = c;
  }
  r->work += l->n;
  for (;;) {
    if (m == 0) {
      *out = INFINITY;
      return 0;
    }
    double x = room / m;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < m; i++) {
      if (caps[i] < x) room -= caps[i];
      else caps[kept++] = caps[i];
    }
    r->work += m;
    if (kept == m) {
      *out = fmax(x, r->level);
      return 0;
    }
    m = kept;
  }
}

/* A lower bound of the link's water level from its running sums (load:
 * the caps of its flows that do not rise): rising flows carry at most the
 * level, the others at most their caps.  With nothing rising, the caps
 * fill it only if they exceed it. */
static double level_bound(const refill *r, const gpp__nlink *l) {
  if (l->n_rising > 0)
    return fmax((l->bw - l->load) / l->n_rising, r->level);
  return l->load > l->bw * (1 + SAME_REL_TOL) ? r->level : INFINITY;
}

/* The links waiting to saturate, in an indexed binary heap by (fill,
 * id): re-keying a link moves its one entry (hpos: its index, GPP__NONE
 * when out). */
static bool sat_before(const gpp_net *net, uint32_t a, uint32_t b) {
  double x = net->links[a].fill, y = net->links[b].fill;
  return x < y || (x == y && a < b);
}

static void sat_place(gpp_net *net, uint32_t i, uint32_t id) {
  net->sat[i] = id;
  net->links[id].hpos = i;
}

static void sat_up(gpp_net *net, uint32_t i, uint32_t id) {
  while (i > 0 && sat_before(net, id, net->sat[(i - 1) / 2])) {
    sat_place(net, i, net->sat[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  sat_place(net, i, id);
}

static void sat_down(gpp_net *net, uint32_t i, uint32_t id) {
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= net->n_sat) break;
    if (c + 1 < net->n_sat && sat_before(net, net->sat[c + 1], net->sat[c]))
      c++;
    if (!sat_before(net, net->sat[c], id)) break;
    sat_place(net, i, net->sat[c]);
    i = c;
  }
  sat_place(net, i, id);
}

static void sat_remove(gpp_net *net, uint32_t id) {
  uint32_t i = net->links[id].hpos, last = net->sat[--net->n_sat];
  net->links[id].hpos = GPP__NONE;
  if (last == id) return;
  sat_up(net, i, last);
  sat_down(net, net->links[last].hpos, last);
}

/* Sets the link's saturation level (INFINITY: none) and its entry. */
static int sat_key(refill *r, uint32_t id, double lv) {
  gpp_net *net = r->net;
  gpp__nlink *l = &net->links[id];
  l->fill = lv;
  if (l->hpos != GPP__NONE) {
    if (!isfinite(lv)) sat_remove(net, id);
    else {
      sat_up(net, l->hpos, id);
      sat_down(net, l->hpos, id);
    }
    return 0;
  }
  if (!isfinite(lv)) return 0;
  GPP_TRY(gpp__grow((void **)&net->sat, &net->cap_sat, net->n_sat + 1,
                    sizeof *net->sat, r->err));
  sat_up(net, net->n_sat++, id);
  return 0;
}

/* First visit of a link in this filling: listed, and its release queued
 * at its old level, the rate of the untouched flows it settled.  Only a
 * saturated link settles flows (before the batch: only dirty links lost
 * flows since), so other links skip the scan. */
static int first_visit(refill *r, uint32_t id) {
  gpp_net *net = r->net;
  gpp__nlink *l = &net->links[id];
  GPP_TRY(gpp__grow((void **)&net->comp_links, &net->cap_comp_links,
                    net->n_comp_links + 1, sizeof(uint32_t), r->err));
  net->comp_links[net->n_comp_links++] = id;
  l->mark = net->epoch;
  l->fill = l->rel = INFINITY;
  if (!l->dirty && l->load < l->bw * (1 - SATURATED_REL_TOL)) return 0;
  for (uint32_t j = 0; j < l->n; j++) {
    const gpp__flow *f = &net->flows[l->flows[j].flow];
    if (f->bneck == id && !touched(net, f)) l->rel = fmin(l->rel, f->rate);
  }
  r->work += l->n;
  if (!isfinite(l->rel)) return 0;
  l->rel = fmax(l->rel, r->level);
  return gpp__share_push(net, (gpp__share){l->rel, id | REL_BIT}, r->err);
}

/* Queues a link one of whose flows changed course to be re-levelled
 * before the next event (once, however many of its flows change). */
static int affect(refill *r, uint32_t id) {
  gpp_net *net = r->net;
  gpp__nlink *l = &net->links[id];
  if (l->pending) return 0;
  GPP_TRY(gpp__grow((void **)&net->pending, &net->cap_pending,
                    net->n_pending + 1, sizeof *net->pending, r->err));
  l->pending = true;
  net->pending[net->n_pending++] = id;
  return 0;
}

/* Re-keys the queued links at their bounds. */
static int relevel(refill *r) {
  gpp_net *net = r->net;
  for (uint32_t i = 0; i < net->n_pending; i++) {
    uint32_t id = net->pending[i];
    gpp__nlink *l = &net->links[id];
    l->pending = false;
    double lv = level_bound(r, l);
    if (lv != l->fill) GPP_TRY(sat_key(r, id, lv));
  }
  net->n_pending = 0;
  return 0;
}

/* Whether a binding link of the flow's route is as narrow as its ub: that
 * link saturates, at its ub at the latest, so the flow needs no event of
 * its own for reaching ub. */
static bool tight(const gpp_net *net, const gpp__flow *f) {
  for (uint32_t k = 0; k < f->n_links; k++) {
    const gpp__nlink *l = &net->links[f->links[k]];
    if (l->bw <= f->ub && gpp__link_constrains(l)) return true;
  }
  return false;
}

/* Puts a touched flow on a new course: rising (from the filling's level,
 * up to its ub), or settled at rate x with bottleneck b.  Its links' sums
 * follow (a binding link is visited first), and its binding links other
 * than skip are re-levelled. */
static int set_course(refill *r, uint32_t id, bool rise, double x,
                      uint32_t b, uint32_t skip) {
  gpp_net *net = r->net;
  gpp__flow *f = &net->flows[id];
  bool was = rising(net, f);
  double before = was ? 0 : f->rate;
  if (rise) {
    f->fixed = false;
    if (!tight(net, f))
      GPP_TRY(gpp__share_push(net, (gpp__share){f->ub, id | GPP__CAP_BIT},
                              r->err));
  } else {
    bool same = fabs(x - f->old_rate) <= SAME_REL_TOL * f->old_rate;
    f->rate = same ? f->old_rate : x;
    f->fixed = true;
    f->bneck = b;
  }
  double d = (rise ? 0 : f->rate) - before;
  int dn = (int)rise - (int)was;
  for (uint32_t k = 0; k < f->n_links; k++) {
    uint32_t lid = f->links[k];
    gpp__nlink *l = &net->links[lid];
    bool binds = gpp__link_constrains(l);
    if (binds && l->mark != net->epoch) GPP_TRY(first_visit(r, lid));
    l->load += d;
    l->n_rising += (uint32_t)dn;
    if (binds && lid != skip) GPP_TRY(affect(r, lid));
  }
  return 0;
}

/* The link's entry came up: when its exact level is higher, it is
 * queued again there; else the link saturates, and its rising flows and
 * the untouched flows above the level settle there. */
static int saturate(refill *r, uint32_t id) {
  gpp_net *net = r->net;
  gpp__nlink *l = &net->links[id];
  double ex;
  GPP_TRY(water_level(r, l, &ex));
  if (ex > l->fill) return sat_key(r, id, ex);
  sat_remove(net, id);
  r->saturations++;
  l->fill = INFINITY;
  l->rel = INFINITY;
  r->level = fmax(r->level, ex);
  for (uint32_t j = 0; j < l->n; j++) {
    uint32_t g = l->flows[j].flow;
    gpp__flow *f = &net->flows[g];
    if (!touched(net, f)) {
      if (f->rate <= r->level * (1 + SAME_REL_TOL)) continue;
      GPP_TRY(touch(r, g));
    } else if (f->fixed) continue;
    GPP_TRY(set_course(r, g, false, r->level, id, id));
  }
  return 0;
}

/* The filling passed the link's old level without saturating it: the
 * flows it settled rise on. */
static int release(refill *r, uint32_t id, double x) {
  gpp_net *net = r->net;
  gpp__nlink *l = &net->links[id];
  if (l->rel != x) return 0; /* stale, or saturated first */
  l->rel = INFINITY;
  r->level = fmax(r->level, x);
  for (uint32_t j = 0; j < l->n; j++) {
    uint32_t g = l->flows[j].flow;
    const gpp__flow *f = &net->flows[g];
    if (f->bneck != id || touched(net, f)) continue;
    GPP_TRY(touch(r, g));
    GPP_TRY(set_course(r, g, true, 0, GPP__NONE, GPP__NONE));
  }
  return 0;
}

/* A rising flow reaches its route bottleneck. */
static int reach_ub(refill *r, uint32_t id) {
  gpp__flow *f = &r->net->flows[id];
  if (!rising(r->net, f)) return 0;
  r->level = fmax(r->level, f->ub);
  return set_course(r, id, false, f->ub, gpp__ub_link(r->net, f),
                    GPP__NONE);
}

/* The next event: a saturation, before a release or a flow reaching its
 * ub at the same level. */
static int step(refill *r) {
  gpp_net *net = r->net;
  if (net->n_sat > 0 &&
      (net->n_shares == 0 ||
       net->links[net->sat[0]].fill <= net->shares[0].share)) {
    return saturate(r, net->sat[0]);
  }
  gpp__share s = gpp__share_pop(net);
  if (s.id & GPP__CAP_BIT) return reach_ub(r, s.id & ~GPP__CAP_BIT);
  return release(r, s.id & ~REL_BIT, s.share);
}

/* The batch's direct changes: dirty links are visited (releasing at their
 * old level) and re-levelled; arrivals rise from level 0, as do flows on a
 * dirty link without a bottleneck. */
static int seed(refill *r) {
  gpp_net *net = r->net;
  for (uint32_t i = 0; i < net->n_arrivals; i++)
    GPP_TRY(touch(r, net->arrivals[i]));
  for (uint32_t i = 0; i < net->n_dirty; i++) {
    GPP_TRY(first_visit(r, net->dirty[i]));
    if (gpp__link_constrains(&net->links[net->dirty[i]]))
      GPP_TRY(affect(r, net->dirty[i]));
  }
  for (uint32_t i = 0; i < net->n_arrivals; i++)
    GPP_TRY(set_course(r, net->arrivals[i], true, 0, GPP__NONE, GPP__NONE));
  for (uint32_t i = 0; i < net->n_dirty; i++) {
    const gpp__nlink *l = &net->links[net->dirty[i]];
    for (uint32_t j = 0; j < l->n; j++) {
      uint32_t g = l->flows[j].flow;
      if (net->flows[g].bneck != GPP__NONE || touched(net, &net->flows[g]))
        continue;
      GPP_TRY(touch(r, g));
      GPP_TRY(set_course(r, g, true, 0, GPP__NONE, GPP__NONE));
    }
  }
  return 0;
}

/* Records the utilisation of the links whose load changed, and counts
 * the flows already transferring (after the arrivals in comp_flows) whose
 * bottleneck changed. */
static void note_changes(gpp_net *net) {
  for (uint32_t i = 0; i < net->n_comp_flows; i++) {
    const gpp__flow *f = &net->flows[net->comp_flows[i]];
    net->how.switches += i >= net->n_arrivals && f->bneck != f->old_bneck;
    if (f->rate == f->old_rate) continue;
    for (uint32_t k = 0; k < f->n_links; k++)
      gpp__net_note_utilisation(net, f->links[k],
                                net->links[f->links[k]].load);
  }
}

int gpp__net_refill(gpp_net *net, double t, uint64_t budget, bool *done,
                    gpp_errctx *err) {
  refill r = {.net = net, .t = t, .budget = budget, .err = err};
  *done = false;
  net->n_shares = net->n_pending = 0;
  GPP_TRY(seed(&r));
  for (;;) {
    GPP_TRY(relevel(&r));
    if (net->n_shares == 0 && net->n_sat == 0) break;
    if (r.work > r.budget) return 0;
    GPP_TRY(step(&r));
  }
  note_changes(net);
  net->how.saturations += r.saturations;
  *done = true;
  return 0;
}

void gpp__net_refill_undo(gpp_net *net) {
  for (uint32_t i = 0; i < net->n_sat; i++)
    net->links[net->sat[i]].hpos = GPP__NONE;
  net->n_sat = 0;
  for (uint32_t i = 0; i < net->n_pending; i++)
    net->links[net->pending[i]].pending = false;
  net->n_pending = 0;
  for (uint32_t i = 0; i < net->n_comp_flows; i++) {
    gpp__flow *f = &net->flows[net->comp_flows[i]];
    bool up = !f->fixed;
    double d = f->old_rate - (up ? 0 : f->rate);
    for (uint32_t k = 0; k < f->n_links; k++) {
      net->links[f->links[k]].load += d;
      net->links[f->links[k]].n_rising -= up;
    }
    f->rate = f->old_rate;
    f->bneck = f->old_bneck;
    f->fixed = true;
  }
}
