/* profile_db_write.c -- writes a profile database through a temporary file
 * that is renamed into place, so a failed or interrupted profiling run never
 * leaves a half-written database behind. */
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_profile/profile_db.h"
#include "kernels_profile/profile_h5.h"
#include "sim/common/h5.h"
#include "sim/common/outfile.h"

static int write_meta(hid_t file, const gpp_profile_meta *m) {
  int rc = gpp_h5_write_attr_int(file, "format_version",
                                 GPP_PROFILE_FORMAT_VERSION);
  rc |= gpp_h5_write_attr_str(file, "gpu_name", m->gpu_name);
  rc |= gpp_h5_write_attr_str(file, "driver_version", m->driver_version);
  rc |= gpp_h5_write_attr_str(file, "cuda_version", m->cuda_version);
  rc |= gpp_h5_write_attr_str(file, "date", m->date);
  rc |= gpp_h5_write_attr_int(file, "sm_count", m->sm_count);
  rc |= gpp_h5_write_attr_int(file, "repetitions", m->repetitions);
  rc |= gpp_h5_write_attr_int(file, "warmup", m->warmup);
  rc |= gpp_h5_write_attr_double(file, "sm_clock_hz", m->sm_clock_hz);
  rc |= gpp_h5_write_attr_double(file, "mem_clock_hz", m->mem_clock_hz);
  return rc;
}

static int write_ops(hid_t file, const gpp_profile_row *rows, size_t n) {
  hid_t mt = gpp__h5_row_type();
  int rc = gpp_h5_write_table(file, "ops", mt, n, rows, H5P_DEFAULT);
  H5Tclose(mt);
  return rc;
}

/* Sorted copy of rows; duplicates and unterminated signatures raise. */
static int sorted_rows(const gpp_profile_row *rows, size_t n,
                       gpp_profile_row **out, gpp_errctx *err) {
  *out = gpp_calloc(err, n ? n : 1, sizeof **out);
  if (*out == NULL) return err->code;
  if (n > 0) memcpy(*out, rows, n * sizeof *rows);
  for (size_t i = 0; i < n; i++)
    if (memchr(rows[i].signature, '\0', GPP_SIG_MAX) == NULL)
      GPP_RAISE(err, GPP_EINVAL, "profile row %zu: unterminated signature",
                i);
  qsort(*out, n, sizeof **out, gpp__profile_row_cmp);
  for (size_t i = 1; i < n; i++)
    if (gpp__profile_row_cmp(&(*out)[i - 1], &(*out)[i]) == 0)
      GPP_RAISE(err, GPP_EINVAL, "two profile rows for (%s, b=%lld)",
                (*out)[i].signature, (long long)(*out)[i].micro_batch);
  return 0;
}

static int write_tmp(const char *tmp, const gpp_profile_meta *meta,
                     const gpp_profile_row *rows, size_t n) {
  hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) return -1;
  int rc = write_meta(file, meta);
  if (rc == 0) rc = write_ops(file, rows, n);
  if (H5Fclose(file) < 0) rc = -1;
  return rc;
}

int gpp_profile_db_write(const char *path, const gpp_profile_meta *meta,
                         const gpp_profile_row *rows, size_t n_rows,
                         gpp_errctx *err) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  gpp_profile_row *sorted = NULL;
  int rc = sorted_rows(rows, n_rows, &sorted, err);
  gpp_outfile o;
  if (rc == 0) rc = gpp_outfile_begin(&o, path, 0, err);
  if (rc == 0) {
    if (write_tmp(o.tmp, meta, sorted, n_rows) != 0) {
      gpp_outfile_abort(&o);
      rc = GPP_ERR(err, GPP_EIO, "cannot write the profile database %s",
                   path);
    } else {
      rc = gpp_outfile_commit(&o, err);
    }
  }
  free(sorted);
  return rc;
}
