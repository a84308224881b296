/* replay.h -- the iteration estimate as a replay of the engine's schedule
 * on the stages (planner/replay.c).  Not installed. */
#ifndef GPP_PLANNER_REPLAY_H
#define GPP_PLANNER_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/common/err.h"

/* The stages, in any order, with their neighbours in the stage graph (a
 * 1F1B chain: each stage's one predecessor and successor) as offsets into
 * pred and succ (n + 1 each); per stage the seconds of one micro-batch's
 * forward and backward, of its transfers in (activations) and out (the
 * gradients come back over them) with their routes' latency, of its
 * all-reduce and optimizer step, the class of the port that bounds each
 * transfer, its cap of micro-batches in flight and
 * its micro-batch size; batch, the samples per iteration. */
typedef struct gpp__replay_in {
  uint32_t n, batch;
  const uint32_t *pred_off, *pred, *succ_off, *succ;
  const double *f, *b, *xin, *xout, *lat_in, *lat_out, *sync;
  const bool *intra_in, *intra_out; /* the transfers' most loaded port is
                                       inside the node (else a NIC) */
  const uint32_t *cap, *mb;
} gpp__replay_in;

/* The iteration's end in *end. */
int gpp__replay(const gpp__replay_in *in, double *end, gpp_errctx *err);

#endif
