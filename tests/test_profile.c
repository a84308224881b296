/* test_profile.c -- the profile database (round trip, lookup, damaged and
 * foreign files), interpolation across micro-batch sizes and the roofline
 * least-squares fit, all on synthetic data. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels_profile/cost.h"
#include "kernels_profile/interp.h"
#include "kernels_profile/profile_db.h"
#include "sim/common/h5.h"

static char dir[64];

static void make_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/gpp_test_profile_XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

static const char *path_in_dir(const char *name) {
  static char buf[4][128];
  static int next;
  char *p = buf[next++ % 4];
  snprintf(p, 128, "%s/%s", dir, name);
  return p;
}

/* A deterministic high-entropy sequence in [0, 1). */
static double rnd(unsigned *state) {
  *state = *state * 1664525u + 1013904223u;
  return (*state >> 8) / 16777216.0;
}

static gpp_profile_meta sample_meta(void) {
  gpp_profile_meta m = {0};
  snprintf(m.gpu_name, sizeof m.gpu_name, "NVIDIA H100 80GB HBM3");
  snprintf(m.driver_version, sizeof m.driver_version, "13.0");
  snprintf(m.cuda_version, sizeof m.cuda_version, "13.0");
  snprintf(m.date, sizeof m.date, "2025-11-25T04:28:13Z");
  m.sm_count = 132;
  m.sm_clock_hz = 1.98e9;
  m.mem_clock_hz = 2.619e9;
  m.repetitions = 37;
  m.warmup = 5;
  return m;
}

static gpp_profile_row sample_row(const char *sig, int64_t b, unsigned *st) {
  gpp_profile_row r = {0};
  snprintf(r.signature, sizeof r.signature, "%s", sig);
  r.micro_batch = b;
  r.fwd = (gpp_profile_stat){1.2e-5 * b * (1 + rnd(st)), 0, 0};
  r.fwd.p10 = r.fwd.median * 0.97;
  r.fwd.p90 = r.fwd.median * 1.031;
  r.bwd = (gpp_profile_stat){2.3e-5 * b * (1 + rnd(st)), 0, 0};
  r.bwd.p10 = r.bwd.median * 0.95;
  r.bwd.p90 = r.bwd.median * 1.077;
  r.flops_fwd = 2.137e9 * b * (1 + rnd(st));
  r.flops_bwd = 2 * r.flops_fwd;
  r.bytes_fwd = 3.3e6 * b * (1 + rnd(st));
  r.bytes_bwd = 2.1 * r.bytes_fwd;
  return r;
}

#define N_SAMPLE 12
static void sample_rows(gpp_profile_row *rows) {
  static const char *sigs[] = {"matmul:t=256,in=1024,out=4096,dt=2",
                               "gelu:t=256,w=4096,dt=2",
                               "attention:t=512,w=1024,h=16,dt=4"};
  unsigned st = 2385u;
  /* Out of order on purpose: the writer sorts. */
  for (int i = 0; i < N_SAMPLE; i++)
    rows[i] = sample_row(sigs[(i * 7) % 3], (int64_t)1 << ((i * 5) % 4), &st);
}

static gpp_profile_db *write_and_open(const gpp_profile_row *rows, size_t n,
                                      const char *name) {
  gpp_profile_meta meta = sample_meta();
  gpp_errctx err = {0};
  cr_assert_eq(gpp_profile_db_write(path_in_dir(name), &meta, rows, n, &err),
               0, "%s", err.msg);
  gpp_profile_db *db = NULL;
  cr_assert_eq(gpp_profile_db_open(path_in_dir(name), &db, &err), 0, "%s",
               err.msg);
  return db;
}

/* ---- signatures ------------------------------------------------------- */

Test(signature, canonical_strings) {
  gpp_op op = {.kind = GPP_OP_MATMUL, .dtype_bytes = 4};
  op.shape = (gpp_op_shape){.tokens = 256, .width = 4096, .in_width = 1024};
  char buf[GPP_SIG_MAX];
  cr_assert_eq(gpp_op_signature(&op, buf, sizeof buf), 0);
  cr_assert_str_eq(buf, "matmul:t=256,in=1024,out=4096,dt=4");
  cr_assert_eq(gpp_signature_kind(buf), GPP_OP_MATMUL);
  cr_assert_eq(gpp_signature_dtype(buf), 4);
  op.param_count = 1024.0 * 4096 + 4096; /* weights and a bias */
  cr_assert(gpp_op_has_bias(&op));
  cr_assert_eq(gpp_op_signature(&op, buf, sizeof buf), 0);
  cr_assert_str_eq(buf, "matmul:t=256,in=1024,out=4096,bias=1,dt=4");
  cr_assert_eq(gpp_signature_dtype(buf), 4);
  op = (gpp_op){.kind = GPP_OP_EMBEDDING, .dtype_bytes = 2, .n_inputs = 1};
  op.shape = (gpp_op_shape){.tokens = 3, .width = 64, .rows = 1000003,
                            .bag = 37};
  cr_assert_eq(gpp_op_signature(&op, buf, sizeof buf), 0);
  cr_assert_str_eq(buf, "embedding:t=3,rows=1000003,w=64,bag=37,dt=2");
  op = (gpp_op){.kind = GPP_OP_LOSS, .dtype_bytes = 4, .n_inputs = 1};
  op.shape = (gpp_op_shape){.tokens = 1, .width = 1, .in_width = 4096};
  cr_assert_eq(gpp_op_signature(&op, buf, sizeof buf), 0);
  cr_assert_str_eq(buf, "loss:in=4096,dt=4");
  op = (gpp_op){.kind = GPP_OP_INTERACTION, .dtype_bytes = 4, .n_inputs = 8};
  op.shape = (gpp_op_shape){.tokens = 1, .width = 64 + 28, .in_width = 64,
                            .heads = 8};
  cr_assert_eq(gpp_op_signature(&op, buf, sizeof buf), 0);
  cr_assert_str_eq(buf, "interaction:t=1,in=64,out=92,n=8,dt=4");
  op = (gpp_op){.kind = GPP_OP_CONCAT, .dtype_bytes = 2, .n_inputs = 3};
  op.shape = (gpp_op_shape){.tokens = 7, .width = 96};
  cr_assert_eq(gpp_op_signature(&op, buf, sizeof buf), 0);
  cr_assert_str_eq(buf, "concat:t=7,w=96,n=3,dt=2");
}

Test(signature, too_small_buffer_and_bad_strings) {
  gpp_op op = {.kind = GPP_OP_GELU, .dtype_bytes = 2};
  op.shape = (gpp_op_shape){.tokens = 2048, .width = 8192};
  char buf[12];
  cr_assert_eq(gpp_op_signature(&op, buf, sizeof buf), GPP_ERANGE);
  cr_assert_eq(gpp_signature_kind("nosuchkind:t=1,dt=2"), -1);
  cr_assert_eq(gpp_signature_kind("gelu"), -1);
  cr_assert_eq(gpp_signature_dtype("gelu:t=1"), 0);
  cr_assert_eq(gpp_signature_dtype("gelu:t=1,dt=4x"), 0);
}

/* ---- database round trip and lookup ----------------------------------- */

TestSuite(profile_db, .init = make_dir, .fini = remove_dir);

static int cmp_rows(const void *a, const void *b) {
  const gpp_profile_row *x = a, *y = b;
  int c = strcmp(x->signature, y->signature);
  return c ? c : (x->micro_batch > y->micro_batch) -
                     (x->micro_batch < y->micro_batch);
}

Test(profile_db, round_trip_is_exact) {
  gpp_profile_row rows[N_SAMPLE];
  sample_rows(rows);
  gpp_profile_db *db = write_and_open(rows, N_SAMPLE, "rt.h5");
  gpp_profile_meta want = sample_meta();
  cr_assert_str_eq(db->meta.gpu_name, want.gpu_name);
  cr_assert_str_eq(db->meta.date, want.date);
  cr_assert_str_eq(db->meta.driver_version, want.driver_version);
  cr_assert_str_eq(db->meta.cuda_version, want.cuda_version);
  cr_assert_eq(db->meta.format_version, GPP_PROFILE_FORMAT_VERSION);
  cr_assert_eq(db->meta.sm_count, 132);
  cr_assert_eq(db->meta.repetitions, 37);
  cr_assert_eq(db->meta.warmup, 5);
  cr_assert_eq(db->meta.sm_clock_hz, want.sm_clock_hz);
  cr_assert_eq(db->meta.mem_clock_hz, want.mem_clock_hz);
  qsort(rows, N_SAMPLE, sizeof rows[0], cmp_rows);
  cr_assert_eq(db->n_rows, N_SAMPLE);
  for (size_t i = 0; i < N_SAMPLE; i++)
    cr_assert_eq(memcmp(&db->rows[i], &rows[i], sizeof rows[i]), 0,
                 "row %zu differs", i);
  cr_assert_eq(access(path_in_dir("rt.h5"), F_OK), 0);
  gpp_profile_db_destroy(db);
  gpp_profile_db_destroy(NULL);
}

Test(profile_db, lookup_by_signature_and_size) {
  gpp_profile_row rows[N_SAMPLE];
  sample_rows(rows);
  gpp_profile_db *db = write_and_open(rows, N_SAMPLE, "lk.h5");
  const gpp_profile_row *r =
      gpp_profile_db_lookup(db, "gelu:t=256,w=4096,dt=2", 4);
  cr_assert_not_null(r);
  cr_assert_eq(r->micro_batch, 4);
  cr_assert_str_eq(r->signature, "gelu:t=256,w=4096,dt=2");
  cr_assert_null(gpp_profile_db_lookup(db, "gelu:t=256,w=4096,dt=2", 16));
  cr_assert_null(gpp_profile_db_lookup(db, "gelu:t=255,w=4096,dt=2", 4));
  const gpp_profile_row *first;
  size_t n = gpp_profile_db_rows_of(db, "matmul:t=256,in=1024,out=4096,dt=2",
                                    &first);
  cr_assert_eq(n, 4);
  for (size_t i = 1; i < n; i++)
    cr_assert_gt(first[i].micro_batch, first[i - 1].micro_batch);
  cr_assert_eq(gpp_profile_db_rows_of(db, "relu:t=1,w=1,dt=2", &first), 0);
  cr_assert_null(first);
  gpp_profile_db_destroy(db);
}

Test(profile_db, empty_table_round_trips) {
  gpp_profile_db *db = write_and_open(NULL, 0, "empty.h5");
  cr_assert_eq(db->n_rows, 0);
  gpp_profile_db_destroy(db);
}

Test(profile_db, writer_rejects_duplicates_and_leaves_nothing) {
  gpp_profile_row rows[N_SAMPLE];
  sample_rows(rows);
  rows[5] = rows[2];
  gpp_profile_meta meta = sample_meta();
  gpp_errctx err = {0};
  cr_assert_eq(gpp_profile_db_write(path_in_dir("dup.h5"), &meta, rows,
                                    N_SAMPLE, &err),
               GPP_EINVAL);
  cr_assert(strstr(err.msg, "two profile rows") != NULL, "%s", err.msg);
  cr_assert_neq(access(path_in_dir("dup.h5"), F_OK), 0);
}

Test(profile_db, writer_reports_unwritable_path) {
  gpp_profile_meta meta = sample_meta();
  gpp_errctx err = {0};
  cr_assert_eq(gpp_profile_db_write(path_in_dir("no/such/dir.h5"), &meta,
                                    NULL, 0, &err),
               GPP_EIO);
  /* Written through the common in-memory path: the path and the system's
   * reason, as for every output (issue 21). */
  cr_assert(strstr(err.msg, "no/such/dir.h5: No such file or directory"),
            "%s", err.msg);
}

/* ---- damaged and foreign files ---------------------------------------- */

static void expect_open_error(const char *path, int code, const char *what) {
  gpp_profile_db *db = (gpp_profile_db *)&db;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_profile_db_open(path, &db, &err), code, "%s", err.msg);
  cr_assert_null(db);
  cr_assert(strstr(err.msg, what) != NULL, "'%s' lacks '%s'", err.msg, what);
  cr_assert_eq(gpp_err_exit_status(code), 2);
}

Test(profile_db, text_file_is_not_hdf5) {
  FILE *f = fopen(path_in_dir("text.h5"), "w");
  fputs("name: h100\nops: [matmul]\n", f);
  fclose(f);
  expect_open_error(path_in_dir("text.h5"), GPP_EPARSE, "not an HDF5 file");
  expect_open_error(path_in_dir("absent.h5"), GPP_ENOENT, "cannot open");
}

static hid_t new_h5(const char *name) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fcreate(path_in_dir(name), H5F_ACC_TRUNC, H5P_DEFAULT,
                      H5P_DEFAULT);
  cr_assert_geq(f, 0);
  return f;
}

/* All root attributes but `skip`. */
static void put_meta(hid_t f, const char *skip) {
#define PUT(kind, name, v)                                                    \
  if (strcmp(skip, name)) gpp_h5_write_attr_##kind(f, name, v)
  PUT(int, "format_version", 1);
  PUT(str, "gpu_name", "H100");
  PUT(str, "driver_version", "13.0");
  PUT(str, "cuda_version", "13.0");
  PUT(str, "date", "2025-11-25T04:28:13Z");
  PUT(int, "sm_count", 132);
  PUT(int, "repetitions", 20);
  PUT(int, "warmup", 3);
  PUT(double, "sm_clock_hz", 1.98e9);
  PUT(double, "mem_clock_hz", 2.6e9);
#undef PUT
}

Test(profile_db, hdf5_without_ops_table) {
  hid_t f = new_h5("noops.h5");
  put_meta(f, "");
  H5Fclose(f);
  expect_open_error(path_in_dir("noops.h5"), GPP_EPARSE,
                    "missing table /ops");
}

Test(profile_db, hdf5_without_an_attribute) {
  hid_t f = new_h5("noattr.h5");
  put_meta(f, "sm_count");
  H5Fclose(f);
  expect_open_error(path_in_dir("noattr.h5"), GPP_EPARSE,
                    "missing attribute 'sm_count'");
}

Test(profile_db, attribute_of_wrong_type) {
  hid_t f = new_h5("attrtype.h5");
  put_meta(f, "gpu_name");
  gpp_h5_write_attr_int(f, "gpu_name", 7);
  H5Fclose(f);
  expect_open_error(path_in_dir("attrtype.h5"), GPP_EPARSE,
                    "attribute 'gpu_name' is an integer");
}

Test(profile_db, foreign_format_version) {
  hid_t f = new_h5("version.h5");
  put_meta(f, "format_version");
  gpp_h5_write_attr_int(f, "format_version", 9);
  H5Fclose(f);
  expect_open_error(path_in_dir("version.h5"), GPP_EPARSE,
                    "format version 9");
}

/* A one-row /ops table whose member `bad` is an int32 and which lacks
 * member `skip` (either may be NULL). */
static void put_ops(hid_t f, const char *bad, const char *skip) {
  static const char *names[] = {"signature", "micro_batch", "fwd_median",
                                "fwd_p10", "fwd_p90", "bwd_median",
                                "bwd_p10", "bwd_p90", "flops_fwd",
                                "flops_bwd", "bytes_fwd", "bytes_bwd"};
  hid_t s = H5Tcopy(H5T_C_S1);
  H5Tset_size(s, 32);
  hid_t t = H5Tcreate(H5T_COMPOUND, 32 + 11 * 8);
  size_t off = 0;
  for (size_t i = 0; i < 12; i++) {
    if (skip && strcmp(names[i], skip) == 0) continue;
    hid_t mt = i == 0 ? s : i == 1 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
    if (bad && strcmp(names[i], bad) == 0)
      mt = i == 0 ? H5T_NATIVE_INT : i == 1 ? H5T_NATIVE_DOUBLE
                                            : H5T_NATIVE_INT;
    H5Tinsert(t, names[i], off, mt);
    off += i == 0 ? 32 : 8;
  }
  unsigned char row[32 + 11 * 8] = {0};
  hsize_t dims[1] = {1};
  hid_t sp = H5Screate_simple(1, dims, NULL);
  hid_t d = H5Dcreate2(f, "ops", t, sp, H5P_DEFAULT, H5P_DEFAULT,
                       H5P_DEFAULT);
  H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, row);
  H5Dclose(d);
  H5Sclose(sp);
  H5Tclose(t);
  H5Tclose(s);
}

Test(profile_db, ops_member_of_wrong_type) {
  hid_t f = new_h5("membertype.h5");
  put_meta(f, "");
  put_ops(f, "micro_batch", NULL);
  H5Fclose(f);
  expect_open_error(path_in_dir("membertype.h5"), GPP_EPARSE,
                    "/ops member 'micro_batch' is a float, expected an "
                    "integer");
}

Test(profile_db, ops_member_missing) {
  hid_t f = new_h5("nomember.h5");
  put_meta(f, "");
  put_ops(f, NULL, "bwd_p90");
  H5Fclose(f);
  expect_open_error(path_in_dir("nomember.h5"), GPP_EPARSE,
                    "/ops lacks member 'bwd_p90'");
}

Test(profile_db, ops_row_with_bad_values) {
  hid_t f = new_h5("zerorow.h5");
  put_meta(f, "");
  put_ops(f, NULL, NULL); /* an all-zero row: empty signature */
  H5Fclose(f);
  expect_open_error(path_in_dir("zerorow.h5"), GPP_EPARSE,
                    "/ops row 0: bad signature");
}

Test(profile_db, ops_that_is_a_group) {
  hid_t f = new_h5("group.h5");
  put_meta(f, "");
  hid_t g = H5Gcreate2(f, "ops", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Gclose(g);
  H5Fclose(f);
  expect_open_error(path_in_dir("group.h5"), GPP_EPARSE,
                    "/ops is not a dataset");
}

/* ---- interpolation ----------------------------------------------------- */

static gpp_interp *curve(const double *b, const double *t, size_t n) {
  gpp_interp *ip = NULL;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_interp_create(b, t, n, &ip, &err), 0, "%s", err.msg);
  return ip;
}

Test(interp, exact_at_knots) {
  const double b[] = {1, 2, 4, 8, 16, 32};
  const double t[] = {7.3e-6, 7.9e-6, 1.13e-5, 2.02e-5, 3.87e-5, 7.71e-5};
  gpp_interp *ip = curve(b, t, 6);
  for (size_t i = 0; i < 6; i++) {
    bool ex = true;
    cr_assert_float_eq(gpp_interp_eval(ip, b[i], &ex), t[i], 1e-12 * t[i]);
    cr_assert(!ex);
  }
  bool ex = true;
  cr_assert_eq(gpp_interp_eval(ip, 0, &ex), 0); /* b = 0 costs nothing */
  cr_assert(!ex);
  gpp_interp_destroy(ip);
  gpp_interp_destroy(NULL);
}

Test(interp, power_laws_and_proportional_reproduced) {
  const double b[] = {1, 2, 4, 8, 16, 64, 256};
  double t[7], u[7];
  for (int i = 0; i < 7; i++) {
    t[i] = 3.17e-6 * pow(b[i], 0.83);
    u[i] = 2.385e-5 * b[i];
  }
  gpp_interp *ip = curve(b, t, 7), *iu = curve(b, u, 7);
  for (double x = 1; x <= 256; x *= 1.37) {
    bool ex = true;
    double want = 3.17e-6 * pow(x, 0.83);
    cr_assert_float_eq(gpp_interp_eval(ip, x, &ex), want, 1e-12 * want);
    cr_assert(!ex);
    cr_assert_float_eq(gpp_interp_eval(iu, x, NULL), 2.385e-5 * x,
                       1e-12 * x);
  }
  gpp_interp_destroy(ip);
  gpp_interp_destroy(iu);
}

Test(interp, extrapolation_is_linear_in_b_and_flagged) {
  /* t = a + c b: the line through the two nearest points is t itself. */
  const double a = 4.7e-6, c = 1.93e-6;
  const double b[] = {2, 4, 8, 16};
  double t[4];
  for (int i = 0; i < 4; i++) t[i] = a + c * b[i];
  gpp_interp *ip = curve(b, t, 4);
  bool ex = false;
  cr_assert_float_eq(gpp_interp_eval(ip, 100, &ex), a + c * 100, 1e-15);
  cr_assert(ex);
  ex = false;
  cr_assert_float_eq(gpp_interp_eval(ip, 1, &ex), a + c, 1e-15);
  cr_assert(ex);
  gpp_interp_destroy(ip);
}

Test(interp, single_point_and_steep_drop_scale_proportionally) {
  const double b1[] = {8}, t1[] = {2.4e-5};
  gpp_interp *ip = curve(b1, t1, 1);
  bool ex = false;
  cr_assert_float_eq(gpp_interp_eval(ip, 8, &ex), 2.4e-5, 1e-18);
  cr_assert(!ex);
  cr_assert_float_eq(gpp_interp_eval(ip, 32, &ex), 9.6e-5, 1e-17);
  cr_assert(ex);
  gpp_interp_destroy(ip);
  /* A line through (4, 1e-6) and (8, 9e-6) is negative at b = 1. */
  const double b2[] = {4, 8}, t2[] = {1e-6, 9e-6};
  ip = curve(b2, t2, 2);
  cr_assert_float_eq(gpp_interp_eval(ip, 1, &ex), 0.25e-6, 1e-18);
  cr_assert(ex);
  gpp_interp_destroy(ip);
}

Test(interp, rejects_bad_points) {
  gpp_interp *ip = NULL;
  gpp_errctx err = {0};
  const double b[] = {1, 4, 2}, t[] = {1e-6, 2e-6, 3e-6};
  cr_assert_eq(gpp_interp_create(b, t, 3, &ip, &err), GPP_EINVAL);
  cr_assert(strstr(err.msg, "increase") != NULL);
  const double z[] = {1e-6, 0, 3e-6};
  const double bb[] = {1, 2, 4};
  cr_assert_eq(gpp_interp_create(bb, z, 3, &ip, &err), GPP_EINVAL);
  cr_assert_eq(gpp_interp_create(bb, z, 0, &ip, &err), GPP_EINVAL);
  cr_assert_null(ip);
}

TestSuite(profile_costs, .init = make_dir, .fini = remove_dir);

Test(profile_costs, evaluates_every_signature) {
  gpp_profile_row rows[N_SAMPLE];
  sample_rows(rows);
  gpp_profile_db *db = write_and_open(rows, N_SAMPLE, "pc.h5");
  gpp_profile_costs *pc = NULL;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_profile_costs_create(db, &pc, &err), 0, "%s", err.msg);
  for (size_t i = 0; i < db->n_rows; i++) {
    const gpp_profile_row *r = &db->rows[i];
    double f, b;
    bool ex = true;
    cr_assert_eq(gpp_profile_costs_eval(pc, r->signature,
                                        (double)r->micro_batch, &f, &b, &ex),
                 0);
    cr_assert_float_eq(f, r->fwd.median, 1e-12 * f);
    cr_assert_float_eq(b, r->bwd.median, 1e-12 * b);
    cr_assert(!ex);
  }
  double f, b;
  bool ex;
  cr_assert_eq(gpp_profile_costs_eval(pc, "relu:t=1,w=2,dt=2", 4, &f, &b,
                                      &ex),
               GPP_ENOENT);
  gpp_profile_costs_destroy(pc);
  gpp_profile_costs_destroy(NULL);
  gpp_profile_db_destroy(db);
}

/* ---- the cost module with a profile ------------------------------------ */

TestSuite(costs, .init = make_dir, .fini = remove_dir);

/* x -> fc1 (profiled) -> act (relu, roofline with the fitted efficiency)
 * -> fc2 (override; profiled too) -> loss (roofline). */
static const char tiny_model[] =
    "name: tiny\n"
    "precision: fp32\n"
    "graph:\n"
    "  - {input: x, tokens: 4, width: 64}\n"
    "  - {linear: fc1, out: 128}\n"
    "  - {op: act, kind: relu}\n"
    "  - {linear: fc2, out: 64, time_per_sample: {fwd: 1 ms, bwd: 2 ms}}\n"
    "  - {loss: loss}\n";

static gpp_gpu_spec tiny_gpu(void) {
  gpp_gpu_spec g = {.name = "test-gpu", .peak_fp32 = 6e13,
                    .peak_fp16 = 1e15, .peak_bf16 = 1e15, .mem_bytes = 80e9,
                    .mem_bandwidth = 2e12, .launch_overhead = 4e-6,
                    .sm_count = 100, .clock_hz = 1.5e9,
                    .peak_fp16_simt = 1.2e14, .l2_bytes = 40e6,
                    .l2_bandwidth = 6e12, .hbm_efficiency = 0.8,
                    .smem_per_sm = 160e3};
  return g;
}

static gpp_model *load_tiny(void) {
  FILE *f = fopen(path_in_dir("tiny.yaml"), "w");
  cr_assert_not_null(f);
  fputs(tiny_model, f);
  fclose(f);
  gpp_model *m = NULL;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_model_load(path_in_dir("tiny.yaml"), NULL, 0, &m, &err),
               0, "%s", err.msg);
  return m;
}

static uint32_t op_index(const gpp_model *m, const char *name) {
  int64_t i = gpp_model_find(m, name);
  cr_assert_geq(i, 0, "no op %s", name);
  return (uint32_t)i;
}

#define RELU_EFF_MEM 0.5
#define RELU_LAUNCH 6e-6

/* fc1's and fc2's signatures at b = 1, 2, 4, 8 (times t(b) = 1e-5 b^0.7,
 * twice that backward), and a relu of another shape whose times follow a
 * memory-bound roofline at efficiency RELU_EFF_MEM. */
static size_t tiny_profile(const gpp_model *m, gpp_profile_row *rows) {
  const gpp_gpu_spec g = tiny_gpu();
  const char *ops[] = {"fc1", "fc2"};
  size_t n = 0;
  for (int k = 0; k < 2; k++) {
    const gpp_op *op = &m->ops[op_index(m, ops[k])];
    char sig[GPP_SIG_MAX];
    cr_assert_eq(gpp_op_signature(op, sig, sizeof sig), 0);
    for (int s = 0; s < 4; s++, n++) {
      gpp_profile_row *r = &rows[n];
      memset(r, 0, sizeof *r);
      snprintf(r->signature, GPP_SIG_MAX, "%s", sig);
      r->micro_batch = 1 << s;
      double t = 1e-5 * pow(r->micro_batch, 0.7) * (k + 1);
      r->fwd = (gpp_profile_stat){t, 0.9 * t, 1.1 * t};
      r->bwd = (gpp_profile_stat){2 * t, 1.8 * t, 2.2 * t};
      r->flops_fwd = op->flops_fwd * (double)r->micro_batch;
      r->flops_bwd = op->flops_bwd * (double)r->micro_batch;
    }
  }
  for (int s = 0; s < 4; s++, n++) {
    gpp_profile_row *r = &rows[n];
    memset(r, 0, sizeof *r);
    snprintf(r->signature, GPP_SIG_MAX, "relu:t=512,w=8192,dt=4");
    r->micro_batch = 1 << s;
    double elems = 512.0 * 8192 * (double)r->micro_batch;
    r->flops_fwd = r->flops_bwd = elems;
    r->bytes_fwd = 2 * elems * 4;
    r->bytes_bwd = 3 * elems * 4;
    double tf = r->bytes_fwd / (g.mem_bandwidth * RELU_EFF_MEM) + RELU_LAUNCH;
    double tb = r->bytes_bwd / (g.mem_bandwidth * RELU_EFF_MEM) + RELU_LAUNCH;
    r->fwd = (gpp_profile_stat){tf, tf, tf};
    r->bwd = (gpp_profile_stat){tb, tb, tb};
  }
  return n;
}

Test(costs, profiled_op_costs_its_median_at_profiled_sizes) {
  gpp_model *m = load_tiny();
  gpp_profile_row rows[12];
  size_t n = tiny_profile(m, rows);
  gpp_profile_db *db = write_and_open(rows, n, "tiny.h5");
  gpp_gpu_spec g = tiny_gpu();
  gpp_costs *c = NULL;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_costs_create(m, &g, db, &c, &err), 0, "%s", err.msg);
  uint32_t fc1 = op_index(m, "fc1");
  char sig[GPP_SIG_MAX];
  cr_assert_eq(gpp_op_signature(&m->ops[fc1], sig, sizeof sig), 0);
  for (int64_t b = 1; b <= 8; b *= 2) {
    const gpp_profile_row *r = gpp_profile_db_lookup(db, sig, b);
    cr_assert_not_null(r);
    gpp_op_cost oc = gpp_costs_op(c, fc1, (double)b);
    cr_assert_eq(oc.source, GPP_COST_PROFILE);
    cr_assert(!oc.extrapolated);
    cr_assert_float_eq(oc.fwd, r->fwd.median, 1e-12 * r->fwd.median);
    cr_assert_float_eq(oc.bwd, r->bwd.median, 1e-12 * r->bwd.median);
  }
  /* Between profiled sizes: the power law; outside: flagged. */
  gpp_op_cost oc = gpp_costs_op(c, fc1, 3);
  cr_assert_float_eq(oc.fwd, 1e-5 * pow(3, 0.7), 1e-9 * oc.fwd);
  cr_assert(!oc.extrapolated);
  oc = gpp_costs_op(c, fc1, 32);
  cr_assert(oc.extrapolated);
  cr_assert_gt(oc.fwd, 1e-5 * pow(8, 0.7));
  oc = gpp_costs_op(c, fc1, 0);
  cr_assert(oc.fwd == 0 && oc.bwd == 0 && !oc.extrapolated);
  gpp_costs_destroy(c);
  gpp_profile_db_destroy(db);
  gpp_model_destroy(m);
}

Test(costs, override_then_profile_then_kernel_model) {
  gpp_model *m = load_tiny();
  gpp_profile_row rows[12];
  size_t n = tiny_profile(m, rows);
  gpp_profile_db *db = write_and_open(rows, n, "tiny.h5");
  gpp_gpu_spec g = tiny_gpu();
  gpp_costs *c = NULL;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_costs_create(m, &g, db, &c, &err), 0, "%s", err.msg);
  /* fc2 has profile rows, but its time_per_sample wins. */
  gpp_op_cost oc = gpp_costs_op(c, op_index(m, "fc2"), 4);
  cr_assert_eq(oc.source, GPP_COST_OVERRIDE);
  cr_assert_float_eq(oc.fwd, 4e-3, 1e-15);
  cr_assert_float_eq(oc.bwd, 8e-3, 1e-15);
  /* The kernel model was fitted to fc1's 4 sizes x fwd/bwd (the relu rows
   * are of another shape, no op of the model). */
  cr_assert_eq(c->fit.n_points, 8);
  cr_assert(c->fit.fitted[2], "tile_cycles moves fc1's times");
  cr_assert(!c->fit.fitted[0], "no fp16 GEMM: tensor efficiency unfitted");
  cr_assert_eq(c->kp.math_eff_tensor, gpp_kparams_default.math_eff_tensor);
  cr_assert_leq(c->fit.median_after, c->fit.median_before);
  /* act has no row: the kernel model with the fitted parameters, a
   * memory-bound kernel at the fitted HBM efficiency. */
  uint32_t act = op_index(m, "act");
  const gpp_op *op = &m->ops[act];
  oc = gpp_costs_op(c, act, 16);
  cr_assert_eq(oc.source, GPP_COST_MODEL);
  cr_assert(!oc.extrapolated);
  double bw = g.mem_bandwidth * g.hbm_efficiency * c->kp.mem_eff;
  double want = fmax(op->flops_fwd * 16 / (g.peak_fp32 *
                                           c->kp.math_eff_simt),
                     op->bytes_fwd * 16 / bw) + g.launch_overhead;
  cr_assert_float_eq(oc.fwd, want, 1e-12 * want);
  uint32_t counts[GPP_COST__NSOURCES];
  gpp_costs_source_counts(c, counts);
  cr_assert_eq(counts[GPP_COST_OVERRIDE], 1);
  cr_assert_eq(counts[GPP_COST_PROFILE], 1);
  cr_assert_eq(counts[GPP_COST_MODEL], 3); /* x, act, loss */
  gpp_costs_destroy(c);

  /* Without the profile: fc1 is the kernel model, default parameters. */
  cr_assert_eq(gpp_costs_create(m, &g, NULL, &c, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_costs_op(c, op_index(m, "fc1"), 4).source,
               GPP_COST_MODEL);
  cr_assert_eq(c->kp.tile_cycles, gpp_kparams_default.tile_cycles);
  cr_assert_eq(c->fit.n_points, 0);
  gpp_costs_source_counts(c, counts);
  cr_assert_eq(counts[GPP_COST_PROFILE], 0);
  cr_assert_eq(counts[GPP_COST_MODEL], 4);
  gpp_costs_destroy(c);
  gpp_profile_db_destroy(db);
  gpp_model_destroy(m);
}

Test(costs, profiled_op_needs_no_peak) {
  gpp_model *m = load_tiny();
  gpp_profile_row rows[12];
  size_t n = tiny_profile(m, rows);
  gpp_profile_db *db = write_and_open(rows, n, "tiny.h5");
  gpp_gpu_spec g = tiny_gpu();
  g.peak_fp32 = 0; /* fc1 is measured; act and loss are memory-bound */
  gpp_costs *c = NULL;
  gpp_errctx err = {0};
  cr_assert_eq(gpp_costs_create(m, &g, db, &c, &err), 0, "%s", err.msg);
  cr_assert_eq(c->fit.n_points, 0); /* fc1 cannot be modelled: left out */
  gpp_costs_destroy(c);
  /* Without the profile fc1's GEMM needs the fp32 peak. */
  c = (gpp_costs *)&c;
  cr_assert_eq(gpp_costs_create(m, &g, NULL, &c, &err), GPP_EINVAL);
  cr_assert_null(c);
  cr_assert(strstr(err.msg, "op 'fc1'") != NULL, "%s", err.msg);
  cr_assert(strstr(err.msg, "no fp32 peak") != NULL, "%s", err.msg);
  gpp_profile_db_destroy(db);
  gpp_model_destroy(m);
}

/* The precision table (configs/experiments/plans/README.md) as
 * gpp_costs_op_dtype applies it per kind of op, and the peak MFU divides by (gpp_costs_gemm_peak). */
Test(costs, precision_picks_each_ops_dtype_and_the_mfu_peak) {
  static const struct {
    const char *prec;
    int bytes;
    gpp_dtype mm, attn, other;
  } t[] = {{"fp32", 4, GPP_DT_FP32, GPP_DT_FP32, GPP_DT_FP32},
           {"tf32", 4, GPP_DT_TF32, GPP_DT_TF32, GPP_DT_FP32},
           {"fp16", 2, GPP_DT_FP16, GPP_DT_FP16, GPP_DT_FP16},
           {"bf16", 2, GPP_DT_BF16, GPP_DT_BF16, GPP_DT_BF16},
           {"fp8", 2, GPP_DT_FP8, GPP_DT_BF16, GPP_DT_BF16}};
  gpp_gpu_spec g = tiny_gpu();
  g.peak_tf32 = 5e14;
  g.peak_fp8 = 2e15;
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    gpp_model m = {.precision = t[i].prec, .dtype_bytes = t[i].bytes};
    gpp_op mm = {.kind = GPP_OP_MATMUL, .dtype_bytes = t[i].bytes};
    gpp_op at = {.kind = GPP_OP_ATTENTION, .dtype_bytes = t[i].bytes};
    gpp_op ln = {.kind = GPP_OP_LAYERNORM, .dtype_bytes = t[i].bytes};
    cr_assert_eq(gpp_costs_op_dtype(&m, &mm), t[i].mm, "%s", t[i].prec);
    cr_assert_eq(gpp_costs_op_dtype(&m, &at), t[i].attn, "%s", t[i].prec);
    cr_assert_eq(gpp_costs_op_dtype(&m, &ln), t[i].other, "%s", t[i].prec);
    gpp_costs c = {.model = &m, .gpu = g};
    cr_assert_eq(gpp_costs_gemm_peak(&c), gpp_dtype_peak(&g, t[i].mm));
  }
  /* An op stored unlike its model runs by its element size. */
  gpp_model m = {.precision = "bf16", .dtype_bytes = 2};
  gpp_op wide = {.kind = GPP_OP_MATMUL, .dtype_bytes = 4};
  cr_assert_eq(gpp_costs_op_dtype(&m, &wide), GPP_DT_FP32);
}
