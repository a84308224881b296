/* profile_db.h -- the profile database: measured per-op costs in HDF5.
 *
 * `gppsim-profile` times every distinct op of a model on a real GPU at
 * several micro-batch sizes and writes one file; the simulator reads it back
 * as its first cost source.  An op is identified by its signature, a
 * canonical string of kind, shape and element size
 * ("matmul:t=256,in=1024,out=4096,bias=1,dt=4"), so ops of equal shape in
 * different models share measurements.  The fields per kind (sizes per
 * sample; the micro-batch is the row's):
 *   matmul       t, in, out [, bias=1]   attention  t, w (hidden), h
 *   embedding    t, rows, w, bag         concat, elementwise  t, w, n
 *   interaction  t, in (d), out, n (F)   loss       in (elements)
 *   custom       t, in, out              others     t, w
 *
 * File layout (format version GPP_PROFILE_FORMAT_VERSION):
 *   root attributes  format_version (int), gpu_name, driver_version,
 *                    cuda_version, date (strings), sm_count, repetitions,
 *                    warmup (int), sm_clock_hz, mem_clock_hz (double)
 *   /ops             1-D compound table, one row per (signature,
 *                    micro_batch): signature (fixed-length string),
 *                    micro_batch (int64), fwd_median, fwd_p10, fwd_p90,
 *                    bwd_median, bwd_p10, bwd_p90 (seconds), flops_fwd,
 *                    flops_bwd, bytes_fwd, bytes_bwd (per micro-batch).
 */
#ifndef GPP_KERNELS_PROFILE_PROFILE_DB_H
#define GPP_KERNELS_PROFILE_PROFILE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/common/err.h"
#include "sim/model/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GPP_PROFILE_FORMAT_VERSION 1
#define GPP_SIG_MAX 128 /* bytes of a signature, terminator included */

typedef struct gpp_profile_meta {
  int format_version; /* set by the writer */
  char gpu_name[128];
  char driver_version[32];
  char cuda_version[32];
  char date[32]; /* ISO 8601, UTC */
  int sm_count;
  double sm_clock_hz, mem_clock_hz;
  int repetitions, warmup;
} gpp_profile_meta;

/* Timing statistics of one direction, in seconds. */
typedef struct gpp_profile_stat {
  double median, p10, p90;
} gpp_profile_stat;

typedef struct gpp_profile_row {
  char signature[GPP_SIG_MAX];
  int64_t micro_batch;
  gpp_profile_stat fwd, bwd;
  double flops_fwd, flops_bwd; /* for the whole micro-batch */
  double bytes_fwd, bytes_bwd;
} gpp_profile_row;

typedef struct gpp_profile_db {
  char path[4096];
  gpp_profile_meta meta;
  gpp_profile_row *rows; /* sorted by (signature, micro_batch), unique */
  size_t n_rows;
} gpp_profile_db;

/* Whether op is a matmul with a bias (its parameters are in*out + out). */
bool gpp_op_has_bias(const gpp_op *op);
/* The canonical signature of op; GPP_ERANGE when it does not fit in len. */
int gpp_op_signature(const gpp_op *op, char *buf, size_t len);
/* The name of an op kind as signatures spell it (the same as the model's
 * gpp_op_kind_name; here so that reading a profile needs no model). */
const char *gpp_signature_kind_name(int kind);
/* The kind named by a signature's prefix, or -1. */
int gpp_signature_kind(const char *sig);
/* The element size from a signature's ",dt=N" field, or 0. */
int gpp_signature_dtype(const char *sig);

/* Writes rows (any order; duplicates are an error) to path through a
 * temporary file.  meta->format_version is ignored. */
int gpp_profile_db_write(const char *path, const gpp_profile_meta *meta,
                         const gpp_profile_row *rows, size_t n_rows,
                         gpp_errctx *err);
/* Reads and validates a database.  A file that is not HDF5, lacks an
 * attribute or the /ops table, or has members of the wrong type is
 * GPP_EPARSE, naming what is wrong. */
int gpp_profile_db_open(const char *path, gpp_profile_db **out,
                        gpp_errctx *err);
void gpp_profile_db_destroy(gpp_profile_db *db);

/* The row for (signature, micro_batch), or NULL. */
const gpp_profile_row *gpp_profile_db_lookup(const gpp_profile_db *db,
                                             const char *sig,
                                             int64_t micro_batch);
/* All rows of a signature (ascending micro-batch): the count, and the first
 * in *first (NULL when none). */
size_t gpp_profile_db_rows_of(const gpp_profile_db *db, const char *sig,
                              const gpp_profile_row **first);

#ifdef __cplusplus
}
#endif

#endif
