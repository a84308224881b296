/* model_gen.c -- the generators that expand one item into many ops: an MLP
 * stack, Transformer layers, and N parallel branches of a sub-model.  The
 * generator's name then stands for its output op(s). */
#include <stdio.h>
#include <string.h>

#include "sim/model/model_internal.h"

#define DIM_MAX 1000000000LL

/* ---- mlp ---------------------------------------------------------------- */

typedef struct mlp_cfg {
  int64_t layers, width;
  int act; /* 0 relu, 1 gelu, 2 none */
  bool final_act, bias;
} mlp_cfg;

static int read_mlp(gpp__mbuild *b, gpp_ynode item, mlp_cfg *c) {
  static const char *const acts[] = {"relu", "gelu", "none", NULL};
  *c = (mlp_cfg){.final_act = true, .bias = true};
  GPP_TRY(gpp__model_req_int(b, item, "layers", 1, 100000, &c->layers));
  GPP_TRY(gpp__model_req_int(b, item, "width", 1, DIM_MAX, &c->width));
  gpp_ynode n = gpp_ymap_find(item, "activation");
  if (gpp_ynode_ok(n))
    GPP_TRY(gpp_yscalar_enum(n, "activation", acts, &c->act, b->err));
  n = gpp_ymap_find(item, "final_activation");
  if (gpp_ynode_ok(n))
    GPP_TRY(gpp_yscalar_bool(n, "final_activation", &c->final_act, b->err));
  n = gpp_ymap_find(item, "bias");
  return gpp_ynode_ok(n) ? gpp_yscalar_bool(n, "bias", &c->bias, b->err) : 0;
}

/* Layer l: fc{l} (matmul) and, unless disabled, act{l}. */
static int mlp_layer(gpp__mbuild *b, const char *name, const mlp_cfg *c,
                     int64_t l, gpp_mark mark, const char **cur) {
  char sfx[48];
  gpp__mspec *s;
  snprintf(sfx, sizeof sfx, "fc%lld", (long long)l);
  GPP_TRY(gpp__model_chain_op(b, gpp__model_full_name(b, name, sfx),
                              GPP_OP_MATMUL, mark, *cur, &s));
  s->shape.width = c->width;
  s->bias = c->bias;
  *cur = s->name;
  if (c->act == 2 || (l == c->layers - 1 && !c->final_act)) return 0;
  snprintf(sfx, sizeof sfx, "act%lld", (long long)l);
  GPP_TRY(gpp__model_chain_op(b, gpp__model_full_name(b, name, sfx),
                              c->act == 0 ? GPP_OP_RELU : GPP_OP_GELU, mark,
                              *cur, &s));
  *cur = s->name;
  return 0;
}

int gpp__model_gen_mlp(gpp__mbuild *b, gpp_ynode item, const char *name,
                       gpp__mouts prev, gpp__mouts *last) {
  mlp_cfg c;
  GPP_TRY(read_mlp(b, item, &c));
  gpp_mark mark = gpp_ynode_mark(item);
  const char *cur = NULL;
  uint32_t first = b->n_specs;
  for (int64_t l = 0; l < c.layers; l++) {
    GPP_TRY(mlp_layer(b, name, &c, l, mark, &cur));
    if (l == 0) GPP_TRY(gpp__model_check_repeat(b, first, c.layers, mark));
  }
  gpp__mspec *fc0 = &b->specs[first];
  GPP_TRY(gpp__model_item_refs(b, item, prev, &fc0->ins, &fc0->n_ins));
  GPP_TRY(gpp__model_one_out(b, cur, last));
  return gpp__model_add_alias(b, gpp__model_full_name(b, name, ""), *last,
                              mark);
}

/* ---- transformer -------------------------------------------------------- */

typedef struct tf_cfg {
  int64_t layers, seq, hidden, heads, ffn;
  bool flash, bias;
} tf_cfg;

static int read_tf(gpp__mbuild *b, gpp_ynode item, tf_cfg *c) {
  *c = (tf_cfg){.flash = b->flash, .bias = true};
  GPP_TRY(gpp__model_read_attention(b, item, true, &c->flash));
  gpp_ynode n = gpp_ymap_find(item, "bias");
  if (gpp_ynode_ok(n)) GPP_TRY(gpp_yscalar_bool(n, "bias", &c->bias, b->err));
  GPP_TRY(gpp__model_req_int(b, item, "layers", 1, 100000, &c->layers));
  GPP_TRY(gpp__model_req_int(b, item, "heads", 1, 65536, &c->heads));
  GPP_TRY(gpp__model_req_int(b, item, "ffn", 1, DIM_MAX, &c->ffn));
  GPP_TRY(gpp__model_opt_int(b, item, "seq", 1, DIM_MAX, &c->seq));
  GPP_TRY(gpp__model_opt_int(b, item, "hidden", 1, DIM_MAX, &c->hidden));
  if (c->hidden == 0 || c->hidden % c->heads == 0) return 0;
  gpp_mark at = gpp_ynode_mark(gpp_ymap_find(item, "heads"));
  GPP_RAISE_AT(b->err, GPP_EGRAPH, &at, "heads: expected a divisor of hidden "
               "(%lld), found %lld", (long long)c->hidden, (long long)c->heads);
}

/* One pre-norm layer: ln1, attn, add1 (residual), ln2, fc1, gelu, fc2,
 * add2 (residual).  x is the layer's input op name. */
static int tf_layer(gpp__mbuild *b, const char *pre, gpp_mark mark,
                    const char *x, const tf_cfg *c, const char **out) {
  static const char *const names[] = {"ln1", "attn", "add1", "ln2",
                                      "fc1", "gelu", "fc2", "add2"};
  static const gpp_op_kind kinds[] = {GPP_OP_LAYERNORM, GPP_OP_ATTENTION,
      GPP_OP_ELEMENTWISE, GPP_OP_LAYERNORM, GPP_OP_MATMUL, GPP_OP_GELU,
      GPP_OP_MATMUL, GPP_OP_ELEMENTWISE};
  const char *cur = x, *residual = x;
  for (int i = 0; i < 8; i++) {
    gpp__mspec *s;
    GPP_TRY(gpp__model_chain_op(b, gpp_arena_printf(b->arena, b->err, "%s.%s",
                                pre, names[i]), kinds[i], mark, cur, &s));
    if (kinds[i] == GPP_OP_ELEMENTWISE) {
      s->ins[1] = (gpp__mref){.name = residual, .mark = mark};
      s->n_ins = 2;
      residual = s->name;
    }
    s->bias = c->bias;
    if (i == 1) s->shape.heads = c->heads, s->flash = c->flash;
    if (i == 4) s->shape.width = c->ffn;
    if (i == 6) s->mirror_hops = 2;
    cur = s->name;
  }
  *out = cur;
  return 0;
}

int gpp__model_gen_transformer(gpp__mbuild *b, gpp_ynode item,
                               const char *name, gpp__mouts prev,
                               gpp__mouts *last) {
  tf_cfg c;
  GPP_TRY(read_tf(b, item, &c));
  gpp__mref *ins;
  uint32_t n_ins;
  GPP_TRY(gpp__model_item_refs(b, item, prev, &ins, &n_ins));
  gpp_mark mark = gpp_ynode_mark(item);
  if (n_ins != 1)
    GPP_RAISE_AT(b->err, GPP_EGRAPH, &mark, "transformer '%s': expected one "
                 "input, found %u", name, n_ins);
  const char *cur = "";
  uint32_t first = b->n_specs;
  for (int64_t l = 0; l < c.layers; l++) {
    char sfx[48];
    snprintf(sfx, sizeof sfx, "l%lld", (long long)l);
    const char *pre = gpp__model_full_name(b, name, sfx);
    if (pre == NULL) return GPP_ENOMEM;
    GPP_TRY(tf_layer(b, pre, mark, cur, &c, &cur));
    if (l == 0) GPP_TRY(gpp__model_check_repeat(b, first, c.layers, mark));
  }
  /* Layer 0's external input (ln1 and the add1 residual); ln1 checks it is
   * seq x hidden when those are given. */
  b->specs[first].ins[0] = ins[0];
  b->specs[first].shape.tokens = c.seq;
  b->specs[first].shape.width = c.hidden;
  b->specs[first + 2].ins[1] = ins[0];
  GPP_TRY(gpp__model_one_out(b, cur, last));
  return gpp__model_add_alias(b, gpp__model_full_name(b, name, ""), *last,
                              mark);
}

/* ---- decoder ------------------------------------------------------------ */

typedef struct dec_cfg {
  tf_cfg tf;
  int64_t vocab;
  int64_t metrics; /* train_metrics: no-grad loss evaluations per step */
  bool alibi; /* positions in the attention (no position embedding) */
} dec_cfg;

static int read_dec(gpp__mbuild *b, gpp_ynode item, dec_cfg *c) {
  static const char *const positions[] = {"learned", "alibi", NULL};
  *c = (dec_cfg){.tf = {.flash = b->flash, .bias = true}};
  tf_cfg *t = &c->tf;
  GPP_TRY(gpp__model_req_int(b, item, "layers", 1, 100000, &t->layers));
  GPP_TRY(gpp__model_req_int(b, item, "d_model", 1, DIM_MAX, &t->hidden));
  GPP_TRY(gpp__model_req_int(b, item, "heads", 1, 65536, &t->heads));
  GPP_TRY(gpp__model_req_int(b, item, "vocab", 1, DIM_MAX, &c->vocab));
  GPP_TRY(gpp__model_req_int(b, item, "seq", 1, DIM_MAX, &t->seq));
  GPP_TRY(gpp__model_opt_int(b, item, "train_metrics", 0, 64, &c->metrics));
  int64_t mult = 4;
  GPP_TRY(gpp__model_opt_int(b, item, "ffn_mult", 1, 64, &mult));
  t->ffn = mult * t->hidden;
  GPP_TRY(gpp__model_opt_int(b, item, "ffn", 1, DIM_MAX, &t->ffn));
  if (gpp_ynode_ok(gpp_ymap_find(item, "ffn")) &&
      gpp_ynode_ok(gpp_ymap_find(item, "ffn_mult"))) {
    gpp_mark at = gpp_ynode_mark(gpp_ymap_find(item, "ffn"));
    GPP_RAISE_AT(b->err, GPP_EINVAL, &at, "ffn: give ffn or ffn_mult, not "
                 "both");
  }
  GPP_TRY(gpp__model_read_attention(b, item, true, &t->flash));
  gpp_ynode n = gpp_ymap_find(item, "bias");
  if (gpp_ynode_ok(n)) GPP_TRY(gpp_yscalar_bool(n, "bias", &t->bias, b->err));
  int pos = 0;
  n = gpp_ymap_find(item, "positions");
  if (gpp_ynode_ok(n))
    GPP_TRY(gpp_yscalar_enum(n, "positions", positions, &pos, b->err));
  c->alibi = pos == 1;
  if (t->hidden % t->heads == 0) return 0;
  gpp_mark at = gpp_ynode_mark(gpp_ymap_find(item, "heads"));
  GPP_RAISE_AT(b->err, GPP_EGRAPH, &at, "heads: expected a divisor of "
               "d_model (%lld), found %lld", (long long)t->hidden,
               (long long)t->heads);
}

/* A generated op NAME.sfx of kind k on input; *out the spec. */
static int dec_op(gpp__mbuild *b, const char *name, const char *sfx,
                  gpp_op_kind k, gpp_mark mark, const char *input,
                  gpp__mspec **out) {
  return gpp__model_chain_op(b, gpp__model_full_name(b, name, sfx), k, mark,
                             input, out);
}

/* tokens (seq x 1) -> wte (+ wpe, summed in embed) -> the embedding's
 * output name in *out. */
static int dec_embed(gpp__mbuild *b, const char *name, gpp_mark mark,
                     const dec_cfg *c, const char **out) {
  gpp__mspec *tok = gpp__model_new_spec(
      b, gpp__model_full_name(b, name, "tokens"), GPP_OP_INPUT, mark);
  if (tok == NULL) return b->err->code ? b->err->code : GPP_ENOMEM;
  tok->shape.tokens = c->tf.seq;
  tok->shape.width = 1;
  const char *tokens = tok->name;
  gpp__mspec *s;
  GPP_TRY(dec_op(b, name, "wte", GPP_OP_EMBEDDING, mark, tokens, &s));
  s->shape = (gpp_op_shape){.rows = c->vocab, .width = c->tf.hidden,
                            .bag = 1};
  *out = s->name;
  if (c->alibi) return 0;
  GPP_TRY(dec_op(b, name, "wpe", GPP_OP_EMBEDDING, mark, tokens, &s));
  s->shape = (gpp_op_shape){.rows = c->tf.seq, .width = c->tf.hidden,
                            .bag = 1};
  const char *wpe = s->name;
  GPP_TRY(dec_op(b, name, "embed", GPP_OP_ELEMENTWISE, mark, *out, &s));
  s->ins[1] = (gpp__mref){.name = wpe, .mark = mark};
  s->n_ins = 2;
  *out = s->name;
  return 0;
}

int gpp__model_gen_decoder(gpp__mbuild *b, gpp_ynode item, const char *name,
                           gpp__mouts *last) {
  dec_cfg c;
  GPP_TRY(read_dec(b, item, &c));
  gpp_mark mark = gpp_ynode_mark(item);
  const char *cur;
  GPP_TRY(dec_embed(b, name, mark, &c, &cur));
  uint32_t first = b->n_specs;
  for (int64_t l = 0; l < c.tf.layers; l++) {
    char sfx[48];
    snprintf(sfx, sizeof sfx, "l%lld", (long long)l);
    const char *pre = gpp__model_full_name(b, name, sfx);
    if (pre == NULL) return GPP_ENOMEM;
    GPP_TRY(tf_layer(b, pre, mark, cur, &c.tf, &cur));
    if (l == 0) GPP_TRY(gpp__model_check_repeat(b, first, c.tf.layers, mark));
  }
  gpp__mspec *s;
  GPP_TRY(dec_op(b, name, "ln_f", GPP_OP_LAYERNORM, mark, cur, &s));
  GPP_TRY(dec_op(b, name, "lm_head", GPP_OP_MATMUL, mark, s->name, &s));
  s->shape.width = c.vocab;
  s->bias = false;
  GPP_TRY(dec_op(b, name, "loss", GPP_OP_LOSS, mark, s->name, &s));
  s->loss_evals = c.metrics;
  GPP_TRY(gpp__model_one_out(b, s->name, last));
  return gpp__model_add_alias(b, gpp__model_full_name(b, name, ""), *last,
                              mark);
}

/* ---- branches ----------------------------------------------------------- */

static int push_scope(gpp__mbuild *b, const char *prefix, gpp_mark at) {
  if (b->depth >= GPP__MODEL_MAX_DEPTH)
    GPP_RAISE_AT(b->err, GPP_EGRAPH, &at, "branches nested deeper than %d; "
                 "expected at most %d levels", GPP__MODEL_MAX_DEPTH,
                 GPP__MODEL_MAX_DEPTH);
  if (prefix == NULL) return GPP_ENOMEM;
  b->scopes[b->depth++] = prefix;
  return 0;
}

static int add_group(gpp__mbuild *b, const char *name, uint32_t count,
                     uint32_t per_branch) {
  if (b->n_groups == b->cap_groups) {
    uint32_t cap = b->cap_groups ? 2 * b->cap_groups : 8;
    gpp_branch_group *g = gpp_realloc_array(b->err, b->groups, cap, sizeof *g);
    if (g == NULL) return GPP_ENOMEM;
    b->groups = g;
    b->cap_groups = cap;
  }
  b->groups[b->n_groups++] = (gpp_branch_group){name, count, per_branch};
  return 0;
}

/* Body items that default to the shared input get the item's own
 * references (with the scope they were written in). */
static void patch_shared_inputs(gpp__mbuild *b, uint32_t first,
                                const gpp__mref *ins, uint32_t n_ins) {
  for (uint32_t k = first; k < b->n_specs; k++)
    for (uint32_t j = 0; j < b->specs[k].n_ins; j++)
      for (uint32_t q = 0; q < n_ins; q++)
        if (b->specs[k].ins[j].depth == 0 &&
            b->specs[k].ins[j].name == ins[q].name)
          b->specs[k].ins[j] = ins[q];
}

/* Expands branch i of the body under the prefix `FULL{i}.`. */
static int one_branch(gpp__mbuild *b, gpp__model_expand_fn expand,
                      gpp_ynode body, const char *full, int64_t i,
                      const gpp__mref *ins, uint32_t n_ins, gpp__mouts shared,
                      gpp__mouts *out) {
  gpp_mark mark = gpp_ynode_mark(body);
  GPP_TRY(push_scope(b, gpp_arena_printf(b->arena, b->err, "%s%lld.", full,
                                         (long long)i), mark));
  uint32_t first = b->n_specs;
  int rc = expand(b, body, shared, out);
  b->depth--;
  if (rc == 0) patch_shared_inputs(b, first, ins, n_ins);
  return rc;
}

/* Appends a branch's outputs to the arena array all (n of cap used). */
static int append_outs(gpp__mbuild *b, gpp__mouts *all, uint32_t *cap,
                       gpp__mouts out) {
  if (out.n == 0) return 0;
  if (all->n + out.n > *cap) {
    uint32_t c = 2 * (all->n + out.n) + 8;
    const char **a = gpp_arena_array(b->arena, c, sizeof *a, b->err);
    if (a == NULL) return GPP_ENOMEM;
    if (all->n) memcpy(a, all->names, all->n * sizeof *a);
    all->names = a;
    *cap = c;
  }
  memcpy(all->names + all->n, out.names, out.n * sizeof *out.names);
  all->n += out.n;
  return 0;
}

static int read_body(gpp__mbuild *b, gpp_ynode item, const char *name,
                     int64_t *count, gpp_ynode *body) {
  GPP_TRY(gpp__model_req_int(b, item, "count", 1, 4096, count));
  GPP_TRY(gpp_ymap_require(item, "body", body, b->err));
  GPP_TRY(gpp_yexpect(*body, GPP_Y_SEQ, "body", b->err));
  if (gpp_ynode_len(*body) > 0) return 0;
  gpp_mark at = gpp_ynode_mark(*body);
  GPP_RAISE_AT(b->err, GPP_EGRAPH, &at, "branches '%s': expected a non-empty "
               "body", name);
}

/* The references the branches share, as the names their bodies chain from. */
static int shared_names(gpp__mbuild *b, const gpp__mref *ins, uint32_t n_ins,
                        gpp__mouts *shared) {
  shared->n = n_ins;
  shared->names = gpp_arena_array(b->arena, n_ins ? n_ins : 1,
                                  sizeof(char *), b->err);
  if (shared->names == NULL) return GPP_ENOMEM;
  for (uint32_t i = 0; i < n_ins; i++) shared->names[i] = ins[i].name;
  return 0;
}

int gpp__model_gen_branches(gpp__mbuild *b, gpp_ynode item, const char *name,
                            gpp__mouts prev, gpp__mouts *last,
                            gpp__model_expand_fn expand) {
  int64_t count = 0;
  gpp_ynode body;
  GPP_TRY(read_body(b, item, name, &count, &body));
  gpp__mref *ins;
  uint32_t n_ins, cap = 0, before = b->n_specs;
  gpp__mouts shared;
  GPP_TRY(gpp__model_item_refs(b, item, prev, &ins, &n_ins));
  GPP_TRY(shared_names(b, ins, n_ins, &shared));
  const char *full = gpp__model_full_name(b, name, "");
  if (full == NULL) return GPP_ENOMEM;
  *last = (gpp__mouts){NULL, 0};
  for (int64_t i = 0; i < count; i++) {
    gpp__mouts out = {NULL, 0};
    GPP_TRY(one_branch(b, expand, body, full, i, ins, n_ins, shared, &out));
    if (i == 0)
      GPP_TRY(gpp__model_check_repeat(b, before, count, gpp_ynode_mark(item)));
    GPP_TRY(append_outs(b, last, &cap, out));
  }
  GPP_TRY(add_group(b, full, (uint32_t)count,
                    (b->n_specs - before) / (uint32_t)count));
  return gpp__model_add_alias(b, full, *last, gpp_ynode_mark(item));
}
