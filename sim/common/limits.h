/* limits.h -- size limits shared by the modules that read them, so that a
 * value beyond one is refused where it is read, with its file:line:column,
 * instead of after minutes of work. */
#ifndef GPP_COMMON_LIMITS_H
#define GPP_COMMON_LIMITS_H

/* The most GPUs a cluster (or a sweep point's GPU count) may have: the
 * 65,536-GPU clusters the flow network is built for (issue 20,
 * [net-scale]). */
#define GPP_MAX_GPUS 65536u

/* The most tasks (the forward and backward of every micro-batch on every
 * data-parallel replica, plus one optimizer step each) one simulated
 * iteration may have unless the caller raises it (`simulate --max-tasks`):
 * memory and time grow linearly with it: 2^24 tasks (batch 4,194,300 at
 * micro-batch 4 on configs/experiments/plans/synthetic-gpp-8.yaml) took
 * 6.7 s and 0.7 GB on the 2-core development machine (Release). */
#define GPP_MAX_TASKS (1u << 24)

#endif
