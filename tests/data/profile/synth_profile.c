/* synth_profile.c -- writes a synthetic profile database for a model, so
 * that `gppsim costs --profile` can be tested where no GPU exists.  Every
 * distinct op (by signature) gets rows at micro-batch sizes 1, 2, 4, 8 and
 * 16 whose times follow a known roofline (compute efficiency 0.61, memory
 * efficiency 0.73, launch 5.3 us) with +-2% deterministic jitter.
 *
 * usage: synth_profile MODEL.yaml GPU OUT.h5
 *        synth_profile --damaged no-ops|foreign OUT.h5
 * The second form writes an HDF5 file that is not a usable profile: one with
 * every root attribute but no /ops table, or a foreign one (a dataset of
 * doubles and none of the profile's attributes). */
#include <hdf5.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_profile/profile_db.h"
#include "sim/common/arena.h"
#include "sim/common/h5.h"
#include "sim/model/model.h"
#include "topology/topology.h"

#define EFF_C 0.61
#define EFF_M 0.73
#define LAUNCH 5.3e-6
#define N_SIZES 5

static double jitter(unsigned *st) {
  *st = *st * 1664525u + 1013904223u;
  return 1 + 0.04 * ((*st >> 8) / 16777216.0 - 0.5);
}

static double roof(const gpp_gpu_spec *g, int dt, double f, double b) {
  return fmax(f / (gpp_gpu_peak_for_dtype(g, dt) * EFF_C),
              b / (g->mem_bandwidth * EFF_M)) + LAUNCH;
}

static void fill(gpp_profile_row *r, const gpp_op *op, int64_t b,
                 const gpp_gpu_spec *hw, unsigned *st) {
  r->micro_batch = b;
  r->flops_fwd = op->flops_fwd * (double)b;
  r->flops_bwd = op->flops_bwd * (double)b;
  r->bytes_fwd = op->bytes_fwd * (double)b + op->param_bytes;
  r->bytes_bwd = op->bytes_bwd * (double)b + 2 * op->param_bytes;
  double f = roof(hw, op->dtype_bytes, r->flops_fwd, r->bytes_fwd);
  double w = roof(hw, op->dtype_bytes, r->flops_bwd, r->bytes_bwd);
  r->fwd = (gpp_profile_stat){f * jitter(st), f * 0.98, f * 1.03};
  r->bwd = (gpp_profile_stat){w * jitter(st), w * 0.98, w * 1.03};
}

static size_t add_op(gpp_profile_row *rows, size_t n, const gpp_op *op,
                     const gpp_gpu_spec *hw, unsigned *st) {
  char sig[GPP_SIG_MAX];
  if (op->kind == GPP_OP_INPUT || op->kind == GPP_OP_CUSTOM ||
      !(gpp_gpu_peak_for_dtype(hw, op->dtype_bytes) > 0) ||
      gpp_op_signature(op, sig, sizeof sig) != 0)
    return n;
  for (size_t i = 0; i < n; i++)
    if (strcmp(rows[i].signature, sig) == 0) return n;
  for (int s = 0; s < N_SIZES; s++) {
    memset(&rows[n], 0, sizeof rows[n]);
    snprintf(rows[n].signature, GPP_SIG_MAX, "%s", sig);
    fill(&rows[n++], op, (int64_t)1 << s, hw, st);
  }
  return n;
}

static int run(const char *model_path, const char *gpu, const char *out,
               gpp_errctx *err) {
  gpp_model *m = NULL;
  gpp_arena *a = gpp_arena_create(err);
  gpp_gpu_spec spec;
  int rc = a ? gpp_gpu_spec_load(gpu, &spec, a, err) : err->code;
  if (rc == 0) rc = gpp_model_load(model_path, NULL, 0, &m, err);
  gpp_profile_row *rows =
      rc ? NULL : gpp_calloc(err, (size_t)m->n_ops * N_SIZES + 1,
                             sizeof *rows);
  if (rc == 0 && rows == NULL) rc = err->code;
  if (rc == 0) {
    unsigned st = 4057u;
    size_t n = 0;
    for (uint32_t i = 0; i < m->n_ops; i++)
      n = add_op(rows, n, &m->ops[i], &spec, &st);
    gpp_profile_meta meta = {.gpu_name = "synthetic", .date = "1970-01-01",
                             .sm_count = spec.sm_count, .repetitions = 1};
    rc = gpp_profile_db_write(out, &meta, rows, n, err);
  }
  free(rows);
  gpp_model_destroy(m);
  gpp_arena_destroy(a);
  return rc;
}

static int damaged(const char *what, const char *out) {
  bool no_ops = strcmp(what, "no-ops") == 0;
  if (!no_ops && strcmp(what, "foreign") != 0) {
    fprintf(stderr, "synth_profile: --damaged no-ops|foreign\n");
    return 2;
  }
  hid_t f = H5Fcreate(out, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) return 1;
  if (no_ops) {
    gpp_h5_write_attr_int(f, "format_version", GPP_PROFILE_FORMAT_VERSION);
    gpp_h5_write_attr_str(f, "gpu_name", "synthetic");
    gpp_h5_write_attr_str(f, "driver_version", "0");
    gpp_h5_write_attr_str(f, "cuda_version", "0");
    gpp_h5_write_attr_str(f, "date", "1970-01-01");
    gpp_h5_write_attr_int(f, "sm_count", 132);
    gpp_h5_write_attr_int(f, "repetitions", 20);
    gpp_h5_write_attr_int(f, "warmup", 5);
    gpp_h5_write_attr_double(f, "sm_clock_hz", 1.98e9);
    gpp_h5_write_attr_double(f, "mem_clock_hz", 2.6e9);
  } else {
    const double v[4] = {1, 2, 3, 4};
    hsize_t n = 4;
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(f, "summary", H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT,
                         H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(d);
    H5Sclose(sp);
  }
  return H5Fclose(f) < 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--damaged") == 0)
    return damaged(argv[2], argv[3]);
  if (argc != 4) {
    fprintf(stderr, "usage: synth_profile MODEL.yaml GPU OUT.h5\n"
                    "       synth_profile --damaged no-ops|foreign OUT.h5\n");
    return 2;
  }
  gpp_errctx err = {0};
  if (run(argv[1], argv[2], argv[3], &err) != 0) {
    fprintf(stderr, "synth_profile: %s\n", err.msg);
    return gpp_err_exit_status(err.code);
  }
  return 0;
}
