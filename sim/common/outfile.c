/* outfile.c -- write-to-temporary-then-rename, next to the file a path
 * names, refusing anything but regular files. */
#include "sim/common/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 40

static int cannot_write(gpp_errctx *err, const char *path, int e) {
  return GPP_ERR(err, GPP_EIO, "cannot write %s: %s", path, strerror(e));
}

/* cur (a symlink) becomes the path its target names. */
static int follow(char *cur, size_t size, const char *user, gpp_errctx *err) {
  char target[4096], joined[8400];
  ssize_t k = readlink(cur, target, sizeof target - 1);
  if (k < 0) return cannot_write(err, user, errno);
  target[k] = '\0';
  const char *slash = strrchr(cur, '/');
  if (target[0] == '/' || slash == NULL)
    snprintf(joined, sizeof joined, "%s", target);
  else
    snprintf(joined, sizeof joined, "%.*s/%s", (int)(slash - cur), cur,
             target);
  if (strlen(joined) >= size)
    GPP_RAISE(err, GPP_EINVAL, "output path too long: %s", user);
  memcpy(cur, joined, strlen(joined) + 1);
  return 0;
}

/* out: path with its symlinks followed (a dangling one names the file it
 * would create). */
static int resolve(const char *path, char *out, size_t size,
                   gpp_errctx *err) {
  struct stat st;
  if (path[0] == '\0') GPP_RAISE(err, GPP_EINVAL, "empty output path");
  if (strlen(path) >= size)
    GPP_RAISE(err, GPP_EINVAL, "output path too long: %s", path);
  snprintf(out, size, "%s", path);
  for (int hops = 0; hops < MAX_LINKS; hops++) {
    if (lstat(out, &st) != 0 || !S_ISLNK(st.st_mode)) return 0;
    GPP_TRY(follow(out, size, path, err));
  }
  return cannot_write(err, path, ELOOP);
}

static const char *kind_name(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

/* An existing file at path must be a regular one. */
static int check_kind(const char *path, const char *user, gpp_errctx *err) {
  struct stat st;
  if (stat(path, &st) != 0)
    return errno == ENOENT ? 0 : cannot_write(err, user, errno);
  if (S_ISREG(st.st_mode)) return 0;
  GPP_RAISE(err, GPP_EINVAL,
            "%s is %s; outputs are written only to regular files", user,
            kind_name(st.st_mode));
}

/* Whether name is `base.tmp.PID` of a process that no longer runs. */
static bool stale_tmp(const char *name, const char *base, size_t blen) {
  if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".tmp.", 5))
    return false;
  const char *digits = name + blen + 5;
  char *end;
  long pid = strtol(digits, &end, 10);
  if (*digits == '\0' || *end != '\0' || pid <= 0 || pid == (long)getpid())
    return false;
  return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Removes the temporaries of path that killed processes left behind. */
static void remove_stale(const char *path) {
  const char *slash = strrchr(path, '/');
  char dir[4096], full[8400];
  snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + 1 : 1,
           slash ? path : ".");
  const char *base = slash ? slash + 1 : path;
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL) {
    if (!stale_tmp(e->d_name, base, strlen(base))) continue;
    snprintf(full, sizeof full, "%s%s%s", dir, slash ? "" : "/", e->d_name);
    unlink(full);
  }
  if (d != NULL) closedir(d);
}

static int open_tmp(gpp_outfile *o, gpp_errctx *err) {
  int fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0666);
  if (fd < 0) return cannot_write(err, o->path, errno);
  o->f = fdopen(fd, "wb");
  errno = 0;
  if (o->f != NULL) return 0;
  int e = errno;
  close(fd);
  unlink(o->tmp);
  o->tmp[0] = '\0';
  return cannot_write(err, o->path, e);
}

int gpp_outfile_begin(gpp_outfile *o, const char *path, int open_stream,
                      gpp_errctx *err) {
  memset(o, 0, sizeof *o);
  GPP_TRY(resolve(path, o->path, sizeof o->path, err));
  GPP_TRY(check_kind(o->path, path, err));
  snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", o->path, (long)getpid());
  remove_stale(o->path);
  return open_stream ? open_tmp(o, err) : 0;
}

/* Flushes and closes the stream; the errno of its first failure, or 0. */
static int close_stream(gpp_outfile *o) {
  int e = 0;
  if (fflush(o->f) != 0) e = errno;
  /* An earlier failed write: its errno, when nothing has reset it since. */
  if (e == 0 && ferror(o->f)) e = errno != 0 ? errno : EIO;
  if (fclose(o->f) != 0 && e == 0) e = errno;
  o->f = NULL;
  return e;
}

int gpp_outfile_commit(gpp_outfile *o, gpp_errctx *err) {
  int e = o->f != NULL ? close_stream(o) : 0;
  if (e == 0 && rename(o->tmp, o->path) != 0) e = errno;
  if (e == 0) return 0;
  remove(o->tmp);
  o->tmp[0] = '\0';
  return cannot_write(err, o->path, e);
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
    int e = errno;
    gpp_outfile_abort(&o);
    return cannot_write(err, o.path, e);
  }
  return gpp_outfile_commit(&o, err);
}

int gpp_outfile_check(const char *path, gpp_errctx *err) {
  gpp_outfile o;
  if (path == NULL) return 0;
  GPP_TRY(gpp_outfile_begin(&o, path, 1, err));
  gpp_outfile_abort(&o);
  return 0;
}

int gpp_outdir_make(const char *dir, gpp_errctx *err) {
  struct stat st;
  if (dir == NULL || dir[0] == '\0')
    GPP_RAISE(err, GPP_EINVAL, "the output folder name is empty");
  if (mkdir(dir, 0777) != 0 && errno != EEXIST)
    GPP_RAISE(err, GPP_EIO, "cannot create the output folder %s: %s", dir,
              strerror(errno));
  if (stat(dir, &st) != 0)
    return cannot_write(err, dir, errno);
  if (!S_ISDIR(st.st_mode))
    GPP_RAISE(err, GPP_EINVAL, "%s exists and is not a folder", dir);
  if (access(dir, W_OK | X_OK) != 0) return cannot_write(err, dir, errno);
  return 0;
}
