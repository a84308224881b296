/* test_network.c -- the flow network against textbook results: latency
 * plus bytes over the bottleneck, C/k on a shared bottleneck, the
 * parking-lot max-min example with a re-share, the ring all-reduce closed
 * form, rail-optimized NIC bandwidth, incremental re-sharing counts (and
 * the equal split of a collective step), flow classes against flow by
 * flow, routes through wide switches, determinism, and every error path. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology/net_internal.h"
#include "topology/network.h"
#include "topology/topology.h"

#define MAX_TAGS 4096

typedef struct run {
  gpp_cluster *c;
  gpp_net *net;
  double finish[MAX_TAGS];
  int done;
} run;

static void on_done(void *ctx, uint64_t tag, double t) {
  run *r = ctx;
  cr_assert_lt(tag, MAX_TAGS);
  r->finish[tag] = t;
  r->done++;
}

static void setup(run *r, const char *yaml) {
  memset(r, 0, sizeof *r);
  gpp_errctx e = {0};
  cr_assert_eq(gpp_cluster_from_string("n.yaml", yaml, &r->c, &e), 0, "%s",
               e.msg);
  cr_assert_eq(gpp_net_create(r->c, &r->net, &e), 0, "%s", e.msg);
}

static void drain(run *r) {
  gpp_errctx e = {0};
  while (isfinite(gpp_net_next_time(r->net)))
    cr_assert_eq(gpp_net_advance(r->net, gpp_net_next_time(r->net), on_done,
                                 r, &e), 0, "%s", e.msg);
}

static void teardown(run *r) {
  gpp_net_destroy(r->net);
  gpp_cluster_destroy(r->c);
}

static void flow(run *r, double t, uint32_t s, uint32_t d, double bytes,
                 uint64_t tag) {
  gpp_errctx e = {0};
  cr_assert_eq(gpp_net_flow(r->net, t, s, d, bytes, tag, &e), 0, "%s",
               e.msg);
}

static void rel_eq(double got, double want, double tol) {
  cr_assert(fabs(got - want) <= tol * fabs(want), "got %.12g, want %.12g",
            got, want);
}

/* Five GPUs into one switch; gpu5's downlink is the bottleneck. */
static const char *star =
    "gpu: h100-sxm-80gb\nswitches: [sw]\nlinks:\n"
    "  - {a: gpu0, b: sw, bandwidth: 90 GB/s, latency: 1.1 us}\n"
    "  - {a: gpu1, b: sw, bandwidth: 90 GB/s, latency: 1.1 us}\n"
    "  - {a: gpu2, b: sw, bandwidth: 90 GB/s, latency: 1.1 us}\n"
    "  - {a: gpu3, b: sw, bandwidth: 90 GB/s, latency: 1.1 us}\n"
    "  - {a: gpu4, b: sw, bandwidth: 90 GB/s, latency: 1.1 us}\n"
    "  - {a: gpu5, b: sw, bandwidth: 23.7 GB/s, latency: 2.03 us}\n";

Test(flows, single_flow_latency_plus_bytes_over_bottleneck) {
  run r;
  setup(&r, star);
  flow(&r, 0.25, 2, 5, 3.217e8, 7);
  drain(&r);
  cr_assert_eq(r.done, 1);
  rel_eq(r.finish[7], 0.25 + 3.13e-6 + 3.217e8 / 23.7e9, 1e-12);
  teardown(&r);
}

Test(flows, zero_bytes_cost_latency_only) {
  run r;
  setup(&r, star);
  flow(&r, 1.5, 0, 5, 0, 3);
  drain(&r);
  rel_eq(r.finish[3], 1.5 + 3.13e-6, 1e-12);
  teardown(&r);
}

Test(flows, k_flows_share_one_bottleneck) {
  run r;
  setup(&r, star);
  for (uint32_t k = 0; k < 5; k++) flow(&r, 0, k, 5, 1.9e9, k);
  drain(&r);
  for (uint32_t k = 0; k < 5; k++)
    rel_eq(r.finish[k], 3.13e-6 + 1.9e9 / (23.7e9 / 5), 1e-12);
  uint64_t reshares, touched;
  gpp_net_counters(r.net, &reshares, &touched);
  cr_assert_eq(reshares, 2, "one batch at the start, one at the end");
  cr_assert_eq(touched, 5);
  gpp_net_class_stats st[GPP_LINK__NCLASSES];
  gpp_net_class_stats_get(r.net, st);
  rel_eq(st[GPP_LINK_CUSTOM].bytes, 5 * 2 * 1.9e9, 1e-12);
  rel_eq(st[GPP_LINK_CUSTOM].peak_utilisation, 1.0, 1e-12);
  teardown(&r);
}

/* Parking lot: long flow gpu0->gpu1 over A-B (1 GB/s) and B-C (2 GB/s);
 * short flow gpu2->gpu3 over A-B, gpu4->gpu5 over B-C. */
static const char *parking =
    "gpu: a100-sxm-40gb\nswitches: [A, B, C]\nlinks:\n"
    "  - {a: A, b: B, bandwidth: 1 GB/s, latency: 0}\n"
    "  - {a: B, b: C, bandwidth: 2 GB/s, latency: 0}\n"
    "  - {a: gpu0, b: A, bandwidth: 1 TB/s, latency: 0}\n"
    "  - {a: gpu1, b: C, bandwidth: 1 TB/s, latency: 0}\n"
    "  - {a: gpu2, b: A, bandwidth: 1 TB/s, latency: 0}\n"
    "  - {a: gpu3, b: B, bandwidth: 1 TB/s, latency: 0}\n"
    "  - {a: gpu4, b: B, bandwidth: 1 TB/s, latency: 0}\n"
    "  - {a: gpu5, b: C, bandwidth: 1 TB/s, latency: 0}\n";

Test(flows, parking_lot_max_min_rates) {
  run r;
  setup(&r, parking);
  /* Rates 0.5, 0.5 and 1.5 GB/s: bytes chosen so all end at t = 2 s. */
  flow(&r, 0, 0, 1, 1e9, 0);
  flow(&r, 0, 2, 3, 1e9, 1);
  flow(&r, 0, 4, 5, 3e9, 2);
  drain(&r);
  for (int i = 0; i < 3; i++) rel_eq(r.finish[i], 2.0, 1e-12);
  teardown(&r);
}

Test(flows, parking_lot_reshares_when_a_flow_ends) {
  run r;
  setup(&r, parking);
  flow(&r, 0, 0, 1, 1e9, 0);
  flow(&r, 0, 2, 3, 0.25e9, 1); /* ends at 0.5 s; then long and s2 get 1 */
  flow(&r, 0, 4, 5, 3e9, 2);
  drain(&r);
  rel_eq(r.finish[1], 0.5, 1e-12);
  rel_eq(r.finish[0], 1.25, 1e-12);
  rel_eq(r.finish[2], 2.0, 1e-12);
  gpp_net_reshare_stats how;
  gpp_net_reshare_stats_get(r.net, &how);
  cr_assert_eq(how.changed, 3, "flows 0 and 2 change when flow 1 ends, "
               "flow 2 when flow 0 ends (arrivals are not changes); got %llu",
               (unsigned long long)how.changed);
  teardown(&r);
}

/* The parking lot with two short flows on B-C: while flow 1 shares A-B
 * with the long flow, both get 0.5 GB/s there and flows 2 and 3 0.75 on
 * B-C.  When flow 1 ends, the long flow's bottleneck moves to B-C, which
 * then settles all three at 2/3 GB/s: one link saturated, one flow that
 * was transferring switched its bottleneck. */
Test(flows, a_leaving_flow_moves_one_bottleneck) {
  run r;
  setup(&r, parking);
  flow(&r, 0, 0, 1, 1e9, 0);
  flow(&r, 0, 2, 3, 0.25e9, 1); /* ends at 0.5 s */
  flow(&r, 0, 4, 5, 1e9, 2);
  flow(&r, 0, 4, 5, 1e9, 3);
  gpp_errctx e = {0};
  cr_assert_eq(gpp_net_advance(r.net, 0.4, on_done, &r, &e), 0);
  gpp_net_reshare_stats a, b;
  gpp_net_reshare_stats_get(r.net, &a);
  cr_assert_eq(gpp_net_advance(r.net, 0.6, on_done, &r, &e), 0);
  gpp_net_reshare_stats_get(r.net, &b);
  rel_eq(r.finish[1], 0.5, 1e-12);
  cr_assert_eq(b.local - a.local, 1, "flow 1 ending is a local re-sharing");
  cr_assert_eq(b.saturations - a.saturations, 1,
               "B-C saturates at 2/3 GB/s; got %llu",
               (unsigned long long)(b.saturations - a.saturations));
  cr_assert_eq(b.switches - a.switches, 1,
               "the long flow moves from A-B to B-C; got %llu",
               (unsigned long long)(b.switches - a.switches));
  cr_assert_eq(b.changed - a.changed, 3, "all three rates change");
  drain(&r);
  /* Flows 2 and 3: 0.375 GB by 0.5 s, 0.625 GB more at 2/3 GB/s, by
   * 1.4375 s, when the long flow (0.25 + 0.625 GB) has 0.125 GB left,
   * then alone at 1 GB/s. */
  rel_eq(r.finish[2], 1.4375, 1e-12);
  rel_eq(r.finish[0], 1.5625, 1e-12);
  teardown(&r);
}

Test(flows, disjoint_flows_reshare_only_their_component) {
  run r;
  setup(&r, parking);
  flow(&r, 0, 2, 3, 1e9, 0); /* over A-B only */
  gpp_errctx e = {0};
  cr_assert_eq(gpp_net_advance(r.net, 0.1, on_done, &r, &e), 0);
  flow(&r, 0.1, 4, 5, 1e9, 1); /* over B-C only */
  drain(&r);
  uint64_t reshares, touched;
  gpp_net_counters(r.net, &reshares, &touched);
  cr_assert_eq(reshares, 4);
  cr_assert_eq(touched, 2, "each start touched its own flow only");
  rel_eq(r.finish[0], 1.0, 1e-12);
  rel_eq(r.finish[1], 0.6, 1e-12);
  teardown(&r);
}

/* Two 1 GB/s hosts per side of a 10 GB/s trunk: the trunk can never bind
 * (its flows' route bottlenecks sum to less), so it couples no flows. */
static const char *trunk =
    "gpu: a100-sxm-40gb\nswitches: [A, B]\nlinks:\n"
    "  - {a: A, b: B, bandwidth: 10 GB/s, latency: 0}\n"
    "  - {a: gpu0, b: A, bandwidth: 1 GB/s, latency: 0}\n"
    "  - {a: gpu1, b: A, bandwidth: 1 GB/s, latency: 0}\n"
    "  - {a: gpu2, b: B, bandwidth: 1 GB/s, latency: 0}\n"
    "  - {a: gpu3, b: B, bandwidth: 1 GB/s, latency: 0}\n";

Test(flows, a_leaving_flow_reshares_only_the_flows_it_bound) {
  run r;
  setup(&r, trunk);
  flow(&r, 0, 0, 2, 1e9, 0);    /* 0.5 GB/s while flow 1 lasts, then 1 */
  flow(&r, 0, 0, 2, 0.25e9, 1); /* 0.5 GB/s, ends at 0.5 s */
  gpp_errctx e = {0};
  cr_assert_eq(gpp_net_advance(r.net, 0.1, on_done, &r, &e), 0);
  flow(&r, 0.1, 1, 3, 1e9, 2); /* shares only the trunk: 1 GB/s */
  drain(&r);
  rel_eq(r.finish[1], 0.5, 1e-12);
  rel_eq(r.finish[0], 1.25, 1e-12);
  rel_eq(r.finish[2], 1.1, 1e-12);
  uint64_t reshares, touched;
  gpp_net_counters(r.net, &reshares, &touched);
  cr_assert_eq(reshares, 5);
  cr_assert_eq(touched, 4, "2 at the start, 1 for flow 2, 1 when flow 1 "
               "ends (flow 0), none when flows 2 and 0 end; got %llu",
               (unsigned long long)touched);
  gpp_net_reshare_stats how;
  gpp_net_reshare_stats_get(r.net, &how);
  cr_assert_eq(how.fast, 4, "flows 0 and 1 starting together (an equal "
               "split of gpu0's link), flow 2 starting, flows 2 and 0 "
               "ending");
  cr_assert_eq(how.local, 1, "flow 1 ending (flow 0 speeds up)");
  cr_assert_eq(how.changed, 1, "flow 0 speeding up is the one change");
  cr_assert_eq(how.closed, 0);
  cr_assert_eq(how.max_touched, 2);
  teardown(&r);
}

static char *ring_graph(int n, char *buf, size_t len) {
  size_t off = (size_t)snprintf(buf, len, "gpu: h200\nlinks:\n");
  for (int i = 0; i < n; i++)
    off += (size_t)snprintf(buf + off, len - off,
                            "  - {a: gpu%d, b: gpu%d, bandwidth: 12.3 GB/s,"
                            " latency: 4.7 us}\n", i, (i + 1) % n);
  return buf;
}

static void collective(run *r, double t, gpp_coll_op op, gpp_coll_algo a,
                       const uint32_t *ranks, size_t n, double bytes,
                       uint64_t tag) {
  gpp_errctx e = {0};
  cr_assert_eq(gpp_net_collective(r->net, t, op, a, ranks, n, bytes, tag,
                                  &e), 0, "%s", e.msg);
}

Test(collectives, ring_allreduce_closed_form) {
  char buf[4096];
  run r;
  setup(&r, ring_graph(8, buf, sizeof buf));
  uint32_t ranks[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  double S = 1.37e9, B = 12.3e9, a = 4.7e-6;
  collective(&r, 0.3, GPP_COLL_ALLREDUCE, GPP_COLL_RING, ranks, 8, S, 11);
  drain(&r);
  cr_assert_eq(r.done, 1);
  rel_eq(r.finish[11] - 0.3, 2.0 * 7 / 8 * S / B + 2 * 7 * a, 0.01);
  rel_eq(r.finish[11] - 0.3, 2.0 * 7 / 8 * S / B + 2 * 7 * a, 1e-9);
  teardown(&r);
}

static const char *dgx2 =
    "gpu: a100-sxm-80gb\nnodes: 2\ngpus_per_node: 8\n"
    "intra_node: {kind: nvswitch, bandwidth: 300 GB/s, latency: 2 us}\n"
    "inter_node: {kind: rail-optimized, nics_per_node: 8, nic_bandwidth: "
    "200 Gb/s, latency: 5 us}\n";

Test(collectives, ring_on_nvswitch_and_allgather_forms) {
  run r;
  setup(&r, dgx2);
  uint32_t ranks[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  double S = 2.9e9, B = 300e9, a = 2e-6;
  collective(&r, 0, GPP_COLL_ALLREDUCE, GPP_COLL_RING, ranks, 8, S, 0);
  collective(&r, 0, GPP_COLL_ALLGATHER, GPP_COLL_AUTO, ranks + 0, 1, S, 1);
  drain(&r);
  rel_eq(r.finish[0], 2.0 * 7 / 8 * S / B + 14 * a, 1e-9);
  cr_assert_eq(r.finish[1], 0, "one rank: done at once");
  collective(&r, 1, GPP_COLL_ALLGATHER, GPP_COLL_RING, ranks, 8, S, 2);
  collective(&r, 2, GPP_COLL_REDUCE_SCATTER, GPP_COLL_AUTO, ranks, 8, S, 3);
  drain(&r);
  rel_eq(r.finish[2] - 1, 7.0 / 8 * S / B + 7 * a, 1e-9);
  rel_eq(r.finish[3] - 2, 7.0 / 8 * S / B + 7 * a, 1e-9);
  teardown(&r);
}

Test(collectives, hierarchical_tree_and_p2p) {
  run r;
  setup(&r, dgx2);
  uint32_t ranks[16];
  for (int i = 0; i < 16; i++) ranks[i] = (uint32_t)(15 - i);
  double S = 1.6e9, Bi = 300e9, ai = 2e-6, Bn = 25e9, an = 5e-6;
  cr_assert_eq(gpp_net_coll_resolve(r.net, GPP_COLL_ALLREDUCE, GPP_COLL_AUTO,
                                    ranks, 16), GPP_COLL_HIERARCHICAL);
  cr_assert_eq(gpp_net_coll_resolve(r.net, GPP_COLL_ALLREDUCE, GPP_COLL_AUTO,
                                    ranks, 8), GPP_COLL_RING);
  collective(&r, 0, GPP_COLL_ALLREDUCE, GPP_COLL_AUTO, ranks, 16, S, 0);
  drain(&r);
  double intra = 7 * (ai + S / 8 / Bi), inter = 2 * (an + S / 16 / Bn);
  rel_eq(r.finish[0], 2 * intra + inter, 1e-9);
  uint32_t three[3] = {0, 1, 2};
  collective(&r, 1, GPP_COLL_ALLREDUCE, GPP_COLL_TREE, three, 3, S, 1);
  drain(&r);
  rel_eq(r.finish[1] - 1, 2 * (ai + S / (Bi / 2)), 1e-9); /* 2 children */
  uint32_t pair[2] = {3, 12};
  collective(&r, 2, GPP_COLL_P2P, GPP_COLL_AUTO, pair, 2, S, 2);
  drain(&r);
  rel_eq(r.finish[2] - 2, 7.5e-6 + S / Bn, 1e-9);
  teardown(&r);
}

/* All-gather and reduce-scatter across 2 nodes of 8: `auto` is
 * hierarchical, the 8 inter-node rings (one per local index, each on its
 * own NIC) then the intra-node one, or the reverse: one step of S/16 over
 * the NICs and 7 of S/8 over NVSwitch.  A single ring over the 16 ranks
 * would cross each node boundary on one NIC: 15 steps of S/16 at Bn. */
Test(collectives, hierarchical_allgather_and_reduce_scatter) {
  run r;
  setup(&r, dgx2);
  uint32_t ranks[16];
  for (uint32_t i = 0; i < 16; i++) ranks[i] = i;
  double S = 1.6e9, Bi = 300e9, ai = 2e-6, Bn = 25e9, an = 5e-6;
  for (int op = GPP_COLL_ALLGATHER; op <= GPP_COLL_REDUCE_SCATTER; op++)
    cr_assert_eq(gpp_net_coll_resolve(r.net, (gpp_coll_op)op, GPP_COLL_AUTO,
                                      ranks, 16), GPP_COLL_HIERARCHICAL);
  cr_assert_eq(gpp_net_coll_resolve(r.net, GPP_COLL_ALLGATHER, GPP_COLL_AUTO,
                                    ranks, 8), GPP_COLL_RING);
  collective(&r, 0, GPP_COLL_ALLGATHER, GPP_COLL_AUTO, ranks, 16, S, 0);
  drain(&r);
  double want = (an + S / 16 / Bn) + 7 * (ai + S / 8 / Bi);
  rel_eq(r.finish[0], want, 1e-9);
  collective(&r, 1, GPP_COLL_REDUCE_SCATTER, GPP_COLL_AUTO, ranks, 16, S, 1);
  drain(&r);
  rel_eq(r.finish[1] - 1, want, 1e-9);
  teardown(&r);
}

Test(flows, rail_optimized_eight_flows_get_a_nic_each) {
  run r;
  setup(&r, dgx2);
  for (uint32_t i = 0; i < 8; i++) flow(&r, 0, i, 8 + i, 4.4e9, i);
  drain(&r);
  for (uint32_t i = 0; i < 8; i++) rel_eq(r.finish[i], 5e-6 + 4.4e9 / 25e9,
                                          1e-12);
  teardown(&r);
}

/* Two GPUs on each node's one NIC: flows of both GPUs that start together
 * (a collective's step) pair up on the NICs and get half a NIC each, which
 * the equal split settles without a filling. */
static const char *shared_nic =
    "gpu: v100-sxm2-16gb\nnodes: 2\ngpus_per_node: 2\n"
    "intra_node: {kind: nvlink-mesh, bandwidth: 150 GB/s, latency: 2 us}\n"
    "inter_node: {kind: fat-tree, nics_per_node: 1, nic_bandwidth: "
    "100 Gb/s, latency: 5 us}\n";

Test(flows, flows_starting_together_split_a_shared_nic) {
  run r;
  setup(&r, shared_nic);
  flow(&r, 0, 0, 2, 3.1e9, 0);
  flow(&r, 0, 1, 3, 3.1e9, 1);
  drain(&r);
  const gpp__route *rt;
  gpp_errctx e = {0};
  cr_assert_eq(gpp__route_get(r.c, 0, 2, &rt, &e), 0, "%s", e.msg);
  for (int i = 0; i < 2; i++)
    rel_eq(r.finish[i], rt->latency + 3.1e9 / (12.5e9 / 2), 1e-12);
  gpp_net_reshare_stats how;
  gpp_net_reshare_stats_get(r.net, &how);
  cr_assert_eq(how.fast, 2, "the start and the end of the pair");
  cr_assert_eq(how.local + how.closed, 0);
  teardown(&r);
}

/* 80-port leaves (more ports than a route step scans one by one) under 4
 * spines: routes between leaves take 6 links through a spine, and spread
 * over all the spines; routes within a leaf take 4.  Each route's cost is
 * its links' latency sum and smallest bandwidth. */
static const char *wide_leaves =
    "gpu: h100-sxm-80gb\nnodes: 80\ngpus_per_node: 2\n"
    "intra_node: {kind: nvswitch, bandwidth: 450 GB/s, latency: 2 us}\n"
    "inter_node: {kind: fat-tree, nics_per_node: 2, nic_bandwidth: "
    "400 Gb/s, latency: 5 us, nodes_per_leaf: 40, spines: 4}\n";

static uint32_t route_check(gpp_cluster *c, uint32_t s, uint32_t d,
                            const char **via) {
  const uint32_t *links;
  uint32_t n;
  double lat, bw, sum = 0, min = INFINITY;
  gpp_errctx e = {0};
  cr_assert_eq(gpp_cluster_route(c, s, d, &links, &n, &e), 0, "%s", e.msg);
  cr_assert_eq(gpp_cluster_route_cost(c, s, d, &lat, &bw, &e), 0);
  cr_assert_eq(c->links[links[0]].from, s);
  cr_assert_eq(c->links[links[n - 1]].to, d);
  for (uint32_t k = 0; k < n; k++) {
    if (k > 0) cr_assert_eq(c->links[links[k]].from, c->links[links[k - 1]].to);
    sum += c->links[links[k]].latency;
    min = fmin(min, c->links[links[k]].bandwidth);
  }
  cr_assert_float_eq(lat, sum, 1e-18);
  cr_assert_eq(bw, min);
  *via = n > 2 ? c->vertex_names[c->links[links[2]].to] : "";
  return n;
}

Test(routes, wide_leaves_spread_over_spines) {
  run r;
  setup(&r, wide_leaves);
  bool used[4] = {false};
  const char *via;
  for (uint32_t s = 0; s < 80; s++) { /* leaf 0 to leaf 1 */
    cr_assert_eq(route_check(r.c, s, 80 + (s * 7) % 80, &via), 6);
    unsigned k;
    cr_assert_eq(sscanf(via, "spine%u", &k), 1, "third hop to %s", via);
    cr_assert_lt(k, 4);
    used[k] = true;
  }
  for (int k = 0; k < 4; k++) cr_assert(used[k], "spine%d unused", k);
  cr_assert_eq(route_check(r.c, 3, 70, &via), 4); /* one leaf */
  cr_assert_eq(route_check(r.c, 150, 81, &via), 4);
  teardown(&r);
}

static void chain(void *ctx, uint64_t tag, double t) {
  run *r = ctx;
  on_done(ctx, tag, t);
  if (tag < 3) {
    gpp_errctx e = {0};
    cr_assert_eq(gpp_net_flow(r->net, t, 0, 9, 1e8, tag + 1, &e), 0);
  }
}

Test(flows, done_callback_may_start_flows) {
  run r;
  setup(&r, dgx2);
  flow(&r, 0, 0, 9, 1e8, 0);
  gpp_errctx e = {0};
  while (isfinite(gpp_net_next_time(r.net)))
    cr_assert_eq(gpp_net_advance(r.net, gpp_net_next_time(r.net), chain, &r,
                                 &e), 0);
  cr_assert_eq(r.done, 4);
  rel_eq(r.finish[3], 4 * (7.5e-6 + 1e8 / 25e9), 1e-12);
  teardown(&r);
}

static const char *fat =
    "gpu: h100-sxm-80gb\nnodes: 16\ngpus_per_node: 4\n"
    "intra_node: {kind: nvswitch, bandwidth: 450 GB/s, latency: 2 us}\n"
    "inter_node: {kind: fat-tree, nics_per_node: 2, nic_bandwidth: "
    "400 Gb/s, latency: 5 us, nodes_per_leaf: 4, spines: 3, "
    "oversubscription: 1.5}\n";

static void random_run(run *r, uint64_t seed) {
  setup(r, fat);
  uint64_t x = seed;
  for (uint64_t i = 0; i < 400; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    uint32_t s = (uint32_t)(x >> 33) % 64, d = (uint32_t)(x >> 45) % 64;
    if (d == s) d = (d + 1) % 64;
    flow(r, (double)(i / 40) * 1e-4, s, d, 1e6 + (double)(x >> 50) * 977,
         i);
  }
  drain(r);
}

Test(flows, deterministic_bit_for_bit) {
  static run a, b;
  random_run(&a, 42);
  random_run(&b, 42);
  cr_assert_eq(a.done, 400);
  cr_assert_eq(memcmp(a.finish, b.finish, sizeof a.finish), 0);
  uint64_t ra, ta, rb, tb;
  gpp_net_counters(a.net, &ra, &ta);
  gpp_net_counters(b.net, &rb, &tb);
  cr_assert_eq(ra, rb);
  cr_assert_eq(ta, tb);
  for (int i = 0; i < 400; i++) cr_assert_gt(a.finish[i], 0);
  teardown(&a);
  teardown(&b);
}

/* Textbook progressive filling over every link and every active flow,
 * from scratch: raise all unsettled flows together and settle those of
 * the link that saturates first.  want[f] gets flow f's max-min rate. */
static void reference_rates(const gpp_net *net, double *want) {
  uint32_t nl = net->cluster->n_links;
  double *res = calloc(nl, sizeof *res);
  uint32_t *cnt = calloc(nl, sizeof *cnt);
  bool *fixed = calloc(net->n_flows, sizeof *fixed);
  cr_assert(res && cnt && fixed);
  for (uint32_t l = 0; l < nl; l++) {
    res[l] = net->cluster->links[l].bandwidth;
    cnt[l] = net->links[l].n;
  }
  for (;;) {
    uint32_t best = UINT32_MAX;
    for (uint32_t l = 0; l < nl; l++)
      if (cnt[l] > 0 && (best == UINT32_MAX ||
                         res[l] / cnt[l] < res[best] / cnt[best]))
        best = l;
    if (best == UINT32_MAX) break;
    double share = res[best] / cnt[best];
    for (uint32_t j = 0; j < net->links[best].n; j++) {
      uint32_t f = net->links[best].flows[j].flow;
      if (fixed[f]) continue;
      fixed[f] = true;
      want[f] = share;
      for (uint32_t k = 0; k < net->flows[f].n_links; k++) {
        res[net->flows[f].links[k]] -= share;
        cnt[net->flows[f].links[k]]--;
      }
    }
  }
  free(res);
  free(cnt);
  free(fixed);
}

/* Compares every active flow's rate with the reference; returns how many
 * flows were active. */
static uint32_t check_rates(const gpp_net *net) {
  static double want[MAX_TAGS];
  cr_assert_leq(net->n_flows, MAX_TAGS);
  reference_rates(net, want);
  uint32_t active = 0;
  for (uint32_t f = 0; f < net->n_flows; f++) {
    if (net->flows[f].state != FLOW_ACTIVE) continue;
    active++;
    cr_assert(fabs(net->flows[f].rate - want[f]) <= 1e-9 * want[f],
              "flow %u: incremental rate %.17g, from scratch %.17g", f,
              net->flows[f].rate, want[f]);
  }
  return active;
}

/* Random flows (intra- and inter-node) with random start times and sizes;
 * after every instant the network handles, the rates of all active flows
 * must be the max-min rates computed from scratch. */
static void random_vs_scratch(const char *yaml, uint32_t n_gpus,
                              uint32_t n_flows, uint64_t seed,
                              uint64_t refill_budget,
                              gpp_net_reshare_stats *how) {
  run r;
  setup(&r, yaml);
  r.net->refill_budget = refill_budget;
  uint64_t x = seed;
  for (uint32_t i = 0; i < n_flows; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    uint32_t s = (uint32_t)(x >> 33) % n_gpus, d = (uint32_t)(x >> 45) % n_gpus;
    if (d == s) d = (d + 1) % n_gpus;
    double start = (double)((x >> 20) % 1000) * 2e-6;
    flow(&r, start, s, d, 1e5 + (double)(x >> 40) * 4.1, i);
  }
  gpp_errctx e = {0};
  uint32_t checks = 0, peak = 0;
  while (isfinite(gpp_net_next_time(r.net))) {
    cr_assert_eq(gpp_net_advance(r.net, gpp_net_next_time(r.net), on_done,
                                 &r, &e), 0, "%s", e.msg);
    uint32_t active = check_rates(r.net);
    peak = active > peak ? active : peak;
    checks++;
  }
  cr_assert_eq(r.done, (int)n_flows);
  cr_assert_gt(checks, n_flows, "an instant per start and finish");
  cr_assert_gt(peak, n_flows / 4, "flows overlap: %u at most", peak);
  gpp_net_reshare_stats h;
  gpp_net_reshare_stats_get(r.net, &h);
  how->fast += h.fast;
  how->local += h.local;
  how->closed += h.closed;
  teardown(&r);
}

/* Every way of re-sharing must have been taken, and checked. */
static void expect_all_ways(const gpp_net_reshare_stats *how) {
  cr_assert_gt(how->fast, 0);
  cr_assert_gt(how->local, 0);
  cr_assert_gt(how->closed, 0);
}

/* A random mix of collectives (ring, tree and hierarchical all-reduce,
 * all-gather, reduce-scatter over random ranks) and point-to-point flows
 * that cross them, started at random times in order. */
static void class_mix(run *r, const char *yaml, uint32_t n_gpus,
                      uint64_t seed, bool classes) {
  setup(r, yaml);
  r->net->no_classes = !classes;
  uint64_t x = seed;
  double t = 0;
  gpp_errctx e = {0};
  for (uint32_t i = 0; i < 120; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    t += (double)((x >> 20) % 7) * 3e-5;
    cr_assert_eq(gpp_net_advance(r->net, t, on_done, r, &e), 0, "%s", e.msg);
    uint32_t s = (uint32_t)(x >> 33) % n_gpus, kind = (uint32_t)(x >> 60) % 4;
    double bytes = 1e6 + (double)((x >> 40) % 4096) * 977;
    if (kind == 0) {
      flow(r, t, s, (s + 1 + (uint32_t)(x >> 45) % (n_gpus - 1)) % n_gpus,
           bytes, i);
      continue;
    }
    uint32_t ranks[64], n = 0, stride = 1 + (uint32_t)(x >> 50) % 3;
    for (uint32_t g = s % stride; g < n_gpus; g += stride) ranks[n++] = g;
    static const gpp_coll_op ops[] = {GPP_COLL_ALLREDUCE, GPP_COLL_ALLGATHER,
                                      GPP_COLL_REDUCE_SCATTER};
    gpp_coll_op op = ops[(x >> 56) % 3];
    gpp_coll_algo a = op != GPP_COLL_ALLREDUCE ? GPP_COLL_RING
                      : kind == 1 ? GPP_COLL_AUTO
                      : kind == 2 ? GPP_COLL_RING : GPP_COLL_TREE;
    collective(r, t, op, a, ranks, n, bytes * 8, i);
  }
  drain(r);
  cr_assert_eq(r->done, 120);
}

/* Flow classes change nothing: every completion time, the bytes and the
 * peak utilisation of every link class come out as with every collective
 * flow by itself; classes ran alone and were split by crossing flows. */
static void classes_match_flows(const char *yaml, uint32_t n_gpus,
                                bool shared_links) {
  static run a, b;
  uint64_t classes = 0, splits = 0;
  for (uint64_t seed = 1; seed <= 4; seed++) {
    class_mix(&a, yaml, n_gpus, seed, true);
    class_mix(&b, yaml, n_gpus, seed, false);
    for (int i = 0; i < 120; i++) rel_eq(a.finish[i], b.finish[i], 1e-9);
    gpp_net_class_stats sa[GPP_LINK__NCLASSES], sb[GPP_LINK__NCLASSES];
    gpp_net_class_stats_get(a.net, sa);
    gpp_net_class_stats_get(b.net, sb);
    for (int c = 0; c < GPP_LINK__NCLASSES; c++) {
      cr_assert(fabs(sa[c].bytes - sb[c].bytes) <= 1e-9 * sb[c].bytes);
      cr_assert(fabs(sa[c].peak_utilisation - sb[c].peak_utilisation) <=
                1e-9 * sb[c].peak_utilisation);
    }
    cr_assert_eq(b.net->classes, 0);
    classes += a.net->classes;
    splits += a.net->splits;
    teardown(&a);
    teardown(&b);
  }
  cr_assert_gt(classes, 0);
  cr_assert_gt(splits, 0, "crossing flows split classes");
  if (!shared_links) cr_assert_gt(classes, splits, "classes ran alone");
}

static const char *rail4 =
    "gpu: h100-sxm-80gb\nnodes: 4\ngpus_per_node: 4\n"
    "intra_node: {kind: nvswitch, bandwidth: 450 GB/s, latency: 2 us}\n"
    "inter_node: {kind: rail-optimized, nics_per_node: 4, nic_bandwidth: "
    "400 Gb/s, latency: 5 us}\n";

static const char *fat_shared =
    "gpu: h100-sxm-80gb\nnodes: 4\ngpus_per_node: 8\n"
    "intra_node: {kind: nvswitch, bandwidth: 450 GB/s, latency: 2 us}\n"
    "inter_node: {kind: fat-tree, nics_per_node: 4, nic_bandwidth: "
    "200 Gb/s, latency: 5 us, nodes_per_leaf: 2, spines: 2}\n";

Test(collectives, flow_classes_match_flow_by_flow_on_rails) {
  classes_match_flows(rail4, 16, false);
}

Test(collectives, flow_classes_match_flow_by_flow_on_shared_nics) {
  classes_match_flows(fat_shared, 32, true);
}

/* A NIC per GPU, two nodes per leaf: a ring's hops within a node, within
 * a leaf and across the spine have three latencies, so a step runs as a
 * class per latency (no step has one latency for all its flows). */
static const char *fat_rails =
    "gpu: h100-sxm-80gb\nnodes: 8\ngpus_per_node: 4\n"
    "intra_node: {kind: nvswitch, bandwidth: 450 GB/s, latency: 2 us}\n"
    "inter_node: {kind: fat-tree, nics_per_node: 4, nic_bandwidth: "
    "400 Gb/s, latency: 5 us, nodes_per_leaf: 2, spines: 2}\n";

Test(collectives, flow_classes_match_flow_by_flow_across_leaves) {
  classes_match_flows(fat_rails, 32, true);
}

/* d collectives over the same ranks (GPU 0 of every node) at once, as
 * the engine issues one per replica in a multi-stage sharded plan: their
 * steps' classes have exactly the same links and run as a ring at an
 * equal share.  With cross, a point-to-point flow over their links halfway
 * splits the ring (and the steps after it meet flows, not classes). */
static void identical_collectives(run *r, const char *yaml, uint32_t nodes,
                                  bool classes, gpp_coll_op op,
                                  double stagger, bool cross) {
  setup(r, yaml);
  r->net->no_classes = !classes;
  uint32_t ranks[8];
  for (uint32_t i = 0; i < nodes; i++) ranks[i] = 4 * i;
  gpp_errctx e = {0};
  for (uint32_t k = 0; k < 6; k++) {
    double t = stagger * k;
    cr_assert_eq(gpp_net_advance(r->net, t, on_done, r, &e), 0, "%s", e.msg);
    collective(r, t, op, GPP_COLL_RING, ranks, nodes, 48e6 + 1e6 * k, k);
  }
  if (cross) {
    cr_assert_eq(gpp_net_advance(r->net, 2e-3, on_done, r, &e), 0, "%s",
                 e.msg);
    flow(r, 2e-3, 0, 4, 30e6, 6);
  }
  drain(r);
  cr_assert_eq(r->done, 6 + cross);
}

Test(collectives, identical_collectives_share_as_a_ring) {
  static const gpp_coll_op ops[] = {GPP_COLL_ALLREDUCE, GPP_COLL_ALLGATHER};
  static const double staggers[] = {0, 1e-5, 3e-4};
  /* fat_rails: a class within the leaves and one across (each the owner
   * of its ring); rail4: one, its hops all through GPU 0's rail. */
  const char *yamls[] = {fat_rails, rail4};
  const uint64_t owners[] = {2, 1};
  const uint32_t nodes[] = {8, 4};
  for (int y = 0; y < 2; y++)
    for (int o = 0; o < 2; o++)
      for (int s = 0; s < 3; s++)
        for (int cross = 0; cross < 2; cross++) {
          static run a, b;
          identical_collectives(&a, yamls[y], nodes[y], true, ops[o],
                                staggers[s], cross);
          identical_collectives(&b, yamls[y], nodes[y], false, ops[o],
                                staggers[s], cross);
          for (int i = 0; i < 6 + cross; i++)
            rel_eq(a.finish[i], b.finish[i], 1e-9);
          uint64_t classes, shared, splits;
          gpp_net_class_counts(a.net, &classes, &shared, &splits);
          if (cross) {
            cr_assert_gt(shared, 0);
            cr_assert_gt(splits, 0, "the crossing flow split a ring");
          } else {
            /* A ring ends when its last class ends before the next
             * step's classes arrive (a step starts a latency later). */
            cr_assert(shared <= classes - owners[y] &&
                      4 * shared >= 3 * classes, "nearly every class but "
                      "the first of each ring shared: %llu of %llu",
                      (unsigned long long)shared,
                      (unsigned long long)classes);
            cr_assert_eq(splits, 0);
          }
          teardown(&a);
          teardown(&b);
        }
}

/* A ring all-reduce over GPU 0 of the 8 nodes (one rail): each of its 14
 * steps has 4 hops within a leaf and 4 across the spine, so it runs as
 * two classes of 4 (before, no class: the step had two latencies), and
 * finishes when flow by flow does. */
Test(collectives, a_ring_across_leaves_runs_as_a_class_per_latency) {
  static run a, b;
  uint32_t ranks[8];
  for (uint32_t i = 0; i < 8; i++) ranks[i] = 4 * i;
  setup(&a, fat_rails);
  setup(&b, fat_rails);
  b.net->no_classes = true;
  collective(&a, 0, GPP_COLL_ALLREDUCE, GPP_COLL_RING, ranks, 8, 64e6, 0);
  collective(&b, 0, GPP_COLL_ALLREDUCE, GPP_COLL_RING, ranks, 8, 64e6, 0);
  drain(&a);
  drain(&b);
  uint64_t classes, splits;
  gpp_net_class_counts(a.net, &classes, NULL, &splits);
  cr_assert_eq(classes, 28, "two classes a step; got %llu",
               (unsigned long long)classes);
  rel_eq(a.finish[0], b.finish[0], 1e-12);
  teardown(&a);
  teardown(&b);
}

Test(flows, incremental_rates_match_filling_from_scratch) {
  gpp_net_reshare_stats how = {0};
  for (uint64_t seed = 1; seed <= 4; seed++)
    random_vs_scratch(fat, 64, 400, seed, 0, &how);
  /* A small budget: incremental re-sharings give up half-way, are undone
   * and fill the closed component. */
  random_vs_scratch(fat, 64, 400, 5, 40, &how);
  expect_all_ways(&how);
}

static const char *fat_thin =
    "gpu: h100-sxm-80gb\nnodes: 8\ngpus_per_node: 8\n"
    "intra_node: {kind: nvswitch, bandwidth: 450 GB/s, latency: 2 us}\n"
    "inter_node: {kind: fat-tree, nics_per_node: 4, nic_bandwidth: "
    "200 Gb/s, latency: 5 us, nodes_per_leaf: 2, spines: 2, "
    "oversubscription: 4}\n";

Test(flows, incremental_rates_match_on_oversubscribed_fat_tree) {
  gpp_net_reshare_stats how = {0};
  for (uint64_t seed = 7; seed <= 9; seed++)
    random_vs_scratch(fat_thin, 64, 600, seed, 0, &how);
  random_vs_scratch(fat_thin, 64, 600, 10, 40, &how);
  expect_all_ways(&how);
}

static void expect_err(int rc, gpp_errctx *e, int code, const char *part) {
  cr_assert_eq(rc, code, "rc %d: %s", rc, e->msg);
  cr_assert(strstr(e->msg, part) != NULL, "'%s' not in: %s", part, e->msg);
  gpp_error_clear(e);
}

Test(errors, flows_and_collectives) {
  run r;
  setup(&r, dgx2);
  gpp_errctx e = {0};
  uint32_t dup[3] = {1, 2, 1}, far[2] = {1, 99}, two[2] = {0, 9};
  uint32_t odd[3] = {1, 2, 9};
  expect_err(gpp_net_flow(r.net, 0, 3, 3, 1, 0, &e), &e, GPP_EINVAL,
             "itself");
  expect_err(gpp_net_flow(r.net, 0, 0, 1, -1, 0, &e), &e, GPP_EINVAL,
             "negative");
  expect_err(gpp_net_flow(r.net, 0, 0, 16, 1, 0, &e), &e, GPP_ERANGE,
             "out of range");
  expect_err(gpp_net_flow(r.net, NAN, 0, 1, 1, 0, &e), &e, GPP_EINVAL,
             "finite");
  expect_err(gpp_net_collective(r.net, 0, GPP_COLL_ALLREDUCE, GPP_COLL_RING,
                                dup, 3, 1, 0, &e), &e, GPP_EINVAL, "twice");
  expect_err(gpp_net_collective(r.net, 0, GPP_COLL_ALLREDUCE, GPP_COLL_RING,
                                far, 2, 1, 0, &e), &e, GPP_ERANGE, "99");
  expect_err(gpp_net_collective(r.net, 0, GPP_COLL_ALLGATHER, GPP_COLL_TREE,
                                two, 2, 1, 0, &e), &e, GPP_EINVAL,
             "valid: auto, ring");
  expect_err(gpp_net_collective(r.net, 0, GPP_COLL_P2P, GPP_COLL_AUTO, dup,
                                3, 1, 0, &e), &e, GPP_EINVAL, "2 ranks");
  expect_err(gpp_net_collective(r.net, 0, GPP_COLL_ALLREDUCE,
                                GPP_COLL_HIERARCHICAL, odd, 3, 1, 0, &e), &e,
             GPP_EINVAL, "same number");
  cr_assert_eq(gpp_net_advance(r.net, 2.5, on_done, &r, &e), 0);
  expect_err(gpp_net_flow(r.net, 1.0, 0, 1, 1, 0, &e), &e, GPP_EINVAL,
             "before");
  gpp_coll_algo a;
  gpp_coll_op op;
  expect_err(gpp_coll_algo_from_name("rign", &a, &e), &e, GPP_EINVAL,
             "valid: auto, ring, tree, hierarchical");
  expect_err(gpp_coll_op_from_name("bcast", &op, &e), &e, GPP_EINVAL,
             "allreduce");
  cr_assert_eq(gpp_coll_algo_from_name("tree", &a, &e), 0);
  cr_assert_eq(a, GPP_COLL_TREE);
  cr_assert_str_eq(gpp_coll_op_name(GPP_COLL_REDUCE_SCATTER),
                   "reduce-scatter");
  teardown(&r);
}
