/* outfile.h -- results are written to `PATH.tmp.PID` and renamed into place
 * on success, so a failed run never leaves a half-written file. */
#ifndef GPP_COMMON_OUTFILE_H
#define GPP_COMMON_OUTFILE_H

#include <stdio.h>

#include "sim/common/err.h"

typedef struct gpp_outfile {
  char path[4096];
  char tmp[4200];
  FILE *f; /* NULL for writers (such as HDF5) that open tmp themselves */
} gpp_outfile;

/* Prepares o for path; with open_stream the temporary file is opened for
 * writing as o->f. */
int gpp_outfile_begin(gpp_outfile *o, const char *path, int open_stream,
                      gpp_errctx *err);
/* Closes the stream (if any) and renames the temporary into place. */
int gpp_outfile_commit(gpp_outfile *o, gpp_errctx *err);
/* Closes and removes the temporary; safe to call twice. */
void gpp_outfile_abort(gpp_outfile *o);
/* Writes len bytes of text as the whole file path, through a temporary. */
int gpp_outfile_write_text(const char *path, const char *text, size_t len,
                           gpp_errctx *err);

#endif
