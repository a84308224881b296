/* bundle.h -- the configs and plot scripts embedded into the binary, and
 * the one lookup that every input-file loader goes through.
 *
 * At build time cmake/GppBundle.cmake embeds the YAML under
 * configs/{hardware,clusters,models,experiments} and the Python scripts in
 * plots/, each keyed by its repo-relative path ("configs/models/mmt.yaml"),
 * so that a binary copied away from the source tree still finds them.  gpp_input_locate()
 * resolves a path: (1) as given (relative to the working directory), (2) a
 * relative path under the source tree ($GPP_SOURCE_DIR, else the one the
 * binary was built from) when it is there, (3) the embedded copy.
 */
#ifndef GPP_COMMON_BUNDLE_H
#define GPP_COMMON_BUNDLE_H

#include <stddef.h>

#define GPP_INPUT_PATH_MAX 4096

typedef struct gpp_bundled_file {
  const char *path; /* repo-relative, e.g. "configs/models/mmt.yaml" */
  const char *text; /* NUL-terminated */
  size_t len;       /* bytes, without the NUL */
} gpp_bundled_file;

/* The generated table (sorted by path) and its length. */
extern const gpp_bundled_file gpp__bundle_files[];
extern const size_t gpp__bundle_count;

/* The embedded file with repo-relative path rel, or NULL. */
const gpp_bundled_file *gpp_bundle_find(const char *rel);
/* The i-th embedded file in path order; NULL past the end. */
const gpp_bundled_file *gpp_bundle_at(size_t i);

/* The source tree: $GPP_SOURCE_DIR when set and not empty, else the
 * directory the binary was built from (which may no longer exist). */
const char *gpp_source_root(void);

typedef enum gpp_input_where {
  GPP_INPUT_NONE,     /* found nowhere; path is the name as given */
  GPP_INPUT_AS_GIVEN, /* the path exists as given */
  GPP_INPUT_TREE,     /* found under the source tree */
  GPP_INPUT_BUNDLED   /* the embedded copy */
} gpp_input_where;

typedef struct gpp_input_loc {
  gpp_input_where where;
  /* The file to open or, when bundled, the repo-relative key; this is the
   * name input errors report. */
  const char *path;
  const gpp_bundled_file *bundled; /* GPP_INPUT_BUNDLED only */
  char buf[GPP_INPUT_PATH_MAX];
} gpp_input_loc;

/* Resolves path as described at the top.  The embedded copy is keyed by
 * path less a leading "./" or a leading source-tree directory (so a path
 * built from the source root still resolves when the tree is gone). */
gpp_input_where gpp_input_locate(const char *path, gpp_input_loc *loc);

/* A file named by another input file `from` (NULL: none): rel as given,
 * else next to `from`, else through gpp_input_locate.  Writes the path to
 * hand to the loaders into buf; -1 when it is found nowhere (buf then holds
 * rel) or does not fit. */
int gpp_input_near(const char *rel, const char *from, char *buf, size_t len);

/* ---- configs by name ---- */

struct gpp_arena;
struct gpp_errctx;

/* The most names gpp_config_names lists for one configs/<sub>. */
#define GPP_CONFIG_NAMES_MAX 64

/* Path of a configs/<sub>/<name>.yaml file under the source tree
 * (gpp_source_root); the loaders fall back to its embedded copy when the
 * tree is not there.  -1 when it does not fit in buf. */
int gpp_config_path(const char *sub, const char *name, char *buf,
                    size_t len);
/* The names (without .yaml) in the source tree's configs/<sub> and among
 * the embedded files, sorted; returns how many were written into names
 * (each from the arena). */
size_t gpp_config_names(const char *sub, const char **names, size_t max,
                        struct gpp_arena *arena);
/* names[0..n) as "a, b, c" in list (truncated to len). */
void gpp_config_join(const char *const *names, size_t n, char *list,
                     size_t len);

/* The file a command-line argument names, for every command that reads a
 * config: a path that exists (or holds a '/') as given; else a bundled
 * name (less an optional ".yaml"): configs/<sub>/<name>.yaml under the
 * source tree, or its embedded copy.  Writes the path to hand to the
 * loaders into buf; GPP_ENOENT naming the bundled names of sub (with a
 * suggestion) when it is neither. */
int gpp_input_named(const char *sub, const char *arg, char *buf, size_t len,
                    struct gpp_errctx *err);

#endif
