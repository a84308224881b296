/* comm.c -- the planners' affine communication model, fitted from a
 * cluster's routes (GraphPipe extrapolates communication "by affine
 * functions"): point-to-point alpha + beta * bytes by least squares over
 * GPU pairs and message sizes; all-reduce per power-of-two group of
 * consecutive GPUs from its slowest ring hop.  Kept apart from the DPs so
 * that they can be tested without a cluster. */
#include <gsl/gsl_fit.h>
#include <math.h>
#include <stdlib.h>

#include "planner/internal.h"
#include "topology/topology.h"

/* Message sizes sampled: 1 KiB, 4 KiB, ... 1 GiB. */
#define N_SIZES 11

/* Pairs (0, j) and (j, j+1): every hop class from GPU 0 and every
 * neighbour, without the n^2 pairs of a large cluster. */
static int fit_p2p(gpp_cluster *c, gpp_planner_comm *out, gpp_errctx *err) {
  size_t cap = (size_t)2 * c->n_gpus * N_SIZES, n = 0;
  double *x = gpp_calloc(err, cap, sizeof *x), *y = gpp_calloc(err, cap, sizeof *y);
  int rc = (x && y) ? 0 : err->code;
  for (uint32_t j = 1; rc == 0 && j < c->n_gpus; j++)
    for (int pair = 0; pair < 2 && rc == 0; pair++) {
      uint32_t a = pair ? j - 1 : 0;
      if (pair && a == 0) continue;
      double lat, bw;
      rc = gpp_cluster_route_cost(c, a, j, &lat, &bw, err);
      for (int q = 0; rc == 0 && q < N_SIZES; q++) {
        x[n] = ldexp(1024.0, 2 * q);
        y[n] = lat + x[n] / bw;
        n++;
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

/* The slowest ring hop of any aligned group of k consecutive GPUs (first
 * GPU a multiple of k): the planners place data-parallel groups so
 * (planner/candidate.c), and on a cluster whose node size is not a
 * multiple of k some aligned groups straddle nodes. */
static int fit_ring(gpp_cluster *c, uint32_t k, double *lat, double *spb,
                    gpp_errctx *err) {
  *lat = 0;
  *spb = 0;
  for (uint32_t g = 0; g + k <= c->n_gpus; g += k)
    for (uint32_t i = 0; i < k; i++) {
      double l, bw;
      GPP_TRY(gpp_cluster_route_cost(c, g + i, g + (i + 1) % k, &l, &bw,
                                     err));
      if (l > *lat) *lat = l;
      if (1.0 / bw > *spb) *spb = 1.0 / bw;
    }
  return 0;
}

int gpp_planner_comm_fit(gpp_cluster *c, gpp_planner_comm *out,
                         gpp_errctx *err) {
  *out = (gpp_planner_comm){0};
  GPP_TRY(fit_p2p(c, out, err));
  for (uint32_t j = 1; j < GPP_PLANNER_MAX_LOG2; j++) {
    uint32_t k = 1u << j;
    if (k > c->n_gpus) {
      out->ar_latency[j] = out->ar_latency[j - 1];
      out->ar_sec_per_byte[j] = out->ar_sec_per_byte[j - 1];
      continue;
    }
    GPP_TRY(fit_ring(c, k, &out->ar_latency[j], &out->ar_sec_per_byte[j], err));
  }
  return 0;
}
