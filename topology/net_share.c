/* net_share.c -- which flows a batch of arrivals and departures re-shares.
 *
 * A batch first tries the exact shortcut of net_fast.c.  Otherwise the
 * incremental filling of net_refill.c re-runs max-min only where the new
 * flow set differs from the old one.  When that grows past a budget of
 * link visits (a change that spreads far), it is undone and the batch
 * falls back to a component that needs no checks.
 * Flows are coupled only through links that can bind a rate
 * (gpp__link_constrains: several flows whose route bottlenecks ub could
 * together exceed the link); every other link carries less than its
 * capacity whatever the rates, so the max-min problem splits into
 * independent components of flows joined by binding links.  The fallback
 * closes the component under binding links, and under dirty links that
 * bound before a flow left them (their flows may speed up), and fills it
 * from scratch (net_fill.c).
 *
 * Flows outside the component keep their rates and finish times, and so
 * do flows inside it whose rate comes out unchanged.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "topology/net_internal.h"

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
  for (uint32_t i = 0; i < c->n_links; i++) {
    net->links[i].bw = c->links[i].bandwidth;
    net->links[i].cls = (uint8_t)c->links[i].cls;
    net->links[i].hpos = GPP__NONE;
  }
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

/* Link visits an incremental filling may make, per flow in the network,
 * before the closed component is the cheaper way.  Chosen on bench_net:
 * at 100,000 random flows (23,000 rate changes per re-sharing) 16 gives
 * 28 flow events/s, 64 gives 20 and 256 (never falling back) 21; at
 * 10,000 flows no re-sharing reaches 16. */
#define REFILL_BUDGET_PER_FLOW 16

/* Whether the closed component grows through a link: it binds, or it
 * bound before a flow left it (its flows may now speed up). */
static bool couples(const gpp__nlink *l) {
  return l->spread || gpp__link_constrains(l);
}

static void new_epoch(gpp_net *net) {
  net->n_comp_flows = net->n_comp_links = 0;
  if (++net->epoch != 0) return;
  for (uint32_t i = 0; i < net->cluster->n_links; i++) net->links[i].mark = 0;
  for (uint32_t i = 0; i < net->n_flows; i++) net->flows[i].mark = 0;
  net->epoch = 1;
}

/* The flows the batch changes directly: its arrivals, and the flows whose
 * bottleneck is a dirty link. */
static int seed(gpp_net *net, gpp_errctx *err) {
  new_epoch(net);
  for (uint32_t i = 0; i < net->n_arrivals; i++)
    GPP_TRY(comp_add_flow(net, net->arrivals[i], err));
  for (uint32_t i = 0; i < net->n_dirty; i++) {
    const gpp__nlink *l = &net->links[net->dirty[i]];
    for (uint32_t j = 0; j < l->n; j++) {
      uint32_t b = net->flows[l->flows[j].flow].bneck;
      if (b == GPP__NONE || net->links[b].dirty)
        GPP_TRY(comp_add_flow(net, l->flows[j].flow, err));
    }
  }
  return 0;
}

/* Grows the component to its closure over coupling links, from its flows
 * and the dirty links. */
static int close_component(gpp_net *net, gpp_errctx *err) {
  for (uint32_t i = 0; i < net->n_dirty; i++)
    GPP_TRY(comp_add_link(net, net->dirty[i], err));
  for (uint32_t i = 0; i < net->n_comp_links; i++) {
    const gpp__nlink *l = &net->links[net->comp_links[i]];
    if (!couples(l)) continue;
    for (uint32_t j = 0; j < l->n; j++)
      GPP_TRY(comp_add_flow(net, l->flows[j].flow, err));
  }
  return 0;
}

/* Brings the component's remaining bytes up to t at the old rates. */
static void progress(gpp_net *net, double t) {
  for (uint32_t i = 0; i < net->n_comp_flows; i++)
    gpp__flow_progress(&net->flows[net->comp_flows[i]], t);
}

/* A flow whose rate did not change keeps its queued finish time. */
static int reschedule(gpp_net *net, double t, gpp_errctx *err) {
  for (uint32_t i = 0; i < net->n_comp_flows; i++) {
    uint32_t id = net->comp_flows[i];
    gpp__flow *f = &net->flows[id];
    bool queued = net->heap_pos[id] != GPP__NONE;
    if (f->rate == f->old_rate && queued) continue;
    /* The batch's arrivals come first in the component (seed()). */
    net->how.changed += i >= net->n_arrivals && f->rate != f->old_rate;
    GPP_TRY(gpp__event_requeue(net, id, t, err));
  }
  gpp__events_prune(net);
  return 0;
}

/* Each filled link's load is exact: the capacity its residual lacks. */
static void note_loads(gpp_net *net) {
  for (uint32_t i = 0; i < net->n_comp_links; i++) {
    uint32_t id = net->comp_links[i];
    gpp__nlink *l = &net->links[id];
    l->load = l->n ? l->bw - l->residual : 0;
    gpp__net_note_utilisation(net, id, l->load);
  }
}

/* Max-min over the closed component of the batch's changes. */
static int closed_reshare(gpp_net *net, double t, gpp_errctx *err) {
  GPP_TRY(seed(net, err));
  GPP_TRY(close_component(net, err));
  progress(net, t);
  GPP_TRY(gpp__net_fill(net, err));
  note_loads(net);
  return 0;
}

static int component_reshare(gpp_net *net, double t, gpp_errctx *err) {
  bool done;
  new_epoch(net);
  uint64_t budget = net->refill_budget ? net->refill_budget
                    : (uint64_t)REFILL_BUDGET_PER_FLOW * (net->n_flows + 64);
  GPP_TRY(gpp__net_refill(net, t, budget, &done, err));
  if (done) net->how.local++;
  else {
    gpp__net_refill_undo(net);
    GPP_TRY(closed_reshare(net, t, err));
    net->how.closed++;
  }
  GPP_TRY(reschedule(net, t, err));
  gpp__net_note_touched(net, net->n_comp_flows);
  return 0;
}

int gpp__net_reshare(gpp_net *net, double t, gpp_errctx *err) {
  GPP_TRY(gpp__class_regroup(net, t, err));
  if (net->n_dirty == 0) return 0;
  bool done = false;
  GPP_TRY(gpp__net_fast_reshare(net, t, &done, err));
  if (!done) GPP_TRY(component_reshare(net, t, err));
  gpp__net_clear_dirty(net);
  net->n_arrivals = 0;
  net->reshares++;
  return 0;
}
