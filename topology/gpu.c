/* gpu.c -- the GPU catalog: loads configs/hardware/<name>.yaml into a
 * gpp_gpu_spec through one declarative field table, and maps element sizes
 * to peak FLOP/s.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/arena.h"
#include "sim/common/bundle.h"
#include "sim/common/yaml.h"
#include "topology/internal.h"
#include "topology/topology.h"

typedef struct gpu_fields {
  const char *name;
  double fp64, fp32, tf32, fp16, bf16, fp8, mem, mem_bw, launch;
  long long sm;
  double clock_mhz, fp16_simt, l2, l2_bw, hbm_eff, smem;
} gpu_fields;

/* lo: 0 where a GPU may lack the precision (FP8 before Hopper), 1 FLOP/s
 * for FP32 and FP16, which every GPU computes in. */
#define PEAK(key, field, lo)                                                  \
  {key, GPP_YF_QTY, offsetof(gpu_fields, field), true, GPP_Q_FLOPRATE, lo,    \
   1e18, NULL}

static const gpp_yfield gpu_table[] = {
    {"name", GPP_YF_STR, offsetof(gpu_fields, name), true, 0, 0, 0, NULL},
    PEAK("peak_fp64", fp64, 0),
    PEAK("peak_fp32", fp32, 1),
    PEAK("peak_tf32", tf32, 0),
    PEAK("peak_fp16", fp16, 1),
    PEAK("peak_bf16", bf16, 0),
    PEAK("peak_fp8", fp8, 0),
    {"memory", GPP_YF_QTY, offsetof(gpu_fields, mem), true, GPP_Q_BYTES, 1,
     1e15, NULL},
    {"memory_bandwidth", GPP_YF_QTY, offsetof(gpu_fields, mem_bw), true,
     GPP_Q_BANDWIDTH, 1, 1e15, NULL},
    {"sm_count", GPP_YF_INT, offsetof(gpu_fields, sm), true, 0, 1, 100000,
     NULL},
    {"launch_overhead", GPP_YF_QTY, offsetof(gpu_fields, launch), true,
     GPP_Q_TIME, 0, 1, NULL},
    {"sm_clock_mhz", GPP_YF_QTY, offsetof(gpu_fields, clock_mhz), true,
     GPP_Q_COUNT, 1, 1e5, NULL},
    PEAK("peak_fp16_simt", fp16_simt, 0),
    {"l2_cache", GPP_YF_QTY, offsetof(gpu_fields, l2), true, GPP_Q_BYTES, 1,
     1e12, NULL},
    {"l2_bandwidth", GPP_YF_QTY, offsetof(gpu_fields, l2_bw), true,
     GPP_Q_BANDWIDTH, 1, 1e16, NULL},
    {"hbm_efficiency", GPP_YF_QTY, offsetof(gpu_fields, hbm_eff), true,
     GPP_Q_COUNT, 0.01, 1, NULL},
    {"shared_memory_per_sm", GPP_YF_QTY, offsetof(gpu_fields, smem), true,
     GPP_Q_BYTES, 1, 1e9, NULL},
};
#undef PEAK


static void copy_fields(const gpu_fields *f, gpp_gpu_spec *out) {
  out->peak_fp64 = f->fp64;
  out->peak_fp32 = f->fp32;
  out->peak_tf32 = f->tf32;
  out->peak_fp16 = f->fp16;
  out->peak_bf16 = f->bf16;
  out->peak_fp8 = f->fp8;
  out->mem_bytes = f->mem;
  out->mem_bandwidth = f->mem_bw;
  out->launch_overhead = f->launch;
  out->sm_count = (int)f->sm;
  out->clock_hz = f->clock_mhz * 1e6;
  out->peak_fp16_simt = f->fp16_simt;
  out->l2_bytes = f->l2;
  out->l2_bandwidth = f->l2_bw;
  out->hbm_efficiency = f->hbm_eff;
  out->smem_per_sm = f->smem;
}

int gpp_gpu_spec_load(const char *name_or_path, gpp_gpu_spec *out,
                      struct gpp_arena *arena, gpp_errctx *err) {
  char path[4096];
  GPP_TRY(gpp_input_named("hardware", name_or_path, path, sizeof path, err));
  gpp_ydoc *doc;
  GPP_TRY(gpp_ydoc_load_file(path, &doc, err));
  gpu_fields f = {0};
  gpp_ynode root = gpp_ydoc_root(doc);
  int rc = gpp_yexpect(root, GPP_Y_MAP, "GPU spec", err);
  if (rc == 0)
    rc = gpp_yread_fields(root, gpu_table,
                          sizeof gpu_table / sizeof gpu_table[0], &f, err);
  if (rc == 0) {
    memset(out, 0, sizeof *out);
    copy_fields(&f, out);
    out->name = gpp_arena_strdup(arena, f.name, err);
    if (out->name == NULL) rc = GPP_ENOMEM;
  }
  gpp_ydoc_destroy(doc);
  return rc;
}

double gpp_gpu_peak_for_dtype(const gpp_gpu_spec *g, int dtype_bytes) {
  switch (dtype_bytes) {
  case 1: return g->peak_fp8;
  case 2: return fmax(g->peak_fp16, g->peak_bf16);
  case 4: return g->peak_fp32;
  case 8: return g->peak_fp64;
  default: return 0;
  }
}
