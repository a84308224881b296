/* comm.c -- the planners' affine communication model, fitted from a
 * cluster's routes (GraphPipe extrapolates communication "by affine
 * functions"): point-to-point alpha + beta * bytes by least squares over
 * the routes from GPU 0 and message sizes; all-reduce per power-of-two
 * group of consecutive GPUs from its slowest ring hop, or from its intra-
 * and inter-node hops where the engine runs it hierarchically; and what
 * the iteration estimate prices stage-to-stage transfers by: the intra-
 * and inter-node routes and the GPUs that share a NIC.  Kept apart
 * from the DPs so that they can be tested without a cluster. */
#include <gsl/gsl_fit.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "planner/internal.h"
#include "topology/topology.h"

/* Message sizes sampled: 1 KiB, 4 KiB, ... 1 GiB. */
#define N_SIZES 11

/* Least squares over the routes between GPU 0 and every other GPU of the
 * cluster, and message sizes: the DP does not know where a stage's
 * neighbours will sit, so a boundary costs the average route, which once a
 * plan spans many nodes is the inter-node one (most stage boundaries cross
 * nodes).  Sampling neighbours (j, j + 1) instead would weight the
 * intra-node routes far above their share and favour deep plans whose
 * transfers then dominate.  The routes are taken into GPU 0, which needs
 * the route table of that one destination rather than one per GPU (every
 * link is full duplex with one capacity both ways, so a route and its
 * reverse cost the same): a few milliseconds at 16,384 GPUs. */
static int fit_p2p(gpp_cluster *c, gpp_planner_comm *out, gpp_errctx *err) {
  size_t cap = (size_t)c->n_gpus * N_SIZES, n = 0;
  double *x = gpp_calloc(err, cap, sizeof *x);
  double *y = gpp_calloc(err, cap, sizeof *y);
  int rc = (x && y) ? 0 : err->code;
  for (uint32_t j = 1; rc == 0 && j < c->n_gpus; j++) {
    double lat, bw;
    rc = gpp_cluster_route_cost(c, j, 0, &lat, &bw, err);
    for (int q = 0; rc == 0 && q < N_SIZES; q++, n++) {
      x[n] = ldexp(1024.0, 2 * q);
      y[n] = lat + x[n] / bw;
    }
  }
  if (rc == 0 && n >= 2) {
    double c0, c1, cov00, cov01, cov11, sumsq;
    gsl_fit_linear(x, 1, y, 1, n, &c0, &c1, &cov00, &cov01, &cov11, &sumsq);
    out->p2p_latency = c0 > 0 ? c0 : 0;
    out->p2p_sec_per_byte = c1 > 0 ? c1 : 0;
  }
  free(x);
  free(y);
  return rc;
}

/* The slowest hop (latency and seconds per byte each at their worst) of
 * the ring over GPUs first + i * stride, i < n. */
static int slowest_hop(gpp_cluster *c, uint32_t first, uint32_t stride,
                       uint32_t n, double *lat, double *spb,
                       gpp_errctx *err) {
  for (uint32_t i = 0; i < n; i++) {
    double l, bw;
    GPP_TRY(gpp_cluster_route_cost(c, first + i * stride,
                                   first + (i + 1) % n * stride, &l, &bw,
                                   err));
    if (l > *lat) *lat = l;
    if (1.0 / bw > *spb) *spb = 1.0 / bw;
  }
  return 0;
}

/* The hops of all-reduce rings are read on the first FIT_WINDOW GPUs
 * only: every hop read needs the cluster's route table of one more
 * destination GPU (a search over the graph), which at 16,384 GPUs costs
 * minutes and gigabytes.  Groups larger than the window take the slowest
 * hops of the window's largest groups; on a template cluster (identical
 * nodes, and for a fat-tree identical leaves of up to 128 nodes) no other
 * kind of hop exists, so the fit is the one over every group.  Up to 1,024
 * GPUs nothing changes. */
#ifndef FIT_WINDOW
#define FIT_WINDOW 1024u
#endif

/* Ring: the slowest hop of any aligned group of k consecutive GPUs (first
 * GPU a multiple of k): the planners place data-parallel groups so
 * (planner/candidate.c), and on a cluster whose node size is not a
 * multiple of k some aligned groups straddle nodes. */
static int fit_ring(gpp_cluster *c, uint32_t n_gpus, uint32_t k, double *lat,
                    double *spb, gpp_errctx *err) {
  if (n_gpus > FIT_WINDOW) n_gpus = FIT_WINDOW;
  if (k > n_gpus) k = n_gpus;
  for (uint32_t g = 0; g + k <= n_gpus; g += k)
    GPP_TRY(slowest_hop(c, g, 1, k, lat, spb, err));
  return 0;
}

/* Hierarchical, which the engine's `auto` picks for a group of N whole
 * nodes of g GPUs (topology/coll_run.c): a reduce-scatter and an
 * all-gather in each node (g - 1 steps of S / g each) around a ring
 * all-reduce of S / g across the nodes (2(N - 1) steps of S / (g N)).  Its
 * time, a_i 2(g-1) + a_n 2(N-1) + S (b_i 2(g-1)/g + b_n 2(N-1)/(g N)),
 * is written as the ring formula's 2(k-1) alpha + 2(k-1)/k S beta. */
static int fit_hier(gpp_cluster *c, uint32_t n_gpus, uint32_t k,
                    uint32_t out_share, double *lat, double *spb,
                    gpp_errctx *err) {
  uint32_t g = c->gpus_per_node, N = k / g, kw = k;
  double li = 0, bi = 0, ln = 0, bn = 0;
  if (n_gpus > FIT_WINDOW) n_gpus = FIT_WINDOW;
  if (kw > n_gpus) kw = n_gpus / g * g;
  if (kw < g) kw = g;
  for (uint32_t first = 0; first + kw <= n_gpus; first += kw) {
    for (uint32_t node = 0; node < kw / g; node++)
      GPP_TRY(slowest_hop(c, first + node * g, 1, g, &li, &bi, err));
    for (uint32_t local = 0; local < g; local++)
      GPP_TRY(slowest_hop(c, first + local, g, kw / g, &ln, &bn, err));
  }
  /* The g rings across the nodes run at once; GPUs that share a NIC
   * (fit_inter) share its bandwidth. */
  if (out_share > 1) bn *= out_share;
  double t_lat = 2.0 * (g - 1) * li + 2.0 * (N - 1) * ln;
  double t_byte = 2.0 * (g - 1) / g * bi + 2.0 * (N - 1) / ((double)g * N) * bn;
  *lat = t_lat / (2.0 * (k - 1));
  *spb = t_byte / (2.0 * (k - 1) / k);
  return 0;
}

/* Whether route b shares a link of bandwidth bw with route a. */
static bool shares_narrowest(const gpp_cluster *c, const uint32_t *a,
                             uint32_t na, const uint32_t *b, uint32_t nb,
                             double bw) {
  for (uint32_t i = 0; i < na; i++) {
    if (c->links[a[i]].bandwidth > bw) continue;
    for (uint32_t j = 0; j < nb; j++)
      if (a[i] == b[j]) return true;
  }
  return false;
}

/* How many of node 1's GPUs g + l, sending to GPU l, share the narrowest
 * link of GPU g's route to GPU 0 (a NIC that GPUs share). */
static int nic_sharing(gpp_cluster *c, uint32_t g, double bw, uint32_t *out,
                       gpp_errctx *err) {
  const uint32_t *first, *route;
  uint32_t n_first, n_route, share = 1;
  GPP_TRY(gpp_cluster_route(c, g, 0, &first, &n_first, err));
  for (uint32_t l = 1; l < g; l++) {
    GPP_TRY(gpp_cluster_route(c, g + l, l, &route, &n_route, err));
    share += shares_narrowest(c, first, n_first, route, n_route, bw);
  }
  *out = g % share == 0 ? share : g;
  return 0;
}

/* Node 1 to node 0: the mean latency and seconds per byte over every pair
 * of GPUs (g x g routes, into g destinations), and the NIC sharing. */
static int fit_inter(gpp_cluster *c, gpp_planner_comm *out, gpp_errctx *err) {
  uint32_t g = c->gpus_per_node;
  double lat = 0, spb = 0, l1, bw, bw0;
  for (uint32_t dst = 0; dst < g; dst++)
    for (uint32_t src = g; src < 2 * g; src++) {
      GPP_TRY(gpp_cluster_route_cost(c, src, dst, &l1, &bw, err));
      lat += l1;
      spb += 1.0 / bw;
    }
  out->p2p_inter_latency = lat / ((double)g * g);
  out->p2p_inter_sec_per_byte = spb / ((double)g * g);
  GPP_TRY(gpp_cluster_route_cost(c, g, 0, &l1, &bw0, err));
  return nic_sharing(c, g, bw0, &out->gpus_per_nic, err);
}

int gpp_planner_comm_fit(gpp_cluster *c, uint32_t n_gpus,
                         gpp_planner_comm *out, gpp_errctx *err) {
  *out = (gpp_planner_comm){0};
  if (n_gpus == 0 || n_gpus > c->n_gpus) n_gpus = c->n_gpus;
  GPP_TRY(fit_p2p(c, out, err));
  uint32_t g = c->gpus_per_node;
  if (g > 1 && c->n_gpus > 1) {
    double lat, bw;
    GPP_TRY(gpp_cluster_route_cost(c, 1, 0, &lat, &bw, err));
    out->gpus_per_node = g;
    out->p2p_intra_latency = lat;
    out->p2p_intra_sec_per_byte = 1.0 / bw;
  }
  if (g > 1 && c->n_gpus >= 2 * g) GPP_TRY(fit_inter(c, out, err));
  if (g > 1 && n_gpus > g)
    GPP_TRY(slowest_hop(c, 0, 1, n_gpus < 2 * g ? n_gpus : 2 * g,
                        &out->ring_span_latency, &out->ring_span_sec_per_byte,
                        err));
  for (uint32_t j = 1; j < GPP_PLANNER_MAX_LOG2; j++) {
    uint32_t k = 1u << j;
    double *lat = &out->ar_latency[j], *spb = &out->ar_sec_per_byte[j];
    if (k > n_gpus) {
      *lat = out->ar_latency[j - 1];
      *spb = out->ar_sec_per_byte[j - 1];
    } else if (g > 1 && k > g && k % g == 0) {
      GPP_TRY(fit_hier(c, n_gpus, k, out->gpus_per_nic, lat, spb, err));
    } else {
      GPP_TRY(fit_ring(c, n_gpus, k, lat, spb, err));
    }
  }
  return 0;
}
