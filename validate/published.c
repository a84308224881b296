/* published.c -- `gppsim validate published`: gppsim's predictions against
 * published measured training runs (validate/published/README.md).
 *
 * Each row of the table (format: ../shared/reference/published/README.md,
 * copied into validate/published/README.md) becomes a decoder model (the
 * `decoder` generator), its cluster (a bundled name or a path, with the
 * row's GPU and enough nodes for its GPU count) and a one-stage plan on all
 * its GPUs with the row's sharding, checkpointing and tensor parallelism,
 * written as plan text and loaded through the plan loader (the plan format
 * is the one source of truth).  One iteration is simulated; the prediction
 * is global_batch x seq_len tokens over the iteration time, per GPU.
 */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "sim/common/bundle.h"
#include "sim/common/csv.h"
#include "sim/engine/engine.h"
#include "sim/model/model.h"
#include "sim/plan/plan.h"
#include "validate/validate.h"

enum { C_NAME, C_FAMILY, C_D, C_LAYERS, C_HEADS, C_FFN, C_VOCAB, C_SEQ,
       C_GPUS, C_GPU, C_CLUSTER, C_MB, C_ACCUM, C_BATCH, C_PREC, C_SHARD,
       C_CKPT, C_ATTN, C_MEASURED, C_BIAS, C_TENSOR, C_PIPE, C_VIRT, C_SP,
       C_POS, C_METRICS, C_REDUCE, C__N, C__REQUIRED = C_BIAS };
static const char *const col_names[C__N] = {
    "name", "model_family", "d_model", "n_layers", "n_heads", "ffn_mult",
    "vocab", "seq_len", "gpus", "gpu", "cluster", "micro_batch",
    "grad_accum", "global_batch", "precision", "sharding", "checkpointing",
    "attention", "measured_tokens_per_s_per_gpu", "bias", "tensor",
    "pipeline", "virtual_stages", "sequence_parallel", "positions",
    "train_metrics", "reduce_dtype"};

/* One run and what gppsim predicts for it. */
typedef struct prow {
  const char *name;
  double measured, predicted, error; /* tokens/s/GPU; error relative */
  double peak_memory, gpu_memory;    /* bytes, worst device */
  bool fits, ckpt;
  double params;                     /* the model's parameter count */
} prow;

typedef struct row_in {
  const gpp_csv *c;
  size_t r;
  const int *col;
} row_in;

static const char *cell(const row_in *x, int k) {
  return x->col[k] < 0 ? NULL : gpp_csv_cell(x->c, x->r, x->col[k]);
}

static int num(const row_in *x, int k, double lo, double hi, double dflt,
               double *out, gpp_errctx *err) {
  if (x->col[k] < 0) {
    *out = dflt;
    return 0;
  }
  GPP_TRY(gpp_csv_number(x->c, x->r, x->col[k], lo, hi, out, err));
  if (*out == floor(*out) || k == C_MEASURED) return 0;
  gpp_mark m = gpp_csv_mark(x->c, x->r, x->col[k]);
  GPP_RAISE_AT(err, GPP_EPARSE, &m, "%s: %g is not a whole number",
               col_names[k], *out);
}

/* The cell's index in words (NULL-terminated), mapped through to[]. */
static int word(const row_in *x, int k, const char *const *words,
                const char *dflt, const char **out, gpp_errctx *err) {
  const char *s = cell(x, k);
  if (s == NULL) s = dflt;
  for (size_t i = 0; words[i]; i++)
    if (strcmp(s, words[i]) == 0) {
      *out = words[i];
      return 0;
    }
  gpp_mark m = gpp_csv_mark(x->c, x->r, x->col[k]);
  char list[256] = "";
  for (size_t i = 0; words[i]; i++)
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
             i ? ", " : "", words[i]);
  GPP_RAISE_AT(err, GPP_EPARSE, &m, "%s: '%s', expected one of %s",
               col_names[k], s, list);
}

typedef struct run_cfg {
  double d, layers, heads, ffn, vocab, seq, gpus, mb, accum, batch, tensor,
      pipe, virt, metrics;
  const char *gpu, *cluster, *prec, *shard, *ckpt, *attn, *bias, *sp, *pos,
      *reduce;
} run_cfg;

static int read_cfg(const row_in *x, run_cfg *g, gpp_errctx *err) {
  static const char *const fam[] = {"gpt", NULL};
  static const char *const prec[] = {"bf16-mixed", "bf16-pure", "fp16-mixed",
                                     NULL};
  static const char *const shard[] = {"full_shard", "shard_grad_op", "none",
                                      NULL};
  static const char *const ckpt[] = {"full", "selective", "none", NULL};
  static const char *const attn[] = {"flash", "unfused", NULL};
  static const char *const tf[] = {"true", "false", NULL};
  static const char *const pos[] = {"alibi", "learned", NULL};
  static const char *const red[] = {"weights", "fp32", "bf16", "fp16", NULL};
  const char *f;
  GPP_TRY(word(x, C_FAMILY, fam, NULL, &f, err));
  const struct { int k; double lo, hi, dflt, *out; } nums[] = {
      {C_D, 1, 1e6, 0, &g->d},          {C_LAYERS, 1, 1e5, 0, &g->layers},
      {C_HEADS, 1, 65536, 0, &g->heads}, {C_FFN, 1, 64, 0, &g->ffn},
      {C_VOCAB, 1, 1e9, 0, &g->vocab},   {C_SEQ, 1, 1e7, 0, &g->seq},
      {C_GPUS, 1, 65536, 0, &g->gpus},   {C_MB, 1, 1e7, 0, &g->mb},
      {C_ACCUM, 1, 1e7, 0, &g->accum},   {C_BATCH, 1, 1e9, 0, &g->batch},
      {C_TENSOR, 1, 1024, 1, &g->tensor}, {C_PIPE, 1, 1024, 1, &g->pipe},
      {C_VIRT, 1, 1024, 1, &g->virt},   {C_METRICS, 0, 64, 0, &g->metrics}};
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
    GPP_TRY(num(x, nums[i].k, nums[i].lo, nums[i].hi, nums[i].dflt,
                nums[i].out, err));
  g->gpu = cell(x, C_GPU);
  g->cluster = cell(x, C_CLUSTER);
  GPP_TRY(word(x, C_PREC, prec, NULL, &g->prec, err));
  GPP_TRY(word(x, C_SHARD, shard, NULL, &g->shard, err));
  GPP_TRY(word(x, C_CKPT, ckpt, NULL, &g->ckpt, err));
  GPP_TRY(word(x, C_ATTN, attn, NULL, &g->attn, err));
  GPP_TRY(word(x, C_BIAS, tf, "false", &g->bias, err));
  GPP_TRY(word(x, C_SP, tf, "false", &g->sp, err));
  GPP_TRY(word(x, C_POS, pos, "alibi", &g->pos, err));
  GPP_TRY(word(x, C_REDUCE, red, "weights", &g->reduce, err));
  gpp_mark m = gpp_csv_mark(x->c, x->r, x->col[C_PIPE] >= 0 ? x->col[C_PIPE]
                                                             : 0);
  if (g->pipe > 1 || g->virt > 1)
    GPP_RAISE_AT(err, GPP_EINVAL, &m, "pipeline stages: runs with pipeline "
                 "> 1 are not built by `validate published` yet (plan them "
                 "with `gppsim plan` and simulate)");
  if (fmod(g->gpus, g->tensor) != 0) {
    m = gpp_csv_mark(x->c, x->r, x->col[C_TENSOR]);
    GPP_RAISE_AT(err, GPP_EINVAL, &m, "tensor: %g does not divide gpus (%g)",
                 g->tensor, g->gpus);
  }
  double dp = g->gpus / g->tensor;
  if (g->batch != dp * g->mb * g->accum) {
    m = gpp_csv_mark(x->c, x->r, x->col[C_BATCH]);
    GPP_RAISE_AT(err, GPP_EINVAL, &m, "global_batch: %g is not the "
                 "data-parallel ranks (gpus / tensor = %g) x micro_batch (%g) "
                 "x grad_accum (%g) = %g", g->batch, dp, g->mb, g->accum,
                 dp * g->mb * g->accum);
  }
  return 0;
}

/* printf into a new buffer (caller frees); NULL when out of memory. */
static char *fmt_alloc(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static char *fmt_alloc(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *t = n < 0 ? NULL : malloc((size_t)n + 1);
  if (t == NULL) return NULL;
  va_start(ap, fmt);
  vsnprintf(t, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return t;
}

static char *model_text(const run_cfg *g) {
  return fmt_alloc(
      "name: published\nprecision: %s\ngraph:\n"
      "  - decoder: m\n    layers: %.0f\n    d_model: %.0f\n    heads: %.0f\n"
      "    ffn_mult: %.0f\n    vocab: %.0f\n    seq: %.0f\n    bias: %s\n"
      "    positions: %s\n    attention: %s\n    train_metrics: %.0f\n",
      strncmp(g->prec, "fp16", 4) == 0 ? "fp16" : "bf16", g->layers, g->d,
      g->heads, g->ffn, g->vocab, g->seq, g->bias, g->pos, g->attn,
      g->metrics);
}

static char *plan_text(const run_cfg *g) {
  static const struct { const char *in, *out; } sh[] = {
      {"full_shard", "full"}, {"shard_grad_op", "gradients"},
      {"none", "none"}};
  const char *sharding = "none";
  for (size_t i = 0; i < 3; i++)
    if (strcmp(g->shard, sh[i].in) == 0) sharding = sh[i].out;
  double dp = g->gpus / g->tensor;
  size_t cap = 64 + 8 * (size_t)g->gpus;
  char *devs = malloc(cap), *t;
  if (devs == NULL) return NULL;
  size_t len = 0;
  for (uint32_t i = 0; i < (uint32_t)g->gpus; i++)
    len += (size_t)snprintf(devs + len, cap - len, "%s%u", i ? ", " : "", i);
  bool weights = strcmp(g->reduce, "weights") == 0;
  t = fmt_alloc(
      "batch: %.0f\nmicro_batch: %.0f\nschedule: 1f1b\noptimizer: adam\n"
      "precision: %s\n%s%s%sstages:\n"
      "  - {name: s0, ops: [\"*\"], devices: [%s], tensor: %.0f,\n"
      "     sequence_parallel: %s, sharding: %s, recompute: %s}\n",
      g->batch, g->mb * dp, strcmp(g->prec, "bf16-pure") == 0 ? "full"
                                                              : "mixed",
      weights ? "" : "reduce_dtype: ", weights ? "" : g->reduce,
      weights ? "" : "\n", devs, g->tensor, g->sp, sharding, g->ckpt);
  free(devs);
  return t;
}

static int load_cluster(const run_cfg *g, gpp_cluster **out,
                        gpp_errctx *err) {
  char path[GPP_INPUT_PATH_MAX];
  gpp_ydoc *doc;
  GPP_TRY(gpp_input_named("clusters", g->cluster, path, sizeof path, err));
  GPP_TRY(gpp_ydoc_load_file(path, &doc, err));
  int rc = gpp_cluster_resized(gpp_ydoc_root(doc), g->gpu, (uint32_t)g->gpus,
                               out, err);
  gpp_ydoc_destroy(doc);
  return rc;
}

typedef struct run_objs {
  gpp_model *model;
  gpp_cluster *cluster;
  gpp_costs *costs;
  gpp_plan *plan;
  gpp_result *res;
  char *mtext, *ptext;
} run_objs;

static void run_free(run_objs *o) {
  gpp_result_destroy(o->res);
  gpp_plan_destroy(o->plan);
  gpp_costs_destroy(o->costs);
  gpp_cluster_destroy(o->cluster);
  gpp_model_destroy(o->model);
  free(o->mtext);
  free(o->ptext);
}

static int simulate(const run_cfg *g, const char *name, run_objs *o,
                    gpp_errctx *err) {
  o->mtext = model_text(g);
  o->ptext = plan_text(g);
  if (o->mtext == NULL || o->ptext == NULL)
    GPP_RAISE(err, GPP_ENOMEM, "out of memory");
  GPP_TRY(gpp_model_load_string(name, o->mtext, &o->model, err));
  GPP_TRY(load_cluster(g, &o->cluster, err));
  GPP_TRY(gpp_costs_create(o->model, &o->cluster->gpu, NULL, &o->costs, err));
  GPP_TRY(gpp_plan_load_string(name, o->ptext, o->model, o->cluster->n_gpus,
                               &o->plan, err));
  gpp_engine_opts opts = {.allow_oom = true};
  return gpp_engine_run(o->plan, o->costs, o->cluster, &opts, &o->res, err);
}

static void fill(const run_cfg *g, const run_objs *o, prow *p) {
  const gpp_result *r = o->res;
  p->predicted = g->batch * g->seq / r->iteration_time / g->gpus;
  p->error = p->predicted / p->measured - 1;
  p->gpu_memory = o->cluster->gpu.mem_bytes;
  p->peak_memory = 0;
  for (uint32_t d = 0; d < r->n_devices; d++)
    if (r->devices[d].used && r->devices[d].peak_mem > p->peak_memory)
      p->peak_memory = r->devices[d].peak_mem;
  p->fits = !r->oom;
  p->ckpt = strcmp(g->ckpt, "none") != 0;
  gpp_model_stats st;
  gpp_model_stats_compute(o->model, &st);
  /* Sizes group runs of one model: a learned position table grows with
   * the run's sequence length, so it is left out. */
  p->params = st.param_count -
              (strcmp(g->pos, "learned") == 0 ? g->seq * g->d : 0);
}

/* One row: build, simulate, fill p; an error is prefixed with the row. */
static int run_row(const row_in *x, prow *p, gpp_errctx *err) {
  run_cfg g;
  run_objs o = {0};
  p->name = cell(x, C_NAME);
  int rc = num(x, C_MEASURED, 1e-9, 1e12, 0, &p->measured, err);
  if (rc == 0) rc = read_cfg(x, &g, err);
  if (rc == 0) {
    rc = simulate(&g, p->name, &o, err);
    if (rc != 0) {
      gpp_mark m = gpp_csv_mark(x->c, x->r, 0);
      gpp_error_prefix(err, "%s:%d: run '%s'", m.file, m.line, p->name);
    }
  }
  if (rc == 0) fill(&g, &o, p);
  run_free(&o);
  return rc;
}

/* Median and max |error| of the rows that fit and pass keep(). */
typedef bool (*row_pred)(const prow *p, const void *arg);

static int stats(const prow *rows, size_t n, row_pred keep, const void *arg,
                 gpp_errstats *s, gpp_errctx *err) {
  double *e = gpp_calloc(err, n ? n : 1, sizeof *e);
  if (e == NULL) return err->code;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (rows[i].fits && (keep == NULL || keep(&rows[i], arg)))
      e[k++] = rows[i].error;
  int rc = gpp_errstats_of(e, k, s, err);
  free(e);
  return rc;
}

static bool by_ckpt(const prow *p, const void *arg) {
  return p->ckpt == *(const bool *)arg;
}

static bool by_params(const prow *p, const void *arg) {
  return p->params == *(const double *)arg;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void print_group(bool md, const char *label, const gpp_errstats *s) {
  printf(md ? "| %s | %zu | %.1f%% | %.1f%% |\n"
            : "%-24s %5zu %14.1f%% %12.1f%%\n",
         label, s->n, 100 * s->median, 100 * s->max);
}

/* By model size (parameter count) and by checkpointing on/off. */
static int print_groups(const prow *rows, size_t n, bool md,
                        gpp_errctx *err) {
  double *sizes = gpp_calloc(err, n ? n : 1, sizeof *sizes);
  if (sizes == NULL) return err->code;
  for (size_t i = 0; i < n; i++) sizes[i] = rows[i].params;
  qsort(sizes, n, sizeof *sizes, cmp_double);
  gpp_errstats s;
  int rc = 0;
  printf(md ? "\n| group | rows | median \\|error\\| | max \\|error\\| |\n"
              "|---|---|---|---|\n"
            : "\n%-24s %5s %15s %13s\n", "group", "rows", "median |error|",
         "max |error|");
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (i > 0 && sizes[i] == sizes[i - 1]) continue;
    char label[64];
    snprintf(label, sizeof label, "%.2f B parameters", sizes[i] / 1e9);
    rc = stats(rows, n, by_params, &sizes[i], &s, err);
    if (rc == 0) print_group(md, label, &s);
  }
  free(sizes);
  for (int c = 1; c >= 0 && rc == 0; c--) {
    bool on = c;
    rc = stats(rows, n, by_ckpt, &on, &s, err);
    if (rc == 0)
      print_group(md, on ? "checkpointing on" : "checkpointing off", &s);
  }
  if (rc == 0) rc = stats(rows, n, NULL, NULL, &s, err);
  if (rc == 0) print_group(md, "all", &s);
  return rc;
}

static void print_rows(const prow *rows, size_t n, bool md) {
  printf(md ? "| run | measured tok/s/GPU | predicted | error | peak memory "
              "| GPU memory | fits |\n|---|---|---|---|---|---|---|\n"
            : "%-26s %12s %12s %8s %12s %12s %5s\n", "run",
         "measured", "predicted", "error%", "peak_GiB", "gpu_GiB", "fits");
  if (!md)
    printf("%-26s %12s %12s %8s\n", "", "tok/s/GPU", "tok/s/GPU", "");
  for (size_t i = 0; i < n; i++) {
    const prow *p = &rows[i];
    printf(md ? "| %s | %.0f | %.0f | %+.1f%% | %.1f GiB | %.0f GiB | %s |\n"
              : "%-26s %12.0f %12.0f %+8.1f %12.1f %12.0f %5s\n",
           p->name, p->measured, p->predicted, 100 * p->error,
           p->peak_memory / 1073741824.0, p->gpu_memory / 1073741824.0,
           p->fits ? "yes" : "no");
  }
}

static int print_json(const prow *rows, size_t n, gpp_errctx *err) {
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(arr, json_pack(
        "{s:s, s:f, s:f, s:f, s:f, s:b}", "name", rows[i].name, "measured",
        rows[i].measured, "predicted", rows[i].predicted, "error",
        rows[i].error, "peak_memory", rows[i].peak_memory, "fits",
        rows[i].fits));
  gpp_errstats s;
  int rc = stats(rows, n, NULL, NULL, &s, err);
  if (rc != 0) {
    json_decref(arr);
    return rc;
  }
  json_t *doc = json_pack("{s:o, s:f, s:f}", "rows", arr, "median_abs_error",
                          s.median, "max_abs_error", s.max);
  return gpp__validate_print_json(doc, err);
}

int gpp_validate_published(const char *path, bool json, bool md,
                           gpp_errctx *err) {
  gpp_csv *c;
  GPP_TRY(gpp_csv_load(path, &c, err));
  int col[C__N], rc = 0;
  for (int k = 0; k < C__N && rc == 0; k++) {
    col[k] = gpp_csv_column(c, col_names[k], k < C__REQUIRED, err);
    rc = col[k] < 0 && k < C__REQUIRED ? err->code : 0;
  }
  prow *rows = rc == 0 ? gpp_calloc(err, c->n_rows ? c->n_rows : 1,
                                    sizeof *rows) : NULL;
  if (rc == 0 && rows == NULL) rc = err->code;
  for (size_t r = 0; r < c->n_rows && rc == 0; r++) {
    row_in x = {c, r, col};
    rc = run_row(&x, &rows[r], err);
    if (rc == 0 && !json)
      fprintf(stderr, "validate published: %zu/%zu %s\n", r + 1, c->n_rows,
              rows[r].name);
  }
  if (rc == 0 && c->n_rows == 0)
    rc = GPP_ERR(err, GPP_EINVAL, "%s: no rows", path);
  if (rc == 0 && json) rc = print_json(rows, c->n_rows, err);
  if (rc == 0 && !json) {
    print_rows(rows, c->n_rows, md);
    rc = print_groups(rows, c->n_rows, md, err);
  }
  free(rows);
  gpp_csv_free(c);
  return rc;
}
