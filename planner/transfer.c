/* transfer.c -- prices the transfers between two stages the way the
 * engine makes them (sim/engine/engine_task.c): a replica's samples go to
 * every replica of the other stage that holds some of them, one flow
 * each, all started together and sharing links max-min fairly.  With k1
 * senders and k2 receivers the flows meet at the side with fewer
 * replicas (8 -> 2: each receiver takes four flows through its one
 * link), which charging each side its own share would miss.  The time is
 * the most loaded port's: a GPU's link to its node's switch (flows inside
 * the node) or its NIC (flows between nodes, the NIC shared by
 * gpus_per_nic GPUs), each direction apart, plus the route's latency. */
#include <stdlib.h>

#include "planner/transfer.h"
#include "sim/engine/engine.h"

/* Port kinds, 4 per GPU: the intra-node link out and in, and the NIC's
 * transmit and receive side (indexed by the NIC's first GPU). */
enum { INTRA_OUT, INTRA_IN, NIC_TX, NIC_RX };

int gpp__xfer_init(gpp__xfer_ports *x, const gpp_planner_comm *cm,
                   const gpp__xfer_stage *st, uint32_t n_gpus,
                   gpp_errctx *err) {
  *x = (gpp__xfer_ports){.cm = cm, .st = st, .n_gpus = n_gpus};
  x->load = gpp_calloc(err, 4 * (size_t)n_gpus, sizeof *x->load);
  x->touched = gpp_calloc(err, 4 * (size_t)n_gpus, sizeof *x->touched);
  if (x->load && x->touched) return 0;
  gpp__xfer_free(x);
  return err->code;
}

void gpp__xfer_free(gpp__xfer_ports *x) {
  free(x->load);
  free(x->touched);
  x->load = NULL;
  x->touched = NULL;
}

static void add(gpp__xfer_ports *x, uint32_t port, double bytes) {
  if (x->load[port] == 0) x->touched[x->n_touched++] = port;
  x->load[port] += bytes;
}

/* One flow of bytes from GPU src to GPU dst, loading the sender's port
 * (ends & 1) and the receiver's (ends & 2). */
static void flow(gpp__xfer_ports *x, uint32_t src, uint32_t dst, double bytes,
                 unsigned ends) {
  uint32_t g = x->cm->gpus_per_node, share = x->cm->gpus_per_nic;
  if (src == dst || bytes <= 0 || src >= x->n_gpus || dst >= x->n_gpus)
    return;
  bool intra = g > 0 && src / g == dst / g;
  if (!intra && share > 1) {
    src -= src % share;
    dst -= dst % share;
  }
  if (ends & 1) add(x, 4 * src + (intra ? INTRA_OUT : NIC_TX), bytes);
  if (ends & 2) add(x, 4 * dst + (intra ? INTRA_IN : NIC_RX), bytes);
}

/* The pieces of one replica of stage s to or from stage o. */
typedef struct piece_ctx {
  gpp__xfer_ports *x;
  uint32_t gpu, other_first, other_t; /* the replica's GPU; o's first
                                         GPU and tensor degree */
  double bytes;               /* per sample */
  bool in;                    /* the replica receives */
} piece_ctx;

static void piece(void *ctx, uint32_t replica, uint32_t samples) {
  piece_ctx *p = ctx;
  uint32_t peer = p->other_first + replica * p->other_t;
  double bytes = samples * p->bytes;
  unsigned ends = p->x->own ? (p->in ? 2 : 1) : 3;
  if (p->in) flow(p->x, peer, p->gpu, bytes, ends);
  else flow(p->x, p->gpu, peer, bytes, ends);
}

/* Seconds of the most loaded port, with its route's latency (in *lat)
 * and whether it is an intra-node port (*intra); clears the loads. */
static double drain(gpp__xfer_ports *x, double *lat, bool *intra_out) {
  const gpp_planner_comm *cm = x->cm;
  bool inter_fit = cm->gpus_per_nic > 0;
  double lat_n = inter_fit ? cm->p2p_inter_latency : cm->p2p_latency;
  double spb_n = inter_fit ? cm->p2p_inter_sec_per_byte : cm->p2p_sec_per_byte;
  double worst = 0;
  *lat = 0;
  *intra_out = false;
  for (uint32_t i = 0; i < x->n_touched; i++) {
    uint32_t port = x->touched[i];
    bool intra = port % 4 == INTRA_OUT || port % 4 == INTRA_IN;
    double l = intra ? cm->p2p_intra_latency : lat_n;
    double t = l + x->load[port] * (intra ? cm->p2p_intra_sec_per_byte
                                          : spb_n);
    if (t > worst) {
      worst = t;
      *lat = l;
      *intra_out = intra;
    }
    x->load[port] = 0;
  }
  x->n_touched = 0;
  return worst;
}

double gpp__xfer_time(gpp__xfer_ports *x, const gpp__xfer_edge *e,
                      uint32_t n_edges, uint32_t s, bool in, double *lat,
                      bool *intra) {
  const gpp__xfer_stage *me = &x->st[s];
  for (uint32_t i = 0; i < n_edges; i++) {
    if ((in ? e[i].to : e[i].from) != s) continue;
    const gpp__xfer_stage *o = &x->st[in ? e[i].from : e[i].to];
    piece_ctx p = {x, 0, o->first, o->t, e[i].bytes, in};
    for (uint32_t r = 0; r < me->k; r++) {
      p.gpu = me->first + r * me->t;
      gpp_engine_pieces(me->b, me->k, r, o->b, o->k, piece, &p);
    }
  }
  return drain(x, lat, intra);
}
