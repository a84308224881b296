/* sweep_check.c -- every point of a sweep is checked at load: each distinct
 * model (a model with its model.<param> values) and each distinct cluster
 * (a base cluster with its cluster.<key> values and GPU count) is built
 * once, and a failure is reported at the value in the experiment file that
 * causes it, before any point runs or any file is written. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model/model.h"
#include "sim/sweep/sweep_internal.h"
#include "topology/topology.h"

#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

/* A set of 64-bit identities (open addressing; 0 marks a free slot). */
typedef struct seen {
  uint64_t *h;
  size_t cap, n;
} seen;

static uint64_t mix(uint64_t h, const char *text) {
  for (const unsigned char *c = (const unsigned char *)text; *c; c++)
    h = (h ^ *c) * FNV_PRIME;
  return (h ^ 0x1f) * FNV_PRIME; /* a separator */
}

static bool is_kind(const gpp__sw_assign *a, const char *prefix) {
  return strncmp(a->key, prefix, strlen(prefix)) == 0;
}

/* The identity of point i's model (prefix "model.") or cluster
 * ("cluster."): its base entry, those keys' values, for clusters the GPU
 * count.  Two points with one identity build the same thing. */
static uint64_t identity(const gpp_sweep *s, uint32_t i, const char *prefix) {
  const gpp__sw_point *p = &s->points[i];
  bool cluster = prefix[0] == 'c';
  char head[64];
  snprintf(head, sizeof head, "%u/%u", cluster ? p->cluster : p->model,
           cluster ? p->gpus : 0);
  uint64_t h = mix(FNV_OFFSET, head);
  for (uint32_t k = 0; k < p->n; k++) {
    const gpp__sw_assign *a = &s->assigns[p->first + k];
    if (is_kind(a, prefix))
      h = mix(mix(h, a->key), gpp_ynode_scalar(a->value));
  }
  return h ? h : 1;
}

static void put(uint64_t *h, size_t cap, uint64_t v) {
  size_t j = v & (cap - 1);
  while (h[j] != 0 && h[j] != v) j = (j + 1) & (cap - 1);
  h[j] = v;
}

static int grow(seen *t, gpp_errctx *err) {
  size_t cap = t->cap ? 2 * t->cap : 256;
  uint64_t *h = gpp_calloc(err, cap, sizeof *h);
  if (h == NULL) return GPP_ENOMEM;
  for (size_t i = 0; i < t->cap; i++)
    if (t->h[i] != 0) put(h, cap, t->h[i]);
  free(t->h);
  t->h = h;
  t->cap = cap;
  return 0;
}

/* Adds v; *was says whether it was there already. */
static int add(seen *t, uint64_t v, bool *was, gpp_errctx *err) {
  if (2 * (t->n + 1) > t->cap) GPP_TRY(grow(t, err));
  size_t j = v & (t->cap - 1);
  while (t->h[j] != 0 && t->h[j] != v) j = (j + 1) & (t->cap - 1);
  *was = t->h[j] == v;
  if (!*was) t->h[j] = v, t->n++;
  return 0;
}

/* The message of e after its leading "file:line:column: ", if any. */
static const char *bare(const gpp_errctx *e) {
  for (const char *c = strchr(e->msg, ':'); c; c = strchr(c + 1, ':')) {
    const char *d = c + 1;
    if (!isdigit((unsigned char)*d)) continue;
    while (isdigit((unsigned char)*d)) d++;
    if (*d++ != ':' || !isdigit((unsigned char)*d)) continue;
    while (isdigit((unsigned char)*d)) d++;
    if (d[0] == ':' && d[1] == ' ') return d + 2;
  }
  return e->msg;
}

static int blame(const gpp_sweep *s, uint32_t i, gpp_ynode at,
                 const char *what, const gpp_errctx *e, gpp_errctx *err) {
  char params[GPP__SW_PARAMS];
  gpp__sweep_params(s, i, params, sizeof params);
  gpp_mark mk = gpp_ynode_mark(at);
  const char *msg = bare(e);
  bool named = strncmp(msg, what, strlen(what)) == 0;
  return GPP_ERR_AT(err, e->code, &mk, "point %u (%s %s): %s%s%s", i,
                    s->models[s->points[i].model].label, params,
                    named ? "" : what, named ? "" : ": ", msg);
}

/* Builds point i's model or cluster: all of it (only -1), or with just
 * its assignment number `only`; 0, or the error in e. */
static int try_build(const gpp_sweep *s, uint32_t i, bool cluster, int only,
                     gpp_errctx *e) {
  gpp_errctx fresh = {0};
  *e = fresh;
  if (!cluster) {
    gpp_model *m = NULL;
    int rc = gpp__sweep_model(s, i, only, &m, e);
    gpp_model_destroy(m);
    return rc;
  }
  gpp_cluster *c = NULL;
  int rc = only < 0 ? gpp__sweep_cluster(s, i, &c, e)
                    : gpp__sweep_cluster_one(s, i, only, &c, e);
  gpp_cluster_destroy(c);
  return rc;
}

/* Point i's assignment named prefix (exact) or starting with it, or
 * NULL. */
static const gpp__sw_assign *find(const gpp_sweep *s, uint32_t i,
                                  const char *prefix, bool exact) {
  const gpp__sw_point *p = &s->points[i];
  for (uint32_t k = 0; k < p->n; k++) {
    const gpp__sw_assign *a = &s->assigns[p->first + k];
    if (exact ? strcmp(a->key, prefix) == 0 : is_kind(a, prefix)) return a;
  }
  return NULL;
}

/* Point i's model or cluster failed with e: the value alone that fails,
 * else (clusters) its GPU count, else its first value of that kind. */
static int locate(const gpp_sweep *s, uint32_t i, bool cluster,
                  const gpp_errctx *e, gpp_errctx *err) {
  const char *prefix = cluster ? "cluster." : "model.";
  const gpp__sw_point *p = &s->points[i];
  gpp_errctx one;
  for (uint32_t k = 0; k < p->n; k++) {
    const gpp__sw_assign *a = &s->assigns[p->first + k];
    if (is_kind(a, prefix) && try_build(s, i, cluster, (int)k, &one) != 0)
      return blame(s, i, a->value, a->key, &one, err);
  }
  const gpp__sw_assign *a = cluster ? find(s, i, "gpus", true) : NULL;
  if (a == NULL) a = find(s, i, prefix, false);
  if (a != NULL) return blame(s, i, a->value, a->key, e, err);
  return blame(s, i, gpp_ydoc_root(s->doc), prefix, e, err);
}

static int check_one(const gpp_sweep *s, uint32_t i, bool cluster,
                     seen *done, gpp_errctx *err) {
  bool was;
  gpp_errctx e;
  GPP_TRY(add(done, identity(s, i, cluster ? "cluster." : "model."), &was,
              err));
  if (was || try_build(s, i, cluster, -1, &e) == 0) return 0;
  if (e.code == GPP_ENOMEM || e.code == GPP_EIO) {
    *err = e;
    return e.code;
  }
  return locate(s, i, cluster, &e, err);
}

int gpp__sweep_check_points(const gpp_sweep *s, gpp_errctx *err) {
  seen models = {0}, clusters = {0};
  int rc = 0;
  for (uint32_t i = 0; rc == 0 && i < s->n_points; i++) {
    rc = check_one(s, i, false, &models, err);
    if (rc == 0) rc = check_one(s, i, true, &clusters, err);
  }
  free(models.h);
  free(clusters.h);
  return rc;
}
