/* model.c -- loading a model file: the top-level keys, parameters, and the
 * finished model's queries (lookup, totals, longest paths).
 *
 * The format (configs/models/README.md has the long version):
 *
 *   name: mmt                       # required
 *   precision: fp32                 # fp32 | tf32 | fp16 | bf16 | fp8: the
 *                                   # dtype it trains in (the table in
 *                                   # configs/experiments/plans/README.md)
 *   params:                         # integers, used as ${NAME} in values
 *     branches: {default: 4, min: 2, max: 16}
 *   graph:                          # a list of items
 *     - branches: branch            # the kind key names the item
 *       count: ${branches}
 *       body:
 *         - {input: x, tokens: 256, width: 1024}
 *         - {transformer: enc, layers: 8, seq: 256, hidden: 1024,
 *            heads: 16, ffn: 4096}
 *     - {concat: cat}               # no `inputs`: the previous item's
 *     - {loss: loss}                #   output(s)
 *
 * Item kinds: `op` (explicit: kind, inputs, shape {tokens, width, in_width,
 * heads, rows, bag}), input (tokens, width), linear (out, bias), mlp
 * (layers, width, activation, final_activation, bias), transformer (layers,
 * seq, hidden, heads, ffn), embedding_bag (rows, dim, bag), branches
 * (count, body; names inside are prefixed `NAME{i}.`), concat, interaction
 * (DLRM pairwise dot products), loss.  Single-op items take the overrides
 * time_per_sample {fwd, bwd}, flops {fwd, bwd},
 * activation_bytes_per_sample and param_bytes.  `inputs` is a name or a
 * list; a generator's name stands for its output(s).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model/model_internal.h"

/* ---- parameters ------------------------------------------------------- */

static int read_param(gpp__mbuild *b, gpp_ynode key, gpp_ynode val) {
  gpp__mparam *p = &b->params[b->n_params];
  GPP_TRY(gpp_yscalar_str(key, "parameter name", &p->name, b->err));
  p->lo = -1000000000000LL;
  p->hi = 1000000000000LL;
  p->mark = gpp_ynode_mark(key);
  if (gpp_ynode_type(val) == GPP_Y_SCALAR)
    GPP_TRY(gpp_yscalar_int(val, p->name, p->lo, p->hi, &p->value, b->err));
  else {
    static const char *const keys[] = {"default", "min", "max"};
    gpp_ynode d;
    GPP_TRY(gpp_ymap_check_keys(val, keys, 3, b->err));
    GPP_TRY(gpp_ymap_require(val, "default", &d, b->err));
    gpp_ynode lo = gpp_ymap_find(val, "min"), hi = gpp_ymap_find(val, "max");
    if (gpp_ynode_ok(lo))
      GPP_TRY(gpp_yscalar_int(lo, "min", p->lo, p->hi, &p->lo, b->err));
    if (gpp_ynode_ok(hi))
      GPP_TRY(gpp_yscalar_int(hi, "max", p->lo, p->hi, &p->hi, b->err));
    GPP_TRY(gpp_yscalar_int(d, "default", p->lo, p->hi, &p->value, b->err));
  }
  b->n_params++;
  return 0;
}

static int read_params(gpp__mbuild *b, gpp_ynode params) {
  if (!gpp_ynode_ok(params)) return 0;
  GPP_TRY(gpp_yexpect(params, GPP_Y_MAP, "params", b->err));
  size_t n = gpp_ynode_len(params);
  if (n > GPP__MODEL_MAX_PARAMS) {
    gpp_mark at = gpp_ynode_mark(params);
    GPP_RAISE_AT(b->err, GPP_ERANGE, &at, "params: at most %d parameters",
                 GPP__MODEL_MAX_PARAMS);
  }
  const char *keys[GPP__MODEL_MAX_PARAMS];
  for (size_t i = 0; i < n; i++)
    keys[i] = gpp_ynode_scalar(gpp_ymap_key(params, i));
  GPP_TRY(gpp_ymap_check_keys(params, keys, n, b->err)); /* duplicates */
  for (size_t i = 0; i < n; i++)
    GPP_TRY(read_param(b, gpp_ymap_key(params, i), gpp_ymap_value(params, i)));
  return 0;
}

static int apply_override(gpp__mbuild *b, const gpp_model_param *o) {
  const char *names[GPP__MODEL_MAX_PARAMS];
  for (uint32_t i = 0; i < b->n_params; i++) {
    names[i] = b->params[i].name;
    gpp__mparam *p = &b->params[i];
    if (strcmp(p->name, o->name) != 0) continue;
    if (o->value < p->lo || o->value > p->hi)
      GPP_RAISE_AT(b->err, GPP_ERANGE, &p->mark, "parameter %s = %lld is out "
                   "of range; expected %lld to %lld", p->name, o->value,
                   p->lo, p->hi);
    p->value = o->value;
    return 0;
  }
  const char *hint = gpp_suggest(o->name, names, b->n_params);
  gpp_mark at = {b->path, 1, 1};
  GPP_RAISE_AT(b->err, GPP_EINVAL, &at, "the model has no parameter '%s'%s%s%s",
               o->name, hint ? "; did you mean '" : "", hint ? hint : "",
               hint ? "'?" : "");
}

/* ---- the top level ---------------------------------------------------- */

/* The dtypes a model trains in; fp32 and tf32 keep 4-byte weights and
 * activations, the others 2 (fp8 runs its GEMMs in fp8 on bf16 tensors). */
static const char *const precisions[] = {"fp32", "tf32", "fp16", "bf16",
                                         "fp8", NULL};

static int precision_bytes(int prec) { return prec <= 1 ? 4 : 2; }

/* The precision the caller asked for (b->precision: NULL or "full" keeps
 * the file's, "mixed" the file's when 2-byte, else fp16) over *prec. */
static int apply_precision(gpp__mbuild *b, int *prec) {
  const char *want = b->precision;
  if (want == NULL || strcmp(want, "full") == 0) return 0;
  if (strcmp(want, "mixed") == 0) {
    if (precision_bytes(*prec) == 4) *prec = 2; /* fp16: V100 has no bf16 */
    return 0;
  }
  for (int i = 0; precisions[i]; i++)
    if (strcmp(precisions[i], want) == 0) {
      *prec = i;
      return 0;
    }
  GPP_RAISE(b->err, GPP_EINVAL, "unknown precision '%s'; expected fp32, "
            "tf32, fp16, bf16, fp8, mixed or full", want);
}

static int read_top(gpp__mbuild *b, gpp_ynode root, gpp_model *m,
                    const gpp_model_param *ov, size_t n_ov) {
  static const char *const keys[] = {"name", "precision", "params", "graph",
                                     "description", "attention"};
  GPP_TRY(gpp_yexpect(root, GPP_Y_MAP, "model file", b->err));
  GPP_TRY(gpp_ymap_check_keys(root, keys, 6, b->err));
  gpp_ynode n;
  GPP_TRY(gpp_ymap_require(root, "name", &n, b->err));
  GPP_TRY(gpp_yscalar_str(n, "name", &m->name, b->err));
  m->name = gpp_arena_strdup(b->arena, m->name, b->err);
  int prec = 0;
  n = gpp_ymap_find(root, "precision");
  if (gpp_ynode_ok(n))
    GPP_TRY(gpp_yscalar_enum(n, "precision", precisions, &prec, b->err));
  GPP_TRY(apply_precision(b, &prec));
  b->dtype_bytes = precision_bytes(prec);
  m->precision = precisions[prec];
  GPP_TRY(gpp__model_read_attention(b, root, true, &b->flash));
  m->attention = b->flash ? "flash" : "unfused";
  n = gpp_ymap_find(root, "description");
  const char *desc;
  if (gpp_ynode_ok(n))
    GPP_TRY(gpp_yscalar_str(n, "description", &desc, b->err));
  GPP_TRY(read_params(b, gpp_ymap_find(root, "params")));
  for (size_t i = 0; i < n_ov; i++) GPP_TRY(apply_override(b, &ov[i]));
  GPP_TRY(gpp_ymap_require(root, "graph", &n, b->err));
  gpp__mouts none = {NULL, 0}, last;
  return gpp__model_expand_list(b, n, none, &last);
}

static int load_doc(gpp_ydoc *doc, const gpp_model_param *ov, size_t n_ov,
                    const char *precision, gpp_model *m, gpp_errctx *err) {
  gpp__mbuild b = {0};
  b.precision = precision;
  b.arena = m->arena;
  b.err = err;
  b.path = m->path;
  int rc = read_top(&b, gpp_ydoc_root(doc), m, ov, n_ov);
  if (rc == 0) rc = gpp__model_build(&b, m);
  free(b.specs);
  free(b.aliases);
  free(b.groups);
  return rc;
}

/* Loads the model from path's file, or from text (named path in messages)
 * when text is not NULL. */
static int load(const char *path, const char *text,
                const gpp_model_param *params, size_t n_params,
                const char *precision, gpp_model **out, gpp_errctx *err) {
  *out = NULL;
  gpp_model *m = gpp_calloc(err, 1, sizeof *m);
  if (m == NULL) return GPP_ENOMEM;
  m->arena = gpp_arena_create(err);
  if (m->arena == NULL) {
    free(m);
    return GPP_ENOMEM;
  }
  m->path = gpp_arena_strdup(m->arena, path, err);
  gpp_ydoc *doc = NULL;
  int rc = m->path == NULL ? GPP_ENOMEM
           : text ? gpp_ydoc_load_string(path, text, strlen(text), &doc, err)
                  : gpp_ydoc_load_file(path, &doc, err);
  if (rc == 0) rc = load_doc(doc, params, n_params, precision, m, err);
  gpp_ydoc_destroy(doc);
  if (rc != 0) {
    gpp_model_destroy(m);
    return rc;
  }
  *out = m;
  return 0;
}

int gpp_model_load(const char *path, const gpp_model_param *params,
                   size_t n_params, gpp_model **out, gpp_errctx *err) {
  return load(path, NULL, params, n_params, NULL, out, err);
}

int gpp_model_load_as(const char *path, const gpp_model_param *params,
                      size_t n_params, const char *precision,
                      gpp_model **out, gpp_errctx *err) {
  return load(path, NULL, params, n_params, precision, out, err);
}

int gpp_model_load_string(const char *name, const char *text,
                          gpp_model **out, gpp_errctx *err) {
  return load(name, text, NULL, 0, NULL, out, err);
}

void gpp_model_destroy(gpp_model *m) {
  if (m == NULL) return;
  gpp_arena_destroy(m->arena);
  free(m);
}

int64_t gpp_model_find(const gpp_model *m, const char *name) {
  for (uint32_t i = 0; i < m->n_ops; i++)
    if (strcmp(m->ops[i].name, name) == 0) return i;
  return -1;
}

/* ---- totals and paths ------------------------------------------------- */

static void longest_paths(const gpp_model *m, gpp_model_stats *st) {
  uint32_t *len = calloc(m->n_ops ? m->n_ops : 1, sizeof *len);
  double *fl = calloc(m->n_ops ? m->n_ops : 1, sizeof *fl);
  if (len == NULL || fl == NULL) goto done;
  for (uint32_t i = 0; i < m->n_ops; i++) { /* ops are topologically sorted */
    const gpp_op *op = &m->ops[i];
    for (uint32_t j = 0; j < op->n_inputs; j++) {
      uint32_t u = op->inputs[j];
      if (len[u] > len[i]) len[i] = len[u];
      if (fl[u] > fl[i]) fl[i] = fl[u];
    }
    len[i] += 1;
    fl[i] += op->flops_fwd + op->flops_bwd;
    if (len[i] > st->longest_path_ops) st->longest_path_ops = len[i];
    if (fl[i] > st->longest_path_flops) st->longest_path_flops = fl[i];
  }
done:
  free(len);
  free(fl);
}

double gpp_model_tokens_per_sample(const gpp_model *m) {
  double t = 1;
  for (uint32_t i = 0; i < m->n_ops; i++)
    if (m->ops[i].kind == GPP_OP_INPUT && (double)m->ops[i].shape.tokens > t)
      t = (double)m->ops[i].shape.tokens;
  return t;
}

void gpp_model_stats_compute(const gpp_model *m, gpp_model_stats *st) {
  memset(st, 0, sizeof *st);
  for (uint32_t i = 0; i < m->n_ops; i++) {
    const gpp_op *op = &m->ops[i];
    st->param_count += op->param_count;
    st->param_bytes += op->param_bytes;
    st->flops_fwd += op->flops_fwd;
    st->flops_bwd += op->flops_bwd;
    st->saved_bytes += op->saved_bytes;
    st->n_sources += op->n_inputs == 0;
    st->n_sinks += op->n_outputs == 0;
  }
  longest_paths(m, st);
}
