/* model.h -- the model graph: a DAG of ops with per-sample costs.
 *
 * A model file (a YAML file under configs/models) lists explicit ops and generators
 * (Transformer layers, MLP stacks, embedding bags, N parallel branches,
 * concat / feature interaction, loss) that expand into ops.  Loading checks
 * names, dangling inputs and cycles, infers shapes in topological order, and
 * derives per-sample FLOPs, bytes, parameters and saved activations.
 *
 * All per-sample quantities scale linearly with the micro-batch size b; the
 * fixed (per-micro-batch) part is the weight traffic, `param_bytes`.
 */
#ifndef GPP_SIM_MODEL_H
#define GPP_SIM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/common/err.h"

#define GPP_OP_KIND_MAP(XX)                                                   \
  XX(INPUT, "input")                                                          \
  XX(MATMUL, "matmul")                                                        \
  XX(ATTENTION, "attention")                                                  \
  XX(LAYERNORM, "layernorm")                                                  \
  XX(SOFTMAX, "softmax")                                                      \
  XX(GELU, "gelu")                                                            \
  XX(RELU, "relu")                                                            \
  XX(EMBEDDING, "embedding")                                                  \
  XX(CONCAT, "concat")                                                        \
  XX(INTERACTION, "interaction")                                              \
  XX(ELEMENTWISE, "elementwise")                                              \
  XX(LOSS, "loss")                                                            \
  XX(CUSTOM, "custom")                                                        \
  XX(POOL, "pool")

typedef enum {
#define GPP__OPK(name, str) GPP_OP_##name,
  GPP_OP_KIND_MAP(GPP__OPK)
#undef GPP__OPK
  GPP_OP__NKINDS
} gpp_op_kind;

const char *gpp_op_kind_name(gpp_op_kind k);
/* -1 when unknown. */
int gpp_op_kind_from_name(const char *name);

/* Shape parameters; which ones are meaningful depends on the kind.
 * tokens x width is the op's output per sample (elements). */
typedef struct gpp_op_shape {
  int64_t tokens;   /* rows per sample (sequence length; 1 for MLPs) */
  int64_t width;    /* output features per token */
  int64_t in_width; /* input features per token (matmul) */
  int64_t heads;    /* attention heads */
  int64_t rows;     /* embedding table rows */
  int64_t bag;      /* embedding lookups per sample */
  int64_t in_tokens; /* input tokens per sample (pool: averaged into one) */
} gpp_op_shape;

typedef struct gpp_op {
  const char *name;
  gpp_op_kind kind;
  gpp_op_shape shape;
  uint32_t *inputs;  /* op indices */
  uint32_t n_inputs;
  uint32_t *outputs; /* op indices of consumers */
  uint32_t n_outputs;
  int dtype_bytes;   /* bytes per element of activations and weights */
  /* Derived per sample unless stated. */
  double flops_fwd, flops_bwd;
  double bytes_fwd, bytes_bwd; /* activation bytes read + written */
  double param_count;          /* per op, not per sample */
  double param_bytes;          /* per op, not per sample */
  double saved_bytes;          /* activations stashed for the backward */
  bool flash;                  /* attention: fused (FlashAttention-style)
                                  kernel instead of GEMMs + softmax */
  double out_bytes;            /* output tensor bytes */
  double eval_bytes;           /* working memory of the no-grad loss
                                  evaluations after the backward (train
                                  metrics; 0 without) */
  /* Cost overrides (has_time: fwd/bwd seconds per sample). */
  bool has_time;
  double time_fwd, time_bwd;
  /* Where the op was defined, for messages. */
  int src_line, src_column;
} gpp_op;

/* A group of parallel branches recorded by the `branches` generator. */
typedef struct gpp_branch_group {
  const char *name;
  uint32_t count;
  uint32_t ops_per_branch;
} gpp_branch_group;

typedef struct gpp_model {
  const char *name;
  const char *path;
  gpp_op *ops; /* in topological order */
  uint32_t n_ops;
  gpp_branch_group *groups;
  uint32_t n_groups;
  int dtype_bytes;
  struct gpp_arena *arena; /* owns all strings and arrays */
  const char *precision;   /* "fp32", "tf32", "fp16", "bf16" or "fp8" */
  const char *attention;   /* model-wide default: "unfused" or "flash" */
} gpp_model;

/* A named integer parameter override, from `--set name=value`. */
typedef struct gpp_model_param {
  const char *name;
  long long value;
} gpp_model_param;

int gpp_model_load(const char *path, const gpp_model_param *params,
                   size_t n_params, gpp_model **out, gpp_errctx *err);
/* The same, trained in `precision` instead of the file's: a dtype name
 * (fp32, tf32, fp16, bf16, fp8), "mixed" (the file's when it is 2-byte,
 * else fp16, which every tensor-core GPU has), or NULL or "full" (the
 * file's).  Element sizes, bytes and memory
 * follow it (configs/experiments/plans/README.md has the table). */
int gpp_model_load_as(const char *path, const gpp_model_param *params,
                      size_t n_params, const char *precision,
                      gpp_model **out, gpp_errctx *err);
/* The same from YAML text; name stands for the file in messages. */
int gpp_model_load_string(const char *name, const char *text,
                          gpp_model **out, gpp_errctx *err);
void gpp_model_destroy(gpp_model *m);

/* Index of the op with that name, or -1. */
int64_t gpp_model_find(const gpp_model *m, const char *name);

/* Totals and structure. */
typedef struct gpp_model_stats {
  double param_count, param_bytes;
  double flops_fwd, flops_bwd; /* per sample */
  double saved_bytes;          /* per sample */
  uint32_t longest_path_ops;   /* ops on the longest path */
  double longest_path_flops;   /* fwd+bwd FLOPs on the costliest path */
  uint32_t n_sources, n_sinks;
} gpp_model_stats;

void gpp_model_stats_compute(const gpp_model *m, gpp_model_stats *st);

/* Tokens per sample, for tokens/s: the largest `tokens` of the model's
 * input ops -- the sequence length of a Transformer (GPT: seq; MMT: a
 * branch's sequence); 1 for models fed one row per sample (DLRM,
 * CANDLE-Uno), whose tokens/s is their samples/s. */
double gpp_model_tokens_per_sample(const gpp_model *m);

#endif
