/* test_engine.c -- the engine against closed forms (each test's comment
 * gives its formula), with cost overrides and an ideal (zero-cost)
 * network, plus memory accounting, OOM and determinism of the outputs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels_profile/cost.h"
#include "sim/engine/engine.h"
#include "sim/plan/plan.h"
#include "tests/engine_fixture.h"

#define MAX_OPS 32

/* A hand-built model: ops with time overrides, edges by index. */
typedef struct tmodel {
  gpp_model m;
  gpp_op ops[MAX_OPS];
  uint32_t in[MAX_OPS][4], out[MAX_OPS][4];
  char names[MAX_OPS][16];
} tmodel;

static uint32_t add_op(tmodel *t, const char *name, double tf, double tb,
                       int n_in, const uint32_t *in) {
  uint32_t i = t->m.n_ops++;
  gpp_op *op = &t->ops[i];
  snprintf(t->names[i], sizeof t->names[i], "%s", name);
  *op = (gpp_op){.name = t->names[i], .kind = GPP_OP_CUSTOM,
                 .inputs = t->in[i], .outputs = t->out[i], .dtype_bytes = 2,
                 .out_bytes = 4096, .saved_bytes = 1536, .has_time = true,
                 .time_fwd = tf, .time_bwd = tb};
  for (int k = 0; k < n_in; k++) {
    op->inputs[op->n_inputs++] = in[k];
    gpp_op *src = &t->ops[in[k]];
    src->outputs[src->n_outputs++] = i;
  }
  return i;
}

static void model_init(tmodel *t, const char *name) {
  memset(t, 0, sizeof *t);
  t->m.name = name;
  t->m.path = "tests/hand-built";
  t->m.ops = t->ops;
  t->m.dtype_bytes = 2;
}

/* Ops L0..L{p-1} in a chain; stage times tf*(1+skew*i) per sample. */
static void chain(tmodel *t, int p, double tf, double tb, double skew) {
  model_init(t, "chain");
  for (int i = 0; i < p; i++) {
    char n[16];
    snprintf(n, sizeof n, "L%d", i);
    uint32_t prev = (uint32_t)(i - 1);
    add_op(t, n, tf * (1 + skew * i), tb * (1 + skew * i), i > 0, &prev);
  }
}

static char plan_buf[8192];

static const char *chain_plan(int p, int m, int b, const char *sched) {
  int n = snprintf(plan_buf, sizeof plan_buf,
                   "batch: %d\nmicro_batch: %d\nschedule: %s\n"
                   "optimizer: sgd\nprecision: full\nstages:\n",
                   m * b, b, sched);
  for (int i = 0; i < p; i++)
    n += snprintf(plan_buf + n, sizeof plan_buf - (size_t)n,
                  "  - {name: s%d, ops: [L%d], devices: [%d]}\n", i, i, i);
  return plan_buf;
}

typedef struct run_out {
  gpp_plan *plan;
  gpp_costs *costs;
  gpp_result *res;
} run_out;

static int run_plan(const char *text, const gpp_model *m, gpp_cluster *c,
                    const gpp_engine_opts *o, run_out *r, gpp_errctx *err) {
  memset(r, 0, sizeof *r);
  int rc = gpp_plan_load_string("test-plan.yaml", text, m, c->n_gpus,
                                &r->plan, err);
  if (rc == 0) rc = gpp_costs_create(m, &c->gpu, NULL, &r->costs, err);
  if (rc == 0) rc = gpp_engine_run(r->plan, r->costs, c, o, &r->res, err);
  return rc;
}

static void run_free(run_out *r) {
  gpp_result_destroy(r->res);
  gpp_costs_destroy(r->costs);
  gpp_plan_destroy(r->plan);
}

static const gpp_engine_opts ideal = {.ideal_network = true};

static void expect_close(double got, double want, const char *what) {
  cr_assert(fabs(got - want) <= 1e-9 * fabs(want) + 1e-15,
            "%s: got %.17g, want %.17g", what, got, want);
}

static void check_sequential(const char *sched, int p, int m) {
  const double tf = 1.375e-3, tb = 2.9375e-3; /* per sample */
  const int b = 2;
  tmodel t;
  chain(&t, p, tf, tb, 0);
  gpp_cluster c = test_cluster((uint32_t)p);
  gpp_errctx err = {0};
  run_out r;
  cr_assert_eq(run_plan(chain_plan(p, m, b, sched), &t.m, &c, &ideal, &r,
                        &err), 0, "%s", err.msg);
  double want = (m + p - 1) * (tf + tb) * b;
  char what[64];
  snprintf(what, sizeof what, "%s p=%d m=%d", sched, p, m);
  expect_close(r.res->iteration_time, want, what);
  expect_close(r.res->bubble_fraction, (p - 1.0) / (m + p - 1.0), what);
  for (int i = 0; i < p; i++) {
    uint32_t stash = strcmp(sched, "gpipe") == 0 ? (uint32_t)m
                     : (uint32_t)(m < p - i ? m : p - i);
    cr_assert_eq(r.res->stages[i].peak_inflight, stash,
                 "%s stage %d: peak in flight %u, want %u", what, i,
                 r.res->stages[i].peak_inflight, stash);
    expect_close(r.res->devices[i].peak_stash, stash * 1536.0 * b, what);
  }
  run_free(&r);
}

Test(engine, gpipe_and_1f1b_closed_forms) {
  const int ps[] = {1, 2, 3, 4, 6}, ms[] = {1, 2, 3, 5, 8, 13};
  for (size_t i = 0; i < sizeof ps / sizeof *ps; i++)
    for (size_t j = 0; j < sizeof ms / sizeof *ms; j++) {
      check_sequential("gpipe", ps[i], ms[j]);
      check_sequential("1f1b", ps[i], ms[j]);
      check_sequential("gpp", ps[i], ms[j]); /* a chain: GPP is 1F1B */
    }
}

/* GPipe with uneven stages is a flow shop of identical jobs per phase:
 * sum(t) + (m-1) max(t) for forwards, then the same for backwards. */
Test(engine, gpipe_uneven_stages_bottleneck) {
  const int p = 4, m = 7, b = 3;
  const double tf = 0.8125e-3, tb = 1.6875e-3, skew = 0.375;
  tmodel t;
  chain(&t, p, tf, tb, skew);
  gpp_cluster c = test_cluster(p);
  gpp_errctx err = {0};
  run_out r;
  cr_assert_eq(run_plan(chain_plan(p, m, b, "gpipe"), &t.m, &c, &ideal, &r,
                        &err), 0, "%s", err.msg);
  double sf = 0, sb = 0, mf = 0, mb = 0;
  for (int i = 0; i < p; i++) {
    double f = tf * (1 + skew * i) * b, bw = tb * (1 + skew * i) * b;
    sf += f, sb += bw;
    mf = f > mf ? f : mf, mb = bw > mb ? bw : mb;
  }
  expect_close(r.res->iteration_time, sf + (m - 1) * mf + sb + (m - 1) * mb,
               "gpipe uneven");
  run_free(&r);
}

Test(engine, one_f_one_b_uneven_is_bottleneck_bound) {
  const int p = 4, m = 24, b = 1;
  const double tf = 0.8125e-3, tb = 1.6875e-3, skew = 0.5;
  tmodel t;
  chain(&t, p, tf, tb, skew);
  gpp_cluster c = test_cluster(p);
  gpp_errctx err = {0};
  run_out r;
  cr_assert_eq(run_plan(chain_plan(p, m, b, "1f1b"), &t.m, &c, &ideal, &r,
                        &err), 0, "%s", err.msg);
  double slow = (tf + tb) * (1 + skew * (p - 1)), rest = 0;
  for (int i = 0; i < p - 1; i++) rest += (tf + tb) * (1 + skew * i);
  double it = r.res->iteration_time;
  cr_assert_geq(it, m * slow - 1e-12);
  cr_assert_leq(it, m * slow + rest + 1e-12);
  /* The bottleneck stage is busy all but the fill and drain. */
  cr_assert_geq(r.res->stages[p - 1].busy_fraction, m * slow / (m * slow + rest) - 1e-9);
  run_free(&r);
}

/* Two branches (depth 1 each) joining into a sink: D = 2. */
static void two_branch(tmodel *t, double tf, double tb) {
  model_init(t, "two-branch");
  uint32_t a = add_op(t, "br0.a", tf, tb, 0, NULL);
  uint32_t b = add_op(t, "br1.a", tf, tb, 0, NULL);
  uint32_t in[2] = {a, b};
  add_op(t, "join", tf, tb, 2, in);
}

static const char *branch_plan(int m, int b, const char *sched) {
  snprintf(plan_buf, sizeof plan_buf,
           "batch: %d\nmicro_batch: %d\nschedule: %s\noptimizer: sgd\n"
           "precision: full\nstages:\n"
           "  - {name: left, ops: [\"br0.*\"], devices: [0]}\n"
           "  - {name: right, ops: [\"br1.*\"], devices: [1]}\n"
           "  - {name: join, ops: [join], devices: [2]}\n", m * b, b, sched);
  return plan_buf;
}

Test(engine, gpp_two_branches_and_join) {
  const double tf = 1.1875e-3, tb = 2.0625e-3;
  const int ms[] = {1, 2, 3, 6, 11};
  for (size_t j = 0; j < sizeof ms / sizeof *ms; j++) {
    int m = ms[j];
    tmodel t;
    two_branch(&t, tf, tb);
    gpp_cluster c = test_cluster(3);
    gpp_errctx err = {0};
    run_out r;
    cr_assert_eq(run_plan(branch_plan(m, 1, "gpp"), &t.m, &c, &ideal, &r,
                          &err), 0, "%s", err.msg);
    expect_close(r.res->iteration_time, (m + 2 - 1) * (tf + tb), "gpp D=2");
    uint32_t branch = m < 2 ? (uint32_t)m : 2;
    cr_assert_eq(r.res->stages[0].cap, 2);
    cr_assert_eq(r.res->stages[2].cap, 1);
    cr_assert_eq(r.res->stages[0].peak_inflight, branch);
    cr_assert_eq(r.res->stages[1].peak_inflight, branch);
    cr_assert_eq(r.res->stages[2].peak_inflight, 1);
    run_free(&r);
  }
}

/* Sequential 1F1B on the same graph treats it as a 3-stage pipeline. */
Test(engine, one_f_one_b_on_branches_caps_by_position) {
  tmodel t;
  two_branch(&t, 1e-3, 2e-3);
  gpp_cluster c = test_cluster(3);
  gpp_errctx err = {0};
  run_out r;
  cr_assert_eq(run_plan(branch_plan(8, 1, "1f1b"), &t.m, &c, &ideal, &r,
                        &err), 0, "%s", err.msg);
  cr_assert_eq(r.res->stages[0].cap, 3);
  cr_assert_eq(r.res->stages[1].cap, 2);
  cr_assert_eq(r.res->stages[2].cap, 1);
  run_free(&r);
}

static const char *interleaved_plan(int p, int v, int m) {
  int n = snprintf(plan_buf, sizeof plan_buf,
                   "batch: %d\nmicro_batch: 1\nschedule: interleaved\n"
                   "chunks: %d\noptimizer: sgd\nprecision: full\nstages:\n",
                   m, v);
  for (int i = 0; i < p * v; i++)
    n += snprintf(plan_buf + n, sizeof plan_buf - (size_t)n,
                  "  - {name: c%d, ops: [L%d], devices: [%d]}\n", i, i, i % p);
  return plan_buf;
}

Test(engine, interleaved_bubble) {
  const double tf = 0.6875e-3, tb = 1.375e-3; /* per chunk */
  const int ps[] = {2, 3, 4}, vs[] = {2, 3}, mult[] = {1, 2, 3};
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 2; j++)
      for (size_t k = 0; k < 3; k++) {
        int p = ps[i], v = vs[j], m = p * mult[k];
        tmodel t;
        chain(&t, p * v, tf, tb, 0);
        gpp_cluster c = test_cluster((uint32_t)p);
        gpp_errctx err = {0};
        run_out r;
        cr_assert_eq(run_plan(interleaved_plan(p, v, m), &t.m, &c, &ideal, &r,
                              &err), 0, "%s", err.msg);
        double ideal_t = m * v * (tf + tb);
        double bubble = (r.res->iteration_time - ideal_t) / ideal_t;
        char what[64];
        snprintf(what, sizeof what, "interleaved p=%d v=%d m=%d", p, v, m);
        expect_close(bubble, (p - 1.0) / (v * m), what);
        run_free(&r);
      }
}

/* Replicas split each micro-batch; a 2-way stage feeding a 4-way one
 * scatters, and the iteration equals the 1-replica case with the slice. */
/* Runs plan text on a chain of p ops over gpus GPUs, ideal network. */
static void run_chain(tmodel *t, int p, double tf, double tb, uint32_t gpus,
                      const char *text, run_out *r) {
  chain(t, p, tf, tb, 0);
  gpp_cluster c = test_cluster(gpus);
  gpp_errctx err = {0};
  cr_assert_eq(run_plan(text, &t->m, &c, &ideal, r, &err), 0, "%s", err.msg);
}

Test(engine, data_parallel_split_and_gather) {
  const double tf = 1e-3, tb = 2e-3;
  tmodel t;
  run_out r;
  run_chain(&t, 3, tf, tb, 7,
            "batch: 32\nmicro_batch: 4\nschedule: gpp\noptimizer: sgd\n"
            "precision: full\nstages:\n"
            "  - {name: a, ops: [L0], devices: [0, 1]}\n"
            "  - {name: b, ops: [L1], devices: [2, 3, 4, 5]}\n"
            "  - {name: c, ops: [L2], devices: [6]}\n", &r);
  /* Stage c (1 replica, 4 samples) is the bottleneck: 8 micro-batches. */
  double slow = 4 * (tf + tb);
  double fill = 2 * tf + 1 * tf, drain = 2 * tb + 1 * tb;
  expect_close(r.res->iteration_time, 8 * slow + fill + drain, "dp split");
  expect_close(r.res->stages[0].t_fwd, 2 * tf, "slice of a");
  expect_close(r.res->stages[1].t_fwd, 1 * tf, "slice of b");
  /* 8 micro-batches x (2 -> 4 scatter + 4 -> 1 gather) x (act + grad). */
  cr_assert_eq(r.res->n_transfers, 8 * (4 + 4) * 2);
  run_free(&r);
}

/* Replicas of one stage get different slices (4 samples over 3: 1, 1, 2;
 * the last micro-batch's 3: 1 each), and each replica computes its own:
 * the set-up keeps one stage's work per slice size, never one for all. */
Test(engine, replica_slices_cost_their_own_work) {
  const double tf = 1e-3, tb = 2e-3;
  tmodel t;
  run_out r;
  run_chain(&t, 1, tf, tb, 3,
            "batch: 31\nmicro_batch: 4\nschedule: gpp\noptimizer: sgd\n"
            "precision: full\nstages:\n"
            "  - {name: a, ops: [L0], devices: [0, 1, 2]}\n", &r);
  const gpp_device_result *d = r.res->devices;
  /* Seven micro-batches of 4 give replica 2 one sample more each. */
  expect_close(d[2].busy - d[0].busy, 7 * (tf + tb), "replica 2's extra");
  expect_close(d[1].busy, d[0].busy, "replicas 0 and 1 alike");
  expect_close(d[0].busy - r.res->stages[0].t_opt, 8 * (tf + tb),
               "one sample per micro-batch");
  run_free(&r);
}

static void set_params(tmodel *t, double params) {
  for (uint32_t i = 0; i < t->m.n_ops; i++) {
    t->ops[i].param_count = params;
    t->ops[i].param_bytes = 2 * params;
  }
}

Test(engine, static_memory_by_optimizer_and_precision) {
  tmodel t;
  chain(&t, 2, 1e-3, 2e-3, 0);
  set_params(&t, 1e6);
  gpp_cluster c = test_cluster(2);
  gpp_errctx err = {0};
  run_out r;
  const char *text =
      "batch: 8\nmicro_batch: 2\nschedule: 1f1b\noptimizer: adam\n"
      "precision: mixed\nstages:\n"
      "  - {name: a, ops: [L0], devices: [0]}\n"
      "  - {name: b, ops: [L1], devices: [1]}\n";
  cr_assert_eq(run_plan(text, &t.m, &c, &ideal, &r, &err), 0, "%s", err.msg);
  /* weights 2 + grads 2 + adam 8 + master 4 bytes per parameter. */
  expect_close(r.res->devices[0].static_mem, 16e6, "static");
  /* Peak: 2 stashed micro-batches of 2 samples + a 2-sample workspace. */
  expect_close(r.res->devices[0].peak_mem, 16e6 + 2 * 2 * 1536.0 + 2 * 4096.0,
               "peak");
  /* Optimizer step: (3*2 + 2*8 + 2*4) bytes per parameter over HBM. */
  expect_close(r.res->stages[0].t_opt, 30e6 / 2e12, "optimizer");
  run_free(&r);
}

Test(engine, out_of_memory_names_device_and_shortfall) {
  tmodel t;
  chain(&t, 2, 1e-3, 2e-3, 0);
  set_params(&t, 1e9);
  gpp_cluster c = test_cluster(2);
  c.gpu.mem_bytes = 12e9;
  gpp_errctx err = {0};
  run_out r;
  const char *text = "batch: 4\nmicro_batch: 1\nschedule: gpp\nstages:\n"
                     "  - {name: a, ops: [L0], devices: [0]}\n"
                     "  - {name: b, ops: [L1], devices: [1]}\n";
  cr_assert_eq(run_plan(text, &t.m, &c, &ideal, &r, &err), GPP_EOOM);
  cr_assert(strstr(err.msg, "device 0") != NULL, "%s", err.msg);
  cr_assert(strstr(err.msg, "short by 3.73 GiB") != NULL, "%s", err.msg);
  run_free(&r);
  gpp_engine_opts allow = {.ideal_network = true, .allow_oom = true};
  gpp_errctx err2 = {0};
  cr_assert_eq(run_plan(text, &t.m, &c, &allow, &r, &err2), 0, "%s",
               err2.msg);
  cr_assert(r.res->oom);
  cr_assert_eq(r.res->oom_device, 0);
  cr_assert(r.res->oom_shortfall > 4e9);
  run_free(&r);
}

Test(engine, several_stages_on_one_device) {
  const double tf = 1e-3, tb = 2e-3;
  tmodel t;
  chain(&t, 3, tf, tb, 0);
  gpp_cluster c = test_cluster(1);
  gpp_errctx err = {0};
  run_out r;
  const char *text = "batch: 5\nmicro_batch: 1\nschedule: gpp\nstages:\n"
                     "  - {name: a, ops: [L0], devices: [0]}\n"
                     "  - {name: b, ops: [L1], devices: [0]}\n"
                     "  - {name: c, ops: [L2], devices: [0]}\n";
  cr_assert_eq(run_plan(text, &t.m, &c, &ideal, &r, &err), 0, "%s", err.msg);
  expect_close(r.res->iteration_time, 5 * 3 * (tf + tb), "one device");
  expect_close(r.res->bubble_fraction, 0, "no bubble");
  /* Never below 0 by rounding (printed "-0.0000" before). */
  cr_assert_geq(r.res->bubble_fraction, 0.0);
  cr_assert(!signbit(r.res->bubble_fraction));
  run_free(&r);
}

/* Same inputs twice: byte-identical HDF5 and trace; the trace is Chrome
 * JSON whose compute slices match the HDF5 /tasks table. */
#include <hdf5.h>
#include <jansson.h>

#include "sim/engine/results.h"

static size_t slurp(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot open %s", path);
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

static void write_outputs(const char *h5, const char *trace) {
  tmodel t;
  two_branch(&t, 1.1875e-3, 2.0625e-3);
  gpp_cluster c = test_cluster(4);
  gpp_errctx err = {0};
  run_out r;
  const char *text = "batch: 12\nmicro_batch: 2\nschedule: gpp\nstages:\n"
                     "  - {name: left, ops: [\"br0.*\"], devices: [0, 3]}\n"
                     "  - {name: right, ops: [\"br1.*\"], devices: [1]}\n"
                     "  - {name: join, ops: [join], devices: [2]}\n";
  gpp_engine_opts o = {.ideal_network = true, .record = true};
  cr_assert_eq(run_plan(text, &t.m, &c, &o, &r, &err), 0, "%s", err.msg);
  gpp_results_inputs in = {gpp_plan_format(r.plan, &err), "name: test\n",
                           "test"};
  cr_assert_eq(gpp_results_write_h5(h5, r.plan, r.res, &in, &err), 0, "%s",
               err.msg);
  cr_assert_eq(gpp_trace_write(trace, r.plan, r.res, &err), 0, "%s", err.msg);
  run_free(&r);
}

static size_t count_compute_slices(json_t *events, double *starts) {
  size_t i, n = 0;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    cr_assert(json_is_string(json_object_get(ev, "ph")));
    cr_assert(json_object_get(ev, "pid") != NULL);
    const char *ph = json_string_value(json_object_get(ev, "ph"));
    if (strcmp(ph, "X") != 0 ||
        json_integer_value(json_object_get(ev, "pid")) != 0)
      continue;
    cr_assert(json_is_number(json_object_get(ev, "ts")));
    cr_assert(json_is_number(json_object_get(ev, "dur")));
    starts[n++] = json_number_value(json_object_get(ev, "ts"));
  }
  return n;
}

static void expect_same_bytes(const char *x, const char *y, const char *what) {
  static char a[1 << 20], b[1 << 20];
  size_t na = slurp(x, a, sizeof a), nb = slurp(y, b, sizeof b);
  cr_assert(na > 0 && na == nb && memcmp(a, b, na) == 0, "%s differs", what);
}

/* The /tasks kind column as uint32 (the enum's native base type). */
static void read_kinds(hid_t d, uint32_t *kinds) {
  hid_t ft = H5Dget_type(d);
  hid_t et = H5Tget_member_type(ft, (unsigned)H5Tget_member_index(ft, "kind"));
  hid_t ne = H5Tget_native_type(et, H5T_DIR_DEFAULT);
  cr_assert_eq(H5Tget_size(ne), sizeof(uint32_t));
  hid_t kt = H5Tcreate(H5T_COMPOUND, sizeof(uint32_t));
  H5Tinsert(kt, "kind", 0, ne);
  cr_assert_geq(H5Dread(d, kt, H5S_ALL, H5S_ALL, H5P_DEFAULT, kinds), 0);
  H5Tclose(kt);
  H5Tclose(ne);
  H5Tclose(et);
  H5Tclose(ft);
}

/* Start times of the compute rows (F, B, OPT) of /tasks, in order. */
static size_t read_compute_starts(const char *path, double *starts,
                                  size_t cap) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  cr_assert_geq(f, 0);
  hid_t d = H5Dopen2(f, "tasks", H5P_DEFAULT), sp = H5Dget_space(d);
  hsize_t n;
  H5Sget_simple_extent_dims(sp, &n, NULL);
  cr_assert_leq(n, cap);
  static double rows[4096];
  static uint32_t kinds[4096];
  hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(double));
  H5Tinsert(mt, "start", 0, H5T_NATIVE_DOUBLE);
  cr_assert_geq(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows), 0);
  read_kinds(d, kinds);
  size_t k = 0;
  for (hsize_t i = 0; i < n; i++)
    if (kinds[i] <= GPP_TASK_OPT) starts[k++] = rows[i];
  H5Tclose(mt);
  H5Sclose(sp);
  H5Dclose(d);
  H5Fclose(f);
  return k;
}

Test(engine, outputs_are_deterministic_and_agree) {
  write_outputs("det-1.h5", "det-1.json");
  write_outputs("det-2.h5", "det-2.json");
  expect_same_bytes("det-1.h5", "det-2.h5", "HDF5");
  expect_same_bytes("det-1.json", "det-2.json", "trace");
  json_error_t jerr;
  json_t *doc = json_load_file("det-1.json", 0, &jerr);
  cr_assert_not_null(doc, "trace is not JSON: %s", jerr.text);
  json_t *events = json_object_get(doc, "traceEvents");
  cr_assert(json_is_array(events));
  static double slices[4096], rows[4096];
  size_t n_slices = count_compute_slices(events, slices);
  size_t n_rows = read_compute_starts("det-1.h5", rows, 4096);
  /* Compute rows (F, B, OPT) are the trace's GPU slices, in order. */
  cr_assert_eq(n_rows, n_slices);
  for (size_t i = 0; i < n_rows; i++)
    cr_assert(fabs(slices[i] - rows[i] * 1e6) < 1e-6, "row %zu", i);
  cr_assert_eq(n_rows, 2 * 13 + 13 + 13, "compute tasks: %zu", n_rows);
  json_decref(doc);
}

/* Through the flow network: one micro-batch over two GPUs pays each
 * transfer's route latency plus bytes over the bottleneck bandwidth. */
Test(engine, transfers_through_the_network) {
  const double tf = 1.25e-3, tb = 2.5e-3;
  tmodel t;
  chain(&t, 2, tf, tb, 0);
  t.ops[0].out_bytes = 3.0e6; /* per sample */
  gpp_errctx err = {0};
  double lat, bw;
  gpp_cluster *c = test_switch2(&lat, &bw);
  run_out r;
  gpp_engine_opts o = {0};
  cr_assert_eq(run_plan(chain_plan(2, 1, 2, "1f1b"), &t.m, c, &o, &r, &err),
               0, "%s", err.msg);
  double xfer = lat + 2 * 3.0e6 / bw;
  expect_close(r.res->iteration_time, 2 * (tf + tb) * 2 + 2 * xfer, "net");
  cr_assert_eq(r.res->n_transfers, 2);
  run_free(&r);
  gpp_cluster_destroy(c);
}
