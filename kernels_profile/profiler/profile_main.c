/* profile_main.c -- gppsim-profile: measures the forward and backward time
 * of every distinct op of a model on the local GPU at several micro-batch
 * sizes and writes the profile database that `gppsim` reads.
 *
 * usage: gppsim-profile --model M.yaml [--micro-batches 1,2,4,...]
 *                       [--max-micro-batch N] [--reps N] [--warmup W]
 *                       [--device D] --out profile.h5
 *        gppsim-profile --check [--device D]
 */
#include <getopt.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_profile/profile_db.h"
#include "kernels_profile/profiler/profiler.h"

#define MAX_SIZES 32
#define MEM_FRACTION 0.8 /* of the free device memory an op may use */

typedef struct prof_opts {
  const char *model, *out;
  int64_t sizes[MAX_SIZES];
  size_t n_sizes; /* 0: powers of two up to the memory bound */
  int64_t max_b;
  int reps, warmup, device;
  int check;
} prof_opts;

typedef struct prof_state {
  gpp__prof_ctx *ctx;
  gpp_profile_meta meta;
  size_t free_bytes;
  gpp_profile_row *rows;
  size_t n_rows, cap;
  double *fwd, *bwd; /* samples, reps each */
} prof_state;

static int usage(FILE *out, int status) {
  fprintf(out,
          "usage: gppsim-profile --model M.yaml [--micro-batches 1,2,4,...]\n"
          "                      [--max-micro-batch N] [--reps N] "
          "[--warmup W]\n"
          "                      [--device D] --out profile.h5\n"
          "       gppsim-profile --check [--device D]\n\n"
          "Times the forward and backward of every distinct op of the model "
          "with real\nkernels (default sizes: powers of two up to "
          "--max-micro-batch, default\n1024, or what fits in %.0f%% of free "
          "device memory); --check verifies\nevery kernel against a CPU "
          "reference on tiny shapes.\n",
          100 * MEM_FRACTION);
  return status;
}

static int bad_usage(const char *fmt, const char *arg) {
  fprintf(stderr, "gppsim-profile: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nTry 'gppsim-profile --help'.\n");
  return 2;
}

static int parse_int(const char *text, long long lo, long long hi,
                     long long *out) {
  char *end;
  long long v = strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

static int parse_sizes(const char *text, prof_opts *o) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", text);
  o->n_sizes = 0;
  for (char *save, *tok = strtok_r(buf, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    long long v;
    if (o->n_sizes == MAX_SIZES || parse_int(tok, 1, 1 << 24, &v) != 0)
      return -1;
    o->sizes[o->n_sizes++] = v;
  }
  return o->n_sizes ? 0 : -1;
}

static int parse_opt(int c, const char *arg, prof_opts *o) {
  long long v;
  switch (c) {
  case 'm': o->model = arg; return 0;
  case 'o': o->out = arg; return 0;
  case 'c': o->check = 1; return 0;
  case 'b':
    return parse_sizes(arg, o) ? bad_usage("bad --micro-batches '%s'", arg)
                               : 0;
  case 'x':
    if (parse_int(arg, 1, 1 << 24, &v)) return bad_usage("bad --max-micro-batch '%s'", arg);
    o->max_b = v;
    return 0;
  case 'r':
    if (parse_int(arg, 1, 100000, &v)) return bad_usage("bad --reps '%s'", arg);
    o->reps = (int)v;
    return 0;
  case 'w':
    if (parse_int(arg, 0, 100000, &v)) return bad_usage("bad --warmup '%s'", arg);
    o->warmup = (int)v;
    return 0;
  case 'd':
    if (parse_int(arg, 0, 1024, &v)) return bad_usage("bad --device '%s'", arg);
    o->device = (int)v;
    return 0;
  default: return bad_usage("%s", "unknown option");
  }
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, prof_opts *o) {
  static const struct option longopts[] = {
      {"model", required_argument, 0, 'm'},
      {"out", required_argument, 0, 'o'},
      {"micro-batches", required_argument, 0, 'b'},
      {"max-micro-batch", required_argument, 0, 'x'},
      {"reps", required_argument, 0, 'r'},
      {"warmup", required_argument, 0, 'w'},
      {"device", required_argument, 0, 'd'},
      {"check", no_argument, 0, 'c'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  *o = (prof_opts){.max_b = 1024, .reps = 20, .warmup = 5};
  int c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    if (c == 'h') return usage(stdout, 0);
    if (parse_opt(c, optarg, o) != 0) return 2;
  }
  if (optind < argc) return bad_usage("unexpected argument '%s'", argv[optind]);
  if (!o->check && (!o->model || !o->out))
    return bad_usage("%s", "--model and --out are required");
  return -1;
}

/* ---- measuring ------------------------------------------------------- */

static void stats(double *s, int n, gpp_profile_stat *st) {
  gsl_sort(s, 1, (size_t)n);
  st->median = gsl_stats_median_from_sorted_data(s, 1, (size_t)n);
  st->p10 = gsl_stats_quantile_from_sorted_data(s, 1, (size_t)n, 0.1);
  st->p90 = gsl_stats_quantile_from_sorted_data(s, 1, (size_t)n, 0.9);
}

static int push_row(prof_state *s, gpp_errctx *err) {
  if (s->n_rows < s->cap) return 0;
  size_t cap = s->cap ? 2 * s->cap : 64;
  gpp_profile_row *r = gpp_realloc_array(err, s->rows, cap, sizeof *r);
  if (r == NULL) return err->code;
  s->rows = r;
  s->cap = cap;
  return 0;
}

/* Times op at b and appends its row (FLOPs and bytes as cost.h counts
 * them: weights read once per micro-batch, read and written in the bwd). */
static int measure(prof_state *s, const prof_opts *o, const gpp_op *op,
                   const char *sig, int64_t b, gpp_errctx *err) {
  GPP_TRY(gpp__prof_time_op(s->ctx, op, b, o->reps, o->warmup, s->fwd,
                            s->bwd, err));
  GPP_TRY(push_row(s, err));
  gpp_profile_row *r = &s->rows[s->n_rows++];
  memset(r, 0, sizeof *r);
  snprintf(r->signature, sizeof r->signature, "%s", sig);
  r->micro_batch = b;
  stats(s->fwd, o->reps, &r->fwd);
  stats(s->bwd, o->reps, &r->bwd);
  r->flops_fwd = op->flops_fwd * (double)b;
  r->flops_bwd = op->flops_bwd * (double)b;
  r->bytes_fwd = op->bytes_fwd * (double)b + op->param_bytes;
  r->bytes_bwd = op->bytes_bwd * (double)b + 2 * op->param_bytes;
  fprintf(stderr, "  %-48s b=%-5lld fwd %10.3f us  bwd %10.3f us\n", sig,
          (long long)b, r->fwd.median * 1e6, r->bwd.median * 1e6);
  return 0;
}

/* Default sizes: powers of two while the op fits; out of memory ends the
 * sweep rather than the run. */
static int sweep(prof_state *s, const prof_opts *o, const gpp_op *op,
                 const char *sig, gpp_errctx *err) {
  double limit = MEM_FRACTION * (double)s->free_bytes;
  for (int64_t b = 1; b <= o->max_b; b *= 2) {
    if (gpp__prof_op_bytes(op, b) > limit) break;
    int rc = measure(s, o, op, sig, b, err);
    if (rc == GPP_EOOM && b > 1) {
      fprintf(stderr, "  %s: stopping at b=%lld: %s\n", sig, (long long)b,
              err->msg);
      gpp_error_clear(err);
      break;
    }
    GPP_TRY(rc);
  }
  return 0;
}

static int profile_op(prof_state *s, const prof_opts *o, const gpp_op *op,
                      const char *sig, gpp_errctx *err) {
  if (o->n_sizes == 0) return sweep(s, o, op, sig, err);
  for (size_t i = 0; i < o->n_sizes; i++)
    GPP_TRY(measure(s, o, op, sig, o->sizes[i], err));
  return 0;
}

/* Whether op is the first of its signature among ops[0..i]. */
static int first_of_signature(const gpp_model *m, uint32_t i,
                              const char *sig) {
  char other[GPP_SIG_MAX];
  for (uint32_t j = 0; j < i; j++)
    if (gpp_op_signature(&m->ops[j], other, sizeof other) == 0 &&
        strcmp(other, sig) == 0)
      return 0;
  return 1;
}

static int profile_model(prof_state *s, const prof_opts *o,
                         const gpp_model *m, gpp_errctx *err) {
  for (uint32_t i = 0; i < m->n_ops; i++) {
    const gpp_op *op = &m->ops[i];
    char sig[GPP_SIG_MAX];
    if (gpp_op_signature(op, sig, sizeof sig) != 0)
      GPP_RAISE(err, GPP_EINVAL, "op '%s': signature too long", op->name);
    if (!first_of_signature(m, i, sig)) continue;
    if (!gpp__prof_supports(op)) {
      if (op->kind != GPP_OP_INPUT)
        fprintf(stderr, "skipping op '%s' (%s): no profiling kernels\n",
                op->name, sig);
      continue;
    }
    fprintf(stderr, "op '%s':\n", op->name);
    GPP_TRY(profile_op(s, o, op, sig, err));
  }
  return 0;
}

static int run(const prof_opts *o, prof_state *s, gpp_errctx *err) {
  gpp_model *m = NULL;
  GPP_TRY(gpp_model_load(o->model, NULL, 0, &m, err));
  int rc = gpp__prof_open(o->device, &s->ctx, &s->meta, &s->free_bytes, err);
  s->fwd = rc ? NULL : gpp_calloc(err, (size_t)o->reps, sizeof *s->fwd);
  s->bwd = s->fwd ? gpp_calloc(err, (size_t)o->reps, sizeof *s->bwd) : NULL;
  if (rc == 0 && s->bwd == NULL) rc = err->code;
  if (rc == 0) {
    s->meta.repetitions = o->reps;
    s->meta.warmup = o->warmup;
    fprintf(stderr, "%s, %d SMs, CUDA %s, driver %s\n", s->meta.gpu_name,
            s->meta.sm_count, s->meta.cuda_version, s->meta.driver_version);
    rc = profile_model(s, o, m, err);
  }
  if (rc == 0)
    rc = gpp_profile_db_write(o->out, &s->meta, s->rows, s->n_rows, err);
  if (rc == 0)
    fprintf(stderr, "wrote %zu rows to %s\n", s->n_rows, o->out);
  gpp_model_destroy(m);
  return rc;
}

static int self_check(const prof_opts *o, gpp_errctx *err) {
  gpp__prof_ctx *ctx = NULL;
  gpp_profile_meta meta = {0};
  size_t free_bytes;
  GPP_TRY(gpp__prof_open(o->device, &ctx, &meta, &free_bytes, err));
  printf("self-check on %s\n", meta.gpu_name);
  int bad = gpp__prof_self_check(err);
  gpp__prof_close(ctx);
  if (bad < 0) return bad;
  printf("%s: %d mismatch%s\n", bad ? "FAILED" : "passed", bad,
         bad == 1 ? "" : "es");
  return bad ? GPP_EINTERNAL : 0;
}

int main(int argc, char **argv) {
  prof_opts o;
  int st = parse_args(argc, argv, &o);
  if (st >= 0) return st;
  gpp_errctx err = {0};
  prof_state s = {0};
  int rc = o.check ? self_check(&o, &err) : run(&o, &s, &err);
  gpp__prof_close(s.ctx);
  free(s.rows);
  free(s.fwd);
  free(s.bwd);
  if (rc != 0 && err.msg[0])
    fprintf(stderr, "gppsim-profile: %s\n", err.msg);
  return rc ? gpp_err_exit_status(rc) : 0;
}
