/* model_internal.h -- what model loading passes between its steps: items are
 * expanded into op specs (names, input references, given shapes), which are
 * then resolved, sorted, shaped and costed into a gpp_model. */
#ifndef GPP_SIM_MODEL_INTERNAL_H
#define GPP_SIM_MODEL_INTERNAL_H

#include "sim/common/arena.h"
#include "sim/common/yaml.h"
#include "sim/model/model.h"

#define GPP__MODEL_MAX_DEPTH 8
#define GPP__MODEL_MAX_PARAMS 16
#define GPP__MODEL_MAX_OPS (1u << 18) /* what generators may expand into */

/* A reference to an op or generator by name, resolved innermost scope
 * first (scopes[depth-1] + name, ..., scopes[0] + name, then name). */
typedef struct gpp__mref {
  const char *name;
  const char *scopes[GPP__MODEL_MAX_DEPTH];
  int depth;
  gpp_mark mark;
} gpp__mref;

typedef struct gpp__mspec {
  const char *name;
  gpp_op_kind kind;
  gpp_mark mark;
  gpp__mref *ins;
  uint32_t n_ins;
  /* Given values; 0 means "infer".  For shape-preserving kinds, a given
   * tokens or width is a check on the input's shape (a Transformer's seq
   * and hidden). */
  gpp_op_shape shape;
  bool bias;
  bool has_time;
  double time_fwd, time_bwd;
  double act_override, param_override; /* < 0: none */
  double flops_fwd, flops_bwd;         /* custom ops; < 0: none */
  /* A generated matmul whose width mirrors the in_width of the matmul this
   * many single-input hops upstream (a Transformer's fc2 mirrors fc1). */
  int mirror_hops;
  bool flash; /* attention: one fused kernel (the model's default, or the
                 item's `attention` key) */
  int along;  /* concat: a GPP__ALONG_* (the item's `along` key) */
  int64_t loss_evals; /* loss: extra no-grad cross-entropy evaluations of
                         its input per micro-batch (a decoder's
                         `train_metrics`) */
} gpp__mspec;

/* How a concat joins its inputs (configs/models/README.md, "concat"). */
enum { GPP__ALONG_WIDTH, GPP__ALONG_TOKENS, GPP__ALONG_FLATTEN };

/* A generator's name standing for the ops it yields. */
typedef struct gpp__malias {
  const char *name;
  const char **targets;
  uint32_t n_targets;
  gpp_mark mark;
} gpp__malias;

typedef struct gpp__mparam {
  const char *name;
  long long value, lo, hi;
  gpp_mark mark;
} gpp__mparam;

typedef struct gpp__mbuild {
  gpp_arena *arena;
  gpp_errctx *err;
  const char *path;
  int dtype_bytes;
  const char *precision;  /* gpp_model_load_as's, or NULL: the file's */
  bool flash; /* the model-wide `attention: flash` */
  gpp__mspec *specs;
  uint32_t n_specs, cap_specs;
  gpp__malias *aliases;
  uint32_t n_aliases, cap_aliases;
  gpp_branch_group *groups;
  uint32_t n_groups, cap_groups;
  gpp__mparam params[GPP__MODEL_MAX_PARAMS];
  uint32_t n_params;
  const char *scopes[GPP__MODEL_MAX_DEPTH]; /* cumulative prefixes */
  int depth;
} gpp__mbuild;

/* The names an item yields, for chaining the next item's default input. */
typedef struct gpp__mouts {
  const char **names;
  uint32_t n;
} gpp__mouts;

/* model_spec.c: an `attention: unfused | flash` key of map into *flash (left as
 * it is when absent); allowed false makes the key an error (not an
 * attention op). */
int gpp__model_read_attention(gpp__mbuild *b, gpp_ynode map, bool allowed,
                              bool *flash);

/* After the first of count repeated units (a layer, a branch) that began at
 * spec index before: GPP_ERANGE at mark when all count of them would pass
 * GPP__MODEL_MAX_OPS, so the limit is met before the memory is spent. */
int gpp__model_check_repeat(gpp__mbuild *b, uint32_t before, int64_t count,
                            gpp_mark mark);

/* model_items.c: expands the `graph` list and single-op items. */
int gpp__model_expand_list(gpp__mbuild *b, gpp_ynode list, gpp__mouts prev,
                           gpp__mouts *last);
/* How a generator expands a nested item list (the branches' body). */
typedef int (*gpp__model_expand_fn)(gpp__mbuild *b, gpp_ynode list,
                                    gpp__mouts prev, gpp__mouts *last);

/* model_spec.c: reads an integer that may be a ${param} reference. */
int gpp__model_read_int(gpp__mbuild *b, gpp_ynode n, const char *what,
                        long long lo, long long hi, long long *out);
/* An optional / required integer key of an item (absent optional: *out
 * unchanged). */
int gpp__model_opt_int(gpp__mbuild *b, gpp_ynode item, const char *key,
                       long long lo, long long hi, int64_t *out);
int gpp__model_req_int(gpp__mbuild *b, gpp_ynode item, const char *key,
                       long long lo, long long hi, int64_t *out);
/* An item's inputs: `inputs: x`, `inputs: [x, y]`, or the previous outputs. */
int gpp__model_item_refs(gpp__mbuild *b, gpp_ynode item, gpp__mouts prev,
                         gpp__mref **out, uint32_t *n);
/* scope + base [+ "." + suffix], in the arena. */
const char *gpp__model_full_name(gpp__mbuild *b, const char *base,
                                 const char *suffix);
gpp__mspec *gpp__model_new_spec(gpp__mbuild *b, const char *name,
                                gpp_op_kind k, gpp_mark mark);
/* A generated op whose one input is the op named input (room for two). */
int gpp__model_chain_op(gpp__mbuild *b, const char *name, gpp_op_kind kind,
                        gpp_mark mark, const char *input, gpp__mspec **out);
int gpp__model_one_out(gpp__mbuild *b, const char *name, gpp__mouts *out);
int gpp__model_add_alias(gpp__mbuild *b, const char *name, gpp__mouts outs,
                         gpp_mark mark);

/* model_gen.c: the multi-op generators.  name is the item's own name. */
int gpp__model_gen_mlp(gpp__mbuild *b, gpp_ynode item, const char *name,
                       gpp__mouts prev, gpp__mouts *last);
int gpp__model_gen_transformer(gpp__mbuild *b, gpp_ynode item,
                               const char *name, gpp__mouts prev,
                               gpp__mouts *last);
/* Expands the body with expand (gpp__model_expand_list). */
int gpp__model_gen_branches(gpp__mbuild *b, gpp_ynode item, const char *name,
                            gpp__mouts prev, gpp__mouts *last,
                            gpp__model_expand_fn expand);
/* A whole decoder-only language model (it takes no inputs): token input,
 * embeddings, Transformer layers, final layernorm, LM head, loss. */
int gpp__model_gen_decoder(gpp__mbuild *b, gpp_ynode item, const char *name,
                           gpp__mouts *last);

/* model_build.c: specs -> a finished model. */
int gpp__model_build(gpp__mbuild *b, gpp_model *m);
/* model_derive.c: shape inference and per-sample costs, in topo order. */
int gpp__model_shape_op(gpp_model *m, uint32_t i, const gpp__mspec *s,
                        gpp_errctx *err);
void gpp__model_derive_op(gpp_op *op, const gpp__mspec *s);

#endif
