/* h5.c -- checked scalar attributes and string types, so that a foreign or
 * damaged file is reported by what it lacks instead of by HDF5's error
 * stack. */
#include "sim/common/h5.h"

#include <stdio.h>
#include <string.h>

const char *gpp_h5_class_name(H5T_class_t c) {
  switch (c) {
  case H5T_INTEGER: return "an integer";
  case H5T_FLOAT: return "a float";
  case H5T_STRING: return "a string";
  case H5T_COMPOUND: return "a compound";
  default: return "another HDF5 type";
  }
}

hid_t gpp_h5_str_type(size_t len) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, len ? len : 1);
  H5Tset_strpad(t, H5T_STR_NULLPAD);
  return t;
}

/* ---- writing --------------------------------------------------------- */

/* A scalar attribute stored as file_type from a value of mem_type. */
static int write_attr(hid_t loc, const char *name, hid_t file_type,
                      hid_t mem_type, const void *v) {
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(loc, name, file_type, sp, H5P_DEFAULT, H5P_DEFAULT);
  herr_t rc = a < 0 ? -1 : H5Awrite(a, mem_type, v);
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  return rc < 0 ? -1 : 0;
}

int gpp_h5_write_attr_int(hid_t loc, const char *name, int v) {
  return write_attr(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT, &v);
}

int gpp_h5_write_attr_u64(hid_t loc, const char *name, unsigned long long v) {
  return write_attr(loc, name, H5T_STD_U64LE, H5T_NATIVE_ULLONG, &v);
}

int gpp_h5_write_attr_double(hid_t loc, const char *name, double v) {
  return write_attr(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

int gpp_h5_write_attr_str(hid_t loc, const char *name, const char *v) {
  hid_t t = gpp_h5_str_type(strlen(v));
  int rc = write_attr(loc, name, t, t, v);
  H5Tclose(t);
  return rc;
}

int gpp_h5_write_table(hid_t loc, const char *name, hid_t type, size_t n,
                       const void *rows, hid_t dcpl) {
  hsize_t dims[1] = {n};
  hid_t sp = H5Screate_simple(1, dims, NULL), packed = H5Tcopy(type);
  H5Tpack(packed);
  hid_t d = H5Dcreate2(loc, name, packed, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  herr_t rc = d < 0 ? -1 : n ? H5Dwrite(d, type, H5S_ALL, H5S_ALL,
                                        H5P_DEFAULT, rows) : 0;
  if (d >= 0) H5Dclose(d);
  H5Tclose(packed);
  H5Sclose(sp);
  return rc < 0 ? -1 : 0;
}

/* ---- reading --------------------------------------------------------- */

/* Opens a scalar attribute of class cls, or raises. */
static int open_attr(hid_t loc, const char *where, const char *name,
                     H5T_class_t cls, hid_t *attr, gpp_errctx *err) {
  if (H5Aexists(loc, name) <= 0)
    GPP_RAISE(err, GPP_EPARSE, "%s: missing attribute '%s'", where, name);
  *attr = H5Aopen(loc, name, H5P_DEFAULT);
  hid_t type = H5Aget_type(*attr), space = H5Aget_space(*attr);
  H5T_class_t got = H5Tget_class(type);
  hssize_t npoints = H5Sget_simple_extent_npoints(space);
  H5Tclose(type);
  H5Sclose(space);
  if (got == cls && npoints == 1) return 0;
  H5Aclose(*attr);
  GPP_RAISE(err, GPP_EPARSE,
            "%s: attribute '%s' is %s with %lld values, expected %s scalar",
            where, name, gpp_h5_class_name(got), (long long)npoints,
            gpp_h5_class_name(cls));
}

static herr_t read_str(hid_t a, char *out, size_t len) {
  hid_t ft = H5Aget_type(a);
  htri_t vlen = H5Tis_variable_str(ft);
  H5Tclose(ft);
  hid_t mt = H5Tcopy(H5T_C_S1);
  herr_t st;
  if (vlen > 0) {
    char *s = NULL;
    H5Tset_size(mt, H5T_VARIABLE);
    st = H5Aread(a, mt, &s);
    if (st >= 0) snprintf(out, len, "%s", s ? s : "");
    if (s) H5free_memory(s);
  } else {
    H5Tset_size(mt, len);
    H5Tset_strpad(mt, H5T_STR_NULLTERM);
    st = H5Aread(a, mt, out);
    out[len - 1] = '\0';
  }
  H5Tclose(mt);
  return st;
}

/* A checked read: mem < 0 reads a string into out[len], else a value of mem. */
static int read_attr(hid_t loc, const char *where, const char *name,
                     H5T_class_t cls, hid_t mem, void *out, size_t len,
                     gpp_errctx *err) {
  hid_t a = -1;
  GPP_TRY(open_attr(loc, where, name, cls, &a, err));
  herr_t st = mem < 0 ? read_str(a, out, len) : H5Aread(a, mem, out);
  H5Aclose(a);
  if (st < 0)
    GPP_RAISE(err, GPP_EPARSE, "%s: cannot read attribute '%s'", where, name);
  return 0;
}

int gpp_h5_attr_int(hid_t loc, const char *where, const char *name, int *out,
                    gpp_errctx *err) {
  return read_attr(loc, where, name, H5T_INTEGER, H5T_NATIVE_INT, out, 0, err);
}

int gpp_h5_attr_u64(hid_t loc, const char *where, const char *name,
                    unsigned long long *out, gpp_errctx *err) {
  return read_attr(loc, where, name, H5T_INTEGER, H5T_NATIVE_ULLONG, out, 0,
                   err);
}

int gpp_h5_attr_double(hid_t loc, const char *where, const char *name,
                       double *out, gpp_errctx *err) {
  return read_attr(loc, where, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, out, 0,
                   err);
}

int gpp_h5_attr_str(hid_t loc, const char *where, const char *name, char *out,
                    size_t len, gpp_errctx *err) {
  return read_attr(loc, where, name, H5T_STRING, -1, out, len, err);
}
