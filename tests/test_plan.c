/* test_plan.c -- plan loading: op globs, the stage graph, and every error
 * with its file:line:column. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sim/plan/plan.h"
#include "sim/plan/sched.h"

#define MAX_OPS 16

typedef struct tmodel {
  gpp_model m;
  gpp_op ops[MAX_OPS];
  uint32_t in[MAX_OPS][4], out[MAX_OPS][4];
} tmodel;

static void add_op(tmodel *t, const char *name, double out_bytes, int n_in,
                   const uint32_t *in) {
  uint32_t i = t->m.n_ops++;
  gpp_op *op = &t->ops[i];
  *op = (gpp_op){.name = name, .kind = GPP_OP_CUSTOM, .inputs = t->in[i],
                 .outputs = t->out[i], .dtype_bytes = 2,
                 .out_bytes = out_bytes, .has_time = true,
                 .time_fwd = 1e-3, .time_bwd = 2e-3};
  for (int k = 0; k < n_in; k++) {
    op->inputs[op->n_inputs++] = in[k];
    t->ops[in[k]].outputs[t->ops[in[k]].n_outputs++] = i;
  }
}

/* in -> {a.0 -> a.1, b.0} -> join -> loss */
static void diamond(tmodel *t) {
  memset(t, 0, sizeof *t);
  t->m.name = "diamond";
  t->m.ops = t->ops;
  add_op(t, "in", 1000, 0, NULL);
  uint32_t x = 0;
  add_op(t, "a.0", 300, 1, &x);
  x = 1;
  add_op(t, "a.1", 700, 1, &x);
  x = 0;
  add_op(t, "b.0", 500, 1, &x);
  uint32_t j[2] = {2, 3};
  add_op(t, "join", 200, 2, j);
  x = 4;
  add_op(t, "loss", 4, 1, &x);
}

static const char *good =
    "model: configs/models/none.yaml\n"
    "batch: 64\nmicro_batch: 8\nschedule: gpp\n"
    "stages:\n"
    "  - {name: head, ops: [in], devices: [0]}\n"
    "  - {name: left, ops: [\"a.*\"], devices: [1, 2], micro_batch: 16}\n"
    "  - {name: right, ops: [b.0], devices: [3]}\n"
    "  - {name: tail, ops: [join, loss], devices: [4]}\n";

Test(plan, stage_graph_from_op_edges) {
  tmodel t;
  diamond(&t);
  gpp_plan *p;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_plan_load_string("test-plan.yaml", good, &t.m, 8, &p, &err),
               0, "%s", err.msg);
  cr_assert_eq(p->n_stages, 4);
  cr_assert_eq(p->n_edges, 4);
  cr_assert_eq(p->stages[1].n_ops, 2);
  cr_assert_eq(p->stages[1].micro_batch, 16);
  cr_assert_eq(p->stages[1].n_micro, 4);
  cr_assert_eq(p->stages[2].n_micro, 8);
  cr_assert_str_eq(p->schedule->name, "gpp");
  /* head feeds both branches with its 1000-byte output; left feeds tail
   * with a.1's 700 bytes (a.0 stays inside), right with b.0's 500. */
  double want[4][4] = {{0}};
  want[0][1] = want[0][2] = 1000;
  want[1][3] = 700;
  want[2][3] = 500;
  for (uint32_t e = 0; e < p->n_edges; e++)
    cr_assert_float_eq(p->edges[e].bytes_per_sample,
                       want[p->edges[e].from][p->edges[e].to], 1e-9);
  cr_assert_eq(p->topo[0], 0);
  cr_assert_eq(p->topo[3], 3);
  const char *txt = gpp_plan_format(p, &err);
  cr_assert_not_null(txt);
  cr_assert(strstr(txt, "micro_batch: 16") != NULL, "%s", txt);
  cr_assert(strstr(txt, "optimizer: adam") != NULL, "%s", txt);
  gpp_plan_destroy(p);
  gpp_plan_destroy(NULL);
}

/* Loads text against the diamond model and expects code with the message
 * fragments `at` (file:line:col) and `what`. */
static void expect_error(const char *text, uint32_t n_gpus, int code,
                         const char *at, const char *what) {
  tmodel t;
  diamond(&t);
  gpp_plan *p = (gpp_plan *)1;
  gpp_errctx err = {0};
  int rc = gpp_plan_load_string("test-plan.yaml", text, &t.m, n_gpus, &p, &err);
  cr_assert_eq(rc, code, "got %d (%s), want %d", rc, err.msg, code);
  cr_assert_null(p);
  cr_assert(strstr(err.msg, at) != NULL, "'%s' lacks '%s'", err.msg, at);
  cr_assert(strstr(err.msg, what) != NULL, "'%s' lacks '%s'", err.msg, what);
}

#define HDR "batch: 64\nmicro_batch: 8\nschedule: gpp\nstages:\n"
#define HEAD "  - {name: head, ops: [in], devices: [0]}\n"
#define REST "  - {name: rest, ops: [\"a.*\", b.0, join, loss], devices: [1]}\n"

Test(plan, unknown_keys) {
  expect_error("batch: 64\nmicro_bach: 8\nschedule: gpp\nstages: []\n", 4,
               GPP_EPARSE, "test-plan.yaml:2:1", "micro_batch");
  expect_error(HDR "  - {name: head, ops: [in], device: [0]}\n", 4,
               GPP_EPARSE, "test-plan.yaml:5:", "devices");
}

Test(plan, op_in_no_stage_or_two) {
  expect_error(HDR HEAD "  - {name: rest, ops: [\"a.*\", b.0, join], "
               "devices: [1]}\n", 4, GPP_EINVAL, "test-plan.yaml:",
               "op 'loss'");
  expect_error(HDR HEAD REST "  - {name: dup, ops: [\"*oss\"], devices: [2]}\n",
               4, GPP_EINVAL, "test-plan.yaml:7:5", "in two stages");
  expect_error(HDR HEAD REST "  - {name: none, ops: [\"zz*\"], devices: [2]}\n",
               4, GPP_EINVAL, "test-plan.yaml:7:5", "matches no op");
}

Test(plan, stage_graph_cycle) {
  /* a.1 outside the stage holding a.0 and join: x -> y -> x. */
  expect_error(HDR HEAD
               "  - {name: x, ops: [a.0, b.0, join, loss], devices: [1]}\n"
               "  - {name: y, ops: [a.1], devices: [2]}\n", 4, GPP_EGRAPH,
               "test-plan.yaml:6:5", "cycle");
}

Test(plan, devices) {
  expect_error(HDR HEAD "  - {name: rest, ops: [\"a.*\", b.0, join, loss], "
               "devices: [1, 9]}\n", 4, GPP_ERANGE, "test-plan.yaml:6:",
               "device 9 is out of range; the cluster has 4 GPUs");
  expect_error(HDR HEAD "  - {name: rest, ops: [\"a.*\", b.0, join, loss], "
               "devices: [1, 1]}\n", 4, GPP_EINVAL, "test-plan.yaml:6:",
               "device 1 twice");
  expect_error(HDR HEAD "  - {name: rest, ops: [\"a.*\", b.0, join, loss], "
               "devices: []}\n", 4, GPP_EINVAL, "test-plan.yaml:6:",
               "no devices");
}

/* A batch that is not a multiple of the micro-batch: the last is smaller
 * (48 with 11: 11, 11, 11, 11, 4), per stage. */
Test(plan, short_last_micro_batch) {
  tmodel t;
  diamond(&t);
  gpp_plan *p;
  gpp_errctx err = {0};
  const char *text = "batch: 48\nmicro_batch: 11\nschedule: gpp\nstages:\n"
      HEAD "  - {name: rest, ops: [\"a.*\", b.0, join, loss], "
      "devices: [1], micro_batch: 7}\n";
  cr_assert_eq(gpp_plan_load_string("test-plan.yaml", text, &t.m, 4, &p, &err),
               0, "%s", err.msg);
  cr_assert_eq(p->stages[0].n_micro, 5);
  cr_assert_eq(p->stages[0].last_micro, 4);
  cr_assert_eq(p->stages[1].n_micro, 7);
  cr_assert_eq(p->stages[1].last_micro, 6);
  gpp_plan_destroy(p);
}

#define PAR(keys)                                                             \
  HDR HEAD "  - {name: rest, ops: [\"a.*\", b.0, join, loss], "              \
           "devices: [1, 2, 3, 4], " keys "}\n"

/* The parallelism keys, their defaults and their formatting: written back
 * only when not default, so older plans format byte-identically. */
Test(plan, parallel_keys) {
  tmodel t;
  diamond(&t);
  gpp_plan *p;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_plan_load_string("test-plan.yaml",
                   PAR("tensor: 2, sequence_parallel: true, sharding: full, "
                       "recompute: selective"), &t.m, 8, &p, &err), 0, "%s",
               err.msg);
  const gpp_plan_stage *s = &p->stages[1];
  cr_assert_eq(s->tensor, 2);
  cr_assert_eq(s->dp, 2);
  cr_assert(s->sequence_parallel);
  cr_assert_eq(s->sharding, GPP_SHARD_FULL);
  cr_assert_eq(s->recompute, GPP_RECOMPUTE_SELECTIVE);
  cr_assert_eq(p->stages[0].tensor, 1);
  cr_assert_eq(p->stages[0].sharding, GPP_SHARD_NONE);
  const char *txt = gpp_plan_format(p, &err);
  cr_assert(strstr(txt, "    micro_batch: 8\n    tensor: 2\n    sequence_"
                        "parallel: true\n    sharding: full\n    recompute: "
                        "selective\n") != NULL, "%s", txt);
  cr_assert(strstr(txt, "micro_batch: 8\n  - name: \"rest\"") != NULL, "%s",
            txt);
  gpp_plan_destroy(p);
}

/* reduce_dtype: absent keeps the weights' dtype (scale 1, not written
 * back); fp32 over 2-byte weights doubles the reduced bytes, bf16 over
 * 4-byte weights halves them; an unknown dtype is an error at the key. */
Test(plan, reduce_dtype_key) {
  tmodel t;
  diamond(&t);
  gpp_plan *p;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_plan_load_string("t.yaml", HDR HEAD REST, &t.m, 2, &p,
                                    &err), 0, "%s", err.msg);
  cr_assert_null(gpp_reduce_dtype_name(p));
  cr_assert_eq(gpp_plan_grad_scale(p, 1000, 2000), 1);
  cr_assert_null(strstr(gpp_plan_format(p, &err), "reduce_dtype"));
  gpp_plan_destroy(p);
  cr_assert_eq(gpp_plan_load_string("t.yaml", "reduce_dtype: fp32\n" HDR HEAD
                                    REST, &t.m, 2, &p, &err), 0, "%s",
               err.msg);
  cr_assert_str_eq(gpp_reduce_dtype_name(p), "fp32");
  cr_assert_eq(gpp_plan_grad_scale(p, 1000, 2000), 2);
  cr_assert_eq(gpp_plan_grad_scale(p, 0, 0), 1);
  const char *txt = gpp_plan_format(p, &err);
  cr_assert(strstr(txt, "precision: full\nreduce_dtype: fp32\nstages:\n")
            != NULL, "%s", txt);
  gpp_plan_destroy(p);
  cr_assert_eq(gpp_plan_load_string("t.yaml", "reduce_dtype: bf16\n" HDR HEAD
                                    REST, &t.m, 2, &p, &err), 0, "%s",
               err.msg);
  cr_assert_eq(gpp_plan_grad_scale(p, 1000, 4000), 0.5);
  gpp_plan_destroy(p);
  expect_error("reduce_dtype: int8\n" HDR HEAD REST, 2, GPP_EINVAL,
               "test-plan.yaml:1:15", "fp32, bf16, fp16");
}

Test(plan, parallel_key_errors) {
  expect_error(PAR("tensor: 3"), 8, GPP_EINVAL, "test-plan.yaml:6:",
               "tensor 3 does not divide its 4 devices");
  expect_error(PAR("tensor: 0"), 8, GPP_ERANGE, "test-plan.yaml:6:", "tensor");
  expect_error(PAR("sequence_parallel: true"), 8, GPP_EINVAL,
               "test-plan.yaml:6:", "sequence_parallel needs tensor > 1");
  expect_error(PAR("sharding: zero3"), 8, GPP_EINVAL, "test-plan.yaml:6:",
               "none, optimizer, gradients, full");
  expect_error(PAR("recompute: some"), 8, GPP_EINVAL, "test-plan.yaml:6:",
               "none, selective, full");
  expect_error(PAR("sequence_parallel: maybe"), 8, GPP_EINVAL,
               "test-plan.yaml:6:", "sequence_parallel");
  /* Device 2 is the second member of rest's first tensor group. */
  expect_error(HDR "  - {name: head, ops: [in], devices: [2]}\n"
               "  - {name: rest, ops: [\"a.*\", b.0, join, loss], "
               "devices: [1, 2], tensor: 2}\n", 8, GPP_EINVAL,
               "test-plan.yaml:6:", "device 2 of its tensor group");
}

Test(plan, unknown_schedule_lists_valid_ones) {
  expect_error("batch: 64\nmicro_batch: 8\nschedule: 1f1f\nstages: []\n", 4,
               GPP_EINVAL, "test-plan.yaml:3:11", "gpp, gpipe, 1f1b, "
               "interleaved");
  expect_error("batch: 64\nmicro_batch: 8\nschedule: gpp\nchunks: 2\n"
               "stages: []\n", 4, GPP_EINVAL, "test-plan.yaml:4:9",
               "only to schedule interleaved");
  cr_assert_null(gpp_sched_find("pipedream"));
  cr_assert_not_null(gpp_sched_find("interleaved"));
}

Test(plan, structure_errors) {
  expect_error("batch: 64\nmicro_batch: 8\nschedule: gpp\nstages: []\n", 4,
               GPP_EINVAL, "test-plan.yaml:4:9", "no stages");
  expect_error("batch: 64\nmicro_batch: 8\nschedule: gpp\n", 4, GPP_EPARSE,
               "test-plan.yaml:1:1", "stages");
  expect_error(HDR HEAD "  - {name: head, ops: [\"a.*\", b.0, join, loss], "
               "devices: [1]}\n", 4, GPP_EINVAL, "test-plan.yaml:6:5",
               "used twice");
  expect_error(HDR HEAD "  - {name: rest, ops: [], devices: [1]}\n", 4,
               GPP_EINVAL, "test-plan.yaml:6:", "lists no ops");
  expect_error("batch: 64\nmicro_batch: 8\nschedule: gpp\noptimizer: lamb\n"
               "stages: []\n", 4, GPP_EINVAL, "test-plan.yaml:4:12",
               "sgd, adam");
}

Test(plan, interleaved_shape) {
  const char *base = "batch: 8\nmicro_batch: 1\nschedule: interleaved\n"
                     "chunks: 2\nstages:\n";
  char text[1024];
  snprintf(text, sizeof text, "%s%s%s", base, HEAD,
           "  - {name: mid, ops: [\"a.*\", b.0], devices: [1]}\n"
           "  - {name: tail, ops: [join, loss], devices: [2]}\n");
  expect_error(text, 4, GPP_EINVAL, "test-plan.yaml:3:11",
               "multiple of 2 stages");
  snprintf(text, sizeof text, "%s%s%s%s", base,
           "  - {name: s0, ops: [in], devices: [0]}\n"
           "  - {name: s1, ops: [\"a.*\", b.0], devices: [1]}\n",
           "  - {name: s2, ops: [join], devices: [0]}\n",
           "  - {name: s3, ops: [loss], devices: [2]}\n");
  expect_error(text, 4, GPP_EINVAL, "test-plan.yaml:9:", "must list the "
               "devices of stage 's1'");
  snprintf(text, sizeof text, "batch: 9\nmicro_batch: 1\nschedule: "
           "interleaved\nchunks: 2\nstages:\n%s%s%s",
           "  - {name: s0, ops: [in], devices: [0]}\n"
           "  - {name: s1, ops: [\"a.*\", b.0], devices: [1]}\n",
           "  - {name: s2, ops: [join], devices: [0]}\n",
           "  - {name: s3, ops: [loss], devices: [1]}\n");
  expect_error(text, 4, GPP_EINVAL, "test-plan.yaml:3:11", "not a multiple "
               "of the 2 pipeline ranks");
}

/* Sequential schedules relay along the topological chain head, left,
 * right, tail: in's 1000 bytes cross cut 0 and cut 1 (b.0 reads it after
 * left), a.1's 700 bytes cross cut 1 and 2, b.0's 500 bytes cut 2. */
Test(plan, sequential_schedules_relay_along_a_chain) {
  static const char *const scheds[] = {"1f1b", "gpipe"};
  for (int i = 0; i < 2; i++) {
    char text[1024];
    snprintf(text, sizeof text, "batch: 64\nmicro_batch: 8\nschedule: %s\n"
             "stages:\n" HEAD
             "  - {name: left, ops: [\"a.*\"], devices: [1]}\n"
             "  - {name: right, ops: [b.0], devices: [2]}\n"
             "  - {name: tail, ops: [join, loss], devices: [3]}\n", scheds[i]);
    tmodel t;
    diamond(&t);
    gpp_plan *p;
    gpp_errctx err = {0};
    cr_assert_eq(gpp_plan_load_string("test-plan.yaml", text, &t.m, 4, &p,
                                      &err), 0, "%s", err.msg);
    const double want[3] = {1000, 1700, 1200};
    cr_assert_eq(p->n_edges, 3);
    for (uint32_t e = 0; e < 3; e++) {
      cr_assert_eq(p->edges[e].from, e);
      cr_assert_eq(p->edges[e].to, e + 1);
      cr_assert_eq(p->stages[e].n_out, 1);
      cr_assert_float_eq(p->edges[e].bytes_per_sample, want[e], 1e-9);
    }
    cr_assert_eq(p->stages[0].n_in, 0);
    cr_assert_eq(p->stages[3].n_out, 0);
    gpp_plan_destroy(p);
  }
}

Test(plan, missing_model_file) {
  gpp_plan *p;
  gpp_errctx err = {0};
  FILE *f = fopen("missing-model-plan.yaml", "w");
  cr_assert_not_null(f);
  fputs("model: no/such/model.yaml\n" HDR HEAD REST, f);
  fclose(f);
  cr_assert_eq(gpp_plan_load("missing-model-plan.yaml", 4, &p, &err),
               GPP_ENOENT, "%s", err.msg);
  cr_assert(strstr(err.msg, "missing-model-plan.yaml:1:8") != NULL, "%s",
            err.msg);
  cr_assert(strstr(err.msg, "no/such/model.yaml") != NULL, "%s", err.msg);
  remove("missing-model-plan.yaml");
}

/* The plan's precision against a model its caller loaded (the diamond:
 * 2-byte ops; named bf16 here): without the key, the model's; full and
 * mixed fit a 2-byte model; a dtype other than the model's is an error at
 * the key.  Which precisions keep an fp32 master copy. */
Test(plan, precision_against_the_loaded_model) {
  tmodel t;
  diamond(&t);
  t.m.precision = "bf16";
  t.m.dtype_bytes = 2;
  const char *keys[] = {"", "precision: full\n", "precision: mixed\n",
                        "precision: bf16\n"};
  gpp_precision want[] = {GPP_PREC_BF16, GPP_PREC_FULL, GPP_PREC_MIXED,
                          GPP_PREC_BF16};
  for (int i = 0; i < 4; i++) {
    char text[512];
    snprintf(text, sizeof text, "%s" HDR HEAD REST, keys[i]);
    gpp_plan *p = NULL;
    gpp_errctx err = {0};
    cr_assert_eq(gpp_plan_load_string("t.yaml", text, &t.m, 2, &p, &err), 0,
                 "%s: %s", keys[i], err.msg);
    cr_assert_eq(p->precision, want[i], "%s", keys[i]);
    gpp_plan_destroy(p);
  }
  expect_error("precision: fp32\n" HDR HEAD REST, 2, GPP_EINVAL,
               "test-plan.yaml:1:12", "precision fp32: the model was loaded "
               "in its own dtype");
  expect_error("precision: int8\n" HDR HEAD REST, 2, GPP_EINVAL,
               "test-plan.yaml:1:12", "int8");
  cr_assert(gpp_precision_master(GPP_PREC_MIXED));
  cr_assert(gpp_precision_master(GPP_PREC_BF16));
  cr_assert(gpp_precision_master(GPP_PREC_FP8));
  cr_assert(!gpp_precision_master(GPP_PREC_FULL));
  cr_assert(!gpp_precision_master(GPP_PREC_FP32));
  cr_assert(!gpp_precision_master(GPP_PREC_TF32));
  cr_assert_null(gpp_precision_model_dtype(GPP_PREC_FULL));
  cr_assert_str_eq(gpp_precision_model_dtype(GPP_PREC_TF32), "tf32");
  cr_assert_eq(gpp_precision_from_name("fp8"), GPP_PREC_FP8);
  cr_assert_eq(gpp_precision_from_name("fp4"), -1);
}
