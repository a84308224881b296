/* profile_db_write.c -- writes a profile database through the common
 * in-memory HDF5 path (sim/common/h5.c: built whole, then a temporary file
 * renamed into place), so a failed or interrupted profiling run never
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

/* The database is built in memory and written whole through
 * gpp_h5_mem_save (a temporary renamed into place), so a full disk fails
 * with the system's reason and never leaves HDF5 with a half-open file. */
int gpp_profile_db_write(const char *path, const gpp_profile_meta *meta,
                         const gpp_profile_row *rows, size_t n_rows,
                         gpp_errctx *err) {
  GPP_TRY(gpp_outfile_check(path, err));
  gpp_h5_quiet();
  gpp_profile_row *sorted = NULL;
  if (sorted_rows(rows, n_rows, &sorted, err) != 0) {
    free(sorted);
    return err->code;
  }
  hid_t file = gpp_h5_mem_create();
  int bad = file < 0 || write_meta(file, meta) != 0 ||
            write_ops(file, sorted, n_rows) != 0;
  free(sorted);
  if (!bad) return gpp_h5_mem_save(file, path, err);
  if (file >= 0) H5Fclose(file);
  GPP_RAISE(err, GPP_EIO, "cannot write the profile database %s: %s", path,
            gpp_h5_reason());
}
