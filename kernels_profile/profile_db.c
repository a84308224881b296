/* profile_db.c -- op signatures, and reading, validating and looking up the
 * HDF5 profile database (the writer is in profile_db_write.c). */
#include "kernels_profile/profile_db.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_profile/profile_h5.h"
#include "sim/common/h5.h"

static const char *const kind_names[] = {
#define GPP__OPK_NAME(name, str) str,
    GPP_OP_KIND_MAP(GPP__OPK_NAME)
#undef GPP__OPK_NAME
};

/* ---- signatures ------------------------------------------------------ */

bool gpp_op_has_bias(const gpp_op *op) {
  double in = (double)op->shape.in_width, w = (double)op->shape.width;
  return op->kind == GPP_OP_MATMUL && op->param_count == in * w + w;
}

/* The fields that determine an op's kernels and their sizes (what
 * kernels_profile/profiler/ops.cu reads of the op), per sample. */
static int shape_fields(const gpp_op *op, char *buf, size_t len) {
  const gpp_op_shape *s = &op->shape;
  long long t = s->tokens, w = s->width, in = s->in_width;
  switch (op->kind) {
  case GPP_OP_MATMUL:
    return snprintf(buf, len, "t=%lld,in=%lld,out=%lld%s", t, in, w,
                    gpp_op_has_bias(op) ? ",bias=1" : "");
  case GPP_OP_ATTENTION:
    return snprintf(buf, len, "t=%lld,w=%lld,h=%lld", t, w,
                    (long long)s->heads);
  case GPP_OP_EMBEDDING:
    return snprintf(buf, len, "t=%lld,rows=%lld,w=%lld,bag=%lld", t,
                    (long long)s->rows, w, (long long)s->bag);
  case GPP_OP_CONCAT:
  case GPP_OP_ELEMENTWISE:
    return snprintf(buf, len, "t=%lld,w=%lld,n=%u", t, w, op->n_inputs);
  case GPP_OP_INTERACTION:
    return snprintf(buf, len, "t=%lld,in=%lld,out=%lld,n=%u", t, in, w,
                    op->n_inputs);
  case GPP_OP_LOSS:
    return snprintf(buf, len, "in=%lld", in);
  case GPP_OP_POOL:
    return snprintf(buf, len, "in_t=%lld,w=%lld", (long long)s->in_tokens, w);
  case GPP_OP_CUSTOM:
    return snprintf(buf, len, "t=%lld,in=%lld,out=%lld", t, in, w);
  default:
    return snprintf(buf, len, "t=%lld,w=%lld", t, w);
  }
}

int gpp_op_signature(const gpp_op *op, char *buf, size_t len) {
  if (len == 0 || (unsigned)op->kind >= GPP_OP__NKINDS) return GPP_ERANGE;
  char shape[GPP_SIG_MAX];
  int n = shape_fields(op, shape, sizeof shape);
  if (n < 0 || (size_t)n >= sizeof shape) return GPP_ERANGE;
  n = snprintf(buf, len, "%s:%s,dt=%d", kind_names[op->kind], shape,
               op->dtype_bytes);
  return n < 0 || (size_t)n >= len ? GPP_ERANGE : 0;
}

const char *gpp_signature_kind_name(int kind) {
  return kind >= 0 && kind < GPP_OP__NKINDS ? kind_names[kind] : "?";
}

int gpp_signature_kind(const char *sig) {
  const char *colon = strchr(sig, ':');
  if (colon == NULL) return -1;
  size_t n = (size_t)(colon - sig);
  for (int k = 0; k < GPP_OP__NKINDS; k++)
    if (strlen(kind_names[k]) == n && strncmp(kind_names[k], sig, n) == 0)
      return k;
  return -1;
}

int gpp_signature_dtype(const char *sig) {
  const char *dt = strstr(sig, ",dt=");
  if (dt == NULL) return 0;
  char *end;
  long v = strtol(dt + 4, &end, 10);
  return *end == '\0' && v > 0 && v <= 16 ? (int)v : 0;
}

/* ---- ordering and lookup --------------------------------------------- */

int gpp__profile_row_cmp(const void *a, const void *b) {
  const gpp_profile_row *x = a, *y = b;
  int c = strcmp(x->signature, y->signature);
  if (c != 0) return c;
  return (x->micro_batch > y->micro_batch) - (x->micro_batch < y->micro_batch);
}

const gpp_profile_row *gpp_profile_db_lookup(const gpp_profile_db *db,
                                             const char *sig,
                                             int64_t micro_batch) {
  gpp_profile_row key;
  if (strlen(sig) >= sizeof key.signature) return NULL;
  snprintf(key.signature, sizeof key.signature, "%s", sig);
  key.micro_batch = micro_batch;
  return bsearch(&key, db->rows, db->n_rows, sizeof key,
                 gpp__profile_row_cmp);
}

size_t gpp_profile_db_rows_of(const gpp_profile_db *db, const char *sig,
                              const gpp_profile_row **first) {
  size_t lo = 0, hi = db->n_rows;
  while (lo < hi) { /* first row whose signature is >= sig */
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(db->rows[mid].signature, sig) < 0) lo = mid + 1;
    else hi = mid;
  }
  size_t end = lo;
  while (end < db->n_rows && strcmp(db->rows[end].signature, sig) == 0) end++;
  *first = end > lo ? &db->rows[lo] : NULL;
  return end - lo;
}

/* ---- reading --------------------------------------------------------- */

static int check_hdf5(const char *path, gpp_errctx *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    GPP_RAISE(err, GPP_ENOENT, "%s: cannot open the profile database",
              path);
  fclose(f);
  if (H5Fis_hdf5(path) <= 0)
    GPP_RAISE(err, GPP_EPARSE,
              "%s: not an HDF5 file (expected a profile database written by "
              "gppsim-profile)",
              path);
  return 0;
}

static int read_meta(hid_t file, const char *path, gpp_profile_meta *m,
                     gpp_errctx *err) {
  GPP_TRY(gpp_h5_attr_int(file, path, "format_version", &m->format_version,
                          err));
  if (m->format_version != GPP_PROFILE_FORMAT_VERSION)
    GPP_RAISE(err, GPP_EPARSE,
              "%s: profile format version %d, expected %d", path,
              m->format_version, GPP_PROFILE_FORMAT_VERSION);
  GPP_TRY(gpp_h5_attr_str(file, path, "gpu_name", m->gpu_name,
                          sizeof m->gpu_name, err));
  GPP_TRY(gpp_h5_attr_str(file, path, "driver_version", m->driver_version,
                          sizeof m->driver_version, err));
  GPP_TRY(gpp_h5_attr_str(file, path, "cuda_version", m->cuda_version,
                          sizeof m->cuda_version, err));
  GPP_TRY(gpp_h5_attr_str(file, path, "date", m->date, sizeof m->date, err));
  GPP_TRY(gpp_h5_attr_int(file, path, "sm_count", &m->sm_count, err));
  GPP_TRY(gpp_h5_attr_int(file, path, "repetitions", &m->repetitions, err));
  GPP_TRY(gpp_h5_attr_int(file, path, "warmup", &m->warmup, err));
  GPP_TRY(gpp_h5_attr_double(file, path, "sm_clock_hz", &m->sm_clock_hz,
                             err));
  return gpp_h5_attr_double(file, path, "mem_clock_hz", &m->mem_clock_hz,
                            err);
}

static int bad_number(double v, int positive) {
  return !isfinite(v) || v < 0 || (positive && v == 0);
}

/* No single kernel runs for an hour (the bundled profiles' longest take
 * milliseconds): a larger time is a damaged file, refused at load rather
 * than blamed on a plan later. */
#define MAX_KERNEL_TIME_S 3600.0

static int implausible_time(const gpp_profile_row *r) {
  const double t[] = {r->fwd.median, r->bwd.median, r->fwd.p10, r->fwd.p90,
                      r->bwd.p10, r->bwd.p90};
  for (size_t k = 0; k < sizeof t / sizeof t[0]; k++)
    if (t[k] > MAX_KERNEL_TIME_S) return 1;
  return 0;
}

static int check_row(const gpp_profile_row *r, size_t i, const char *path,
                     gpp_errctx *err) {
  if (r->signature[0] == '\0' || gpp_signature_kind(r->signature) < 0)
    GPP_RAISE(err, GPP_EPARSE, "%s: /ops row %zu: bad signature '%s'", path,
              i, r->signature);
  if (r->micro_batch < 1)
    GPP_RAISE(err, GPP_EPARSE, "%s: /ops row %zu (%s): micro_batch %lld < 1",
              path, i, r->signature, (long long)r->micro_batch);
  const double pos[] = {r->fwd.median, r->bwd.median};
  const double nonneg[] = {r->fwd.p10, r->fwd.p90, r->bwd.p10, r->bwd.p90,
                           r->flops_fwd, r->flops_bwd, r->bytes_fwd,
                           r->bytes_bwd};
  int bad = bad_number(pos[0], 1) || bad_number(pos[1], 1);
  for (size_t k = 0; k < sizeof nonneg / sizeof nonneg[0]; k++)
    bad |= bad_number(nonneg[k], 0);
  if (bad)
    GPP_RAISE(err, GPP_EPARSE,
              "%s: /ops row %zu (%s, b=%lld): times must be finite and "
              "positive, FLOPs and bytes finite and non-negative",
              path, i, r->signature, (long long)r->micro_batch);
  if (implausible_time(r))
    GPP_RAISE(err, GPP_EPARSE,
              "%s: /ops row %zu (%s, b=%lld): a time over %g s per kernel",
              path, i, r->signature, (long long)r->micro_batch,
              MAX_KERNEL_TIME_S);
  return 0;
}

static int check_rows(gpp_profile_db *db, gpp_errctx *err) {
  for (size_t i = 0; i < db->n_rows; i++)
    GPP_TRY(check_row(&db->rows[i], i, db->path, err));
  qsort(db->rows, db->n_rows, sizeof db->rows[0], gpp__profile_row_cmp);
  for (size_t i = 1; i < db->n_rows; i++)
    if (gpp__profile_row_cmp(&db->rows[i - 1], &db->rows[i]) == 0)
      GPP_RAISE(err, GPP_EPARSE, "%s: /ops has two rows for (%s, b=%lld)",
                db->path, db->rows[i].signature,
                (long long)db->rows[i].micro_batch);
  return 0;
}

static int read_file(gpp_profile_db *db, gpp_errctx *err) {
  hid_t file = H5Fopen(db->path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0)
    GPP_RAISE(err, GPP_EPARSE,
              "%s: cannot open as HDF5 (damaged or truncated file?)",
              db->path);
  int rc = read_meta(file, db->path, &db->meta, err);
  if (rc == 0)
    rc = gpp__h5_read_ops(file, db->path, &db->rows, &db->n_rows, err);
  H5Fclose(file);
  return rc;
}

int gpp_profile_db_open(const char *path, gpp_profile_db **out,
                        gpp_errctx *err) {
  *out = NULL;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  if (strlen(path) >= sizeof((gpp_profile_db *)0)->path)
    GPP_RAISE(err, GPP_EINVAL, "profile path too long: %s", path);
  GPP_TRY(check_hdf5(path, err));
  gpp_profile_db *db = gpp_calloc(err, 1, sizeof *db);
  if (db == NULL) return err->code;
  snprintf(db->path, sizeof db->path, "%s", path);
  int rc = read_file(db, err);
  if (rc == 0) rc = check_rows(db, err);
  if (rc != 0) {
    gpp_profile_db_destroy(db);
    return rc;
  }
  *out = db;
  return 0;
}

void gpp_profile_db_destroy(gpp_profile_db *db) {
  if (db == NULL) return;
  free(db->rows);
  free(db);
}
