/* profile_h5.c -- the /ops row type and its checked reader, so that a
 * foreign or damaged file is reported by what it lacks instead of by HDF5's
 * error stack. */
#include "kernels_profile/profile_h5.h"
#include "sim/common/h5.h"

#include <stddef.h>
#include <stdlib.h>

typedef struct member {
  const char *name;
  size_t offset;
  H5T_class_t cls;
} member;

#define ROW_MEMBER(name, field, cls)                                          \
  { name, offsetof(gpp_profile_row, field), cls }

static const member members[] = {
    ROW_MEMBER("signature", signature, H5T_STRING),
    ROW_MEMBER("micro_batch", micro_batch, H5T_INTEGER),
    ROW_MEMBER("fwd_median", fwd.median, H5T_FLOAT),
    ROW_MEMBER("fwd_p10", fwd.p10, H5T_FLOAT),
    ROW_MEMBER("fwd_p90", fwd.p90, H5T_FLOAT),
    ROW_MEMBER("bwd_median", bwd.median, H5T_FLOAT),
    ROW_MEMBER("bwd_p10", bwd.p10, H5T_FLOAT),
    ROW_MEMBER("bwd_p90", bwd.p90, H5T_FLOAT),
    ROW_MEMBER("flops_fwd", flops_fwd, H5T_FLOAT),
    ROW_MEMBER("flops_bwd", flops_bwd, H5T_FLOAT),
    ROW_MEMBER("bytes_fwd", bytes_fwd, H5T_FLOAT),
    ROW_MEMBER("bytes_bwd", bytes_bwd, H5T_FLOAT),
};
#define N_MEMBERS (sizeof members / sizeof members[0])

static hid_t member_type(H5T_class_t cls) {
  if (cls == H5T_INTEGER) return H5Tcopy(H5T_NATIVE_INT64);
  if (cls == H5T_FLOAT) return H5Tcopy(H5T_NATIVE_DOUBLE);
  hid_t s = H5Tcopy(H5T_C_S1);
  H5Tset_size(s, GPP_SIG_MAX);
  H5Tset_strpad(s, H5T_STR_NULLTERM);
  return s;
}

hid_t gpp__h5_row_type(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(gpp_profile_row));
  if (t < 0) return t;
  for (size_t i = 0; i < N_MEMBERS; i++) {
    hid_t m = member_type(members[i].cls);
    herr_t st = H5Tinsert(t, members[i].name, members[i].offset, m);
    H5Tclose(m);
    if (st < 0) {
      H5Tclose(t);
      return -1;
    }
  }
  return t;
}

/* ---- the /ops table -------------------------------------------------- */

static int check_string_member(hid_t ft, int idx, const char *path,
                               gpp_errctx *err) {
  hid_t mt = H5Tget_member_type(ft, (unsigned)idx);
  htri_t vlen = H5Tis_variable_str(mt);
  size_t size = H5Tget_size(mt);
  H5Tclose(mt);
  if (vlen == 0 && size <= GPP_SIG_MAX) return 0;
  GPP_RAISE(err, GPP_EPARSE,
            "%s: /ops member 'signature' must be a fixed-length string of at "
            "most %d bytes",
            path, GPP_SIG_MAX);
}

static int check_members(hid_t ft, const char *path, gpp_errctx *err) {
  if (H5Tget_class(ft) != H5T_COMPOUND)
    GPP_RAISE(err, GPP_EPARSE, "%s: /ops is %s, expected a compound table",
              path, gpp_h5_class_name(H5Tget_class(ft)));
  for (size_t i = 0; i < N_MEMBERS; i++) {
    int idx = H5Tget_member_index(ft, members[i].name);
    if (idx < 0)
      GPP_RAISE(err, GPP_EPARSE, "%s: /ops lacks member '%s'", path,
                members[i].name);
    H5T_class_t cls = H5Tget_member_class(ft, (unsigned)idx);
    if (cls != members[i].cls)
      GPP_RAISE(err, GPP_EPARSE, "%s: /ops member '%s' is %s, expected %s",
                path, members[i].name, gpp_h5_class_name(cls),
                gpp_h5_class_name(members[i].cls));
    if (cls == H5T_STRING) GPP_TRY(check_string_member(ft, idx, path, err));
  }
  return 0;
}

static int ops_extent(hid_t ds, const char *path, size_t *n,
                      gpp_errctx *err) {
  hid_t space = H5Dget_space(ds);
  int rank = H5Sget_simple_extent_ndims(space);
  hsize_t dims[1] = {0};
  if (rank == 1) H5Sget_simple_extent_dims(space, dims, NULL);
  H5Sclose(space);
  if (rank != 1)
    GPP_RAISE(err, GPP_EPARSE, "%s: /ops has rank %d, expected 1", path,
              rank);
  *n = (size_t)dims[0];
  return 0;
}

static int read_rows(hid_t ds, const char *path, size_t n,
                     gpp_profile_row **rows, gpp_errctx *err) {
  *rows = gpp_calloc(err, n ? n : 1, sizeof **rows);
  if (*rows == NULL) return err->code;
  if (n == 0) return 0;
  hid_t mt = gpp__h5_row_type();
  herr_t st = H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *rows);
  H5Tclose(mt);
  if (st < 0)
    GPP_RAISE(err, GPP_EPARSE, "%s: cannot read the /ops table", path);
  for (size_t i = 0; i < n; i++)
    (*rows)[i].signature[GPP_SIG_MAX - 1] = '\0';
  return 0;
}

static int read_dataset(hid_t ds, const char *path, gpp_profile_row **rows,
                        size_t *n, gpp_errctx *err) {
  hid_t ft = H5Dget_type(ds);
  int rc = check_members(ft, path, err);
  H5Tclose(ft);
  if (rc == 0) rc = ops_extent(ds, path, n, err);
  if (rc == 0) rc = gpp_h5_check_rows(ds, path, "/ops", *n, err);
  if (rc == 0) rc = read_rows(ds, path, *n, rows, err);
  return rc;
}

int gpp__h5_read_ops(hid_t file, const char *path, gpp_profile_row **rows,
                     size_t *n_rows, gpp_errctx *err) {
  *rows = NULL;
  *n_rows = 0;
  if (H5Lexists(file, "ops", H5P_DEFAULT) <= 0)
    GPP_RAISE(err, GPP_EPARSE, "%s: missing table /ops", path);
  hid_t ds = H5Dopen2(file, "ops", H5P_DEFAULT);
  if (ds < 0)
    GPP_RAISE(err, GPP_EPARSE, "%s: /ops is not a dataset", path);
  int rc = read_dataset(ds, path, rows, n_rows, err);
  H5Dclose(ds);
  if (rc != 0) {
    free(*rows);
    *rows = NULL;
    *n_rows = 0;
  }
  return rc;
}
