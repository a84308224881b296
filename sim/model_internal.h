/* model_internal.h -- what model loading passes between its steps: items are
 * expanded into op specs (names, input references, given shapes), which are
 * then resolved, sorted, shaped and costed into a gpp_model. */
#ifndef GPP_SIM_MODEL_INTERNAL_H
#define GPP_SIM_MODEL_INTERNAL_H

#include "sim/common/arena.h"
#include "sim/common/yaml.h"
#include "sim/model.h"

#define GPP__MODEL_MAX_DEPTH 8
#define GPP__MODEL_MAX_PARAMS 16

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
  gpp_op_shape shape; /* given values; 0 means "infer" */
  bool bias;
  bool has_time;
  double time_fwd, time_bwd;
  double act_override, param_override; /* < 0: none */
  double flops_fwd, flops_bwd;         /* custom ops; < 0: none */
  /* A generated matmul whose width mirrors the in_width of the matmul this
   * many single-input hops upstream (a Transformer's fc2 mirrors fc1). */
  int mirror_hops;
} gpp__mspec;

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

/* model_items.c: expands the `graph` list. */
int gpp__model_expand_list(gpp__mbuild *b, gpp_ynode list, gpp__mouts prev,
                           gpp__mouts *last);
/* Reads an integer that may be a ${param} reference. */
int gpp__model_read_int(gpp__mbuild *b, gpp_ynode n, const char *what,
                        long long lo, long long hi, long long *out);
/* model_build.c: specs -> a finished model. */
int gpp__model_build(gpp__mbuild *b, gpp_model *m);
/* model_derive.c: shape inference and per-sample costs, in topo order. */
int gpp__model_shape_op(gpp_model *m, uint32_t i, const gpp__mspec *s,
                        gpp_errctx *err);
void gpp__model_derive_op(gpp_op *op, const gpp__mspec *s);

#endif
