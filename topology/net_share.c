/* net_share.c -- max-min fair re-sharing of link capacity.
 *
 * Only the flows that can be affected are re-shared: starting from the
 * links where a flow started or ended ("dirty" links), the component is
 * every active flow reachable through shared links.  Flows outside it keep
 * their rates and their scheduled finish times.
 *
 * Progressive filling over the component: repeatedly take the link whose
 * fair share (residual capacity / unsettled flows) is smallest, settle its
 * unsettled flows at that share, and charge them to every link on their
 * routes.  Each link has one entry in a heap keyed by its share when it
 * was pushed; shares only grow as filling proceeds, so an entry is a lower
 * bound, and a popped entry whose link's share has grown since is pushed
 * again at its current value instead of being settled.  The settled level
 * never decreases, which keeps every rate positive under rounding.
 */
#include <math.h>
#include <string.h>

#include "topology/net_internal.h"

int gpp__net_mark_dirty(gpp_net *net, uint32_t link, gpp_errctx *err) {
  if (net->links[link].dirty) return 0;
  GPP_TRY(gpp__grow((void **)&net->dirty, &net->cap_dirty, net->n_dirty + 1,
                    sizeof *net->dirty, err));
  net->links[link].dirty = true;
  net->dirty[net->n_dirty++] = link;
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
  if (a->share != b->share) return a->share < b->share;
  return a->link < b->link;
}

static int share_push(gpp_net *net, uint32_t link, gpp_errctx *err) {
  const gpp__nlink *l = &net->links[link];
  GPP_TRY(gpp__grow((void **)&net->shares, &net->cap_shares,
                    net->n_shares + 1, sizeof *net->shares, err));
  gpp__share s = {fmax(l->residual, 0) / l->unfixed, link};
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

static void settle(gpp_net *net, uint32_t f, double rate) {
  gpp__flow *fl = &net->flows[f];
  fl->rate = rate;
  fl->fixed = true;
  for (uint32_t k = 0; k < fl->n_links; k++) {
    gpp__nlink *l = &net->links[fl->links[k]];
    l->residual -= rate;
    l->unfixed--;
  }
}

static int fill(gpp_net *net, gpp_errctx *err) {
  net->n_shares = 0;
  for (uint32_t i = 0; i < net->n_comp_links; i++) {
    uint32_t id = net->comp_links[i];
    gpp__nlink *l = &net->links[id];
    l->residual = net->cluster->links[id].bandwidth;
    l->unfixed = l->n;
    if (l->n > 0) GPP_TRY(share_push(net, id, err));
  }
  for (uint32_t i = 0; i < net->n_comp_flows; i++)
    net->flows[net->comp_flows[i]].fixed = false;
  double level = 0;
  while (net->n_shares > 0) {
    gpp__share s = share_pop(net);
    const gpp__nlink *l = &net->links[s.link];
    if (l->unfixed == 0) continue;
    double share = fmax(l->residual, 0) / l->unfixed;
    if (share > s.share) { /* a stale lower bound: requeue at its value */
      GPP_TRY(share_push(net, s.link, err));
      continue;
    }
    level = fmax(share, level);
    for (uint32_t j = 0; j < l->n; j++)
      if (!net->flows[l->flows[j].flow].fixed)
        settle(net, l->flows[j].flow, level);
  }
  return 0;
}

/* Brings remaining bytes up to t at the old rates. */
static void progress(gpp_net *net, double t) {
  for (uint32_t i = 0; i < net->n_comp_flows; i++) {
    gpp__flow *f = &net->flows[net->comp_flows[i]];
    f->remaining = fmax(f->remaining - f->rate * (t - f->t_last), 0);
    f->t_last = t;
  }
}

static int reschedule(gpp_net *net, double t, gpp_errctx *err) {
  for (uint32_t i = 0; i < net->n_comp_flows; i++) {
    uint32_t id = net->comp_flows[i];
    gpp__flow *f = &net->flows[id];
    f->ev_time = t + f->remaining / f->rate;
    if (f->heap_pos == GPP__NONE) GPP_TRY(gpp__heap_push(net, id, err));
    else gpp__heap_update(net, id);
  }
  return 0;
}

static void record_utilisation(gpp_net *net) {
  for (uint32_t i = 0; i < net->n_comp_links; i++) {
    const gpp_link *cl = &net->cluster->links[net->comp_links[i]];
    const gpp__nlink *l = &net->links[net->comp_links[i]];
    double u = fmin((cl->bandwidth - l->residual) / cl->bandwidth, 1.0);
    gpp_net_class_stats *s = &net->stats[cl->cls];
    if (l->n > 0 && u > s->peak_utilisation) s->peak_utilisation = u;
  }
}

int gpp__net_reshare(gpp_net *net, double t, gpp_errctx *err) {
  if (net->n_dirty == 0) return 0;
  GPP_TRY(collect(net, err));
  progress(net, t);
  GPP_TRY(fill(net, err));
  GPP_TRY(reschedule(net, t, err));
  record_utilisation(net);
  net->reshares++;
  net->flows_touched += net->n_comp_flows;
  return 0;
}
