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

/* Checks n, the rows claimed by the open dataset d (`name`, in messages),
 * against the real size of its file, so that a damaged or forged header
 * claiming 10^8 rows is refused before anything is allocated: the rows
 * must fit in the file (unfiltered) or in 1032 times it (filtered: the
 * deflate format's largest ratio).  GPP_EPARSE naming where (the file)
 * and the dataset. */
int gpp_h5_check_rows(hid_t d, const char *where, const char *name,
                      hsize_t n, gpp_errctx *err);
/* Opens the one-dimensional dataset `name` of loc as *d with its row
 * count *n, checked by gpp_h5_check_rows (the caller closes *d). */
int gpp_h5_open_rows(hid_t loc, const char *where, const char *name,
                     hid_t *d, hsize_t *n, gpp_errctx *err);
/* A scalar fixed-length string dataset of loc (its size checked the same
 * way) into *out, malloc'd and NUL-terminated. */
int gpp_h5_read_text(hid_t loc, const char *where, const char *name,
                     char **out, gpp_errctx *err);
/* A scalar fixed-length string dataset holding text (any length). */
int gpp_h5_write_text(hid_t loc, const char *name, const char *text,
                      hid_t dcpl);

/* Called by main before any other HDF5 call: HDF5's own exit handler is
 * not installed, so a file whose close failed (its flush met a full disk)
 * cannot crash the process as it exits (HDF5 1.10 closes it again there
 * and faults).  Every writer closes its objects itself. */
void gpp_h5_init(void);

/* Switches HDF5's error printing off for the rest of the process; a failed
 * call then records the operating system's reason it met (such as "No
 * space left on device") for gpp_h5_reason. */
void gpp_h5_quiet(void);
/* The system's reason behind the last failed HDF5 call since the last
 * gpp_h5_quiet or gpp_h5_reason, or "an HDF5 failure"; clears it. */
const char *gpp_h5_reason(void);

/* A new HDF5 file held in memory (core driver, no backing store), for
 * writers that save a whole file at once with gpp_h5_mem_save; -1 on
 * failure. */
hid_t gpp_h5_mem_create(void);
/* Writes the image of the memory file `file` to path through gpp_outfile
 * (a temporary renamed into place; symlinks followed, non-regular files
 * refused) and closes file, on success and on failure. */
int gpp_h5_mem_save(hid_t file, const char *path, gpp_errctx *err);

#endif
