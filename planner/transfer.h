/* transfer.h -- the iteration estimate's transfers between stages, priced
 * as the engine routes them (planner/transfer.c).  Not installed. */
#ifndef GPP_PLANNER_TRANSFER_H
#define GPP_PLANNER_TRANSFER_H

#include <stdbool.h>
#include <stdint.h>

#include "planner/planner.h"

/* A stage's placement: micro-batches of b samples split over k replicas,
 * replica r on GPU first + r * t (the first GPU of its tensor group of t,
 * which sends and receives its activations). */
typedef struct gpp__xfer_stage {
  uint32_t first, k, b, t;
} gpp__xfer_stage;

/* A stage edge and the bytes per sample it carries. */
typedef struct gpp__xfer_edge {
  uint32_t from, to;
  double bytes;
} gpp__xfer_edge;

typedef struct gpp__xfer_ports {
  const gpp_planner_comm *cm;
  const gpp__xfer_stage *st;
  double *load;        /* bytes per port: 4 per GPU (see transfer.c) */
  uint32_t *touched, n_touched, n_gpus;
  bool own;            /* price the stage's own ports only (not those of
                          the stages at the edges' other ends) */
} gpp__xfer_ports;

/* Ports for GPUs 0 .. n_gpus - 1. */
int gpp__xfer_init(gpp__xfer_ports *x, const gpp_planner_comm *cm,
                   const gpp__xfer_stage *st, uint32_t n_gpus,
                   gpp_errctx *err);
void gpp__xfer_free(gpp__xfer_ports *x);
/* Seconds until one micro-batch has crossed every edge into stage s (in)
 * or out of it: each replica sends each replica of the other stage that
 * holds some of its samples one piece (gpp_engine_pieces), all at once;
 * the time is that of the port (a GPU's link into its node's switch, or
 * a NIC with the GPUs sharing it) that carries the most bytes, plus its
 * route's latency (also in *lat), and whether that port is inside the
 * node (*intra).  With x->own, only stage s's own ports count (what its
 * side of the transfers takes; the iteration estimate's replay shares
 * each side among the transfers under way on it). */
double gpp__xfer_time(gpp__xfer_ports *x, const gpp__xfer_edge *e,
                      uint32_t n_edges, uint32_t s, bool in, double *lat,
                      bool *intra);

#endif
