/* net_share.c -- max-min fair re-sharing of link capacity.
 *
 * A batch of arrivals and departures first tries the exact shortcut of
 * net_fast.c; when that does not apply, only the flows that can be affected
 * are re-shared: starting from the links where a flow started or ended
 * ("dirty" links), the component is every active flow reachable through
 * shared links.  Flows outside it keep their rates and finish times, and so
 * do flows inside it whose rate comes out unchanged.
 *
 * Progressive filling over the component: repeatedly take the link whose
 * fair share (residual capacity / unsettled flows) is smallest, settle its
 * unsettled flows at that share, and charge them to every link on their
 * routes.  Each link has one entry in a heap keyed by its share when it
 * was pushed; shares only grow as filling proceeds, so an entry is a lower
 * bound, and a popped entry whose link's share has grown since is pushed
 * again at its current value instead of being settled.  The settled level
 * never decreases, which keeps every rate positive under rounding.
 *
 * Most links cannot constrain a filling, and only the others enter the
 * heap: a link whose flows' route bottlenecks (ub) sum to no more than its
 * capacity is never the binding constraint (one flow alone included), and
 * neither is a "shadow", a link that carries exactly the flows of a
 * neighbour with no less capacity (the two links through a NIC vertex).
 * Leaving them out keeps the max-min rates, provided each flow is also held
 * to its ub: a flow that crosses no heap link gets its ub at once, and one
 * whose heap links are all wider than its ub gets a cap entry in the heap.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "topology/net_internal.h"

/* A link stays out of the heap unless its flows' ub sum exceeds its
 * capacity by more than rounding of that running sum. */
#define UB_SUM_REL_TOL 1e-9

int gpp__net_mark_dirty(gpp_net *net, uint32_t link, gpp_errctx *err) {
  if (net->links[link].dirty) return 0;
  GPP_TRY(gpp__grow((void **)&net->dirty, &net->cap_dirty, net->n_dirty + 1,
                    sizeof *net->dirty, err));
  net->links[link].dirty = true;
  net->dirty[net->n_dirty++] = link;
  return 0;
}

/* Records end (a link) at *slot: GPP__NONE when none yet, NONE - 1 when
 * several. */
static void note_end(uint32_t *slot, uint32_t link) {
  *slot = *slot == GPP__NONE ? link : GPP__NONE - 1;
}

/* A switch or NIC vertex with one link in and one out passes every flow of
 * one to the other (flows start and end at GPUs only), so the one with more
 * capacity (the outgoing one on a tie) is a shadow. */
int gpp__net_links_init(gpp_net *net, gpp_errctx *err) {
  const gpp_cluster *c = net->cluster;
  for (uint32_t i = 0; i < c->n_links; i++)
    net->links[i].bw = c->links[i].bandwidth;
  uint32_t *in = gpp_calloc(err, 2 * (size_t)c->n_vertices + 1, sizeof *in);
  if (in == NULL) return GPP_ENOMEM;
  uint32_t *out = in + c->n_vertices;
  memset(in, 0xff, 2 * (size_t)c->n_vertices * sizeof *in);
  for (uint32_t i = 0; i < c->n_links; i++) {
    note_end(&out[c->links[i].from], i);
    note_end(&in[c->links[i].to], i);
  }
  for (uint32_t v = c->n_gpus; v < c->n_vertices; v++) {
    uint32_t a = in[v], b = out[v];
    if (a >= GPP__NONE - 1 || b >= GPP__NONE - 1 || a == b) continue;
    net->links[net->links[a].bw <= net->links[b].bw ? b : a].shadow = true;
  }
  free(in);
  return 0;
}

static int comp_add_link(gpp_net *net, uint32_t l, gpp_errctx *err) {
  if (net->links[l].mark == net->epoch) return 0;
  GPP_TRY(gpp__grow((void **)&net->comp_links, &net->cap_comp_links,
                    net->n_comp_links + 1, sizeof(uint32_t), err));
  net->links[l].mark = net->epoch;
  net->comp_links[net->n_comp_links++] = l;
  return 0;
}

static int comp_add_flow(gpp_net *net, uint32_t f, gpp_errctx *err) {
  gpp__flow *fl = &net->flows[f];
  if (fl->mark == net->epoch) return 0;
  GPP_TRY(gpp__grow((void **)&net->comp_flows, &net->cap_comp_flows,
                    net->n_comp_flows + 1, sizeof(uint32_t), err));
  fl->mark = net->epoch;
  net->comp_flows[net->n_comp_flows++] = f;
  for (uint32_t k = 0; k < fl->n_links; k++)
    GPP_TRY(comp_add_link(net, fl->links[k], err));
  return 0;
}

/* Breadth-first over links and flows from the dirty links. */
static int collect(gpp_net *net, gpp_errctx *err) {
  if (++net->epoch == 0) {
    for (uint32_t i = 0; i < net->cluster->n_links; i++) net->links[i].mark = 0;
    for (uint32_t i = 0; i < net->n_flows; i++) net->flows[i].mark = 0;
    net->epoch = 1;
  }
  net->n_comp_flows = net->n_comp_links = 0;
  for (uint32_t i = 0; i < net->n_dirty; i++) {
    net->links[net->dirty[i]].dirty = false;
    GPP_TRY(comp_add_link(net, net->dirty[i], err));
  }
  net->n_dirty = 0;
  for (uint32_t i = 0; i < net->n_comp_links; i++) {
    const gpp__nlink *l = &net->links[net->comp_links[i]];
    for (uint32_t j = 0; j < l->n; j++)
      GPP_TRY(comp_add_flow(net, l->flows[j].flow, err));
  }
  return 0;
}

static bool share_before(const gpp__share *a, const gpp__share *b) {
  return a->share < b->share || (a->share == b->share && a->id < b->id);
}

static int share_push(gpp_net *net, gpp__share s, gpp_errctx *err) {
  GPP_TRY(gpp__grow((void **)&net->shares, &net->cap_shares,
                    net->n_shares + 1, sizeof *net->shares, err));
  uint32_t i = net->n_shares++;
  while (i > 0 && share_before(&s, &net->shares[(i - 1) / 2])) {
    net->shares[i] = net->shares[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  net->shares[i] = s;
  return 0;
}

static gpp__share share_pop(gpp_net *net) {
  gpp__share top = net->shares[0], last = net->shares[--net->n_shares];
  uint32_t i = 0, n = net->n_shares;
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && share_before(&net->shares[c + 1], &net->shares[c])) c++;
    if (!share_before(&net->shares[c], &last)) break;
    net->shares[i] = net->shares[c];
    i = c;
  }
  if (n > 0) net->shares[i] = last;
  return top;
}

static double link_share(const gpp__nlink *l) {
  return fmax(l->residual, 0) / l->unfixed;
}

static void settle(gpp_net *net, uint32_t f, double rate, uint32_t bneck) {
  gpp__flow *fl = &net->flows[f];
  fl->rate = rate;
  fl->fixed = true;
  fl->bneck = bneck;
  for (uint32_t k = 0; k < fl->n_links; k++) {
    gpp__nlink *l = &net->links[fl->links[k]];
    l->residual -= rate;
    l->unfixed--;
  }
}

static bool constrains(const gpp__nlink *l) {
  return !l->shadow && l->n > 1 &&
         l->ub_sum > l->bw * (1 - UB_SUM_REL_TOL);
}

/* Settles a flow crossing no heap link at its ub, or gives it a cap entry
 * when its heap links could settle it above its ub. */
static int bound_flow(gpp_net *net, uint32_t id, gpp_errctx *err) {
  const gpp__flow *f = &net->flows[id];
  bool any = false, tight = false;
  for (uint32_t k = 0; k < f->n_links; k++) {
    const gpp__nlink *l = &net->links[f->links[k]];
    any = any || l->cand;
    tight = tight || (l->cand && l->bw == f->ub);
  }
  if (!any) settle(net, id, f->ub, f->ub_link);
  else if (!tight)
    GPP_TRY(share_push(net, (gpp__share){f->ub, id | GPP__CAP_BIT}, err));
  return 0;
}

static int fill_init(gpp_net *net, gpp_errctx *err) {
  net->n_shares = 0;
  for (uint32_t i = 0; i < net->n_comp_links; i++) {
    uint32_t id = net->comp_links[i];
    gpp__nlink *l = &net->links[id];
    l->residual = l->bw;
    l->unfixed = l->n;
    l->cand = constrains(l);
    if (l->cand) GPP_TRY(share_push(net, (gpp__share){l->bw / l->n, id}, err));
  }
  for (uint32_t i = 0; i < net->n_comp_flows; i++)
    net->flows[net->comp_flows[i]].fixed = false;
  for (uint32_t i = 0; i < net->n_comp_flows; i++)
    GPP_TRY(bound_flow(net, net->comp_flows[i], err));
  return 0;
}

/* Settles the unsettled flows of the popped link, unless its entry is
 * stale (then requeued at its current share). */
static int fill_link(gpp_net *net, gpp__share s, double *level,
                     gpp_errctx *err) {
  const gpp__nlink *l = &net->links[s.id];
  if (l->unfixed == 0) return 0;
  double share = link_share(l);
  if (share > s.share) return share_push(net, (gpp__share){share, s.id}, err);
  *level = fmax(share, *level);
  for (uint32_t j = 0; j < l->n; j++)
    if (!net->flows[l->flows[j].flow].fixed)
      settle(net, l->flows[j].flow, *level, s.id);
  return 0;
}

static void fill_cap(gpp_net *net, uint32_t id, double *level) {
  const gpp__flow *f = &net->flows[id];
  if (f->fixed) return;
  *level = fmax(f->ub, *level);
  settle(net, id, f->ub, f->ub_link);
}

static int fill(gpp_net *net, gpp_errctx *err) {
  GPP_TRY(fill_init(net, err));
  double level = 0;
  while (net->n_shares > 0) {
    gpp__share s = share_pop(net);
    if (s.id & GPP__CAP_BIT) fill_cap(net, s.id & ~GPP__CAP_BIT, &level);
    else GPP_TRY(fill_link(net, s, &level, err));
  }
  for (uint32_t i = 0; i < net->n_comp_links; i++) {
    gpp__nlink *l = &net->links[net->comp_links[i]];
    l->load = l->n ? l->bw - l->residual : 0;
  }
  return 0;
}

/* Brings remaining bytes up to t at the old rates. */
static void progress(gpp_net *net, double t) {
  for (uint32_t i = 0; i < net->n_comp_flows; i++) {
    gpp__flow *f = &net->flows[net->comp_flows[i]];
    f->remaining = fmax(f->remaining - f->rate * (t - f->t_last), 0);
    f->t_last = t;
    f->old_rate = f->rate;
  }
}

/* A flow whose rate did not change keeps its queued finish time. */
static int reschedule(gpp_net *net, double t, gpp_errctx *err) {
  for (uint32_t i = 0; i < net->n_comp_flows; i++) {
    uint32_t id = net->comp_flows[i];
    gpp__flow *f = &net->flows[id];
    if (f->rate == f->old_rate && f->heap_pos != GPP__NONE) continue;
    f->ev_time = t + f->remaining / f->rate;
    if (f->heap_pos == GPP__NONE) GPP_TRY(gpp__heap_push(net, id, err));
    else gpp__heap_update(net, id);
  }
  return 0;
}

void gpp__net_note_utilisation(gpp_net *net, uint32_t l, double load) {
  const gpp__nlink *nl = &net->links[l];
  double u = fmin(load / nl->bw, 1.0);
  gpp_net_class_stats *s = &net->stats[net->cluster->links[l].cls];
  if (nl->n > 0 && u > s->peak_utilisation) s->peak_utilisation = u;
}

static int full_reshare(gpp_net *net, double t, gpp_errctx *err) {
  GPP_TRY(collect(net, err));
  progress(net, t);
  GPP_TRY(fill(net, err));
  GPP_TRY(reschedule(net, t, err));
  for (uint32_t i = 0; i < net->n_comp_links; i++)
    gpp__net_note_utilisation(net, net->comp_links[i],
                              net->links[net->comp_links[i]].load);
  net->flows_touched += net->n_comp_flows;
  return 0;
}

int gpp__net_reshare(gpp_net *net, double t, gpp_errctx *err) {
  if (net->n_dirty == 0) return 0;
  bool done = false;
  GPP_TRY(gpp__net_fast_reshare(net, t, &done, err));
  if (!done) GPP_TRY(full_reshare(net, t, err));
  net->n_arrivals = 0;
  net->reshares++;
  return 0;
}
