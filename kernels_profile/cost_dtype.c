/* cost_dtype.c -- how the kernel model runs an op: the dtype from the
 * model's precision and the op's element size, and the attention kernel
 * the model file chose.  Shared by the costs (cost.c) and their fit to a
 * profile (cost_fit.c). */
#include "kernels_profile/cost.h"

gpp_attn_impl gpp_costs_op_attn(const gpp_op *op) {
  return op->flash ? GPP_ATTN_FLASH : GPP_ATTN_UNFUSED;
}

/* By element size alone, for an op stored unlike its model. */
static gpp_dtype dtype_of_size(int bytes) {
  switch (bytes) {
  case 1: return GPP_DT_FP8;
  case 2: return GPP_DT_FP16;
  default: return GPP_DT_FP32;
  }
}

gpp_dtype gpp_costs_op_dtype(const gpp_model *m, const gpp_op *op) {
  int d = m->precision ? gpp_dtype_from_name(m->precision) : -1;
  if (d < 0 || op->dtype_bytes != m->dtype_bytes)
    return dtype_of_size(op->dtype_bytes);
  bool gemm = op->kind == GPP_OP_MATMUL || op->kind == GPP_OP_ATTENTION ||
              op->kind == GPP_OP_INTERACTION;
  switch ((gpp_dtype)d) {
  case GPP_DT_TF32: return gemm ? GPP_DT_TF32 : GPP_DT_FP32;
  case GPP_DT_FP8: return op->kind == GPP_OP_MATMUL ? GPP_DT_FP8 : GPP_DT_BF16;
  default: return (gpp_dtype)d;
  }
}
