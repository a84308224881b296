/* net_fill.c -- progressive filling: the max-min fair rates of the flows
 * in the current component (net->comp_flows, marked with net->epoch), with
 * every other flow held at its current rate.
 *
 * Each link of the component starts with its capacity less the rates of
 * the outside flows it carries.  Repeatedly take the link whose fair share
 * (residual capacity / unsettled component flows) is smallest, settle its
 * unsettled flows at that share, and charge them to every link on their
 * routes.  Each link has one entry in a heap keyed by its share when it
 * was pushed; shares only grow as filling proceeds, so an entry is a lower
 * bound, and a popped entry whose link's share has grown since is pushed
 * again at its current value instead of being settled.  The settled level
 * never decreases, which keeps every rate positive under rounding.
 *
 * Only links that can bind enter the heap: not a link whose component
 * flows' route bottlenecks (ub) sum to no more than its residual capacity,
 * nor a "shadow", a link that carries exactly the flows of a neighbour
 * with no less capacity (the two links through a NIC vertex), nor a link
 * whose only flow is one component flow (it cannot hold that flow below
 * its ub, and lone links are most of a collective step's).  Leaving
 * them out keeps the max-min rates, provided each flow is also held to its
 * ub: a flow that crosses no heap link gets its ub at once, and one whose
 * heap links are all wider than its ub gets a cap entry in the heap.
 * Every settled flow records the link that settled it (bneck).
 */
#include <math.h>

#include "topology/net_internal.h"

static bool share_before(const gpp__share *a, const gpp__share *b) {
  return a->share < b->share || (a->share == b->share && a->id < b->id);
}

int gpp__share_push(gpp_net *net, gpp__share s, gpp_errctx *err) {
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

gpp__share gpp__share_pop(gpp_net *net) {
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

static bool in_comp(const gpp_net *net, uint32_t f) {
  return net->flows[f].mark == net->epoch;
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

uint32_t gpp__ub_link(const gpp_net *net, const gpp__flow *f) {
  for (uint32_t k = 0; k < f->n_links; k++)
    if (net->links[f->links[k]].bw == f->ub) return f->links[k];
  return GPP__NONE;
}

/* Residual capacity and unsettled count from the outside flows' rates and
 * the component's flows; whether the link can bind them. */
static void link_init(gpp_net *net, gpp__nlink *l) {
  double outside = 0, ub_sum = 0;
  uint32_t m = 0;
  for (uint32_t j = 0; j < l->n; j++) {
    const gpp__flow *f = &net->flows[l->flows[j].flow];
    if (f->mark != net->epoch) outside += f->rate;
    else {
      m++;
      ub_sum += f->ub;
    }
  }
  l->residual = l->bw - outside;
  l->unfixed = m;
  l->cand = !l->shadow && (m > 1 || (m == 1 && outside > 0)) &&
            ub_sum > l->residual * (1 - GPP__UB_SUM_REL_TOL);
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
  if (!any) settle(net, id, f->ub, gpp__ub_link(net, f));
  else if (!tight)
    GPP_TRY(gpp__share_push(net, (gpp__share){f->ub, id | GPP__CAP_BIT}, err));
  return 0;
}

static int fill_init(gpp_net *net, gpp_errctx *err) {
  net->n_shares = 0;
  for (uint32_t i = 0; i < net->n_comp_links; i++) {
    uint32_t id = net->comp_links[i];
    gpp__nlink *l = &net->links[id];
    link_init(net, l);
    if (l->cand)
      GPP_TRY(gpp__share_push(net, (gpp__share){link_share(l), id}, err));
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
  if (share > s.share) return gpp__share_push(net, (gpp__share){share, s.id}, err);
  *level = fmax(share, *level);
  for (uint32_t j = 0; j < l->n; j++) {
    uint32_t f = l->flows[j].flow;
    if (in_comp(net, f) && !net->flows[f].fixed)
      settle(net, f, *level, s.id);
  }
  return 0;
}

static void fill_cap(gpp_net *net, uint32_t id, double *level) {
  const gpp__flow *f = &net->flows[id];
  if (f->fixed) return;
  *level = fmax(f->ub, *level);
  settle(net, id, f->ub, gpp__ub_link(net, f));
}

int gpp__net_fill(gpp_net *net, gpp_errctx *err) {
  GPP_TRY(fill_init(net, err));
  double level = 0;
  while (net->n_shares > 0) {
    gpp__share s = gpp__share_pop(net);
    if (s.id & GPP__CAP_BIT) fill_cap(net, s.id & ~GPP__CAP_BIT, &level);
    else GPP_TRY(fill_link(net, s, &level, err));
  }
  return 0;
}
