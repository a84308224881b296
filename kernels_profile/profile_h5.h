/* profile_h5.h -- HDF5 plumbing shared by the profile database's reader and
 * writer: the /ops row type and checked scalar attributes.  Internal to
 * kernels_profile. */
#ifndef GPP_KERNELS_PROFILE_PROFILE_H5_H
#define GPP_KERNELS_PROFILE_PROFILE_H5_H

#include <hdf5.h>

#include "kernels_profile/profile_db.h"

/* The in-memory compound type of gpp_profile_row (caller closes it). */
hid_t gpp__h5_row_type(void);

/* Root attributes; a missing one or one of the wrong type is GPP_EPARSE. */
int gpp__h5_attr_int(hid_t loc, const char *path, const char *name, int *out,
                     gpp_errctx *err);
int gpp__h5_attr_double(hid_t loc, const char *path, const char *name,
                        double *out, gpp_errctx *err);
int gpp__h5_attr_str(hid_t loc, const char *path, const char *name,
                     char *out, size_t len, gpp_errctx *err);

int gpp__h5_write_attr_int(hid_t loc, const char *name, int v);
int gpp__h5_write_attr_double(hid_t loc, const char *name, double v);
int gpp__h5_write_attr_str(hid_t loc, const char *name, const char *v);

/* Reads /ops after checking its members (malloc'd rows, unsorted). */
int gpp__h5_read_ops(hid_t file, const char *path, gpp_profile_row **rows,
                     size_t *n_rows, gpp_errctx *err);

/* qsort order of rows: signature, then micro-batch. */
int gpp__profile_row_cmp(const void *a, const void *b);

#endif
