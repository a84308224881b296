/* sweep_load.c -- reading an experiment file (sweep.h) into models, base
 * clusters and settings, then expanding its listed points and grid. */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_profile/cost.h"
#include "sim/common/arena.h"
#include "sim/common/bundle.h"
#include "sim/plan/plan.h"
#include "sim/sweep/sweep_internal.h"
#include "topology/topology.h"

typedef struct top_fields {
  const char *name, *description, *profile;
  gpp_ynode models, clusters, grid, points;
  int compare, jitter;
  long long refine, replications, seed;
  double samples_to_train, train_tokens;
} top_fields;

static const char *const compare_names[] = {"each", "best", NULL};
static const char *const jitter_names[] = {"none", "profile", NULL};

#define F(k, t, req, q, lo, hi, names)                                        \
  {#k, t, offsetof(top_fields, k), req, q, lo, hi, names}
static const gpp_yfield top_table[] = {
    F(name, GPP_YF_STR, true, GPP_Q_COUNT, 0, 0, NULL),
    F(description, GPP_YF_STR, false, GPP_Q_COUNT, 0, 0, NULL),
    F(models, GPP_YF_NODE, true, GPP_Q_COUNT, 0, 0, NULL),
    F(clusters, GPP_YF_NODE, true, GPP_Q_COUNT, 0, 0, NULL),
    F(grid, GPP_YF_NODE, false, GPP_Q_COUNT, 0, 0, NULL),
    F(points, GPP_YF_NODE, false, GPP_Q_COUNT, 0, 0, NULL),
    F(compare, GPP_YF_ENUM, false, GPP_Q_COUNT, 0, 0, compare_names),
    F(refine, GPP_YF_INT, false, GPP_Q_COUNT, 0, 64, NULL),
    F(samples_to_train, GPP_YF_QTY, false, GPP_Q_COUNT, 1, 1e18, NULL),
    F(train_tokens, GPP_YF_QTY, false, GPP_Q_COUNT, 1, 1e18, NULL),
    F(replications, GPP_YF_INT, false, GPP_Q_COUNT, 1, 10000, NULL),
    F(jitter, GPP_YF_ENUM, false, GPP_Q_COUNT, 0, 0, jitter_names),
    F(seed, GPP_YF_INT, false, GPP_Q_COUNT, 0, 4294967295.0, NULL),
    F(profile, GPP_YF_STR, false, GPP_Q_COUNT, 0, 0, NULL),
};
#undef F

int gpp__sweep_path(gpp_sweep *s, gpp_ynode at, const char *sub,
                    const char *given, const char **out, gpp_errctx *err) {
  char path[GPP_INPUT_PATH_MAX];
  gpp_mark m = gpp_ynode_mark(at);
  bool named = sub != NULL && strchr(given, '/') == NULL;
  gpp_errctx e = {0};
  if (gpp_input_near(given, gpp_ydoc_path(s->doc), path, sizeof path) != 0) {
    if (!named)
      GPP_RAISE_AT(err, GPP_ENOENT, &m, "file '%s' not found (tried the "
                   "working directory, next to the experiment file, under "
                   "%s and the files built into gppsim)", given,
                   gpp_source_root());
    if (gpp_input_named(sub, given, path, sizeof path, &e) != 0)
      GPP_RAISE_AT(err, GPP_ENOENT, &m, "%s", e.msg);
  }
  *out = gpp_arena_strdup(s->arena, path, err);
  return *out != NULL ? 0 : GPP_ENOMEM;
}

/* ---- models ---- */

static int model_set(gpp_sweep *s, gpp__sw_model *m, gpp_ynode set,
                     gpp_errctx *err) {
  GPP_TRY(gpp_yexpect(set, GPP_Y_MAP, "set", err));
  m->n_set = (uint32_t)gpp_ynode_len(set);
  m->set = gpp_arena_array(s->arena, m->n_set + 1, sizeof *m->set, err);
  if (m->set == NULL) return GPP_ENOMEM;
  for (uint32_t i = 0; i < m->n_set; i++) {
    long long v;
    GPP_TRY(gpp_yscalar_str(gpp_ymap_key(set, i), "parameter",
                            &m->set[i].key, err));
    GPP_TRY(gpp_yscalar_int(gpp_ymap_value(set, i), m->set[i].key,
                            -(1LL << 62), 1LL << 62, &v, err));
    m->set[i].value = gpp_ymap_value(set, i);
  }
  return 0;
}

static int model_entry(gpp_sweep *s, gpp__sw_model *m, gpp_ynode n,
                       gpp_errctx *err) {
  gpp_ynode path = n;
  if (gpp_ynode_type(n) == GPP_Y_MAP) {
    static const char *const keys[] = {"path", "label", "set", "precision"};
    GPP_TRY(gpp_ymap_check_keys(n, keys, 4, err));
    GPP_TRY(gpp_ymap_require(n, "path", &path, err));
    gpp_ynode v = gpp_ymap_find(n, "label");
    if (gpp_ynode_ok(v)) GPP_TRY(gpp_yscalar_str(v, "label", &m->label, err));
    v = gpp_ymap_find(n, "set");
    if (gpp_ynode_ok(v)) GPP_TRY(model_set(s, m, v, err));
    v = gpp_ymap_find(n, "precision");
    int k;
    if (gpp_ynode_ok(v)) {
      GPP_TRY(gpp_yscalar_enum(v, "precision", gpp_precision_names(), &k,
                               err));
      m->precision = gpp_precision_names()[k];
    }
  }
  GPP_TRY(gpp_yscalar_str(path, "model path", &m->given, err));
  return gpp__sweep_path(s, path, "models", m->given, &m->path, err);
}

/* Loads the model once: checks it and its `set:` and names the label. */
static int model_check(gpp_sweep *s, gpp__sw_model *m, gpp_ynode at,
                       gpp_errctx *err) {
  gpp_model_param p[64];
  gpp_model *model;
  if (m->n_set > 64) {
    gpp_mark mk = gpp_ynode_mark(at);
    GPP_RAISE_AT(err, GPP_ERANGE, &mk, "at most 64 model parameters");
  }
  for (uint32_t i = 0; i < m->n_set; i++) {
    long long v;
    gpp_yscalar_int(m->set[i].value, "", -(1LL << 62), 1LL << 62, &v, err);
    p[i] = (gpp_model_param){m->set[i].key, v};
  }
  int rc = gpp_model_load_as(m->path, p, m->n_set, m->precision, &model, err);
  if (rc != 0) {
    gpp_mark mk = gpp_ynode_mark(at);
    gpp_error_prefix(err, "%s:%d:%d: model", mk.file, mk.line, mk.column);
    return rc;
  }
  if (m->label == NULL) m->label = gpp_arena_strdup(s->arena, model->name, err);
  gpp_model_destroy(model);
  return m->label ? 0 : GPP_ENOMEM;
}

static int load_models(gpp_sweep *s, gpp_ynode seq, gpp_errctx *err) {
  GPP_TRY(gpp_yexpect(seq, GPP_Y_SEQ, "models", err));
  s->n_models = (uint32_t)gpp_ynode_len(seq);
  gpp_mark at = gpp_ynode_mark(seq);
  if (s->n_models == 0)
    GPP_RAISE_AT(err, GPP_EINVAL, &at, "models: the list is empty");
  s->models = gpp_arena_array(s->arena, s->n_models, sizeof *s->models, err);
  if (s->models == NULL) return GPP_ENOMEM;
  for (uint32_t i = 0; i < s->n_models; i++) {
    gpp_ynode n = gpp_yseq_at(seq, i);
    GPP_TRY(model_entry(s, &s->models[i], n, err));
    GPP_TRY(model_check(s, &s->models[i], n, err));
    for (uint32_t j = 0; j < i; j++)
      if (strcmp(s->models[j].label, s->models[i].label) == 0) {
        at = gpp_ynode_mark(n);
        GPP_RAISE_AT(err, GPP_EINVAL, &at, "models: label '%s' is used "
                     "twice; give each model a distinct `label`",
                     s->models[i].label);
      }
  }
  return 0;
}

/* ---- clusters ---- */

static int cluster_entry(gpp_sweep *s, uint32_t i, gpp_ynode n,
                         gpp_errctx *err) {
  s->clusters[i] = n;
  if (gpp_ynode_type(n) != GPP_Y_MAP) {
    const char *given, *path;
    GPP_TRY(gpp_yscalar_str(n, "cluster (a path or a mapping)", &given, err));
    GPP_TRY(gpp__sweep_path(s, n, "clusters", given, &path, err));
    GPP_TRY(gpp_ydoc_load_file(path, &s->cluster_docs[i], err));
    s->clusters[i] = gpp_ydoc_root(s->cluster_docs[i]);
  }
  gpp_cluster *c;
  GPP_TRY(gpp_cluster_from_node(s->clusters[i], &c, err));
  gpp_cluster_destroy(c);
  return 0;
}

static int load_clusters(gpp_sweep *s, gpp_ynode seq, gpp_errctx *err) {
  GPP_TRY(gpp_yexpect(seq, GPP_Y_SEQ, "clusters", err));
  s->n_clusters = (uint32_t)gpp_ynode_len(seq);
  gpp_mark at = gpp_ynode_mark(seq);
  if (s->n_clusters == 0)
    GPP_RAISE_AT(err, GPP_EINVAL, &at, "clusters: the list is empty");
  s->clusters = gpp_arena_array(s->arena, s->n_clusters, sizeof *s->clusters,
                                err);
  s->cluster_docs = gpp_calloc(err, s->n_clusters, sizeof *s->cluster_docs);
  if (s->clusters == NULL || s->cluster_docs == NULL) return GPP_ENOMEM;
  for (uint32_t i = 0; i < s->n_clusters; i++)
    GPP_TRY(cluster_entry(s, i, gpp_yseq_at(seq, i), err));
  return 0;
}

/* ---- settings and points ---- */

static int check_name(const char *name, gpp_ynode root, gpp_errctx *err) {
  for (const char *p = name; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("_.-", *p)) {
      gpp_mark at = gpp_ynode_mark(gpp_ymap_find(root, "name"));
      GPP_RAISE_AT(err, GPP_EINVAL, &at, "name: '%s' may hold only letters, "
                   "digits, '_', '.' and '-'", name);
    }
  return 0;
}

static int settings(gpp_sweep *s, const top_fields *t, gpp_ynode root,
                    gpp_errctx *err) {
  GPP_TRY(check_name(t->name, root, err));
  s->name = t->name;
  s->description = t->description ? t->description : "";
  s->compare = t->compare;
  s->jitter = t->jitter;
  s->refine = (uint32_t)t->refine;
  s->replications = (uint32_t)t->replications;
  s->seed = (unsigned long)t->seed;
  s->samples_to_train = t->samples_to_train;
  s->train_tokens = t->train_tokens;
  gpp_mark at = gpp_ynode_mark(gpp_ymap_find(root, "jitter"));
  if (t->jitter == GPP__SW_JITTER_PROFILE && t->profile == NULL)
    GPP_RAISE_AT(err, GPP_EINVAL, &at, "jitter: profile needs a `profile:` "
                 "database to draw kernel times from");
  at = gpp_ynode_mark(gpp_ymap_find(root, "replications"));
  if (t->replications > 1 && t->jitter == GPP__SW_JITTER_NONE)
    GPP_RAISE_AT(err, GPP_EINVAL, &at, "replications: %lld replications "
                 "without jitter would all be equal; set `jitter: profile`",
                 t->replications);
  if (t->profile == NULL) return 0;
  const char *path;
  gpp_ynode pn = gpp_ymap_find(root, "profile");
  GPP_TRY(gpp__sweep_path(s, pn, NULL, t->profile, &path, err));
  return gpp_profile_db_open(path, &s->profile, err);
}

static int expand_all(gpp_sweep *s, const top_fields *t, gpp_errctx *err) {
  bool listed = gpp_ynode_ok(t->points), grid = gpp_ynode_ok(t->grid);
  if (listed) GPP_TRY(gpp_yexpect(t->points, GPP_Y_SEQ, "points", err));
  size_t n_listed = listed ? gpp_ynode_len(t->points) : 0;
  for (uint32_t m = 0; m < s->n_models; m++)
    for (uint32_t c = 0; c < s->n_clusters; c++)
      for (size_t i = 0; i < n_listed; i++)
        GPP_TRY(gpp__sweep_expand(s, gpp_yseq_at(t->points, i), m, c, err));
  for (uint32_t m = 0; m < s->n_models && (grid || !listed); m++)
    for (uint32_t c = 0; c < s->n_clusters; c++)
      GPP_TRY(gpp__sweep_expand(s, t->grid, m, c, err));
  return 0;
}

static int read_text(gpp_sweep *s, const char *path, gpp_errctx *err) {
  char *text = NULL;
  size_t len = 0;
  GPP_TRY(gpp_read_input_file(path, &text, &len, err));
  s->text = gpp_arena_strdup(s->arena, text, err);
  free(text);
  return s->text != NULL ? 0 : GPP_ENOMEM;
}

static int load(gpp_sweep *s, const char *path, gpp_errctx *err) {
  top_fields t = {.samples_to_train = NAN, .train_tokens = NAN,
                  .replications = 1, .seed = 1};
  s->arena = gpp_arena_create(err);
  if (s->arena == NULL) return GPP_ENOMEM;
  GPP_TRY(gpp_ydoc_load_file(path, &s->doc, err));
  GPP_TRY(read_text(s, path, err));
  gpp_ynode root = gpp_ydoc_root(s->doc);
  GPP_TRY(gpp_yexpect(root, GPP_Y_MAP, "experiment", err));
  GPP_TRY(gpp_yread_fields(root, top_table,
                           sizeof top_table / sizeof top_table[0], &t, err));
  GPP_TRY(settings(s, &t, root, err));
  GPP_TRY(load_models(s, t.models, err));
  GPP_TRY(load_clusters(s, t.clusters, err));
  GPP_TRY(expand_all(s, &t, err));
  return gpp__sweep_check_points(s, err);
}

int gpp_sweep_load(const char *path, gpp_sweep **out, gpp_errctx *err) {
  *out = NULL;
  gpp_sweep *s = gpp_calloc(err, 1, sizeof *s);
  if (s == NULL) return GPP_ENOMEM;
  int rc = load(s, path, err);
  if (rc != 0) {
    gpp_sweep_destroy(s);
    return rc;
  }
  *out = s;
  return 0;
}

void gpp_sweep_destroy(gpp_sweep *s) {
  if (s == NULL) return;
  for (uint32_t i = 0; s->cluster_docs && i < s->n_clusters; i++)
    gpp_ydoc_destroy(s->cluster_docs[i]);
  free(s->cluster_docs);
  free(s->points);
  free(s->assigns);
  gpp_profile_db_destroy(s->profile);
  gpp_ydoc_destroy(s->doc);
  gpp_arena_destroy(s->arena);
  free(s);
}

uint32_t gpp_sweep_n_points(const gpp_sweep *s) { return s->n_points; }
const char *gpp_sweep_name(const gpp_sweep *s) { return s->name; }
const char *gpp_sweep_description(const gpp_sweep *s) {
  return s->description;
}
