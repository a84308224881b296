/* bundle.c -- the lookup of input files: as given, under the source tree,
 * or the copy embedded at build time (see bundle.h). */
#include "sim/common/bundle.h"

#include "sim/common/arena.h"
#include "sim/common/err.h"

#include <dirent.h>
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

/* ---- configs by name ---- */

int gpp_config_path(const char *sub, const char *name, char *buf,
                    size_t len) {
  int n = snprintf(buf, len, "%s/configs/%s/%s.yaml", gpp_source_root(), sub,
                   name);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends file less ".yaml" unless it is no YAML file or already listed;
 * -1 when out of memory. */
static int add_name(const char *file, const char **names, size_t *n,
                    size_t max, gpp_arena *arena) {
  size_t len = strlen(file);
  if (*n >= max || len <= 5 || strcmp(file + len - 5, ".yaml") != 0)
    return 0;
  for (size_t i = 0; i < *n; i++)
    if (strncmp(names[i], file, len - 5) == 0 && names[i][len - 5] == '\0')
      return 0;
  char *s = gpp_arena_strdup(arena, file, NULL);
  if (s == NULL) return -1;
  s[len - 5] = '\0';
  names[(*n)++] = s;
  return 0;
}

/* The files in the source tree's configs/<sub>, if it is there. */
static void add_tree_names(const char *sub, const char **names, size_t *n,
                           size_t max, gpp_arena *arena) {
  char dir[4096];
  if (gpp_config_path(sub, "x", dir, sizeof dir) != 0) return;
  *strrchr(dir, '/') = '\0';
  DIR *d = opendir(dir);
  if (d == NULL) return;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (add_name(e->d_name, names, n, max, arena) != 0) break;
  closedir(d);
}

/* The files embedded as configs/<sub>/NAME.yaml. */
static void add_bundled_names(const char *sub, const char **names, size_t *n,
                              size_t max, gpp_arena *arena) {
  char prefix[256];
  int len = snprintf(prefix, sizeof prefix, "configs/%s/", sub);
  if (len < 0 || (size_t)len >= sizeof prefix) return;
  const gpp_bundled_file *f;
  for (size_t i = 0; (f = gpp_bundle_at(i)) != NULL; i++)
    if (strncmp(f->path, prefix, (size_t)len) == 0 &&
        strchr(f->path + len, '/') == NULL &&
        add_name(f->path + len, names, n, max, arena) != 0)
      break;
}

size_t gpp_config_names(const char *sub, const char **names, size_t max,
                        gpp_arena *arena) {
  size_t n = 0;
  add_tree_names(sub, names, &n, max, arena);
  add_bundled_names(sub, names, &n, max, arena);
  qsort(names, n, sizeof *names, by_name);
  return n;
}

void gpp_config_join(const char *const *names, size_t n, char *list,
                     size_t len) {
  list[0] = '\0';
  for (size_t i = 0, used = 0; i < n && used < len; i++)
    used += (size_t)snprintf(list + used, len - used, "%s%s", i ? ", " : "",
                             names[i]);
}

/* arg less a trailing ".yaml" as a bare config name in name[], or 0 when
 * arg is a path (holds a '/') or too long. */
static int bare_name(const char *arg, char *name, size_t len) {
  size_t n = strlen(arg);
  if (strchr(arg, '/') != NULL || n == 0 || n >= len) return 0;
  if (n > 5 && strcmp(arg + n - 5, ".yaml") == 0) n -= 5;
  memcpy(name, arg, n);
  name[n] = '\0';
  return 1;
}

static int name_error(const char *sub, const char *arg, gpp_errctx *err) {
  const char *names[GPP_CONFIG_NAMES_MAX];
  char list[1024];
  gpp_arena *arena = gpp_arena_create(NULL);
  size_t n = arena ? gpp_config_names(sub, names, GPP_CONFIG_NAMES_MAX, arena)
                   : 0;
  const char *hint = gpp_suggest(arg, names, n);
  char did[300] = "";
  if (hint != NULL) snprintf(did, sizeof did, "; did you mean '%s'?", hint);
  gpp_config_join(names, n, list, sizeof list);
  gpp_arena_destroy(arena);
  GPP_RAISE(err, GPP_ENOENT, "'%s' is neither a file nor a bundled name%s "
            "(bundled %s: %s)", arg, did, sub, list);
}

int gpp_input_named(const char *sub, const char *arg, char *buf, size_t len,
                    gpp_errctx *err) {
  char name[256];
  gpp_input_loc loc;
  if (exists(arg) || !bare_name(arg, name, sizeof name)) {
    if (copy_out(arg, buf, len) != 0)
      GPP_RAISE(err, GPP_EINVAL, "path too long: '%.64s...'", arg);
    return 0;
  }
  if (gpp_config_path(sub, name, buf, len) == 0 &&
      gpp_input_locate(buf, &loc) != GPP_INPUT_NONE) {
    if (loc.where == GPP_INPUT_BUNDLED) copy_out(loc.path, buf, len);
    return 0;
  }
  return name_error(sub, arg, err);
}
