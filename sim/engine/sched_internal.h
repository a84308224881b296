/* sched_internal.h -- each schedule's preparation, in sched_*.c: the
 * per-stage in-flight caps, or the static per-device order. */
#ifndef GPP_SIM_SCHED_INTERNAL_H
#define GPP_SIM_SCHED_INTERNAL_H

#include "sim/engine/engine_internal.h"

int gpp__prepare_gpp(gpp__eng *e, gpp_errctx *err);
int gpp__prepare_gpipe(gpp__eng *e, gpp_errctx *err);
int gpp__prepare_1f1b(gpp__eng *e, gpp_errctx *err);
int gpp__prepare_interleaved(gpp__eng *e, gpp_errctx *err);

#endif
