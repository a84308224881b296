/* profile_h5.h -- HDF5 plumbing shared by the profile database's reader and
 * writer: the /ops row type and table (attributes: sim/common/h5.h).
 * Internal to kernels_profile. */
#ifndef GPP_KERNELS_PROFILE_PROFILE_H5_H
#define GPP_KERNELS_PROFILE_PROFILE_H5_H

#include <hdf5.h>

#include "kernels_profile/profile_db.h"

/* The in-memory compound type of gpp_profile_row (caller closes it). */
hid_t gpp__h5_row_type(void);

/* Reads /ops after checking its members (malloc'd rows, unsorted). */
int gpp__h5_read_ops(hid_t file, const char *path, gpp_profile_row **rows,
                     size_t *n_rows, gpp_errctx *err);

/* qsort order of rows: signature, then micro-batch. */
int gpp__profile_row_cmp(const void *a, const void *b);

#endif
