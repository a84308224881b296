/* profiler.h -- what the CUDA side of gppsim-profile offers its C host
 * part: a GPU context, the device memory an op needs, timing an op's
 * forward and backward with real kernels, and the kernel self-check. */
#ifndef GPP_KERNELS_PROFILE_PROFILER_PROFILER_H
#define GPP_KERNELS_PROFILE_PROFILER_PROFILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels_profile/profile_db.h"
#include "sim/common/err.h"
#include "sim/model/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gpp__prof_ctx gpp__prof_ctx;

/* Opens device `device`; fills the GPU fields of meta and the free device
 * memory (bytes) after the context's own buffers. */
int gpp__prof_open(int device, gpp__prof_ctx **out, gpp_profile_meta *meta,
                   size_t *free_bytes, gpp_errctx *err);
void gpp__prof_close(gpp__prof_ctx *ctx);

/* Whether the profiler has kernels for op (kind and element size). */
bool gpp__prof_supports(const gpp_op *op);
/* Device bytes op needs at micro-batch b (all buffers of fwd and bwd). */
double gpp__prof_op_bytes(const gpp_op *op, int64_t b);

/* Times reps forward and reps backward runs after warmup untimed ones;
 * fwd[i], bwd[i] receive seconds.  The L2 cache is flushed before every
 * timed run. */
int gpp__prof_time_op(gpp__prof_ctx *ctx, const gpp_op *op, int64_t b,
                      int reps, int warmup, double *fwd, double *bwd,
                      gpp_errctx *err);

/* Runs every kernel (on the current device) on tiny shapes in fp32 and bf16 and compares with a CPU
 * reference; prints one line per check to stdout.  Returns the number of
 * mismatches, or a negative gpp_err when the GPU fails. */
int gpp__prof_self_check(gpp_errctx *err);

#ifdef __cplusplus
}
#endif

#endif
