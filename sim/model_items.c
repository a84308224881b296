/* model_items.c -- expands the items of a model's `graph` list (explicit ops
 * and generators) into op specs.  Names inside a `branches` body are
 * prefixed `NAME{i}.`; an item without `input`/`inputs` takes the previous
 * item's outputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model_internal.h"

#define DIM_MAX 1000000000LL /* one dimension: at most 1e9 */

static const char *const op_keys[] = {
    "type", "name", "input", "inputs", "tokens", "width", "out", "dim",
    "in_width", "heads", "rows", "bag", "bias", "flops", "time_per_sample",
    "activation_bytes_per_sample", "param_bytes"};
static const char *const mlp_keys[] = {"type", "name", "input", "inputs",
                                       "layers", "width", "activation",
                                       "final_activation", "bias"};
static const char *const tf_keys[] = {"type", "name", "input", "inputs",
                                      "layers", "heads", "ffn"};
static const char *const br_keys[] = {"type", "name", "input", "inputs",
                                      "count", "body"};
#define NKEYS(a) (sizeof(a) / sizeof(a[0]))

/* ---- small helpers ---------------------------------------------------- */

static void *grow(gpp__mbuild *b, void *arr, uint32_t *cap, uint32_t need,
                  size_t size) {
  if (need <= *cap) return arr;
  uint32_t c = *cap ? *cap * 2 : 64;
  while (c < need) c *= 2;
  void *p = gpp_realloc_array(b->err, arr, c, size);
  if (p != NULL) *cap = c;
  return p;
}

static gpp__mspec *new_spec(gpp__mbuild *b, const char *name, gpp_op_kind k,
                            gpp_mark mark) {
  gpp__mspec *s = grow(b, b->specs, &b->cap_specs, b->n_specs + 1, sizeof *s);
  if (s == NULL) return NULL;
  b->specs = s;
  s = &b->specs[b->n_specs++];
  memset(s, 0, sizeof *s);
  s->name = name;
  s->kind = k;
  s->mark = mark;
  s->bias = true;
  s->act_override = s->param_override = -1;
  s->flops_fwd = s->flops_bwd = -1;
  return s;
}

static int add_alias(gpp__mbuild *b, const char *name, gpp__mouts outs,
                     gpp_mark mark) {
  gpp__malias *a = grow(b, b->aliases, &b->cap_aliases, b->n_aliases + 1,
                        sizeof *a);
  if (a == NULL) return GPP_ENOMEM;
  b->aliases = a;
  a = &b->aliases[b->n_aliases++];
  a->name = name;
  a->targets = outs.names;
  a->n_targets = outs.n;
  a->mark = mark;
  return 0;
}

static int one_out(gpp__mbuild *b, const char *name, gpp__mouts *out) {
  out->names = gpp_arena_alloc(b->arena, sizeof(char *), b->err);
  if (out->names == NULL) return GPP_ENOMEM;
  out->names[0] = name;
  out->n = 1;
  return 0;
}

static const char *full_name(gpp__mbuild *b, const char *base,
                             const char *suffix) {
  const char *scope = b->depth ? b->scopes[b->depth - 1] : "";
  return gpp_arena_printf(b->arena, b->err, "%s%s%s%s", scope, base,
                          suffix[0] ? "." : "", suffix);
}

int gpp__model_read_int(gpp__mbuild *b, gpp_ynode n, const char *what,
                        long long lo, long long hi, long long *out) {
  const char *s = gpp_ynode_scalar(n);
  size_t len = s ? strlen(s) : 0;
  if (len < 4 || strncmp(s, "${", 2) != 0 || s[len - 1] != '}')
    return gpp_yscalar_int(n, what, lo, hi, out, b->err);
  gpp_mark at = gpp_ynode_mark(n);
  for (uint32_t i = 0; i < b->n_params; i++) {
    const gpp__mparam *p = &b->params[i];
    if (strlen(p->name) != len - 3 || strncmp(p->name, s + 2, len - 3) != 0)
      continue;
    if (p->value < lo || p->value > hi)
      GPP_RAISE_AT(b->err, GPP_ERANGE, &at, "%s: parameter %s = %lld is out "
                   "of range; expected %lld to %lld", what, p->name, p->value,
                   lo, hi);
    *out = p->value;
    return 0;
  }
  GPP_RAISE_AT(b->err, GPP_EINVAL, &at, "%s: unknown parameter '%s'; declare "
               "it under `params`", what, s);
}

static int opt_int(gpp__mbuild *b, gpp_ynode item, const char *key,
                   long long lo, long long hi, int64_t *out) {
  gpp_ynode v = gpp_ymap_find(item, key);
  if (!gpp_ynode_ok(v)) return 0;
  long long x;
  GPP_TRY(gpp__model_read_int(b, v, key, lo, hi, &x));
  *out = (int64_t)x;
  return 0;
}

static int req_int(gpp__mbuild *b, gpp_ynode item, const char *key,
                   long long lo, long long hi, int64_t *out) {
  gpp_ynode v;
  GPP_TRY(gpp_ymap_require(item, key, &v, b->err));
  return opt_int(b, item, key, lo, hi, out);
}

/* ---- input references ------------------------------------------------- */

static int ref_from(gpp__mbuild *b, gpp_ynode n, gpp__mref *r) {
  GPP_TRY(gpp_yscalar_str(n, "input", &r->name, b->err));
  r->name = gpp_arena_strdup(b->arena, r->name, b->err);
  if (r->name == NULL) return GPP_ENOMEM;
  r->depth = b->depth;
  for (int d = 0; d < b->depth; d++) r->scopes[d] = b->scopes[d];
  r->mark = gpp_ynode_mark(n);
  return 0;
}

static int refs_from_prev(gpp__mbuild *b, gpp__mouts prev, gpp_mark mark,
                          gpp__mref **out, uint32_t *n) {
  *n = prev.n;
  *out = gpp_arena_array(b->arena, prev.n ? prev.n : 1, sizeof **out, b->err);
  if (*out == NULL) return GPP_ENOMEM;
  for (uint32_t i = 0; i < prev.n; i++) {
    (*out)[i].name = prev.names[i];
    (*out)[i].depth = 0;
    (*out)[i].mark = mark;
  }
  return 0;
}

/* An item's inputs: `input: x`, `inputs: [x, y]`, or the previous outputs. */
static int item_refs(gpp__mbuild *b, gpp_ynode item, gpp__mouts prev,
                     gpp__mref **out, uint32_t *n) {
  gpp_ynode type = gpp_ymap_find(item, "type");
  const char *ts = gpp_ynode_scalar(type);
  if (ts != NULL && strcmp(ts, "input") == 0) prev.n = 0; /* a source */
  gpp_ynode one = gpp_ymap_find(item, "input");
  gpp_ynode many = gpp_ymap_find(item, "inputs");
  gpp_mark at = gpp_ynode_mark(item);
  if (gpp_ynode_ok(one) && gpp_ynode_ok(many))
    GPP_RAISE_AT(b->err, GPP_EPARSE, &at, "give `input` or `inputs`, not "
                 "both");
  if (!gpp_ynode_ok(one) && !gpp_ynode_ok(many))
    return refs_from_prev(b, prev, at, out, n);
  if (gpp_ynode_ok(one)) {
    *n = 1;
    *out = gpp_arena_alloc(b->arena, sizeof **out, b->err);
    return *out ? ref_from(b, one, *out) : GPP_ENOMEM;
  }
  GPP_TRY(gpp_yexpect(many, GPP_Y_SEQ, "inputs", b->err));
  *n = (uint32_t)gpp_ynode_len(many);
  *out = gpp_arena_array(b->arena, *n ? *n : 1, sizeof **out, b->err);
  if (*out == NULL) return GPP_ENOMEM;
  for (uint32_t i = 0; i < *n; i++)
    GPP_TRY(ref_from(b, gpp_yseq_at(many, i), &(*out)[i]));
  return 0;
}

/* ---- single ops ------------------------------------------------------- */

static int read_time_override(gpp__mbuild *b, gpp_ynode item, gpp__mspec *s) {
  gpp_ynode t = gpp_ymap_find(item, "time_per_sample");
  if (!gpp_ynode_ok(t)) return 0;
  static const char *const keys[] = {"fwd", "bwd"};
  GPP_TRY(gpp_ymap_check_keys(t, keys, 2, b->err));
  gpp_ynode f, w;
  GPP_TRY(gpp_ymap_require(t, "fwd", &f, b->err));
  GPP_TRY(gpp_ymap_require(t, "bwd", &w, b->err));
  GPP_TRY(gpp_yscalar_qty(f, "fwd", GPP_Q_TIME, 0, 1e6, &s->time_fwd, b->err));
  GPP_TRY(gpp_yscalar_qty(w, "bwd", GPP_Q_TIME, 0, 1e6, &s->time_bwd, b->err));
  s->has_time = true;
  return 0;
}

static int read_flops(gpp__mbuild *b, gpp_ynode item, gpp__mspec *s) {
  gpp_ynode t = gpp_ymap_find(item, "flops");
  if (!gpp_ynode_ok(t)) return 0;
  static const char *const keys[] = {"fwd", "bwd"};
  GPP_TRY(gpp_ymap_check_keys(t, keys, 2, b->err));
  gpp_ynode f, w;
  GPP_TRY(gpp_ymap_require(t, "fwd", &f, b->err));
  GPP_TRY(gpp_ymap_require(t, "bwd", &w, b->err));
  GPP_TRY(gpp_yscalar_qty(f, "fwd", GPP_Q_COUNT, 0, 1e18, &s->flops_fwd,
                          b->err));
  return gpp_yscalar_qty(w, "bwd", GPP_Q_COUNT, 0, 1e18, &s->flops_bwd,
                         b->err);
}

static int read_overrides(gpp__mbuild *b, gpp_ynode item, gpp__mspec *s) {
  GPP_TRY(read_time_override(b, item, s));
  GPP_TRY(read_flops(b, item, s));
  gpp_ynode a = gpp_ymap_find(item, "activation_bytes_per_sample");
  gpp_ynode p = gpp_ymap_find(item, "param_bytes");
  if (gpp_ynode_ok(a))
    GPP_TRY(gpp_yscalar_qty(a, "activation_bytes_per_sample", GPP_Q_BYTES, 0,
                            1e15, &s->act_override, b->err));
  if (gpp_ynode_ok(p))
    GPP_TRY(gpp_yscalar_qty(p, "param_bytes", GPP_Q_BYTES, 0, 1e15,
                            &s->param_override, b->err));
  gpp_ynode bias = gpp_ymap_find(item, "bias");
  if (gpp_ynode_ok(bias)) GPP_TRY(gpp_yscalar_bool(bias, "bias", &s->bias,
                                                   b->err));
  return 0;
}

/* width has three spellings: `width`, `out` (matmul), `dim` (embedding). */
static int read_shape(gpp__mbuild *b, gpp_ynode item, gpp__mspec *s) {
  gpp_op_shape *sh = &s->shape;
  GPP_TRY(opt_int(b, item, "tokens", 1, DIM_MAX, &sh->tokens));
  GPP_TRY(opt_int(b, item, "width", 1, DIM_MAX, &sh->width));
  GPP_TRY(opt_int(b, item, "out", 1, DIM_MAX, &sh->width));
  GPP_TRY(opt_int(b, item, "dim", 1, DIM_MAX, &sh->width));
  GPP_TRY(opt_int(b, item, "in_width", 1, DIM_MAX, &sh->in_width));
  GPP_TRY(opt_int(b, item, "heads", 1, 65536, &sh->heads));
  GPP_TRY(opt_int(b, item, "rows", 1, 1000000000000LL, &sh->rows));
  return opt_int(b, item, "bag", 1, 1000000, &sh->bag);
}

static int expand_op(gpp__mbuild *b, gpp_ynode item, gpp_op_kind kind,
                     const char *name, gpp__mouts prev, gpp__mouts *last) {
  GPP_TRY(gpp_ymap_check_keys(item, op_keys, NKEYS(op_keys), b->err));
  const char *full = full_name(b, name, "");
  if (full == NULL) return GPP_ENOMEM;
  gpp__mspec *s = new_spec(b, full, kind, gpp_ynode_mark(item));
  if (s == NULL) return GPP_ENOMEM;
  GPP_TRY(item_refs(b, item, prev, &s->ins, &s->n_ins));
  GPP_TRY(read_shape(b, item, s));
  GPP_TRY(read_overrides(b, item, s));
  return one_out(b, full, last);
}

/* A generated op whose one input is the op named input (room for two). */
static int chain_op(gpp__mbuild *b, const char *name, gpp_op_kind kind,
                    gpp_mark mark, const char *input, gpp__mspec **out) {
  gpp__mspec *s = new_spec(b, name, kind, mark);
  if (s == NULL) return GPP_ENOMEM;
  s->ins = gpp_arena_alloc(b->arena, 2 * sizeof *s->ins, b->err);
  if (s->ins == NULL) return GPP_ENOMEM;
  s->ins[0].name = input;
  s->ins[0].mark = mark;
  s->n_ins = 1;
  *out = s;
  return 0;
}

/* ---- generators ------------------------------------------------------- */

static int expand_mlp(gpp__mbuild *b, gpp_ynode item, const char *name,
                      gpp__mouts prev, gpp__mouts *last) {
  static const char *const acts[] = {"relu", "gelu", "none", NULL};
  GPP_TRY(gpp_ymap_check_keys(item, mlp_keys, NKEYS(mlp_keys), b->err));
  int64_t layers = 0, width = 0;
  GPP_TRY(req_int(b, item, "layers", 1, 100000, &layers));
  GPP_TRY(req_int(b, item, "width", 1, DIM_MAX, &width));
  int act = 0;
  bool final_act = true, bias = true;
  gpp_ynode n = gpp_ymap_find(item, "activation");
  if (gpp_ynode_ok(n)) GPP_TRY(gpp_yscalar_enum(n, "activation", acts, &act,
                                                b->err));
  n = gpp_ymap_find(item, "final_activation");
  if (gpp_ynode_ok(n)) GPP_TRY(gpp_yscalar_bool(n, "final_activation",
                                                &final_act, b->err));
  n = gpp_ymap_find(item, "bias");
  if (gpp_ynode_ok(n)) GPP_TRY(gpp_yscalar_bool(n, "bias", &bias, b->err));
  gpp_mark mark = gpp_ynode_mark(item);
  const char *cur = NULL;
  for (int64_t l = 0; l < layers; l++) {
    char sfx[48];
    snprintf(sfx, sizeof sfx, "fc%lld", (long long)l);
    gpp__mspec *s;
    GPP_TRY(chain_op(b, full_name(b, name, sfx), GPP_OP_MATMUL, mark, cur, &s));
    if (l == 0) GPP_TRY(item_refs(b, item, prev, &s->ins, &s->n_ins));
    s->shape.width = width;
    s->bias = bias;
    cur = s->name;
    if (act == 2 || (l == layers - 1 && !final_act)) continue;
    snprintf(sfx, sizeof sfx, "act%lld", (long long)l);
    GPP_TRY(chain_op(b, full_name(b, name, sfx),
                     act == 0 ? GPP_OP_RELU : GPP_OP_GELU, mark, cur, &s));
    cur = s->name;
  }
  GPP_TRY(one_out(b, cur, last));
  return add_alias(b, full_name(b, name, ""), *last, mark);
}

/* One Transformer layer: ln1, attn, add1 (residual), ln2, fc1, gelu, fc2,
 * add2 (residual).  x is the layer's input op name. */
static int tf_layer(gpp__mbuild *b, const char *pre, gpp_mark mark,
                    const char *x, int64_t heads, int64_t ffn,
                    const char **out) {
  static const char *const names[] = {"ln1", "attn", "add1", "ln2",
                                      "fc1", "gelu", "fc2", "add2"};
  static const gpp_op_kind kinds[] = {GPP_OP_LAYERNORM, GPP_OP_ATTENTION,
      GPP_OP_ELEMENTWISE, GPP_OP_LAYERNORM, GPP_OP_MATMUL, GPP_OP_GELU,
      GPP_OP_MATMUL, GPP_OP_ELEMENTWISE};
  const char *cur = x, *residual = x;
  for (int i = 0; i < 8; i++) {
    gpp__mspec *s;
    const char *nm = gpp_arena_printf(b->arena, b->err, "%s.%s", pre,
                                      names[i]);
    if (nm == NULL) return GPP_ENOMEM;
    GPP_TRY(chain_op(b, nm, kinds[i], mark, cur, &s));
    if (kinds[i] == GPP_OP_ELEMENTWISE) {
      s->ins[1].name = residual;
      s->ins[1].mark = mark;
      s->n_ins = 2;
      residual = nm;
    }
    if (i == 1) s->shape.heads = heads;
    if (i == 4) s->shape.width = ffn;
    if (i == 6) s->mirror_hops = 2;
    cur = nm;
  }
  *out = cur;
  return 0;
}

static int expand_transformer(gpp__mbuild *b, gpp_ynode item,
                              const char *name, gpp__mouts prev,
                              gpp__mouts *last) {
  GPP_TRY(gpp_ymap_check_keys(item, tf_keys, NKEYS(tf_keys), b->err));
  int64_t layers = 0, heads = 0, ffn = 0;
  GPP_TRY(req_int(b, item, "layers", 1, 100000, &layers));
  GPP_TRY(req_int(b, item, "heads", 1, 65536, &heads));
  GPP_TRY(req_int(b, item, "ffn", 1, DIM_MAX, &ffn));
  gpp__mref *ins;
  uint32_t n_ins;
  GPP_TRY(item_refs(b, item, prev, &ins, &n_ins));
  gpp_mark mark = gpp_ynode_mark(item);
  if (n_ins != 1)
    GPP_RAISE_AT(b->err, GPP_EGRAPH, &mark, "transformer '%s': expected one "
                 "input, found %u", name, n_ins);
  const char *cur = NULL;
  uint32_t first_spec = b->n_specs;
  for (int64_t l = 0; l < layers; l++) {
    char sfx[48];
    snprintf(sfx, sizeof sfx, "l%lld", (long long)l);
    const char *pre = full_name(b, name, sfx);
    if (pre == NULL) return GPP_ENOMEM;
    GPP_TRY(tf_layer(b, pre, mark, cur ? cur : "", heads, ffn, &cur));
  }
  /* Patch layer 0's external input (ln1 and add1) to the real reference. */
  b->specs[first_spec].ins[0] = ins[0];
  b->specs[first_spec + 2].ins[1] = ins[0];
  GPP_TRY(one_out(b, cur, last));
  return add_alias(b, full_name(b, name, ""), *last, mark);
}

static int push_scope(gpp__mbuild *b, const char *prefix, gpp_mark at) {
  if (b->depth >= GPP__MODEL_MAX_DEPTH)
    GPP_RAISE_AT(b->err, GPP_EGRAPH, &at, "branches nested deeper than %d",
                 GPP__MODEL_MAX_DEPTH);
  b->scopes[b->depth++] = prefix;
  return 0;
}

static int add_group(gpp__mbuild *b, const char *name, uint32_t count,
                     uint32_t per_branch) {
  gpp_branch_group *g = grow(b, b->groups, &b->cap_groups, b->n_groups + 1,
                             sizeof *g);
  if (g == NULL) return GPP_ENOMEM;
  b->groups = g;
  g = &b->groups[b->n_groups++];
  g->name = name;
  g->count = count;
  g->ops_per_branch = per_branch;
  return 0;
}

static int expand_branches(gpp__mbuild *b, gpp_ynode item, const char *name,
                           gpp__mouts prev, gpp__mouts *last) {
  GPP_TRY(gpp_ymap_check_keys(item, br_keys, NKEYS(br_keys), b->err));
  int64_t count = 0;
  GPP_TRY(req_int(b, item, "count", 1, 4096, &count));
  gpp_ynode body;
  GPP_TRY(gpp_ymap_require(item, "body", &body, b->err));
  GPP_TRY(gpp_yexpect(body, GPP_Y_SEQ, "body", b->err));
  gpp_mark mark = gpp_ynode_mark(item);
  if (gpp_ynode_len(body) == 0)
    GPP_RAISE_AT(b->err, GPP_EGRAPH, &mark, "branches '%s': empty body", name);
  /* The branches' shared input: resolve through a reference list. */
  gpp__mref *ins;
  uint32_t n_ins;
  GPP_TRY(item_refs(b, item, prev, &ins, &n_ins));
  gpp__mouts in_names = {NULL, 0};
  const char *full = full_name(b, name, "");
  if (full == NULL) return GPP_ENOMEM;
  if (n_ins > 0) {
    /* A pass-through alias lets body items refer to the shared input. */
    in_names.names = gpp_arena_array(b->arena, n_ins, sizeof(char *), b->err);
    if (in_names.names == NULL) return GPP_ENOMEM;
    for (uint32_t i = 0; i < n_ins; i++) in_names.names[i] = ins[i].name;
    in_names.n = n_ins;
  }
  last->names = gpp_arena_array(b->arena, (size_t)count, sizeof(char *),
                                b->err);
  if (last->names == NULL) return GPP_ENOMEM;
  last->n = 0;
  uint32_t before = b->n_specs;
  for (int64_t i = 0; i < count; i++) {
    const char *prefix = gpp_arena_printf(b->arena, b->err, "%s%lld.", full,
                                          (long long)i);
    if (prefix == NULL) return GPP_ENOMEM;
    GPP_TRY(push_scope(b, prefix, mark));
    gpp__mouts out;
    uint32_t first = b->n_specs;
    int rc = gpp__model_expand_list(b, body, in_names, &out);
    b->depth--;
    if (rc != 0) return rc;
    /* Scoped references to the shared input keep their written scope. */
    for (uint32_t k = first; k < b->n_specs && n_ins > 0; k++)
      for (uint32_t j = 0; j < b->specs[k].n_ins; j++)
        for (uint32_t q = 0; q < n_ins; q++)
          if (b->specs[k].ins[j].depth == 0 &&
              b->specs[k].ins[j].name == in_names.names[q])
            b->specs[k].ins[j] = ins[q];
    for (uint32_t k = 0; k < out.n; k++) last->names[last->n++] = out.names[k];
  }
  GPP_TRY(add_group(b, full, (uint32_t)count,
                    (uint32_t)((b->n_specs - before) / (uint32_t)count)));
  return add_alias(b, full, *last, mark);
}

/* ---- dispatch --------------------------------------------------------- */

typedef enum { G_MLP = GPP_OP__NKINDS, G_TRANSFORMER, G_BRANCHES, G_LINEAR,
               G_EMBEDDING_BAG, G__END } gen_type;

static const char *const type_names[] = {
#define GPP__OPK(name, str) str,
    GPP_OP_KIND_MAP(GPP__OPK)
#undef GPP__OPK
    "mlp", "transformer", "branches", "linear", "embedding_bag", NULL};

static int item_type(gpp__mbuild *b, gpp_ynode item, int *type) {
  GPP_TRY(gpp_yexpect(item, GPP_Y_MAP, "graph item", b->err));
  gpp_ynode t;
  GPP_TRY(gpp_ymap_require(item, "type", &t, b->err));
  return gpp_yscalar_enum(t, "type", type_names, type, b->err);
}

static int item_name(gpp__mbuild *b, gpp_ynode item, int type, size_t index,
                     const char **name) {
  gpp_ynode n = gpp_ymap_find(item, "name");
  if (gpp_ynode_ok(n)) {
    GPP_TRY(gpp_yscalar_str(n, "name", name, b->err));
    if (strpbrk(*name, " \t*?[]{}$") != NULL) {
      gpp_mark at = gpp_ynode_mark(n);
      GPP_RAISE_AT(b->err, GPP_EINVAL, &at, "name '%s': use letters, digits, "
                   "'_', '-' and '.' only", *name);
    }
    return 0;
  }
  *name = gpp_arena_printf(b->arena, b->err, "%s%zu", type_names[type], index);
  return *name ? 0 : GPP_ENOMEM;
}

static int expand_item(gpp__mbuild *b, gpp_ynode item, size_t index,
                       gpp__mouts prev, gpp__mouts *last) {
  int type;
  const char *name;
  GPP_TRY(item_type(b, item, &type));
  GPP_TRY(item_name(b, item, type, index, &name));
  switch (type) {
  case G_MLP: return expand_mlp(b, item, name, prev, last);
  case G_TRANSFORMER: return expand_transformer(b, item, name, prev, last);
  case G_BRANCHES: return expand_branches(b, item, name, prev, last);
  case G_LINEAR: return expand_op(b, item, GPP_OP_MATMUL, name, prev, last);
  case G_EMBEDDING_BAG:
    return expand_op(b, item, GPP_OP_EMBEDDING, name, prev, last);
  default: return expand_op(b, item, (gpp_op_kind)type, name, prev, last);
  }
}

int gpp__model_expand_list(gpp__mbuild *b, gpp_ynode list, gpp__mouts prev,
                           gpp__mouts *last) {
  GPP_TRY(gpp_yexpect(list, GPP_Y_SEQ, "graph", b->err));
  size_t n = gpp_ynode_len(list);
  gpp__mouts cur = prev;
  for (size_t i = 0; i < n; i++) {
    gpp__mouts out = {NULL, 0};
    GPP_TRY(expand_item(b, gpp_yseq_at(list, i), i, cur, &out));
    cur = out;
  }
  *last = cur;
  return 0;
}
