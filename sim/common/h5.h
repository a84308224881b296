/* h5.h -- small HDF5 helpers shared by every module that reads or writes
 * HDF5 (results, sweeps, the profile database, measured runs): checked
 * scalar attributes and fixed-length string types.  Writers store
 * little-endian file types, so the bytes do not depend on the host. */
#ifndef GPP_COMMON_H5_H
#define GPP_COMMON_H5_H

#include <hdf5.h>
#include <stddef.h>

#include "sim/common/err.h"

/* "an integer", "a float", ... for error messages. */
const char *gpp_h5_class_name(H5T_class_t c);

/* A fixed-length, null-padded C string type of len bytes (at least 1);
 * the caller closes it. */
hid_t gpp_h5_str_type(size_t len);

/* Scalar attributes; 0 on success, -1 on an HDF5 failure. */
int gpp_h5_write_attr_int(hid_t loc, const char *name, int v);
int gpp_h5_write_attr_u64(hid_t loc, const char *name, unsigned long long v);
int gpp_h5_write_attr_double(hid_t loc, const char *name, double v);
int gpp_h5_write_attr_str(hid_t loc, const char *name, const char *v);

/* A one-dimensional dataset of n rows of the compound type `type` (its
 * memory layout), stored packed: the file holds the fields, never the
 * padding.  dcpl: the dataset creation properties (H5P_DEFAULT, or one
 * with object times off for byte-identical files).  0 on success, -1 on
 * an HDF5 failure. */
int gpp_h5_write_table(hid_t loc, const char *name, hid_t type, size_t n,
                       const void *rows, hid_t dcpl);

/* Checked reads of scalar attributes of loc: a missing one, or one of
 * another class or shape, is GPP_EPARSE naming `where` (a file path, or a
 * path and group).  Numeric values are converted by HDF5 (an out-of-range
 * value fails).  Strings, fixed or variable length, are cut to len - 1. */
int gpp_h5_attr_int(hid_t loc, const char *where, const char *name, int *out,
                    gpp_errctx *err);
int gpp_h5_attr_u64(hid_t loc, const char *where, const char *name,
                    unsigned long long *out, gpp_errctx *err);
int gpp_h5_attr_double(hid_t loc, const char *where, const char *name,
                       double *out, gpp_errctx *err);
int gpp_h5_attr_str(hid_t loc, const char *where, const char *name, char *out,
                    size_t len, gpp_errctx *err);

#endif
