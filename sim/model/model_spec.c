/* model_spec.c -- building op specs, shared by the single-op items
 * (model_items.c) and the generators (model_gen.c): growing the spec
 * arrays, new specs and their names, integers that may be ${param}
 * references, an item's input references, the attention key, and the names
 * of op kinds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model/model_internal.h"

/* ---- op kinds ------------------------------------------------------------ */

static const char *const kind_names[] = {
#define GPP__OPK(name, str) str,
    GPP_OP_KIND_MAP(GPP__OPK)
#undef GPP__OPK
    NULL};

const char *gpp_op_kind_name(gpp_op_kind k) {
  return (unsigned)k < GPP_OP__NKINDS ? kind_names[k] : "?";
}

int gpp_op_kind_from_name(const char *name) {
  for (int k = 0; k < GPP_OP__NKINDS; k++)
    if (strcmp(kind_names[k], name) == 0) return k;
  return -1;
}

/* ---- growing arrays and specs ----------------------------------------- */

static void *grow(gpp__mbuild *b, void *arr, uint32_t *cap, uint32_t need,
                  size_t size) {
  if (need <= *cap) return arr;
  uint32_t c = *cap ? *cap * 2 : 64;
  while (c < need) c *= 2;
  void *p = gpp_realloc_array(b->err, arr, c, size);
  if (p != NULL) *cap = c;
  return p;
}

static int too_many_ops(gpp__mbuild *b, gpp_mark mark) {
  return GPP_ERR_AT(b->err, GPP_ERANGE, &mark, "the model expands to more "
                    "than %u ops; expected fewer (check counts and layers)",
                    GPP__MODEL_MAX_OPS);
}

int gpp__model_check_repeat(gpp__mbuild *b, uint32_t before, int64_t count,
                            gpp_mark mark) {
  uint64_t per = b->n_specs - before;
  if (per == 0 || (uint64_t)count <= (GPP__MODEL_MAX_OPS - before) / per)
    return 0;
  return too_many_ops(b, mark);
}

gpp__mspec *gpp__model_new_spec(gpp__mbuild *b, const char *name,
                                gpp_op_kind k, gpp_mark mark) {
  if (name == NULL) return NULL;
  if (b->n_specs >= GPP__MODEL_MAX_OPS) {
    too_many_ops(b, mark);
    return NULL;
  }
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
  s->flash = b->flash;
  s->flops_fwd = s->flops_bwd = -1;
  return s;
}

int gpp__model_add_alias(gpp__mbuild *b, const char *name, gpp__mouts outs,
                         gpp_mark mark) {
  gpp__malias *a = grow(b, b->aliases, &b->cap_aliases, b->n_aliases + 1,
                        sizeof *a);
  if (a == NULL || name == NULL) return GPP_ENOMEM;
  b->aliases = a;
  a = &b->aliases[b->n_aliases++];
  a->name = name;
  a->targets = outs.names;
  a->n_targets = outs.n;
  a->mark = mark;
  return 0;
}

int gpp__model_one_out(gpp__mbuild *b, const char *name, gpp__mouts *out) {
  out->names = gpp_arena_alloc(b->arena, sizeof(char *), b->err);
  if (out->names == NULL) return GPP_ENOMEM;
  out->names[0] = name;
  out->n = 1;
  return 0;
}

const char *gpp__model_full_name(gpp__mbuild *b, const char *base,
                                 const char *suffix) {
  const char *scope = b->depth ? b->scopes[b->depth - 1] : "";
  return gpp_arena_printf(b->arena, b->err, "%s%s%s%s", scope, base,
                          suffix[0] ? "." : "", suffix);
}

int gpp__model_chain_op(gpp__mbuild *b, const char *name, gpp_op_kind kind,
                        gpp_mark mark, const char *input, gpp__mspec **out) {
  gpp__mspec *s = gpp__model_new_spec(b, name, kind, mark);
  if (s == NULL) return b->err->code; /* too many ops, or out of memory */
  s->ins = gpp_arena_alloc(b->arena, 2 * sizeof *s->ins, b->err);
  if (s->ins == NULL) return GPP_ENOMEM;
  s->ins[0].name = input;
  s->ins[0].mark = mark;
  s->n_ins = 1;
  *out = s;
  return 0;
}

/* ---- integers and ${param} references ---------------------------------- */

static bool is_param_ref(const char *s, size_t *len) {
  *len = s ? strlen(s) : 0;
  return *len >= 4 && strncmp(s, "${", 2) == 0 && s[*len - 1] == '}';
}

static const gpp__mparam *find_param(const gpp__mbuild *b, const char *s,
                                     size_t len) {
  for (uint32_t i = 0; i < b->n_params; i++) {
    const gpp__mparam *p = &b->params[i];
    if (strlen(p->name) == len - 3 && strncmp(p->name, s + 2, len - 3) == 0)
      return p;
  }
  return NULL;
}

static int unknown_param(gpp__mbuild *b, gpp_mark at, const char *what,
                         const char *s, size_t len) {
  const char *names[GPP__MODEL_MAX_PARAMS];
  char word[128];
  snprintf(word, sizeof word, "%.*s", (int)(len - 3), s + 2);
  for (uint32_t i = 0; i < b->n_params; i++) names[i] = b->params[i].name;
  const char *hint = gpp_suggest(word, names, b->n_params);
  GPP_RAISE_AT(b->err, GPP_EINVAL, &at, "%s: unknown parameter '%s'%s%s%s; "
               "expected one declared under `params`", what, word,
               hint ? " (did you mean '" : "", hint ? hint : "",
               hint ? "'?)" : "");
}

int gpp__model_read_int(gpp__mbuild *b, gpp_ynode n, const char *what,
                        long long lo, long long hi, long long *out) {
  size_t len;
  const char *s = gpp_ynode_scalar(n);
  if (!is_param_ref(s, &len))
    return gpp_yscalar_int(n, what, lo, hi, out, b->err);
  gpp_mark at = gpp_ynode_mark(n);
  const gpp__mparam *p = find_param(b, s, len);
  if (p == NULL) return unknown_param(b, at, what, s, len);
  if (p->value < lo || p->value > hi)
    GPP_RAISE_AT(b->err, GPP_ERANGE, &at, "%s: parameter %s = %lld is out of "
                 "range; expected %lld to %lld", what, p->name, p->value, lo,
                 hi);
  *out = p->value;
  return 0;
}

int gpp__model_opt_int(gpp__mbuild *b, gpp_ynode item, const char *key,
                       long long lo, long long hi, int64_t *out) {
  gpp_ynode v = gpp_ymap_find(item, key);
  if (!gpp_ynode_ok(v)) return 0;
  long long x;
  GPP_TRY(gpp__model_read_int(b, v, key, lo, hi, &x));
  *out = (int64_t)x;
  return 0;
}

int gpp__model_req_int(gpp__mbuild *b, gpp_ynode item, const char *key,
                       long long lo, long long hi, int64_t *out) {
  gpp_ynode v;
  GPP_TRY(gpp_ymap_require(item, key, &v, b->err));
  return gpp__model_opt_int(b, item, key, lo, hi, out);
}

/* ---- input references --------------------------------------------------- */

static int ref_from(gpp__mbuild *b, gpp_ynode n, gpp__mref *r) {
  GPP_TRY(gpp_yscalar_str(n, "input name", &r->name, b->err));
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

static int refs_from_list(gpp__mbuild *b, gpp_ynode list, gpp__mref **out,
                          uint32_t *n) {
  *n = (uint32_t)gpp_ynode_len(list);
  *out = gpp_arena_array(b->arena, *n ? *n : 1, sizeof **out, b->err);
  if (*out == NULL) return GPP_ENOMEM;
  for (uint32_t i = 0; i < *n; i++)
    GPP_TRY(ref_from(b, gpp_yseq_at(list, i), &(*out)[i]));
  return 0;
}

int gpp__model_item_refs(gpp__mbuild *b, gpp_ynode item, gpp__mouts prev,
                         gpp__mref **out, uint32_t *n) {
  gpp_ynode ins = gpp_ymap_find(item, "inputs");
  if (!gpp_ynode_ok(ins))
    return refs_from_prev(b, prev, gpp_ynode_mark(item), out, n);
  if (gpp_ynode_type(ins) == GPP_Y_SEQ) return refs_from_list(b, ins, out, n);
  if (gpp_ynode_type(ins) != GPP_Y_SCALAR) {
    gpp_mark at = gpp_ynode_mark(ins);
    GPP_RAISE_AT(b->err, GPP_EPARSE, &at, "inputs: expected a name or a list "
                 "of names, found a %s", gpp_ytype_name(gpp_ynode_type(ins)));
  }
  *n = 1;
  *out = gpp_arena_alloc(b->arena, sizeof **out, b->err);
  return *out ? ref_from(b, ins, *out) : GPP_ENOMEM;
}

/* ---- the attention kernel ---------------------------------------------- */

int gpp__model_read_attention(gpp__mbuild *b, gpp_ynode map, bool allowed,
                              bool *flash) {
  static const char *const impls[] = {"unfused", "flash", NULL};
  gpp_ynode n = gpp_ymap_find(map, "attention");
  if (!gpp_ynode_ok(n)) return 0;
  if (!allowed) {
    gpp_mark at = gpp_ynode_mark(n);
    GPP_RAISE_AT(b->err, GPP_EINVAL, &at, "attention: only attention ops "
                 "choose an attention kernel");
  }
  int impl;
  GPP_TRY(gpp_yscalar_enum(n, "attention", impls, &impl, b->err));
  *flash = impl == 1;
  return 0;
}
