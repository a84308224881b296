/* limits.h -- size limits shared by the modules that read them, so that a
 * value beyond one is refused where it is read, with its file:line:column,
 * instead of after minutes of work. */
#ifndef GPP_COMMON_LIMITS_H
#define GPP_COMMON_LIMITS_H

/* The most GPUs a cluster (or a sweep point's GPU count) may have: the
 * 65,536-GPU clusters the flow network is built for (issue 20,
 * [net-scale]). */
#define GPP_MAX_GPUS 65536u

#endif
