/* yaml.c -- typed, position-aware YAML access on libyaml's document API. */
#include "sim/common/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "sim/common/bundle.h"

struct gpp_ydoc {
  char *path;
  yaml_document_t doc;
  bool loaded;
};

static yaml_node_t *node_of(gpp_ynode n) {
  if (n.doc == NULL || n.id <= 0) return NULL;
  return yaml_document_get_node((yaml_document_t *)&n.doc->doc, n.id);
}

static gpp_ynode make_node(const gpp_ydoc *doc, int id) {
  gpp_ynode n = {doc, id};
  return n;
}

static int parse_error(const gpp_ydoc *d, const yaml_parser_t *p,
                       gpp_errctx *err) {
  gpp_mark at = {d->path, (int)p->problem_mark.line + 1,
                 (int)p->problem_mark.column + 1};
  const char *problem = p->problem ? p->problem : "unreadable YAML";
  if (p->context)
    return GPP_ERR_AT(err, GPP_EPARSE, &at, "YAML syntax error: %s (%s)",
                      problem, p->context);
  return GPP_ERR_AT(err, GPP_EPARSE, &at, "YAML syntax error: %s", problem);
}

/* Loads the single document of the stream; a second one is an error. */
static int load_document(gpp_ydoc *d, yaml_parser_t *p, gpp_errctx *err) {
  if (!yaml_parser_load(p, &d->doc)) return parse_error(d, p, err);
  d->loaded = true;
  gpp_mark start = {d->path, 1, 1};
  if (yaml_document_get_root_node(&d->doc) == NULL)
    return GPP_ERR_AT(err, GPP_EPARSE, &start,
                      "the file is empty; expected a YAML mapping");
  yaml_document_t extra;
  if (!yaml_parser_load(p, &extra)) return parse_error(d, p, err);
  bool more = yaml_document_get_root_node(&extra) != NULL;
  gpp_mark at = {d->path, (int)extra.start_mark.line + 1,
                 (int)extra.start_mark.column + 1};
  yaml_document_delete(&extra);
  if (more)
    return GPP_ERR_AT(err, GPP_EPARSE, &at,
                      "a second YAML document; expected one per file");
  return 0;
}

static int depth_step(yaml_event_type_t t) {
  if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT)
    return 1;
  if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) return -1;
  return 0;
}

/* Walks the event stream of text, refusing nesting deeper than
 * GPP_YAML_MAX_DEPTH before the quadratic document loader sees it. */
static int check_depth(const gpp_ydoc *d, const char *text, size_t len,
                       gpp_errctx *err) {
  yaml_parser_t p;
  yaml_event_t ev;
  int depth = 0, rc = 0;
  if (!yaml_parser_initialize(&p))
    GPP_RAISE(err, GPP_ENOMEM, "cannot initialise the YAML parser");
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  for (bool done = false; rc == 0 && !done;) {
    if (!yaml_parser_parse(&p, &ev)) {
      rc = parse_error(d, &p, err);
      break;
    }
    depth += depth_step(ev.type);
    done = ev.type == YAML_STREAM_END_EVENT;
    gpp_mark at = {d->path, (int)ev.start_mark.line + 1,
                   (int)ev.start_mark.column + 1};
    if (depth > GPP_YAML_MAX_DEPTH)
      rc = GPP_ERR_AT(err, GPP_EPARSE, &at,
                      "lists and mappings nested deeper than %d levels",
                      GPP_YAML_MAX_DEPTH);
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&p);
  return rc;
}

int gpp_ydoc_load_string(const char *name, const char *text, size_t len,
                         gpp_ydoc **out, gpp_errctx *err) {
  *out = NULL;
  gpp_ydoc *d = gpp_calloc(err, 1, sizeof *d);
  if (d == NULL) return GPP_ENOMEM;
  d->path = strdup(name ? name : "<string>");
  if (d->path == NULL) {
    free(d);
    GPP_RAISE(err, GPP_ENOMEM, "out of memory");
  }
  int depth_rc = check_depth(d, text, len, err);
  if (depth_rc != 0) {
    gpp_ydoc_destroy(d);
    return depth_rc;
  }
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    gpp_ydoc_destroy(d);
    GPP_RAISE(err, GPP_ENOMEM, "cannot initialise the YAML parser");
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  int rc = load_document(d, &parser, err);
  yaml_parser_delete(&parser);
  if (rc != 0) {
    gpp_ydoc_destroy(d);
    return rc;
  }
  *out = d;
  return 0;
}

static int read_file(const char *path, char **buf, size_t *len,
                     gpp_errctx *err) {
  gpp_mark at = {path, 1, 1};
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return GPP_ERR_AT(err, GPP_ENOENT, &at, "cannot open: %s",
                      strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return GPP_ERR_AT(err, GPP_EINVAL, &at, "not a regular file");
  }
  if ((unsigned long long)st.st_size > GPP_YAML_MAX_BYTES) {
    fclose(f);
    return GPP_ERR_AT(err, GPP_EINVAL, &at,
                      "the file is %.1f MiB; input files are limited to %u "
                      "MiB",
                      (double)st.st_size / 1048576.0,
                      GPP_YAML_MAX_BYTES >> 20);
  }
  *buf = gpp_calloc(err, (size_t)st.st_size + 1, 1);
  if (*buf == NULL) {
    fclose(f);
    return GPP_ENOMEM;
  }
  *len = fread(*buf, 1, (size_t)st.st_size, f);
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(*buf);
    return GPP_ERR_AT(err, GPP_EIO, &at, "read failed");
  }
  return 0;
}

/* Reads path as gpp_input_locate finds it: a file, or the embedded copy. */
static int read_located(const char *path, gpp_input_loc *loc, char **buf,
                        size_t *len, gpp_errctx *err) {
  if (gpp_input_locate(path, loc) != GPP_INPUT_BUNDLED)
    return read_file(loc->path, buf, len, err);
  *buf = gpp_calloc(err, loc->bundled->len + 1, 1);
  if (*buf == NULL) return GPP_ENOMEM;
  memcpy(*buf, loc->bundled->text, loc->bundled->len);
  *len = loc->bundled->len;
  return 0;
}

int gpp_read_input_file(const char *path, char **buf, size_t *len,
                        gpp_errctx *err) {
  gpp_input_loc loc;
  return read_located(path, &loc, buf, len, err);
}

int gpp_ydoc_load_file(const char *path, gpp_ydoc **out, gpp_errctx *err) {
  char *buf = NULL;
  size_t len = 0;
  gpp_input_loc loc;
  *out = NULL;
  GPP_TRY(read_located(path, &loc, &buf, &len, err));
  int rc = gpp_ydoc_load_string(loc.path, buf, len, out, err);
  free(buf);
  return rc;
}

void gpp_ydoc_destroy(gpp_ydoc *doc) {
  if (doc == NULL) return;
  if (doc->loaded) yaml_document_delete(&doc->doc);
  free(doc->path);
  free(doc);
}

const char *gpp_ydoc_path(const gpp_ydoc *doc) { return doc->path; }

gpp_ynode gpp_ydoc_root(const gpp_ydoc *doc) {
  yaml_node_t *root = yaml_document_get_root_node((yaml_document_t *)&doc->doc);
  return make_node(doc, root ? 1 : 0);
}

bool gpp_ynode_ok(gpp_ynode n) { return node_of(n) != NULL; }

gpp_ytype gpp_ynode_type(gpp_ynode n) {
  yaml_node_t *y = node_of(n);
  if (y == NULL) return GPP_Y_NONE;
  switch (y->type) {
  case YAML_SCALAR_NODE: return GPP_Y_SCALAR;
  case YAML_SEQUENCE_NODE: return GPP_Y_SEQ;
  case YAML_MAPPING_NODE: return GPP_Y_MAP;
  default: return GPP_Y_NONE;
  }
}

const char *gpp_ytype_name(gpp_ytype t) {
  static const char *const names[] = {"nothing", "a scalar", "a list",
                                      "a mapping"};
  return names[t];
}

gpp_mark gpp_ynode_mark(gpp_ynode n) {
  yaml_node_t *y = node_of(n);
  gpp_mark m = {n.doc ? n.doc->path : "<none>", 1, 1};
  if (y != NULL) {
    m.line = (int)y->start_mark.line + 1;
    m.column = (int)y->start_mark.column + 1;
  }
  return m;
}

const char *gpp_ynode_scalar(gpp_ynode n) {
  yaml_node_t *y = node_of(n);
  if (y == NULL || y->type != YAML_SCALAR_NODE) return NULL;
  return (const char *)y->data.scalar.value;
}

size_t gpp_ynode_len(gpp_ynode n) {
  yaml_node_t *y = node_of(n);
  if (y == NULL) return 0;
  if (y->type == YAML_SEQUENCE_NODE)
    return (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
  if (y->type == YAML_MAPPING_NODE)
    return (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
  return 0;
}

gpp_ynode gpp_yseq_at(gpp_ynode seq, size_t i) {
  yaml_node_t *y = node_of(seq);
  if (y == NULL || y->type != YAML_SEQUENCE_NODE || i >= gpp_ynode_len(seq))
    return make_node(seq.doc, 0);
  return make_node(seq.doc, y->data.sequence.items.start[i]);
}

static yaml_node_pair_t *pair_at(gpp_ynode map, size_t i) {
  yaml_node_t *y = node_of(map);
  if (y == NULL || y->type != YAML_MAPPING_NODE || i >= gpp_ynode_len(map))
    return NULL;
  return &y->data.mapping.pairs.start[i];
}

gpp_ynode gpp_ymap_key(gpp_ynode map, size_t i) {
  yaml_node_pair_t *p = pair_at(map, i);
  return make_node(map.doc, p ? p->key : 0);
}

gpp_ynode gpp_ymap_value(gpp_ynode map, size_t i) {
  yaml_node_pair_t *p = pair_at(map, i);
  return make_node(map.doc, p ? p->value : 0);
}

gpp_ynode gpp_ymap_find(gpp_ynode map, const char *key) {
  size_t n = gpp_ynode_len(map);
  if (gpp_ynode_type(map) != GPP_Y_MAP) n = 0;
  for (size_t i = 0; i < n; i++) {
    const char *k = gpp_ynode_scalar(gpp_ymap_key(map, i));
    if (k != NULL && strcmp(k, key) == 0) return gpp_ymap_value(map, i);
  }
  return make_node(map.doc, 0);
}

int gpp_yexpect(gpp_ynode n, gpp_ytype type, const char *what,
                gpp_errctx *err) {
  gpp_ytype got = gpp_ynode_type(n);
  if (got == type) return 0;
  gpp_mark at = gpp_ynode_mark(n);
  GPP_RAISE_AT(err, GPP_EPARSE, &at, "%s: expected %s, found %s", what,
               gpp_ytype_name(type), gpp_ytype_name(got));
}

static int check_one_key(gpp_ynode map, size_t i, const char *const *allowed,
                         size_t n_allowed, gpp_errctx *err) {
  gpp_ynode kn = gpp_ymap_key(map, i);
  gpp_mark at = gpp_ynode_mark(kn);
  const char *k = gpp_ynode_scalar(kn);
  if (k == NULL)
    GPP_RAISE_AT(err, GPP_EPARSE, &at, "a mapping key must be a plain name");
  for (size_t j = 0; j < i; j++) {
    const char *prev = gpp_ynode_scalar(gpp_ymap_key(map, j));
    if (prev != NULL && strcmp(prev, k) == 0)
      GPP_RAISE_AT(err, GPP_EPARSE, &at, "duplicate key '%s'", k);
  }
  for (size_t j = 0; j < n_allowed; j++)
    if (allowed[j] != NULL && strcmp(allowed[j], k) == 0) return 0;
  const char *hint = gpp_suggest(k, allowed, n_allowed);
  if (hint != NULL)
    GPP_RAISE_AT(err, GPP_EPARSE, &at, "unknown key '%s'; did you mean '%s'?",
                 k, hint);
  char list[512] = "";
  for (size_t j = 0; j < n_allowed; j++) {
    if (allowed[j] == NULL) continue;
    size_t used = strlen(list);
    snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "",
             allowed[j]);
  }
  GPP_RAISE_AT(err, GPP_EPARSE, &at, "unknown key '%s'; expected one of: %s",
               k, list);
}

int gpp_ymap_check_keys(gpp_ynode map, const char *const *allowed,
                        size_t n_allowed, gpp_errctx *err) {
  GPP_TRY(gpp_yexpect(map, GPP_Y_MAP, "this", err));
  size_t n = gpp_ynode_len(map);
  for (size_t i = 0; i < n; i++)
    GPP_TRY(check_one_key(map, i, allowed, n_allowed, err));
  return 0;
}

int gpp_yscalar_str(gpp_ynode n, const char *what, const char **out,
                    gpp_errctx *err) {
  GPP_TRY(gpp_yexpect(n, GPP_Y_SCALAR, what, err));
  yaml_node_t *y = node_of(n);
  gpp_mark at = gpp_ynode_mark(n);
  if (strlen((const char *)y->data.scalar.value) != y->data.scalar.length)
    GPP_RAISE_AT(err, GPP_EPARSE, &at, "%s: contains a NUL character", what);
  if (y->data.scalar.length == 0)
    GPP_RAISE_AT(err, GPP_EPARSE, &at, "%s: is empty", what);
  *out = (const char *)y->data.scalar.value;
  return 0;
}

static int range_error(gpp_ynode n, const char *what, const char *text,
                       gpp_qkind kind, double lo, double hi, gpp_errctx *err) {
  char a[64], b[64];
  gpp_mark at = gpp_ynode_mark(n);
  if (isinf(hi))
    GPP_RAISE_AT(err, GPP_ERANGE, &at, "%s: %s is out of range; expected at "
                 "least %s", what, text, gpp_units_format(lo, kind, a, sizeof a));
  GPP_RAISE_AT(err, GPP_ERANGE, &at, "%s: %s is out of range; expected %s to "
               "%s", what, text, gpp_units_format(lo, kind, a, sizeof a),
               gpp_units_format(hi, kind, b, sizeof b));
}

int gpp_yscalar_qty(gpp_ynode n, const char *what, gpp_qkind kind, double lo,
                    double hi, double *out, gpp_errctx *err) {
  const char *text;
  GPP_TRY(gpp_yscalar_str(n, what, &text, err));
  char why[256];
  double v;
  if (gpp_units_parse(text, kind, &v, why, sizeof why) != 0) {
    gpp_mark at = gpp_ynode_mark(n);
    GPP_RAISE_AT(err, GPP_EUNIT, &at, "%s: %s", what, why);
  }
  if (v < lo || v > hi) return range_error(n, what, text, kind, lo, hi, err);
  *out = v;
  return 0;
}

int gpp_yscalar_int(gpp_ynode n, const char *what, long long lo, long long hi,
                    long long *out, gpp_errctx *err) {
  double v;
  GPP_TRY(gpp_yscalar_qty(n, what, GPP_Q_COUNT, (double)lo, (double)hi, &v,
                          err));
  if (v != floor(v)) {
    gpp_mark at = gpp_ynode_mark(n);
    GPP_RAISE_AT(err, GPP_EUNIT, &at, "%s: expected a whole number, found %s",
                 what, gpp_ynode_scalar(n));
  }
  *out = (long long)v;
  return 0;
}

int gpp_yscalar_bool(gpp_ynode n, const char *what, bool *out,
                     gpp_errctx *err) {
  static const char *const names[] = {"false", "true", "no", "yes", "off",
                                      "on", NULL};
  int idx;
  GPP_TRY(gpp_yscalar_enum(n, what, names, &idx, err));
  *out = idx % 2 == 1;
  return 0;
}

int gpp_yscalar_enum(gpp_ynode n, const char *what, const char *const *names,
                     int *out, gpp_errctx *err) {
  const char *text;
  GPP_TRY(gpp_yscalar_str(n, what, &text, err));
  size_t count = 0;
  for (; names[count] != NULL; count++)
    if (strcmp(names[count], text) == 0) {
      *out = (int)count;
      return 0;
    }
  gpp_mark at = gpp_ynode_mark(n);
  char list[512] = "";
  for (size_t j = 0; j < count; j++) {
    size_t used = strlen(list);
    snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "", names[j]);
  }
  const char *hint = gpp_suggest(text, names, count);
  if (hint != NULL)
    GPP_RAISE_AT(err, GPP_EINVAL, &at, "%s: unknown value '%s'; did you mean "
                 "'%s'? (valid: %s)", what, text, hint, list);
  GPP_RAISE_AT(err, GPP_EINVAL, &at, "%s: unknown value '%s'; valid: %s", what,
               text, list);
}

int gpp_ymap_require(gpp_ynode map, const char *key, gpp_ynode *out,
                     gpp_errctx *err) {
  *out = gpp_ymap_find(map, key);
  if (gpp_ynode_ok(*out)) return 0;
  gpp_mark at = gpp_ynode_mark(map);
  GPP_RAISE_AT(err, GPP_EPARSE, &at, "missing required key '%s'", key);
}

static int read_field(gpp_ynode v, const gpp_yfield *f, char *dst,
                      gpp_errctx *err) {
  void *p = dst + f->offset;
  switch (f->type) {
  case GPP_YF_STR: return gpp_yscalar_str(v, f->key, (const char **)p, err);
  case GPP_YF_INT:
    return gpp_yscalar_int(v, f->key, (long long)f->lo, (long long)f->hi,
                           (long long *)p, err);
  case GPP_YF_QTY:
    return gpp_yscalar_qty(v, f->key, f->qkind, f->lo, f->hi, (double *)p,
                           err);
  case GPP_YF_BOOL: return gpp_yscalar_bool(v, f->key, (bool *)p, err);
  case GPP_YF_ENUM: return gpp_yscalar_enum(v, f->key, f->names, (int *)p, err);
  case GPP_YF_NODE: *(gpp_ynode *)p = v; return 0;
  }
  GPP_RAISE(err, GPP_EINTERNAL, "bad field type for '%s'", f->key);
}

int gpp_yread_fields(gpp_ynode map, const gpp_yfield *fields, size_t n,
                     void *dst, gpp_errctx *err) {
  const char *keys[64];
  if (n > 64) GPP_RAISE(err, GPP_EINTERNAL, "field table too long");
  for (size_t i = 0; i < n; i++) keys[i] = fields[i].key;
  GPP_TRY(gpp_ymap_check_keys(map, keys, n, err));
  for (size_t i = 0; i < n; i++) {
    gpp_ynode v = gpp_ymap_find(map, fields[i].key);
    if (!gpp_ynode_ok(v)) {
      if (!fields[i].required) continue;
      gpp_mark at = gpp_ynode_mark(map);
      GPP_RAISE_AT(err, GPP_EPARSE, &at, "missing required key '%s'",
                   fields[i].key);
    }
    GPP_TRY(read_field(v, &fields[i], dst, err));
  }
  return 0;
}
