/* cost.c -- override, profile and roofline costs per op (see cost.h for the
 * model and the order of the sources). */
#include "kernels_profile/cost.h"

#include <ctype.h>
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

static int check_roofline(const gpp_costs *c, const gpp_op *op,
                          gpp_errctx *err) {
  if ((op->flops_fwd > 0 || op->flops_bwd > 0) &&
      gpp_gpu_peak_for_dtype(&c->gpu, op->dtype_bytes) <= 0)
    GPP_RAISE(err, GPP_EINVAL,
              "op '%s': GPU %s has no peak FLOP/s for %d-byte elements and "
              "the op has no time_per_sample override%s", op->name,
              c->gpu.name ? c->gpu.name : "?", op->dtype_bytes,
              c->profile ? " or profile row" : "");
  if (c->gpu.mem_bandwidth <= 0)
    GPP_RAISE(err, GPP_EINVAL, "GPU %s has no memory bandwidth",
              c->gpu.name ? c->gpu.name : "?");
  return 0;
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
      GPP_TRY(check_roofline(c, op, err));
      c->source[i] = GPP_COST_ROOFLINE;
    }
  }
  return 0;
}

/* Curves of every profiled signature, and the efficiencies fitted to the
 * profile for the kinds and bounds it determines. */
static int use_profile(gpp_costs *c, gpp_errctx *err) {
  size_t n = c->model->n_ops ? c->model->n_ops : 1;
  c->sig = gpp_calloc(err, n, sizeof *c->sig);
  if (c->sig == NULL) return err->code;
  GPP_TRY(gpp_profile_costs_create(c->profile, &c->curves, err));
  GPP_TRY(gpp_fit_efficiencies(c->profile, &c->gpu, &c->fit, err));
  for (int k = 0; k < GPP_OP__NKINDS; k++) {
    const gpp_kind_fit *f = &c->fit.kind[k];
    if (f->has_compute) c->eff_flops[k] = f->eff_compute;
    if (f->has_memory) c->eff_mem[k] = f->eff_memory;
  }
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
  for (int k = 0; k < GPP_OP__NKINDS; k++)
    c->eff_flops[k] = c->eff_mem[k] = 1.0;
  c->source = gpp_calloc(err, model->n_ops ? model->n_ops : 1,
                         sizeof *c->source);
  int rc = c->source ? 0 : err->code;
  if (rc == 0 && profile != NULL) {
    rc = use_profile(c, err);
    if (rc != 0) gpp_error_prefix(err, "profile %s", profile->path);
  }
  if (rc == 0) rc = classify(c, err);
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

static double roofline(const gpp_costs *c, const gpp_op *op, double flops,
                       double traffic, int launches) {
  double peak = gpp_gpu_peak_for_dtype(&c->gpu, op->dtype_bytes);
  double t_c = flops > 0 ? flops / (peak * c->eff_flops[op->kind]) : 0;
  double t_m = traffic / (c->gpu.mem_bandwidth * c->eff_mem[op->kind]);
  return (t_c > t_m ? t_c : t_m) + launches * c->gpu.launch_overhead;
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
  int bwd_launches = op->param_bytes > 0 ? 2 : 1;
  r.fwd = roofline(c, op, op->flops_fwd * b,
                   op->bytes_fwd * b + op->param_bytes, 1);
  r.bwd = roofline(c, op, op->flops_bwd * b,
                   op->bytes_bwd * b + 2 * op->param_bytes, bwd_launches);
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

bool gpp_costs_warn_gpu(const gpp_profile_db *profile,
                        const gpp_gpu_spec *gpu, FILE *f) {
  if (profile == NULL || family_in(gpu->name, profile->meta.gpu_name))
    return false;
  fprintf(f, "gppsim: warning: the profile was measured on '%s', not on a "
          "%s; its times are used as they are\n", profile->meta.gpu_name,
          gpu->name);
  return true;
}
