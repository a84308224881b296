/* h5.c -- checked scalar attributes and string types, so that a foreign or
 * damaged file is reported by what it lacks instead of by HDF5's error
 * stack. */
#include "sim/common/h5.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/outfile.h"

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

/* ---- failures and whole-file writes ----------------------------------- */

static char last_reason[256];

/* HDF5's file drivers put the system's message in the error description
 * as "... error message = 'No space left on device', ...". */
static herr_t find_reason(unsigned n, const H5E_error2_t *e, void *data) {
  (void)n;
  (void)data;
  const char *m = e->desc ? strstr(e->desc, "error message = '") : NULL;
  if (m == NULL || last_reason[0] != '\0') return 0;
  m += strlen("error message = '");
  snprintf(last_reason, sizeof last_reason, "%.*s", (int)strcspn(m, "'"), m);
  return 0;
}

static herr_t on_error(hid_t stack, void *data) {
  (void)data;
  H5Ewalk2(stack, H5E_WALK_DOWNWARD, find_reason, NULL);
  return 0;
}

void gpp_h5_init(void) { H5dont_atexit(); }

void gpp_h5_quiet(void) {
  last_reason[0] = '\0';
  H5Eset_auto2(H5E_DEFAULT, on_error, NULL);
}

const char *gpp_h5_reason(void) {
  static char out[sizeof last_reason];
  snprintf(out, sizeof out, "%s",
           last_reason[0] ? last_reason : "an HDF5 failure");
  last_reason[0] = '\0';
  return out;
}

hid_t gpp_h5_mem_create(void) {
  static unsigned serial;
  char name[64];
  snprintf(name, sizeof name, "gppsim-memory-file-%u", serial++);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0) return -1;
  hid_t f = H5Pset_fapl_core(fapl, 1 << 20, 0) < 0
                ? -1
                : H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  return f;
}

int gpp_h5_mem_save(hid_t file, const char *path, gpp_errctx *err) {
  ssize_t n = H5Fflush(file, H5F_SCOPE_GLOBAL) < 0
                  ? -1 : H5Fget_file_image(file, NULL, 0);
  char *image = n > 0 ? malloc((size_t)n) : NULL;
  if (image != NULL && H5Fget_file_image(file, image, (size_t)n) != n) n = -1;
  herr_t closed = H5Fclose(file);
  int rc = 0;
  if (image == NULL || n <= 0 || closed < 0)
    rc = GPP_ERR(err, image == NULL && n > 0 ? GPP_ENOMEM : GPP_EIO,
                 "cannot build the HDF5 image of %s: %s", path,
                 gpp_h5_reason());
  if (rc == 0) rc = gpp_outfile_write_text(path, image, (size_t)n, err);
  free(image);
  return rc;
}

/* ---- sizes checked against the file ----------------------------------- */

#define DEFLATE_MAX_RATIO 1032.0

/* Whether n elements of dataset d can be in its file. */
static bool fits_file(hid_t d, hsize_t n) {
  hid_t f = H5Iget_file_id(d), t = H5Dget_type(d), dcpl = H5Dget_create_plist(d);
  hsize_t fsize = 0;
  if (f >= 0) H5Fget_filesize(f, &fsize);
  double elem = t >= 0 ? (double)H5Tget_size(t) : 0;
  double room = (double)fsize * (dcpl >= 0 && H5Pget_nfilters(dcpl) > 0
                                     ? DEFLATE_MAX_RATIO : 1.0);
  if (f >= 0) H5Fclose(f);
  if (t >= 0) H5Tclose(t);
  if (dcpl >= 0) H5Pclose(dcpl);
  return elem > 0 && (double)n * elem <= room;
}

int gpp_h5_check_rows(hid_t d, const char *where, const char *name,
                      hsize_t n, gpp_errctx *err) {
  if (fits_file(d, n)) return 0;
  GPP_RAISE(err, GPP_EPARSE,
            "%s: dataset '%s' claims %llu rows, more than the file holds",
            where, name, (unsigned long long)n);
}

int gpp_h5_open_rows(hid_t loc, const char *where, const char *name,
                     hid_t *d, hsize_t *n, gpp_errctx *err) {
  *n = 0;
  *d = H5Lexists(loc, name, H5P_DEFAULT) > 0
           ? H5Dopen2(loc, name, H5P_DEFAULT) : -1;
  if (*d < 0) GPP_RAISE(err, GPP_EPARSE, "%s: no dataset '%s'", where, name);
  hid_t sp = H5Dget_space(*d);
  int ndims = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
  if (ndims == 1) H5Sget_simple_extent_dims(sp, n, NULL);
  if (sp >= 0) H5Sclose(sp);
  int rc = ndims == 1 ? gpp_h5_check_rows(*d, where, name, *n, err)
                      : GPP_ERR(err, GPP_EPARSE, "%s: dataset '%s' is not "
                                "one-dimensional", where, name);
  if (rc == 0) return 0;
  H5Dclose(*d);
  *d = -1;
  return rc;
}

int gpp_h5_read_text(hid_t loc, const char *where, const char *name,
                     char **out, gpp_errctx *err) {
  *out = NULL;
  hid_t d = H5Lexists(loc, name, H5P_DEFAULT) > 0
                ? H5Dopen2(loc, name, H5P_DEFAULT) : -1;
  hid_t t = d < 0 ? -1 : H5Dget_type(d);
  bool ok = t >= 0 && H5Tget_class(t) == H5T_STRING &&
            H5Tis_variable_str(t) == 0 && fits_file(d, 1);
  size_t len = ok ? H5Tget_size(t) : 0;
  *out = ok ? calloc(len + 1, 1) : NULL;
  herr_t rc = *out ? H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) : -1;
  if (t >= 0) H5Tclose(t);
  if (d >= 0) H5Dclose(d);
  if (rc >= 0) return 0;
  free(*out);
  *out = NULL;
  GPP_RAISE(err, GPP_EPARSE, "%s: cannot read the string dataset '%s'",
            where, name);
}

int gpp_h5_write_text(hid_t loc, const char *name, const char *text,
                      hid_t dcpl) {
  hid_t t = gpp_h5_str_type(strlen(text));
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t d = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  herr_t rc = d < 0 ? -1 : H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                    text);
  if (d >= 0) H5Dclose(d);
  H5Sclose(sp);
  H5Tclose(t);
  return rc < 0 ? -1 : 0;
}
