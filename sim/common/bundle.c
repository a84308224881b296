/* bundle.c -- the lookup of input files: as given, under the source tree,
 * or the copy embedded at build time (see bundle.h). */
#include "sim/common/bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef GPP_SOURCE_DIR
#define GPP_SOURCE_DIR "."
#endif

static int by_path(const void *key, const void *elem) {
  return strcmp((const char *)key, ((const gpp_bundled_file *)elem)->path);
}

const gpp_bundled_file *gpp_bundle_find(const char *rel) {
  return bsearch(rel, gpp__bundle_files, gpp__bundle_count,
                 sizeof *gpp__bundle_files, by_path);
}

const gpp_bundled_file *gpp_bundle_at(size_t i) {
  return i < gpp__bundle_count ? &gpp__bundle_files[i] : NULL;
}

const char *gpp_source_root(void) {
  const char *root = getenv("GPP_SOURCE_DIR");
  return root != NULL && root[0] != '\0' ? root : GPP_SOURCE_DIR;
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* path less a leading "root/" (and any "/" after it), or NULL. */
static const char *under(const char *path, const char *root) {
  size_t n = strlen(root);
  while (n > 1 && root[n - 1] == '/') n--;
  if (n == 0 || strncmp(path, root, n) != 0 || path[n] != '/') return NULL;
  for (path += n; *path == '/';) path++;
  return path;
}

/* The repo-relative key of path: less "./" or a source-tree prefix. */
static const char *bundle_key(const char *path) {
  if (path[0] == '/') {
    const char *rel = under(path, gpp_source_root());
    return rel != NULL ? rel : under(path, GPP_SOURCE_DIR);
  }
  while (strncmp(path, "./", 2) == 0)
    for (path += 2; *path == '/';) path++;
  return path;
}

static gpp_input_where found(gpp_input_loc *loc, gpp_input_where where,
                             const char *path) {
  loc->where = where;
  loc->path = path;
  return where;
}

gpp_input_where gpp_input_locate(const char *path, gpp_input_loc *loc) {
  loc->bundled = NULL;
  if (path[0] == '\0') return found(loc, GPP_INPUT_NONE, path);
  if (exists(path)) return found(loc, GPP_INPUT_AS_GIVEN, path);
  if (path[0] != '/') {
    int n = snprintf(loc->buf, sizeof loc->buf, "%s/%s", gpp_source_root(),
                     path);
    if (n > 0 && (size_t)n < sizeof loc->buf && exists(loc->buf))
      return found(loc, GPP_INPUT_TREE, loc->buf);
  }
  const char *key = bundle_key(path);
  loc->bundled = key != NULL ? gpp_bundle_find(key) : NULL;
  if (loc->bundled != NULL)
    return found(loc, GPP_INPUT_BUNDLED, loc->bundled->path);
  return found(loc, GPP_INPUT_NONE, path);
}

static int copy_out(const char *path, char *buf, size_t len) {
  int n = snprintf(buf, len, "%s", path);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

int gpp_input_near(const char *rel, const char *from, char *buf, size_t len) {
  const char *slash = from != NULL ? strrchr(from, '/') : NULL;
  if (!exists(rel) && rel[0] != '/' && slash != NULL) {
    int n = snprintf(buf, len, "%.*s/%s", (int)(slash - from), from, rel);
    if (n > 0 && (size_t)n < len && exists(buf)) return 0;
  }
  gpp_input_loc loc;
  gpp_input_where where = gpp_input_locate(rel, &loc);
  if (copy_out(loc.path, buf, len) != 0) return -1;
  return where == GPP_INPUT_NONE ? -1 : 0;
}
