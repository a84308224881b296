/* sched_internal.h -- the schedule types defined in sched_*.c. */
#ifndef GPP_SIM_SCHED_INTERNAL_H
#define GPP_SIM_SCHED_INTERNAL_H

#include "sim/sched.h"

extern const gpp_sched_type gpp__sched_gpp;
extern const gpp_sched_type gpp__sched_gpipe;
extern const gpp_sched_type gpp__sched_1f1b;
extern const gpp_sched_type gpp__sched_interleaved;

#endif
