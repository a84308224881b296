/* model_items.c -- expands the items of a model's `graph` list into op
 * specs.  Every item is a mapping with exactly one kind key whose value is
 * the item's name (`op: qkv`, `linear: fc`, `transformer: enc`, ...); this
 * file dispatches on it, reads references and handles the single-op items
 * (op, input, linear, embedding_bag, concat, pool, interaction, loss).  The
 * multi-op generators live in model_gen.c; both build their op specs with
 * model_spec.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model/model_internal.h"

#define DIM_MAX 1000000000LL /* one dimension: at most 1e9 */
#define ROWS_MAX 1000000000000LL
#define NKEYS(a) (sizeof(a) / sizeof(a[0]))

/* ---- shapes and overrides of single-op items --------------------------- */

typedef struct dim_key {
  const char *key;
  size_t offset;
  long long lo, hi;
} dim_key;

#define DIM(k, field, lo, hi) {k, offsetof(gpp_op_shape, field), lo, hi}
static const dim_key dim_keys[] = {
    DIM("tokens", tokens, 1, DIM_MAX),   DIM("width", width, 1, DIM_MAX),
    DIM("out", width, 1, DIM_MAX),       DIM("dim", width, 1, DIM_MAX),
    DIM("in_width", in_width, 1, DIM_MAX), DIM("heads", heads, 1, 65536),
    DIM("rows", rows, 1, ROWS_MAX),      DIM("bag", bag, 1, 1000000)};

/* Reads whichever dimension keys the mapping has. */
static int read_dims(gpp__mbuild *b, gpp_ynode map, gpp_op_shape *sh) {
  for (size_t i = 0; i < NKEYS(dim_keys); i++) {
    int64_t *f = (int64_t *)((char *)sh + dim_keys[i].offset);
    GPP_TRY(gpp__model_opt_int(b, map, dim_keys[i].key, dim_keys[i].lo,
                               dim_keys[i].hi, f));
  }
  return 0;
}

static int read_pair(gpp__mbuild *b, gpp_ynode map, const char *what,
                     gpp_qkind q, double hi, double *fwd, double *bwd) {
  static const char *const keys[] = {"fwd", "bwd"};
  GPP_TRY(gpp_yexpect(map, GPP_Y_MAP, what, b->err));
  GPP_TRY(gpp_ymap_check_keys(map, keys, 2, b->err));
  gpp_ynode f, w;
  GPP_TRY(gpp_ymap_require(map, "fwd", &f, b->err));
  GPP_TRY(gpp_ymap_require(map, "bwd", &w, b->err));
  GPP_TRY(gpp_yscalar_qty(f, "fwd", q, 0, hi, fwd, b->err));
  return gpp_yscalar_qty(w, "bwd", q, 0, hi, bwd, b->err);
}

static int read_overrides(gpp__mbuild *b, gpp_ynode item, gpp__mspec *s) {
  gpp_ynode n = gpp_ymap_find(item, "time_per_sample");
  if (gpp_ynode_ok(n)) {
    GPP_TRY(read_pair(b, n, "time_per_sample", GPP_Q_TIME, 1e6, &s->time_fwd,
                      &s->time_bwd));
    s->has_time = true;
  }
  n = gpp_ymap_find(item, "flops");
  if (gpp_ynode_ok(n))
    GPP_TRY(read_pair(b, n, "flops", GPP_Q_COUNT, 1e18, &s->flops_fwd,
                      &s->flops_bwd));
  n = gpp_ymap_find(item, "activation_bytes_per_sample");
  if (gpp_ynode_ok(n))
    GPP_TRY(gpp_yscalar_qty(n, "activation_bytes_per_sample", GPP_Q_BYTES, 0,
                            1e15, &s->act_override, b->err));
  n = gpp_ymap_find(item, "param_bytes");
  if (gpp_ynode_ok(n))
    GPP_TRY(gpp_yscalar_qty(n, "param_bytes", GPP_Q_BYTES, 0, 1e15,
                            &s->param_override, b->err));
  n = gpp_ymap_find(item, "bias");
  return gpp_ynode_ok(n) ? gpp_yscalar_bool(n, "bias", &s->bias, b->err) : 0;
}

/* ---- the item kinds ---------------------------------------------------- */

typedef enum { I_OP, I_INPUT, I_LINEAR, I_EMBEDDING_BAG, I_CONCAT,
               I_INTERACTION, I_LOSS, I_MLP, I_TRANSFORMER, I_BRANCHES,
               I_DECODER, I_POOL, I__COUNT } item_kind_t;

#define OVR "time_per_sample", "flops", "activation_bytes_per_sample", \
            "param_bytes"
static const char *const k_op[] = {"op", "kind", "inputs", "shape", "bias",
                                   "attention", "along", OVR};
static const char *const k_input[] = {"input", "tokens", "width", OVR};
static const char *const k_linear[] = {"linear", "inputs", "out", "bias", OVR};
static const char *const k_emb[] = {"embedding_bag", "inputs", "rows", "dim",
                                    "bag", OVR};
static const char *const k_concat[] = {"concat", "inputs", "along", OVR};
static const char *const k_pool[] = {"pool", "inputs", OVR};
static const char *const k_inter[] = {"interaction", "inputs", OVR};
static const char *const k_loss[] = {"loss", "inputs", OVR};
static const char *const k_mlp[] = {"mlp", "inputs", "layers", "width",
                                    "activation", "final_activation", "bias"};
static const char *const k_tf[] = {"transformer", "inputs", "layers", "seq",
                                   "hidden", "heads", "ffn", "attention",
                                   "bias"};
static const char *const k_dec[] = {"decoder", "layers", "d_model", "heads",
                                    "ffn_mult", "ffn", "vocab", "seq",
                                    "bias", "positions", "attention",
                                    "train_metrics"};
static const char *const k_br[] = {"branches", "inputs", "count", "body"};

typedef struct item_def {
  const char *const *keys; /* keys[0] is the kind key itself */
  size_t n_keys;
  gpp_op_kind kind;        /* single-op items */
} item_def;

#define DEF(keys, kind) {keys, NKEYS(keys), kind}
static const item_def item_defs[I__COUNT] = {
    DEF(k_op, GPP_OP_CUSTOM),         DEF(k_input, GPP_OP_INPUT),
    DEF(k_linear, GPP_OP_MATMUL),     DEF(k_emb, GPP_OP_EMBEDDING),
    DEF(k_concat, GPP_OP_CONCAT),     DEF(k_inter, GPP_OP_INTERACTION),
    DEF(k_loss, GPP_OP_LOSS),         DEF(k_mlp, GPP_OP_CUSTOM),
    DEF(k_tf, GPP_OP_CUSTOM),         DEF(k_br, GPP_OP_CUSTOM),
    DEF(k_dec, GPP_OP_CUSTOM),        DEF(k_pool, GPP_OP_POOL)};

static int item_kind_of_key(const char *key) {
  for (int k = 0; k < I__COUNT; k++)
    if (key && strcmp(item_defs[k].keys[0], key) == 0) return k;
  return -1;
}

static int no_kind_key(gpp__mbuild *b, gpp_ynode item) {
  const char *kinds[I__COUNT];
  for (int k = 0; k < I__COUNT; k++) kinds[k] = item_defs[k].keys[0];
  for (size_t i = 0; i < gpp_ynode_len(item); i++) {
    gpp_ynode key = gpp_ymap_key(item, i);
    const char *hint = gpp_suggest(gpp_ynode_scalar(key), kinds, I__COUNT);
    gpp_mark at = gpp_ynode_mark(key);
    if (hint != NULL)
      GPP_RAISE_AT(b->err, GPP_EPARSE, &at, "unknown item kind '%s'; did you "
                   "mean '%s'?", gpp_ynode_scalar(key), hint);
  }
  gpp_mark at = gpp_ynode_mark(item);
  GPP_RAISE_AT(b->err, GPP_EPARSE, &at, "graph item: expected one kind key "
               "naming the item (op, input, linear, embedding_bag, concat, "
               "pool, interaction, loss, mlp, transformer, decoder or "
               "branches)");
}

/* Finds the one kind key of an item; its value is the item's name. */
static int item_kind(gpp__mbuild *b, gpp_ynode item, int *kind,
                     gpp_ynode *name) {
  GPP_TRY(gpp_yexpect(item, GPP_Y_MAP, "graph item", b->err));
  *kind = -1;
  for (size_t i = 0; i < gpp_ynode_len(item); i++) {
    gpp_ynode key = gpp_ymap_key(item, i);
    int k = item_kind_of_key(gpp_ynode_scalar(key));
    if (k < 0) continue;
    if (*kind >= 0) {
      gpp_mark at = gpp_ynode_mark(key);
      GPP_RAISE_AT(b->err, GPP_EPARSE, &at, "graph item has two kind keys, "
                   "'%s' and '%s'; expected one", item_defs[*kind].keys[0],
                   item_defs[k].keys[0]);
    }
    *kind = k;
    *name = gpp_ymap_value(item, i);
  }
  if (*kind < 0) return no_kind_key(b, item);
  return gpp_ymap_check_keys(item, item_defs[*kind].keys,
                             item_defs[*kind].n_keys, b->err);
}

static int item_name(gpp__mbuild *b, gpp_ynode n, int kind, const char **out) {
  GPP_TRY(gpp_yscalar_str(n, item_defs[kind].keys[0], out, b->err));
  if (strpbrk(*out, " \t*?[]{}$,") == NULL) return 0;
  gpp_mark at = gpp_ynode_mark(n);
  GPP_RAISE_AT(b->err, GPP_EINVAL, &at, "name '%s': expected letters, "
               "digits, '_', '-' and '.' only", *out);
}

/* `op`: kind and shape are given explicitly. */
static int read_explicit(gpp__mbuild *b, gpp_ynode item, gpp__mspec *s) {
  static const char *const shape_keys[] = {"tokens", "width", "in_width",
                                           "heads", "rows", "bag"};
  const char *kinds[GPP_OP__NKINDS + 1];
  for (int k = 0; k < GPP_OP__NKINDS; k++) kinds[k] = gpp_op_kind_name(k);
  kinds[GPP_OP__NKINDS] = NULL;
  gpp_ynode n;
  int kind;
  GPP_TRY(gpp_ymap_require(item, "kind", &n, b->err));
  GPP_TRY(gpp_yscalar_enum(n, "kind", kinds, &kind, b->err));
  s->kind = (gpp_op_kind)kind;
  GPP_TRY(gpp__model_read_attention(b, item, s->kind == GPP_OP_ATTENTION,
                                    &s->flash));
  n = gpp_ymap_find(item, "shape");
  if (!gpp_ynode_ok(n)) return 0;
  GPP_TRY(gpp_yexpect(n, GPP_Y_MAP, "shape", b->err));
  GPP_TRY(gpp_ymap_check_keys(n, shape_keys, NKEYS(shape_keys), b->err));
  return read_dims(b, n, &s->shape);
}

/* concat's `along`: width (default), tokens or flatten. */
static int read_along(gpp__mbuild *b, gpp_ynode item, gpp__mspec *s) {
  static const char *const names[] = {"width", "tokens", "flatten", NULL};
  gpp_ynode n = gpp_ymap_find(item, "along");
  s->along = GPP__ALONG_WIDTH;
  if (gpp_ynode_ok(n) && s->kind != GPP_OP_CONCAT) {
    gpp_mark at = gpp_ynode_mark(n);
    GPP_RAISE_AT(b->err, GPP_EPARSE, &at, "'along' applies to concat only");
  }
  return gpp_ynode_ok(n) ? gpp_yscalar_enum(n, "along", names, &s->along,
                                            b->err)
                         : 0;
}

static int expand_single(gpp__mbuild *b, gpp_ynode item, int kind,
                         const char *name, gpp__mouts prev,
                         gpp__mouts *last) {
  const char *full = gpp__model_full_name(b, name, "");
  gpp__mspec *s = gpp__model_new_spec(b, full, item_defs[kind].kind,
                                      gpp_ynode_mark(item));
  if (s == NULL) return b->err->code; /* too many ops, or out of memory */
  if (kind == I_INPUT) prev.n = 0; /* a source */
  GPP_TRY(gpp__model_item_refs(b, item, prev, &s->ins, &s->n_ins));
  if (kind == I_OP) GPP_TRY(read_explicit(b, item, s));
  else GPP_TRY(read_dims(b, item, &s->shape));
  if (kind == I_CONCAT || kind == I_OP) GPP_TRY(read_along(b, item, s));
  GPP_TRY(read_overrides(b, item, s));
  return gpp__model_one_out(b, full, last);
}

static int expand_item(gpp__mbuild *b, gpp_ynode item, gpp__mouts prev,
                       gpp__mouts *last) {
  int kind;
  gpp_ynode name_node = {0};
  const char *name;
  GPP_TRY(item_kind(b, item, &kind, &name_node));
  GPP_TRY(item_name(b, name_node, kind, &name));
  switch (kind) {
  case I_MLP: return gpp__model_gen_mlp(b, item, name, prev, last);
  case I_TRANSFORMER:
    return gpp__model_gen_transformer(b, item, name, prev, last);
  case I_BRANCHES:
    return gpp__model_gen_branches(b, item, name, prev, last,
                                   gpp__model_expand_list);
  case I_DECODER: return gpp__model_gen_decoder(b, item, name, last);
  default: return expand_single(b, item, kind, name, prev, last);
  }
}

int gpp__model_expand_list(gpp__mbuild *b, gpp_ynode list, gpp__mouts prev,
                           gpp__mouts *last) {
  GPP_TRY(gpp_yexpect(list, GPP_Y_SEQ, "graph", b->err));
  size_t n = gpp_ynode_len(list);
  gpp__mouts cur = prev;
  for (size_t i = 0; i < n; i++) {
    gpp__mouts out = {NULL, 0};
    GPP_TRY(expand_item(b, gpp_yseq_at(list, i), cur, &out));
    cur = out;
  }
  *last = cur;
  return 0;
}
