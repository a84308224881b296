/* cluster_override.c -- a cluster document with some keys replaced: the
 * document written back as flow-style YAML text with the overrides put in
 * (and `nodes` raised when more GPUs are wanted), then loaded like any
 * other cluster file.  Sweeps resize and override a cluster per point this
 * way, and `validate published` sizes a run's cluster. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology/topology.h"

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

static void emit(sbuf *b, gpp_ynode n, const char *prefix, gpp_cluster_ovr *o,
                 size_t n_o);

static gpp_cluster_ovr *find_ovr(gpp_cluster_ovr *o, size_t n_o, const char *prefix, const char *k) {
  size_t lp = strlen(prefix), lk = strlen(k);
  for (size_t i = 0; i < n_o; i++)
    if (strncmp(o[i].path, prefix, lp) == 0 &&
        strncmp(o[i].path + lp, k, lk) == 0 && o[i].path[lp + lk] == '\0')
      return &o[i];
  return NULL;
}

static void emit_pair(sbuf *b, const char *key, gpp_ynode v,
                      const char *prefix, gpp_cluster_ovr *o, size_t n_o) {
  char sub[512];
  put_scalar(b, key);
  put(b, ": ");
  gpp_cluster_ovr *hit = find_ovr(o, n_o, prefix, key);
  if (hit != NULL) {
    hit->used = true;
    put_scalar(b, hit->value);
    return;
  }
  snprintf(sub, sizeof sub, "%s%s.", prefix, key);
  emit(b, v, sub, o, n_o);
}

/* Overrides of keys the mapping lacks are added as leaves. */
static void emit_map(sbuf *b, gpp_ynode n, const char *prefix, gpp_cluster_ovr *o,
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

static void emit(sbuf *b, gpp_ynode n, const char *prefix, gpp_cluster_ovr *o,
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

static int text_of_root(gpp_ynode root, gpp_cluster_ovr *o, size_t n_o, char **out,
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

static int load(gpp_ynode root, const char *name, gpp_cluster_ovr *o,
                size_t n_o, gpp_cluster **out, char **text, gpp_errctx *err) {
  GPP_TRY(text_of_root(root, o, n_o, text, err));
  int rc = gpp_cluster_from_string(name, *text, out, err);
  if (rc != 0) {
    free(*text);
    *text = NULL;
  }
  return rc;
}

static int overridden(gpp_ynode root, const char *name, gpp_cluster_ovr *o,
                      size_t n_o, uint32_t gpus, gpp_cluster **out,
                      char **text, gpp_errctx *err) {
  char nodes[32];
  GPP_TRY(load(root, name, o, n_o, out, text, err));
  uint32_t per = (*out)->gpus_per_node;
  if (gpus <= (*out)->n_gpus || per == 0) return 0;
  snprintf(nodes, sizeof nodes, "%u", (gpus + per - 1) / per);
  gpp_cluster_destroy(*out);
  *out = NULL;
  free(*text);
  *text = NULL;
  for (size_t k = 0; k < n_o; k++) o[k].used = false;
  gpp_cluster_ovr *user = find_ovr(o, n_o, "", "nodes");
  if (user != NULL) user->value = nodes;
  else o[n_o++] = (gpp_cluster_ovr){"nodes", nodes, {0}, false};
  return load(root, name, o, n_o, out, text, err);
}

int gpp_cluster_overridden(gpp_ynode root, const char *name,
                           gpp_cluster_ovr *o, size_t n_o, uint32_t gpus,
                           gpp_cluster **out, char **text, gpp_errctx *err) {
  char *t = NULL;
  *out = NULL;
  int rc = overridden(root, name, o, n_o, gpus, out, &t, err);
  if (text != NULL) *text = t;
  else free(t);
  return rc;
}

int gpp_cluster_resized(gpp_ynode root, const char *gpu, uint32_t gpus,
                        gpp_cluster **out, gpp_errctx *err) {
  gpp_cluster_ovr o[2];
  size_t n_o = 0;
  if (gpu != NULL) o[n_o++] = (gpp_cluster_ovr){"gpu", gpu, {0}, false};
  return gpp_cluster_overridden(root, gpp_ydoc_path(root.doc), o, n_o, gpus,
                                out, NULL, err);
}
