/* outfile.h -- results are written to `PATH.tmp.PID` next to the file PATH
 * names (symlinks resolved, so a link stays a link) and renamed into place
 * on success, so a failed run never leaves a half-written file and never
 * replaces anything but a regular file.
 *
 * Errors: an empty path, or one naming a directory, FIFO, device or socket,
 * is GPP_EINVAL (exit 2: outputs go to regular files only); a path that
 * cannot be written (no such folder, no permission, a full disk) is GPP_EIO
 * (exit 1) naming the path and the system's reason. */
#ifndef GPP_COMMON_OUTFILE_H
#define GPP_COMMON_OUTFILE_H

#include <stdio.h>

#include "sim/common/err.h"

typedef struct gpp_outfile {
  char path[4096]; /* the regular file written: PATH with links resolved */
  char tmp[4200];
  FILE *f; /* NULL for writers (such as HDF5) that open tmp themselves */
} gpp_outfile;

/* Prepares o for path; with open_stream the temporary file is opened for
 * writing as o->f.  Temporaries `PATH.tmp.PID` left by processes that no
 * longer run (killed with SIGKILL) are removed. */
int gpp_outfile_begin(gpp_outfile *o, const char *path, int open_stream,
                      gpp_errctx *err);
/* Closes the stream (if any) and renames the temporary into place. */
int gpp_outfile_commit(gpp_outfile *o, gpp_errctx *err);
/* Closes and removes the temporary; safe to call twice. */
void gpp_outfile_abort(gpp_outfile *o);
/* Writes len bytes of text as the whole file path, through a temporary. */
int gpp_outfile_write_text(const char *path, const char *text, size_t len,
                           gpp_errctx *err);
/* Checks, before any work, that path could be written: the same errors as
 * gpp_outfile_begin, found by creating and removing its temporary.  NULL
 * (no such output) passes. */
int gpp_outfile_check(const char *path, gpp_errctx *err);
/* Creates the output folder dir (its parent must exist) or accepts an
 * existing one, before any work: an empty name or a path that exists but
 * is not a folder is GPP_EINVAL (exit 2); a folder that cannot be created
 * or written is GPP_EIO (exit 1) naming it and the system's reason, as for
 * files. */
int gpp_outdir_make(const char *dir, gpp_errctx *err);

#endif
