/* cost.c -- override, profile and kernel-model costs per op (see cost.h for the
 * model and the order of the sources). */
#include "kernels_profile/cost.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_profile/interp.h"

static const char *const source_names[] = {
#define GPP__CSRC(name, str) str,
    GPP_COST_SOURCE_MAP(GPP__CSRC)
#undef GPP__CSRC
};

const char *gpp_cost_source_name(gpp_cost_source s) {
  return (unsigned)s < GPP_COST__NSOURCES ? source_names[s] : "?";
}

/* The kernel model can cost op: its dtype has a peak on this GPU when it
 * has GEMMs, and the GPU has a memory bandwidth. */
static int check_model(const gpp_costs *c, const gpp_op *op,
                       gpp_errctx *err) {
  gpp_dtype dt = gpp_costs_op_dtype(c->model, op);
  bool gemm = op->kind == GPP_OP_MATMUL || op->kind == GPP_OP_ATTENTION ||
              op->kind == GPP_OP_INTERACTION;
  if (gemm && gpp_dtype_peak(&c->gpu, dt) <= 0)
    GPP_RAISE(err, GPP_EINVAL,
              "op '%s': GPU %s has no %s peak FLOP/s and the op has no "
              "time_per_sample override%s", op->name,
              c->gpu.name ? c->gpu.name : "?", gpp_dtype_name(dt),
              c->profile ? " or profile row" : "");
  if (c->gpu.mem_bandwidth <= 0 || c->gpu.hbm_efficiency <= 0)
    GPP_RAISE(err, GPP_EINVAL, "GPU %s has no memory bandwidth",
              c->gpu.name ? c->gpu.name : "?");
  return 0;
}

double gpp_costs_gemm_peak(const gpp_costs *c) {
  gpp_op mm = {.kind = GPP_OP_MATMUL, .dtype_bytes = c->model->dtype_bytes};
  return gpp_dtype_peak(&c->gpu, gpp_costs_op_dtype(c->model, &mm));
}

/* Whether the profile measured op; its signature goes to c->sig[i]. */
static bool profiled(gpp_costs *c, uint32_t i, const gpp_op *op) {
  if (c->profile == NULL || op->kind == GPP_OP_INPUT ||
      gpp_op_signature(op, c->sig[i], sizeof c->sig[i]) != 0) {
    if (c->sig) c->sig[i][0] = '\0';
    return false;
  }
  const gpp_profile_row *first;
  if (gpp_profile_db_rows_of(c->profile, c->sig[i], &first) > 0) return true;
  c->sig[i][0] = '\0';
  return false;
}

static int classify(gpp_costs *c, gpp_errctx *err) {
  for (uint32_t i = 0; i < c->model->n_ops; i++) {
    const gpp_op *op = &c->model->ops[i];
    if (op->has_time) {
      c->source[i] = GPP_COST_OVERRIDE;
    } else if (profiled(c, i, op)) {
      c->source[i] = GPP_COST_PROFILE;
    } else {
      GPP_TRY(check_model(c, op, err));
      c->source[i] = GPP_COST_MODEL;
    }
  }
  return 0;
}

/* Curves of every profiled signature, and the kernel model's parameters
 * fitted to the profile (kfit.h). */
static int use_profile(gpp_costs *c, gpp_errctx *err) {
  size_t n = c->model->n_ops ? c->model->n_ops : 1;
  c->sig = gpp_calloc(err, n, sizeof *c->sig);
  if (c->sig == NULL) return err->code;
  GPP_TRY(gpp_profile_costs_create(c->profile, &c->curves, err));
  return 0;
}

int gpp_costs_create(const gpp_model *model, const gpp_gpu_spec *gpu,
                     const gpp_profile_db *profile, gpp_costs **out,
                     gpp_errctx *err) {
  *out = NULL;
  gpp_costs *c = gpp_calloc(err, 1, sizeof *c);
  if (c == NULL) return err->code;
  c->model = model;
  c->gpu = *gpu;
  c->profile = profile;
  c->kp = gpp_kparams_default;
  c->source = gpp_calloc(err, model->n_ops ? model->n_ops : 1,
                         sizeof *c->source);
  int rc = c->source ? 0 : err->code;
  if (rc == 0 && profile != NULL) {
    rc = use_profile(c, err);
    if (rc != 0) gpp_error_prefix(err, "profile %s", profile->path);
  }
  if (rc == 0) rc = classify(c, err);
  if (rc == 0 && profile != NULL) rc = gpp__costs_calibrate(c, err);
  if (rc != 0) {
    gpp_costs_destroy(c);
    return rc;
  }
  *out = c;
  return 0;
}

void gpp_costs_destroy(gpp_costs *c) {
  if (c == NULL) return;
  gpp_profile_costs_destroy(c->curves);
  free(c->sig);
  free(c->source);
  free(c);
}

int gpp_costs_explain(const gpp_costs *c, uint32_t i, double b,
                      bool backward, gpp_kop *out, gpp_errctx *err) {
  const gpp_op *op = &c->model->ops[i];
  return gpp_kmodel_op(&c->gpu, &c->kp, op, gpp_costs_op_dtype(c->model, op),
                       gpp_costs_op_attn(op), b, backward, out, err);
}

/* The kernel model's time (classify checked that it can cost the op). */
static double modelled(const gpp_costs *c, uint32_t i, double b, bool bwd) {
  gpp_kop k;
  gpp_errctx err = {0};
  return gpp_costs_explain(c, i, b, bwd, &k, &err) == 0 ? k.time : NAN;
}

static gpp_op_cost nominal(const gpp_costs *c, uint32_t i, double b) {
  const gpp_op *op = &c->model->ops[i];
  gpp_op_cost r = {0, 0, c->source[i], false};
  if (b <= 0) return r;
  if (r.source == GPP_COST_OVERRIDE) {
    r.fwd = op->time_fwd * b;
    r.bwd = op->time_bwd * b;
    return r;
  }
  /* Every profiled signature has curves (both come from the same rows). */
  if (r.source == GPP_COST_PROFILE &&
      gpp_profile_costs_eval(c->curves, c->sig[i], b, &r.fwd, &r.bwd,
                             &r.extrapolated) == 0)
    return r;
  r.fwd = modelled(c, i, b, false);
  r.bwd = modelled(c, i, b, true);
  return r;
}

gpp_op_cost gpp_costs_op(const gpp_costs *c, uint32_t i, double b) {
  gpp_op_cost r = nominal(c, i, b);
  if (c->scale != NULL) {
    r.fwd *= c->scale[2 * (size_t)i];
    r.bwd *= c->scale[2 * (size_t)i + 1];
  }
  return r;
}

void gpp_costs_set_scale(gpp_costs *c, const double *scale) {
  c->scale = scale;
}

void gpp_costs_source_counts(const gpp_costs *c,
                             uint32_t counts[GPP_COST__NSOURCES]) {
  for (int s = 0; s < GPP_COST__NSOURCES; s++) counts[s] = 0;
  for (uint32_t i = 0; i < c->model->n_ops; i++) counts[c->source[i]]++;
}

/* Whether the first word of spec (up to '-') occurs in name, ignoring
 * case. */
static bool family_in(const char *spec, const char *name) {
  size_t n = strcspn(spec, "-");
  if (n == 0) return false;
  for (const char *p = name; *p; p++) {
    size_t i = 0;
    while (i < n && p[i] && tolower((unsigned char)p[i]) ==
                                tolower((unsigned char)spec[i]))
      i++;
    if (i == n) return true;
  }
  return false;
}

int gpp_costs_open(const gpp_model *model, const gpp_gpu_spec *gpu,
                   const char *profile_path, gpp_profile_db **db,
                   gpp_costs **out, gpp_errctx *err) {
  if (profile_path) GPP_TRY(gpp_profile_db_open(profile_path, db, err));
  gpp_costs_warn_gpu(*db, gpu, stderr);
  return gpp_costs_create(model, gpu, *db, out, err);
}

bool gpp_costs_warn_gpu(const gpp_profile_db *profile,
                        const gpp_gpu_spec *gpu, FILE *f) {
  if (profile == NULL || family_in(gpu->name, profile->meta.gpu_name))
    return false;
  fprintf(f, "gppsim: warning: the profile was measured on '%s', not on a "
          "%s; its times are used as they are\n", profile->meta.gpu_name,
          gpu->name);
  return true;
}
