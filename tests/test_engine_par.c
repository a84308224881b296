/* test_engine_par.c -- parallelism inside a stage against exact closed
 * forms: tensor-parallel collectives per layer (Megatron's 4, or 8 with
 * sequence parallelism), sharded collectives and memory (ZeRO-1/2/3),
 * recomputation's stash and extra backward time, micro-batches that do not
 * divide the batch, and the memory error of a model that cannot fit. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels_profile/cost.h"
#include "sim/engine/engine.h"
#include "sim/plan/plan.h"
#include "tests/engine_fixture.h"

/* in -> 2 x [h.lL.attn -> h.lL.mlp] -> loss; s = 4 tokens, h = 8, 2 heads,
 * bf16: each layer's input is 2*s*h = 64 bytes per sample. */
enum { S = 4, H = 8, HEADS = 2, LAYERS = 2, NOPS = 2 + 2 * LAYERS };
static const double TF_A = 3e-3, TB_A = 5e-3, TF_M = 1e-3, TB_M = 2e-3;
static const double P_A = 1000, P_M = 3000; /* parameters per op */
static const double SAVED_M = 256;
/* The attention's saved bytes: x, Q, K, V, context and the scores; a fused
 * (flash) attention saves no scores. */
static const double SAVED_A = (5.0 * S * H + HEADS * S * S) * 2;
static double saved_a = SAVED_A;
static const char *top_keys = ""; /* top-level plan keys of run() */
static double loss_eval = 0;       /* the loss op's eval_bytes */

typedef struct tmodel {
  gpp_model m;
  gpp_op ops[NOPS];
  uint32_t in[NOPS], out[NOPS];
  char names[NOPS][16];
} tmodel;

static void add(tmodel *t, const char *name, gpp_op_kind kind, double tf,
                double tb, double saved, double params) {
  uint32_t i = t->m.n_ops++;
  gpp_op *op = &t->ops[i];
  snprintf(t->names[i], sizeof t->names[i], "%s", name);
  *op = (gpp_op){.name = t->names[i], .kind = kind, .inputs = &t->in[i],
                 .outputs = &t->out[i], .dtype_bytes = 2,
                 .shape = {.tokens = S, .width = H, .heads = HEADS},
                 .out_bytes = 2.0 * S * H, .saved_bytes = saved,
                 .param_count = params, .param_bytes = 2 * params,
                 .has_time = true, .time_fwd = tf, .time_bwd = tb};
  if (i == 0) return;
  op->inputs[0] = i - 1;
  op->n_inputs = 1;
  t->ops[i - 1].outputs[0] = i;
  t->ops[i - 1].n_outputs = 1;
}

static void blocks(tmodel *t, double scale) {
  memset(t, 0, sizeof *t);
  t->m = (gpp_model){.name = "blocks", .path = "tests/hand-built",
                     .ops = t->ops, .dtype_bytes = 2};
  add(t, "in", GPP_OP_CUSTOM, 0, 0, 0, 0);
  for (int l = 0; l < LAYERS; l++) {
    char n[16];
    snprintf(n, sizeof n, "h.l%d.attn", l);
    add(t, n, GPP_OP_ATTENTION, TF_A, TB_A, saved_a, P_A * scale);
    snprintf(n, sizeof n, "h.l%d.mlp", l);
    add(t, n, GPP_OP_CUSTOM, TF_M, TB_M, SAVED_M, P_M * scale);
  }
  add(t, "loss", GPP_OP_CUSTOM, 0, 0, 0, 0);
  t->ops[NOPS - 1].out_bytes = 4;
  t->ops[NOPS - 1].eval_bytes = loss_eval;
}

typedef struct run_out {
  gpp_plan *plan;
  gpp_costs *costs;
  gpp_result *res;
} run_out;

static const gpp_engine_opts rec = {.ideal_network = true, .record = true};

static int run(const char *stage_keys, int batch, int mb, uint32_t n_gpus,
               const char *devices, double scale, run_out *r,
               gpp_errctx *err) {
  static tmodel t;
  blocks(&t, scale);
  char text[1024];
  snprintf(text, sizeof text,
           "%sbatch: %d\nmicro_batch: %d\nschedule: gpipe\nstages:\n"
           "  - {name: all, ops: [\"*\"], devices: [%s]%s%s}\n",
           top_keys, batch, mb, devices, *stage_keys ? ", " : "", stage_keys);
  gpp_cluster c = test_cluster(n_gpus);
  memset(r, 0, sizeof *r);
  int rc = gpp_plan_load_string("t.yaml", text, &t.m, n_gpus, &r->plan, err);
  if (rc == 0) rc = gpp_costs_create(&t.m, &c.gpu, NULL, &r->costs, err);
  if (rc == 0) rc = gpp_engine_run(r->plan, r->costs, &c, &rec, &r->res, err);
  return rc;
}

static void run_ok(const char *keys, int batch, int mb, uint32_t n,
                   const char *devices, run_out *r) {
  gpp_errctx err = {0};
  cr_assert_eq(run(keys, batch, mb, n, devices, 1, r, &err), 0, "%s",
               err.msg);
}

static void done(run_out *r) {
  gpp_result_destroy(r->res);
  gpp_costs_destroy(r->costs);
  gpp_plan_destroy(r->plan);
}

/* Records of kind with micro_batch >= 0 (inside F/B) or -1 (end of
 * iteration), their count and summed bytes; every one of them must carry
 * exactly `each` bytes when each > 0. */
static uint32_t count(const run_out *r, uint32_t kind, bool inside,
                      double each, double *sum) {
  uint32_t n = 0;
  *sum = 0;
  for (size_t i = 0; i < r->res->n_tasks; i++) {
    const gpp_task_rec *t = &r->res->tasks[i];
    if (t->kind != kind || (t->micro_batch >= 0) != inside) continue;
    n++;
    *sum += t->bytes;
    if (each > 0)
      cr_assert_eq(t->bytes, each, "record %zu: %.17g bytes, want %.17g", i,
                   t->bytes, each);
  }
  return n;
}

static void expect_close(double got, double want, const char *what) {
  cr_assert(fabs(got - want) <= 1e-12 * fabs(want) + 1e-18,
            "%s: got %.17g, want %.17g", what, got, want);
}

/* Megatron without sequence parallelism: 2 all-reduces of the layer's
 * input (s*b*h elements) in the forward and 2 in the backward, 4 per
 * layer; compute and weights divided by t on both devices. */
Test(engine_par, tensor_parallel_all_reduces_per_layer) {
  run_out r;
  run_ok("tensor: 2", 6, 3, 2, "0, 1", &r);
  double sum, bytes = 2.0 * S * 3 * H; /* one micro-batch of 3 */
  cr_assert_eq(count(&r, GPP_TASK_ALLREDUCE, true, bytes, &sum),
               4 * LAYERS * 2);
  cr_assert_eq(count(&r, GPP_TASK_ALLGATHER, true, 0, &sum), 0);
  expect_close(r.res->stages[0].t_fwd, 3 * LAYERS * (TF_A + TF_M) / 2, "F");
  double w = 2 * LAYERS * (P_A + P_M); /* weight bytes */
  for (int d = 0; d < 2; d++) {
    cr_assert(r.res->devices[d].used);
    expect_close(r.res->devices[d].static_mem, (2 * w + 12 * w / 2) / 2,
                 "static / t");
    expect_close(r.res->devices[d].busy, r.res->devices[0].busy, "mirror");
  }
  done(&r);
  /* Sequence parallelism: each all-reduce becomes all-gather +
   * reduce-scatter of the same bytes. */
  run_ok("tensor: 2, sequence_parallel: true", 6, 3, 2, "0, 1", &r);
  cr_assert_eq(count(&r, GPP_TASK_ALLREDUCE, true, bytes, &sum), 0);
  cr_assert_eq(count(&r, GPP_TASK_ALLGATHER, true, bytes, &sum),
               4 * LAYERS * 2);
  cr_assert_eq(count(&r, GPP_TASK_REDUCESCATTER, true, bytes, &sum),
               4 * LAYERS * 2);
  done(&r);
}

/* FSDP FULL_SHARD over 4 replicas: per layer an all-gather of its weights
 * before F and before B and a reduce-scatter of its gradients after B;
 * each replica issues bytes/4, so the four sum to the layer's bytes. */
Test(engine_par, full_sharding_gathers_and_scatters_per_layer) {
  run_out r;
  run_ok("sharding: full", 8, 4, 4, "0, 1, 2, 3", &r);
  double sum, layer = 2 * (P_A + P_M), w = LAYERS * layer;
  uint32_t m = 2;
  cr_assert_eq(count(&r, GPP_TASK_ALLGATHER, true, layer / 4, &sum),
               4 * m * 2 * LAYERS);
  expect_close(sum, m * 2 * LAYERS * layer, "gathered bytes");
  cr_assert_eq(count(&r, GPP_TASK_REDUCESCATTER, true, layer / 4, &sum),
               4 * m * LAYERS);
  expect_close(sum, m * LAYERS * layer, "scattered bytes");
  cr_assert_eq(count(&r, GPP_TASK_ALLREDUCE, false, 0, &sum), 0);
  /* Weights, gradients and Adam + master (12 B/param) all over 4. */
  expect_close(r.res->devices[3].static_mem, (w + w + 6 * w) / 4, "ZeRO-3");
  done(&r);
}

/* reduce_dtype: fp32 over bf16 weights (Composer's FSDP mixed_precision
 * DEFAULT): every gradient collective moves 4 bytes per parameter, the
 * all-gathers still 2; ZeRO-3's per-layer reduce-scatter is
 * 4 (P_A + P_M) / 4 per replica, the unsharded all-reduce 4 x all. */
Test(engine_par, reduce_dtype_sets_gradient_collective_bytes) {
  run_out r;
  double sum, layer = 2 * (P_A + P_M), w = LAYERS * layer;
  top_keys = "reduce_dtype: fp32\n";
  run_ok("sharding: full", 8, 4, 4, "0, 1, 2, 3", &r);
  cr_assert_eq(count(&r, GPP_TASK_REDUCESCATTER, true, 2 * layer / 4, &sum),
               4 * 2 * LAYERS);
  expect_close(sum, 2 * LAYERS * 4 * (P_A + P_M), "fp32 scattered bytes");
  cr_assert_eq(count(&r, GPP_TASK_ALLGATHER, true, layer / 4, &sum),
               4 * 2 * 2 * LAYERS);
  done(&r);
  run_ok("", 8, 4, 4, "0, 1, 2, 3", &r);
  cr_assert_eq(count(&r, GPP_TASK_ALLREDUCE, false, 2 * w, &sum), 1);
  done(&r);
  run_ok("sharding: optimizer", 8, 4, 4, "0, 1, 2, 3", &r);
  cr_assert_eq(count(&r, GPP_TASK_REDUCESCATTER, false, 2 * w, &sum), 1);
  cr_assert_eq(count(&r, GPP_TASK_ALLGATHER, false, w, &sum), 1);
  done(&r);
  top_keys = "";
}

Test(engine_par, zero_1_and_2_memory_and_collectives) {
  run_out r;
  double sum, layer = 2 * (P_A + P_M), w = LAYERS * layer;
  run_ok("sharding: gradients", 8, 4, 4, "0, 1, 2, 3", &r);
  cr_assert_eq(count(&r, GPP_TASK_REDUCESCATTER, true, layer / 4, &sum),
               4 * 2 * LAYERS);
  cr_assert_eq(count(&r, GPP_TASK_ALLGATHER, true, 0, &sum), 0);
  cr_assert_eq(count(&r, GPP_TASK_ALLGATHER, false, w, &sum), 1);
  expect_close(r.res->devices[0].static_mem, w + (w + 6 * w) / 4, "ZeRO-2");
  done(&r);
  run_ok("sharding: optimizer", 8, 4, 4, "0, 1, 2, 3", &r);
  cr_assert_eq(count(&r, GPP_TASK_REDUCESCATTER, false, w, &sum), 1);
  cr_assert_eq(count(&r, GPP_TASK_ALLGATHER, false, w, &sum), 1);
  cr_assert_eq(count(&r, GPP_TASK_REDUCESCATTER, true, 0, &sum), 0);
  expect_close(r.res->devices[0].static_mem, 2 * w + 6 * w / 4, "ZeRO-1");
  done(&r);
  run_ok("", 8, 4, 4, "0, 1, 2, 3", &r);
  cr_assert_eq(count(&r, GPP_TASK_ALLREDUCE, false, w, &sum), 1);
  expect_close(r.res->devices[0].static_mem, 8 * w, "unsharded");
  done(&r);
}

/* Full recomputation keeps 2*s*b*h bytes per layer input and re-runs each
 * layer's forward inside its backward; selective drops the attention
 * scores (heads*s^2 per sample) and re-runs the attention core, 4 s^2 h
 * of the 8 s h^2 + 4 s^2 h forward FLOPs (here 1/5). */
Test(engine_par, recompute_stash_and_extra_backward) {
  const int b = 2;
  run_out r;
  run_ok("", b, b, 1, "0", &r);
  double tb = b * LAYERS * (TB_A + TB_M), tf = b * LAYERS * (TF_A + TF_M);
  expect_close(r.res->devices[0].peak_stash, b * LAYERS * (SAVED_A + SAVED_M),
               "no recompute");
  expect_close(r.res->stages[0].t_bwd, tb, "plain backward");
  done(&r);
  run_ok("recompute: full", b, b, 1, "0", &r);
  expect_close(r.res->devices[0].peak_stash, LAYERS * 2.0 * S * b * H,
               "2sbh per layer");
  expect_close(r.res->stages[0].t_bwd, tb + tf, "re-run forward");
  done(&r);
  run_ok("recompute: selective", b, b, 1, "0", &r);
  expect_close(r.res->devices[0].peak_stash,
               b * LAYERS * (SAVED_A + SAVED_M - 2.0 * HEADS * S * S),
               "scores dropped");
  double frac = 4.0 * S * S * H / (8.0 * S * H * H + 4.0 * S * S * H);
  expect_close(frac, 0.2, "core share");
  expect_close(r.res->stages[0].t_bwd, tb + frac * b * LAYERS * TF_A,
               "attention core re-run");
  done(&r);
  /* A fused attention keeps no scores: selective changes nothing. */
  saved_a = 5.0 * S * H * 2;
  run_ok("recompute: selective", b, b, 1, "0", &r);
  saved_a = SAVED_A;
  expect_close(r.res->devices[0].peak_stash,
               b * LAYERS * (5.0 * S * H * 2 + SAVED_M), "fused: same stash");
  expect_close(r.res->stages[0].t_bwd, tb, "fused: nothing re-run");
  done(&r);
}

/* The loss evaluations' working memory (train metrics) comes after a
 * backward has released its stash: with GPipe's 2 micro-batches of 2, the
 * first backward to end leaves one micro-batch's stash, the second none,
 * so the peak is static + one stash + 2 x eval_bytes. */
Test(engine_par, loss_evaluations_after_the_backward) {
  const double ev = 1e6;
  run_out r;
  loss_eval = ev;
  run_ok("", 4, 2, 1, "0", &r);
  loss_eval = 0;
  const gpp_device_result *d = &r.res->devices[0];
  expect_close(d->peak_stash, 2 * 2 * LAYERS * (SAVED_A + SAVED_M),
               "both micro-batches stashed");
  expect_close(d->peak_mem,
               d->static_mem + 2 * LAYERS * (SAVED_A + SAVED_M) + 2 * ev,
               "static + one stash + the evaluations");
  done(&r);
}

/* 48 samples in micro-batches of 11: 11, 11, 11, 11, 4; on 2 replicas the
 * last is split 2 + 2. */
Test(engine_par, last_micro_batch_smaller) {
  run_out r;
  run_ok("", 48, 11, 1, "0", &r);
  double f = LAYERS * (TF_A + TF_M), bw = LAYERS * (TB_A + TB_M);
  expect_close(r.res->iteration_time, 48 * (f + bw) + r.res->stages[0].t_opt,
               "one device runs every sample once");
  int sizes[5] = {0};
  for (size_t i = 0; i < r.res->n_tasks; i++) {
    const gpp_task_rec *t = &r.res->tasks[i];
    if (t->kind == GPP_TASK_FWD)
      sizes[t->micro_batch] = (int)lround((t->end - t->start) / f);
  }
  int want[5] = {11, 11, 11, 11, 4};
  cr_assert_arr_eq(sizes, want, sizeof want);
  done(&r);
  run_ok("", 48, 11, 2, "0, 1", &r);
  for (size_t i = 0; i < r.res->n_tasks; i++) {
    const gpp_task_rec *t = &r.res->tasks[i];
    if (t->kind == GPP_TASK_FWD && t->micro_batch == 4)
      expect_close(t->end - t->start, 2 * f, "half of 4");
  }
  done(&r);
}

/* A model that cannot fit unsharded on 8 GPUs: the error names the device
 * and the shortfall; fully sharded it fits. */
Test(engine_par, unsharded_big_model_is_out_of_memory) {
  run_out r;
  gpp_errctx err = {0};
  const char *eight = "0, 1, 2, 3, 4, 5, 6, 7";
  /* 8e9 parameters, 16 bytes each (bf16 weights and gradients, Adam,
   * fp32 master): 128 GB on every device, 48 GB = 44.7 GiB too many. */
  cr_assert_eq(run("", 8, 1, 8, eight, 1e6, &r, &err), GPP_EOOM);
  cr_assert(strstr(err.msg, "device ") != NULL, "%s", err.msg);
  cr_assert(strstr(err.msg, "needs 119 GiB at its peak but the test-gpu has "
                   "74.5 GiB: short by 44.7 GiB") != NULL, "%s", err.msg);
  cr_assert_eq(r.res, NULL);
  done(&r);
  gpp_errctx ok = {0};
  cr_assert_eq(run("sharding: full", 8, 1, 8, eight, 1e6, &r, &ok), 0, "%s",
               ok.msg);
  cr_assert(r.res->devices[7].peak_mem < 80e9);
  done(&r);
}

/* Through the flow network, on 2 GPUs behind one switch (route latency a,
 * bandwidth B): a ring all-reduce of S bytes over 2 ranks is 2 steps of
 * S/2, 2 (a + S/2B); each task runs its compute, then its 4 all-reduces. */
static void run_net(const char *keys, gpp_cluster *c, run_out *r) {
  static tmodel t;
  blocks(&t, 1e3);
  char text[512];
  snprintf(text, sizeof text, "batch: 2\nmicro_batch: 2\nschedule: gpipe\n"
           "stages:\n  - {name: all, ops: [\"*\"], devices: [0, 1], %s}\n",
           keys);
  gpp_errctx err = {0};
  gpp_engine_opts o = {0};
  memset(r, 0, sizeof *r);
  cr_assert_eq(gpp_plan_load_string("t.yaml", text, &t.m, 2, &r->plan, &err),
               0, "%s", err.msg);
  cr_assert_eq(gpp_costs_create(&t.m, &c->gpu, NULL, &r->costs, &err), 0);
  cr_assert_eq(gpp_engine_run(r->plan, r->costs, c, &o, &r->res, &err), 0,
               "%s", err.msg);
}

Test(engine_par, tensor_parallel_through_the_network) {
  double a, bw;
  gpp_cluster *c = test_switch2(&a, &bw);
  run_out r;
  run_net("tensor: 2", c, &r);
  double s_bytes = 2.0 * S * H * 2, ar = 2 * (a + s_bytes / 2 / bw);
  double f = 2 * LAYERS * (TF_A + TF_M) / 2, b = 2 * LAYERS * (TB_A + TB_M) / 2;
  expect_close(r.res->iteration_time,
               f + 2 * LAYERS * ar + b + 2 * LAYERS * ar +
                   r.res->stages[0].t_opt, "compute + 8 all-reduces");
  done(&r);
  gpp_cluster_destroy(c);
}

/* FSDP on 2 replicas of a one-stage plan: they meet at each layer's
 * all-gather, one collective of the layer's bytes over both, which takes
 * g = a + (w/2)/B
 * (w the layer's weight bytes); the compute waits for the first layer's
 * and hides the rest (prefetch). */
Test(engine_par, full_sharding_through_the_network) {
  double a, bw;
  gpp_cluster *c = test_switch2(&a, &bw);
  run_out r;
  run_net("sharding: full", c, &r);
  double w = 2e3 * (P_A + P_M), g = a + w / 2 / bw;
  double f = LAYERS * (TF_A + TF_M), b = LAYERS * (TB_A + TB_M);
  cr_assert(g < f / LAYERS, "the gathers must hide behind the compute");
  expect_close(r.res->iteration_time, g + f + g + b + r.res->stages[0].t_opt,
               "first gather exposed in F and in B");
  done(&r);
  gpp_cluster_destroy(c);
}
