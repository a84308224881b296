/* outfile.c -- write-to-temporary-then-rename. */
#include "sim/common/outfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int gpp_outfile_begin(gpp_outfile *o, const char *path, int open_stream,
                      gpp_errctx *err) {
  memset(o, 0, sizeof *o);
  if (strlen(path) >= sizeof o->path)
    GPP_RAISE(err, GPP_EINVAL, "output path too long: %s", path);
  snprintf(o->path, sizeof o->path, "%s", path);
  snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", path, (long)getpid());
  if (!open_stream) return 0;
  o->f = fopen(o->tmp, "wb");
  if (o->f == NULL)
    GPP_RAISE(err, GPP_EINVAL, "cannot write %s: %s", o->tmp, strerror(errno));
  return 0;
}

int gpp_outfile_commit(gpp_outfile *o, gpp_errctx *err) {
  if (o->f != NULL) {
    int bad = ferror(o->f);
    bad |= fclose(o->f) != 0;
    o->f = NULL;
    if (bad) {
      remove(o->tmp);
      GPP_RAISE(err, GPP_EIO, "writing %s failed", o->path);
    }
  }
  if (rename(o->tmp, o->path) != 0) {
    int e = errno;
    remove(o->tmp);
    GPP_RAISE(err, GPP_EIO, "cannot rename %s to %s: %s", o->tmp, o->path,
              strerror(e));
  }
  return 0;
}

void gpp_outfile_abort(gpp_outfile *o) {
  if (o->f != NULL) fclose(o->f);
  o->f = NULL;
  if (o->tmp[0] != '\0') remove(o->tmp);
  o->tmp[0] = '\0';
}

int gpp_outfile_write_text(const char *path, const char *text, size_t len,
                           gpp_errctx *err) {
  gpp_outfile o;
  GPP_TRY(gpp_outfile_begin(&o, path, 1, err));
  if (fwrite(text, 1, len, o.f) != len) {
    gpp_outfile_abort(&o);
    GPP_RAISE(err, GPP_EIO, "cannot write %s", path);
  }
  return gpp_outfile_commit(&o, err);
}
