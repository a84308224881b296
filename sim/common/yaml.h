/* yaml.h -- typed, position-aware access to YAML input files.
 *
 * Built on libyaml's document API.  Every accessor that can fail raises an
 * error whose message starts with `file:line:column` of the offending node,
 * says what was expected, rejects unknown keys with a "did you mean", and
 * checks ranges.  Input files larger than GPP_YAML_MAX_BYTES, or nesting
 * deeper than GPP_YAML_MAX_DEPTH, are refused.
 *
 * A declarative field table (gpp_yfield) reads a flat mapping into a C
 * struct: one row per key with its type, unit kind, range and default-ness.
 */
#ifndef GPP_COMMON_YAML_H
#define GPP_COMMON_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/common/err.h"
#include "sim/common/units.h"

#define GPP_YAML_MAX_BYTES (16u << 20)
/* Deepest nesting of lists and mappings accepted.  libyaml 0.2.5's loader
 * takes time quadratic in the depth (40,000 levels: 8 s), so depth is
 * checked on the event stream before a document is built; gppsim's inputs
 * nest fewer than 10 levels. */
#define GPP_YAML_MAX_DEPTH 64

typedef struct gpp_ydoc gpp_ydoc;

/* A node handle: id 0 means "absent". */
typedef struct gpp_ynode {
  const gpp_ydoc *doc;
  int id;
} gpp_ynode;

typedef enum { GPP_Y_NONE, GPP_Y_SCALAR, GPP_Y_SEQ, GPP_Y_MAP } gpp_ytype;

/* Reads a whole regular input file of at most GPP_YAML_MAX_BYTES into a
 * NUL-terminated buffer (*buf, caller frees).  Both loaders find path
 * through gpp_input_locate (sim/common/bundle.h): as given, under the
 * source tree, or the copy embedded in the binary; messages name the file
 * found (an embedded one by its repo-relative path). */
int gpp_read_input_file(const char *path, char **buf, size_t *len,
                        gpp_errctx *err);
int gpp_ydoc_load_file(const char *path, gpp_ydoc **out, gpp_errctx *err);
/* name is used in messages as the file name. */
int gpp_ydoc_load_string(const char *name, const char *text, size_t len,
                         gpp_ydoc **out, gpp_errctx *err);
void gpp_ydoc_destroy(gpp_ydoc *doc);
const char *gpp_ydoc_path(const gpp_ydoc *doc);
gpp_ynode gpp_ydoc_root(const gpp_ydoc *doc);

/* Structure. */
bool gpp_ynode_ok(gpp_ynode n);
gpp_ytype gpp_ynode_type(gpp_ynode n);
const char *gpp_ytype_name(gpp_ytype t);
gpp_mark gpp_ynode_mark(gpp_ynode n);
const char *gpp_ynode_scalar(gpp_ynode n);  /* NULL unless a scalar */
size_t gpp_ynode_len(gpp_ynode n);          /* items or pairs; 0 otherwise */
gpp_ynode gpp_yseq_at(gpp_ynode seq, size_t i);
gpp_ynode gpp_ymap_key(gpp_ynode map, size_t i);
gpp_ynode gpp_ymap_value(gpp_ynode map, size_t i);
gpp_ynode gpp_ymap_find(gpp_ynode map, const char *key); /* absent: id 0 */

/* Checks; each raises at the node's mark. `what` names the node in the
 * message ("cluster", "stage 's0'"). */
int gpp_yexpect(gpp_ynode n, gpp_ytype type, const char *what,
                gpp_errctx *err);
/* Rejects keys not in allowed (with "did you mean"), duplicate keys and
 * non-scalar keys. */
int gpp_ymap_check_keys(gpp_ynode map, const char *const *allowed,
                        size_t n_allowed, gpp_errctx *err);
int gpp_yscalar_str(gpp_ynode n, const char *what, const char **out,
                    gpp_errctx *err);
int gpp_yscalar_qty(gpp_ynode n, const char *what, gpp_qkind kind, double lo,
                    double hi, double *out, gpp_errctx *err);
int gpp_yscalar_int(gpp_ynode n, const char *what, long long lo, long long hi,
                    long long *out, gpp_errctx *err);
int gpp_yscalar_bool(gpp_ynode n, const char *what, bool *out,
                     gpp_errctx *err);
/* names is NULL-terminated; an unknown value lists the valid ones. */
int gpp_yscalar_enum(gpp_ynode n, const char *what, const char *const *names,
                     int *out, gpp_errctx *err);
/* The required key's value, or an error naming the missing key at the
 * mapping's mark. */
int gpp_ymap_require(gpp_ynode map, const char *key, gpp_ynode *out,
                     gpp_errctx *err);

/* Declarative reading of a flat mapping into a struct. */
typedef enum {
  GPP_YF_STR,  /* const char * (points into the document) */
  GPP_YF_INT,  /* long long, range [lo, hi] */
  GPP_YF_QTY,  /* double in base units of qkind, range [lo, hi] */
  GPP_YF_BOOL, /* bool */
  GPP_YF_ENUM, /* int index into names */
  GPP_YF_NODE  /* gpp_ynode, checked by the caller */
} gpp_yftype;

typedef struct gpp_yfield {
  const char *key;
  gpp_yftype type;
  size_t offset;
  bool required;
  gpp_qkind qkind;
  double lo, hi;
  const char *const *names;
} gpp_yfield;

/* Reads map into dst by the table; absent optional keys leave dst's field
 * as it was (set defaults before calling).  Unknown keys are errors. */
int gpp_yread_fields(gpp_ynode map, const gpp_yfield *fields, size_t n,
                     void *dst, gpp_errctx *err);

#endif
