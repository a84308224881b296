/* gpu.c -- the GPU catalog: loads configs/hardware/<name>.yaml into a
 * gpp_gpu_spec through one declarative field table, and maps element sizes
 * to peak FLOP/s.
 */
#include <dirent.h>
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

int gpp__config_path(const char *sub, const char *name, char *buf,
                     size_t len) {
  int n = snprintf(buf, len, "%s/configs/%s/%s.yaml", gpp_source_root(), sub,
                   name);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends file less ".yaml" unless it is no YAML file or already listed;
 * -1 when out of memory. */
static int add_name(const char *file, const char **names, size_t *n,
                    size_t max, gpp_arena *arena) {
  size_t len = strlen(file);
  if (*n >= max || len <= 5 || strcmp(file + len - 5, ".yaml") != 0)
    return 0;
  for (size_t i = 0; i < *n; i++)
    if (strncmp(names[i], file, len - 5) == 0 && names[i][len - 5] == '\0')
      return 0;
  char *s = gpp_arena_strdup(arena, file, NULL);
  if (s == NULL) return -1;
  s[len - 5] = '\0';
  names[(*n)++] = s;
  return 0;
}

/* The files in the source tree's configs/<sub>, if it is there. */
static void add_tree_names(const char *sub, const char **names, size_t *n,
                           size_t max, gpp_arena *arena) {
  char dir[4096];
  if (gpp__config_path(sub, "x", dir, sizeof dir) != 0) return;
  *strrchr(dir, '/') = '\0';
  DIR *d = opendir(dir);
  if (d == NULL) return;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (add_name(e->d_name, names, n, max, arena) != 0) break;
  closedir(d);
}

/* The files embedded as configs/<sub>/NAME.yaml. */
static void add_bundled_names(const char *sub, const char **names, size_t *n,
                              size_t max, gpp_arena *arena) {
  char prefix[256];
  int len = snprintf(prefix, sizeof prefix, "configs/%s/", sub);
  if (len < 0 || (size_t)len >= sizeof prefix) return;
  const gpp_bundled_file *f;
  for (size_t i = 0; (f = gpp_bundle_at(i)) != NULL; i++)
    if (strncmp(f->path, prefix, (size_t)len) == 0 &&
        strchr(f->path + len, '/') == NULL &&
        add_name(f->path + len, names, n, max, arena) != 0)
      break;
}

size_t gpp__config_names(const char *sub, const char **names, size_t max,
                         gpp_arena *arena) {
  size_t n = 0;
  add_tree_names(sub, names, &n, max, arena);
  add_bundled_names(sub, names, &n, max, arena);
  qsort(names, n, sizeof *names, by_name);
  return n;
}

static int spec_path(const char *name_or_path, char *buf, size_t len,
                     gpp_errctx *err) {
  size_t n = strlen(name_or_path);
  if (n > 5 && strcmp(name_or_path + n - 5, ".yaml") == 0) {
    if (n >= len) GPP_RAISE(err, GPP_EINVAL, "GPU spec path too long");
    memcpy(buf, name_or_path, n + 1);
    return 0;
  }
  if (strchr(name_or_path, '/') != NULL || name_or_path[0] == '.' ||
      gpp__config_path("hardware", name_or_path, buf, len) != 0)
    GPP_RAISE(err, GPP_ENOENT, "'%s' is not a GPU name", name_or_path);
  return 0;
}

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
  GPP_TRY(spec_path(name_or_path, path, sizeof path, err));
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
