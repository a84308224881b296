/* sweep_cluster.c -- a point's cluster: the base cluster's YAML written
 * back as flow-style text with the point's `cluster.<key>` values (and a
 * raised `nodes` when the point wants more GPUs) put in, then loaded by the
 * topology module like any other cluster file. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sweep_internal.h"
#include "topology/topology.h"

#define MAX_OVR 40

typedef struct ovr {
  const char *path;   /* after "cluster." */
  const char *value;  /* scalar text */
  gpp_ynode at;       /* for messages; absent for `nodes` resizing */
  bool used;
} ovr;

typedef struct sbuf {
  char *p;
  size_t n, cap;
  bool oom;
} sbuf;

static void put(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    /* No buffer yet: measure only (NULL + 0 is undefined behaviour). */
    char *end = b->p ? b->p + b->n : NULL;
    int k = b->oom ? 0 : vsnprintf(end, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (b->oom || b->n + (size_t)k < b->cap) {
      b->n += (size_t)k;
      return;
    }
    size_t cap = 2 * (b->cap + (size_t)k);
    char *p = realloc(b->p, cap);
    if (p == NULL) b->oom = true;
    else b->p = p, b->cap = cap;
  }
}

static void put_scalar(sbuf *b, const char *s) {
  put(b, "\"");
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') put(b, "\\%c", *s);
    else if ((unsigned char)*s < 0x20) put(b, "\\x%02x", (unsigned char)*s);
    else put(b, "%c", *s);
  }
  put(b, "\"");
}

static void emit(sbuf *b, gpp_ynode n, const char *prefix, ovr *o,
                 size_t n_o);

static ovr *find_ovr(ovr *o, size_t n_o, const char *prefix, const char *k) {
  size_t lp = strlen(prefix), lk = strlen(k);
  for (size_t i = 0; i < n_o; i++)
    if (strncmp(o[i].path, prefix, lp) == 0 &&
        strncmp(o[i].path + lp, k, lk) == 0 && o[i].path[lp + lk] == '\0')
      return &o[i];
  return NULL;
}

static void emit_pair(sbuf *b, const char *key, gpp_ynode v,
                      const char *prefix, ovr *o, size_t n_o) {
  char sub[512];
  put_scalar(b, key);
  put(b, ": ");
  ovr *hit = find_ovr(o, n_o, prefix, key);
  if (hit != NULL) {
    hit->used = true;
    put_scalar(b, hit->value);
    return;
  }
  snprintf(sub, sizeof sub, "%s%s.", prefix, key);
  emit(b, v, sub, o, n_o);
}

/* Overrides of keys the mapping lacks are added as leaves. */
static void emit_map(sbuf *b, gpp_ynode n, const char *prefix, ovr *o,
                     size_t n_o) {
  size_t len = gpp_ynode_len(n), lp = strlen(prefix);
  put(b, "{");
  for (size_t i = 0; i < len; i++) {
    if (i) put(b, ", ");
    emit_pair(b, gpp_ynode_scalar(gpp_ymap_key(n, i)), gpp_ymap_value(n, i),
              prefix, o, n_o);
  }
  for (size_t i = 0; i < n_o; i++) {
    const char *rest = o[i].path + lp;
    if (o[i].used || strncmp(o[i].path, prefix, lp) != 0 ||
        strchr(rest, '.') != NULL)
      continue;
    put(b, "%s", len++ ? ", " : "");
    put_scalar(b, rest);
    put(b, ": ");
    put_scalar(b, o[i].value);
    o[i].used = true;
  }
  put(b, "}");
}

static void emit(sbuf *b, gpp_ynode n, const char *prefix, ovr *o,
                 size_t n_o) {
  if (gpp_ynode_type(n) == GPP_Y_MAP) {
    emit_map(b, n, prefix, o, n_o);
  } else if (gpp_ynode_type(n) == GPP_Y_SEQ) {
    put(b, "[");
    for (size_t i = 0; i < gpp_ynode_len(n); i++) {
      if (i) put(b, ", ");
      emit(b, gpp_yseq_at(n, i), "\x01", o, n_o); /* no overrides inside */
    }
    put(b, "]");
  } else {
    put_scalar(b, gpp_ynode_scalar(n) ? gpp_ynode_scalar(n) : "");
  }
}

/* The point's cluster.<key> overrides (only: just its assignment number
 * `only`; -1: all). */
static size_t point_overrides(const gpp_sweep *s, uint32_t i, int only,
                              ovr *o) {
  const gpp__sw_point *p = &s->points[i];
  size_t n = 0;
  for (uint32_t k = 0; k < p->n && n < MAX_OVR - 1; k++) {
    const gpp__sw_assign *a = &s->assigns[p->first + k];
    if (strncmp(a->key, "cluster.", 8) == 0 && (only < 0 || (int)k == only))
      o[n++] = (ovr){a->key + 8, gpp_ynode_scalar(a->value), a->value, false};
  }
  return n;
}

static int text_of_root(gpp_ynode root, ovr *o, size_t n_o, char **out,
                        gpp_errctx *err) {
  sbuf b = {0};
  emit(&b, root, "", o, n_o);
  if (b.oom || b.p == NULL) {
    free(b.p);
    GPP_RAISE(err, GPP_ENOMEM, "out of memory");
  }
  for (size_t k = 0; k < n_o; k++)
    if (!o[k].used) {
      free(b.p);
      gpp_mark at = gpp_ynode_mark(o[k].at);
      GPP_RAISE_AT(err, GPP_EINVAL, &at, "cluster.%s: the base cluster has "
                   "no mapping to put this in", o[k].path);
    }
  *out = b.p;
  return 0;
}

static int text_of(const gpp_sweep *s, uint32_t i, ovr *o, size_t n_o,
                   char **out, gpp_errctx *err) {
  return text_of_root(s->clusters[s->points[i].cluster], o, n_o, out, err);
}

int gpp_cluster_resized(gpp_ynode root, const char *gpu, uint32_t gpus,
                        gpp_cluster **out, gpp_errctx *err) {
  ovr o[2];
  size_t n_o = 0;
  char nodes[32], *text = NULL;
  const char *name = gpp_ydoc_path(root.doc);
  if (gpu != NULL) o[n_o++] = (ovr){"gpu", gpu, {0}, false};
  GPP_TRY(text_of_root(root, o, n_o, &text, err));
  int rc = gpp_cluster_from_string(name, text, out, err);
  free(text);
  if (rc != 0 || gpus <= (*out)->n_gpus || (*out)->gpus_per_node == 0)
    return rc;
  snprintf(nodes, sizeof nodes, "%u",
           (gpus + (*out)->gpus_per_node - 1) / (*out)->gpus_per_node);
  gpp_cluster_destroy(*out);
  *out = NULL;
  for (size_t k = 0; k < n_o; k++) o[k].used = false;
  o[n_o++] = (ovr){"nodes", nodes, {0}, false};
  GPP_TRY(text_of_root(root, o, n_o, &text, err));
  rc = gpp_cluster_from_string(name, text, out, err);
  free(text);
  return rc;
}

static int build(const gpp_sweep *s, uint32_t i, ovr *o, size_t n_o,
                 gpp_cluster **out, char **text, gpp_errctx *err) {
  char name[128];
  GPP_TRY(text_of(s, i, o, n_o, text, err));
  snprintf(name, sizeof name, "%s(point %u cluster)", s->name, i);
  return gpp_cluster_from_string(name, *text, out, err);
}

/* Both the cluster and its text; on failure neither. */
static int resolve(const gpp_sweep *s, uint32_t i, gpp_cluster **out,
                   char **text, gpp_errctx *err) {
  ovr o[MAX_OVR];
  char nodes[32];
  size_t n_o = point_overrides(s, i, -1, o);
  uint32_t want = s->points[i].gpus;
  *text = NULL;
  int rc = build(s, i, o, n_o, out, text, err);
  if (rc != 0 || want <= (*out)->n_gpus || (*out)->gpus_per_node == 0)
    goto done;
  uint32_t per = (*out)->gpus_per_node;
  snprintf(nodes, sizeof nodes, "%u", (want + per - 1) / per);
  gpp_cluster_destroy(*out);
  free(*text);
  for (size_t k = 0; k < n_o; k++) o[k].used = false;
  ovr *user = find_ovr(o, n_o, "", "nodes");
  if (user != NULL) user->value = nodes;
  else o[n_o++] = (ovr){"nodes", nodes, {0}, false};
  rc = build(s, i, o, n_o, out, text, err);
done:
  if (rc != 0) {
    free(*text);
    *text = NULL;
  }
  return rc;
}

int gpp__sweep_cluster(const gpp_sweep *s, uint32_t i, gpp_cluster **out,
                       gpp_errctx *err) {
  char *text;
  int rc = resolve(s, i, out, &text, err);
  free(text);
  return rc;
}

int gpp__sweep_cluster_text(const gpp_sweep *s, uint32_t i, char **out,
                            gpp_errctx *err) {
  gpp_cluster *c = NULL;
  int rc = resolve(s, i, &c, out, err);
  gpp_cluster_destroy(c);
  return rc;
}

int gpp__sweep_cluster_one(const gpp_sweep *s, uint32_t i, int only,
                           gpp_cluster **out, gpp_errctx *err) {
  ovr o[MAX_OVR];
  char *text = NULL;
  size_t n_o = point_overrides(s, i, only, o);
  int rc = build(s, i, o, n_o, out, &text, err);
  free(text);
  return rc;
}
