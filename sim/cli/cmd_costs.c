/* cmd_costs.c -- `gppsim costs`: the forward and backward time of every op
 * of a model at given micro-batch sizes, and where each figure came from
 * (override, profile or the kernel model), so a user can see what the
 * simulator will assume before running it; --explain shows the kernel
 * model's tiles and waves; --calibrate prints how well the kernel model,
 * with efficiencies fitted to the profile, reproduces the measurements. */
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_profile/cost.h"
#include "kernels_profile/profile_db.h"
#include "sim/cli/cli.h"
#include "sim/common/arena.h"
#include "sim/common/bundle.h"
#include "sim/common/units.h"

#define MAX_SIZES 64

typedef struct costs_opts {
  const char *model, *gpu, *profile, *precision;
  bool calibrate, json, explain;
  double sizes[MAX_SIZES];
  size_t n_sizes;
} costs_opts;

typedef struct costs_ctx {
  char model_path[GPP_INPUT_PATH_MAX];
  gpp_model *model;
  gpp_arena *arena;
  gpp_gpu_spec gpu;
  gpp_profile_db *db;
  gpp_costs *costs;
} costs_ctx;

static void usage(FILE *out) {
  fprintf(out,
          "usage: gppsim costs --model M --gpu G [--profile DB.h5]\n"
          "                    [--micro-batch B[,B...]] [--calibrate] "
          "[--explain] [--json]\n"
          "                    [--precision fp32|tf32|fp16|bf16|fp8|mixed]\n\n"
          "M is a model file or a bundled name (mmt), G a GPU name "
          "(configs/hardware)\nor a hardware file.\n"
          "Per-op forward and backward seconds at each micro-batch size and "
          "their\nsource: override (the model's time_per_sample), profile "
          "(measured,\ninterpolated across sizes; 'extrapolated' outside the "
          "profiled ones)\nor model (the kernel model, kernels_profile/kmodel.h: "
          "tiles in waves over\nthe SMs; its efficiencies fitted to the "
          "profile when one is given).\n--explain prints the model's tile, "
          "waves, bound and rates per op.\n--calibrate prints the fit's "
          "median and max relative error before and\nafter fitting (needs "
          "--profile).\n"
          "--micro-batches is a synonym of --micro-batch (default 1).\n"
          "--precision prices the ops in that dtype instead of the model "
          "file's\n(the table is in configs/experiments/plans/README.md).\n");
}

static int parse_sizes(const char *text, costs_opts *o) {
  o->n_sizes = 0;
  const char *p = text;
  while (*p) {
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p || v < 1 || v > (1LL << 30) || o->n_sizes == MAX_SIZES ||
        (*end != ',' && *end != '\0'))
      return gpp_cli_usage_error("costs",
                                 "--micro-batch: expected up to %d "
                                 "positive integers separated by commas, "
                                 "got '%s'", MAX_SIZES, text);
    o->sizes[o->n_sizes++] = (double)v;
    p = *end == ',' ? end + 1 : end;
  }
  if (o->n_sizes == 0)
    return gpp_cli_usage_error("costs", "--micro-batch is empty");
  return 0;
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, costs_opts *o) {
  static const struct option longopts[] = {
      {"model", required_argument, 0, 'm'},
      {"precision", required_argument, 0, 'x'},
      {"gpu", required_argument, 0, 'g'},
      {"profile", required_argument, 0, 'p'},
      {"micro-batch", required_argument, 0, 'b'},
      {"micro-batches", required_argument, 0, 'b'},
      {"calibrate", no_argument, 0, 'c'},
      {"json", no_argument, 0, 'j'},
      {"explain", no_argument, 0, 'e'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  *o = (costs_opts){.sizes = {1}, .n_sizes = 1};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'm': o->model = optarg; break;
    case 'g': o->gpu = optarg; break;
    case 'x': o->precision = optarg; break;
    case 'p': o->profile = optarg; break;
    case 'b': if (parse_sizes(optarg, o) != 0) return 2; break;
    case 'c': o->calibrate = true; break;
    case 'j': o->json = true; break;
    case 'e': o->explain = true; break;
    case 'h': usage(stdout); return 0;
    default: return gpp_cli_usage_error("costs", "bad option");
    }
  }
  if (optind < argc)
    return gpp_cli_usage_error("costs", "unexpected argument '%s'",
                               argv[optind]);
  if (!o->model || !o->gpu)
    return gpp_cli_usage_error("costs", "--model and --gpu are required");
  if (o->calibrate && !o->profile)
    return gpp_cli_usage_error("costs", "--calibrate needs --profile");
  return -1;
}

static int load(const costs_opts *o, costs_ctx *x, gpp_errctx *err) {
  GPP_TRY(gpp_input_named("models", o->model, x->model_path,
                          sizeof x->model_path, err));
  GPP_TRY(gpp_model_load_as(x->model_path, NULL, 0, o->precision, &x->model,
                            err));
  x->arena = gpp_arena_create(err);
  if (x->arena == NULL) return err->code;
  GPP_TRY(gpp_gpu_spec_load(o->gpu, &x->gpu, x->arena, err));
  return gpp_costs_open(x->model, &x->gpu, o->profile, &x->db, &x->costs,
                        err);
}

static void unload(costs_ctx *x) {
  gpp_costs_destroy(x->costs);
  gpp_profile_db_destroy(x->db);
  gpp_arena_destroy(x->arena);
  gpp_model_destroy(x->model);
}

static void print_sources(const costs_ctx *x) {
  uint32_t n[GPP_COST__NSOURCES];
  gpp_costs_source_counts(x->costs, n);
  printf("\nprecision: %s; ops by source:", x->model->precision);
  for (int s = 0; s < GPP_COST__NSOURCES; s++)
    printf(" %s=%u", gpp_cost_source_name((gpp_cost_source)s), n[s]);
  printf("\n");
}

static void print_table(const costs_ctx *x, const costs_opts *o) {
  printf("%-32s %-12s %6s %12s %12s %-9s %s\n", "op", "kind", "b", "fwd",
         "bwd", "source", "extrapolated");
  for (uint32_t i = 0; i < x->model->n_ops; i++)
    for (size_t s = 0; s < o->n_sizes; s++) {
      const gpp_op *op = &x->model->ops[i];
      gpp_op_cost r = gpp_costs_op(x->costs, i, o->sizes[s]);
      char f[32], b[32];
      printf("%-32s %-12s %6.0f %12s %12s %-9s %s\n", op->name,
             gpp_signature_kind_name(op->kind), o->sizes[s],
             gpp_units_format(r.fwd, GPP_Q_TIME, f, sizeof f),
             gpp_units_format(r.bwd, GPP_Q_TIME, b, sizeof b),
             gpp_cost_source_name(r.source), r.extrapolated ? "yes" : "no");
    }
  print_sources(x);
}

/* One direction of one op under the kernel model, as text. */
static void explain_line(const gpp_op *op, double b, const char *dir,
                         const gpp_kop *k) {
  char t[32], tile[32] = "-", split[16] = "-", tiles[24] = "-",
       waves[24] = "-", eff[16] = "-";
  if (k->has_gemm) {
    snprintf(tile, sizeof tile, "%dx%dx%d", k->plan.bm, k->plan.bn,
             k->plan.bk);
    snprintf(split, sizeof split, "%d", k->plan.split);
    snprintf(tiles, sizeof tiles, "%lld", (long long)k->plan.tiles);
    snprintf(waves, sizeof waves, "%lld", (long long)k->plan.waves);
    snprintf(eff, sizeof eff, "%.3f", k->plan.wave_eff);
  }
  double s = k->time > 0 ? k->time : 1;
  printf("%-32s %6.0f %-3s %10s %-12s %5s %7s %6s %6s %-6s %9.2f %9.1f\n",
         op->name, b, dir, gpp_units_format(k->time, GPP_Q_TIME, t, sizeof t),
         tile, split, tiles, waves, eff,
         k->kernels == 0 ? "-" : k->memory_bound ? "memory" : "math",
         k->flops / s / 1e12, k->bytes / s / 1e9);
}

static int print_explain(const costs_ctx *x, const costs_opts *o,
                         gpp_errctx *err) {
  printf("\nkernel model (%s):\n%-32s %6s %-3s %10s %-12s %5s %7s %6s %6s "
         "%-6s %9s %9s\n", x->gpu.name, "op", "b", "dir", "time", "tile",
         "split", "tiles", "waves", "w.eff", "bound", "TFLOP/s", "GB/s");
  for (uint32_t i = 0; i < x->model->n_ops; i++)
    for (size_t s = 0; s < o->n_sizes; s++)
      for (int d = 0; d < 2; d++) {
        gpp_kop k;
        GPP_TRY(gpp_costs_explain(x->costs, i, o->sizes[s], d == 1, &k,
                                  err));
        explain_line(&x->model->ops[i], o->sizes[s], d ? "bwd" : "fwd", &k);
      }
  return 0;
}

static json_t *explain_json(const gpp_kop *k) {
  json_t *j = json_pack("{s:f, s:f, s:f, s:i, s:s}", "time", k->time,
                        "flops", k->flops, "bytes", k->bytes, "kernels",
                        k->kernels, "bound",
                        k->kernels == 0 ? "none"
                        : k->memory_bound ? "memory" : "math");
  if (k->has_gemm)
    json_object_set_new(
        j, "gemm",
        json_pack("{s:I, s:I, s:I, s:I, s:s, s:[i,i,i], s:i, s:I, s:I, "
                  "s:f, s:b}", "batch", (json_int_t)k->main.batch, "m",
                  (json_int_t)k->main.m, "n", (json_int_t)k->main.n, "k",
                  (json_int_t)k->main.k, "dtype",
                  gpp_dtype_name(k->main.dtype), "tile", k->plan.bm,
                  k->plan.bn, k->plan.bk, "split", k->plan.split, "tiles",
                  (json_int_t)k->plan.tiles, "waves",
                  (json_int_t)k->plan.waves, "wave_eff", k->plan.wave_eff,
                  "memory_bound", k->plan.memory_bound));
  return j;
}

/* {"fwd": ..., "bwd": ...} of the kernel model for op i at b. */
static json_t *op_explain_json(const costs_ctx *x, uint32_t i, double b) {
  gpp_kop f, w;
  gpp_errctx err = {0};
  if (gpp_costs_explain(x->costs, i, b, false, &f, &err) != 0 ||
      gpp_costs_explain(x->costs, i, b, true, &w, &err) != 0)
    return json_string(err.msg);
  return json_pack("{s:o, s:o}", "fwd", explain_json(&f), "bwd",
                   explain_json(&w));
}

static json_t *ops_json(const costs_ctx *x, const costs_opts *o) {
  json_t *ops = json_array();
  for (uint32_t i = 0; i < x->model->n_ops; i++)
    for (size_t s = 0; s < o->n_sizes; s++) {
      const gpp_op *op = &x->model->ops[i];
      gpp_op_cost r = gpp_costs_op(x->costs, i, o->sizes[s]);
      json_t *j = json_pack("{s:s, s:s, s:I, s:f, s:f, s:s, s:b}", "op",
                            op->name, "kind",
                            gpp_signature_kind_name(op->kind), "micro_batch",
                            (json_int_t)o->sizes[s], "fwd", r.fwd, "bwd",
                            r.bwd, "source", gpp_cost_source_name(r.source),
                            "extrapolated", r.extrapolated);
      if (o->explain)
        json_object_set_new(j, "explain", op_explain_json(x, i, o->sizes[s]));
      json_array_append_new(ops, j);
    }
  return ops;
}

static json_t *fit_json(const gpp_costs *c) {
  const gpp_kfit_report *r = &c->fit;
  json_t *params = json_object(), *fitted = json_object();
  for (int j = 0; j < GPP_KPARAMS_N; j++) {
    json_object_set_new(params, gpp_kparams_name(j),
                        json_real(gpp_kparams_get(&c->kp, j)));
    json_object_set_new(fitted, gpp_kparams_name(j),
                        json_boolean(r->fitted[j]));
  }
  return json_pack("{s:I, s:o, s:o, s:b, s:f, s:f, s:f, s:f}", "points",
                   (json_int_t)r->n_points, "params", params, "fitted",
                   fitted, "converged", r->converged, "median_rel_err_before",
                   r->median_before, "max_rel_err_before", r->max_before,
                   "median_rel_err", r->median_after, "max_rel_err",
                   r->max_after);
}

static int print_json(const costs_ctx *x, const costs_opts *o) {
  json_t *root = json_pack("{s:s, s:s, s:o, s:o}", "model", o->model, "gpu",
                           o->gpu, "profile",
                           o->profile ? json_string(o->profile) : json_null(),
                           "ops", ops_json(x, o));
  if (root == NULL) return 1;
  uint32_t n[GPP_COST__NSOURCES];
  gpp_costs_source_counts(x->costs, n);
  json_t *src = json_object();
  for (int s = 0; s < GPP_COST__NSOURCES; s++)
    json_object_set_new(src, gpp_cost_source_name((gpp_cost_source)s),
                        json_integer(n[s]));
  json_object_set_new(root, "sources", src);
  json_object_set_new(root, "precision", json_string(x->model->precision));
  if (o->calibrate)
    json_object_set_new(root, "calibration", fit_json(x->costs));
  int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
  fputc('\n', stdout);
  json_decref(root);
  return rc == 0 ? 0 : 1;
}

int gpp_cmd_costs(int argc, char **argv) {
  costs_opts o;
  int st = parse_args(argc, argv, &o);
  if (st >= 0) return st;
  costs_ctx x = {0};
  gpp_errctx err = {0};
  int rc = load(&o, &x, &err);
  if (rc != 0) {
    unload(&x);
    return gpp_cli_fail(&err);
  }
  if (o.json) {
    st = print_json(&x, &o);
  } else {
    print_table(&x, &o);
    if (o.explain && print_explain(&x, &o, &err) != 0) {
      unload(&x);
      return gpp_cli_fail(&err);
    }
    if (o.calibrate) {
      printf("\ncalibration against %s (%s):\n", o.profile,
             x.db->meta.gpu_name);
      gpp_kfit_print(&x.costs->kp, &x.costs->fit, stdout);
    }
    st = 0;
  }
  unload(&x);
  return st;
}
