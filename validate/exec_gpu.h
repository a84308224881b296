/* exec_gpu.h -- the CUDA side of gppsim-exec: runs an issue program
 * (validate.h) on the plan's GPUs and times every task with CUDA events. */
#ifndef GPP_VALIDATE_EXEC_GPU_H
#define GPP_VALIDATE_EXEC_GPU_H

#ifdef __cplusplus
extern "C" {  // the C headers below have no C++ guards of their own
#endif

#include "validate/validate.h"

/* Runs warmup + iterations iterations of prog (built from res, the engine's
 * result for plan) and fills m: the measured iterations' times, every
 * task's start and end from its device's iteration start, the device
 * memory in use.  m's arrays are allocated here (gpp_measurement_free). */
int gpp_exec_gpu_run(const gpp_plan *plan, const gpp_result *res,
                     const gpp_exec_prog *prog, uint32_t iterations,
                     uint32_t warmup, gpp_measurement *m, gpp_errctx *err);

#ifdef __cplusplus
}
#endif

#endif
