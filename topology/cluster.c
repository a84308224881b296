/* cluster.c -- loading a cluster (the entry): the part shared by templates
 * and explicit graphs (name, GPU model, price), which then fill the vertex
 * and link builder (cluster_template.c, cluster_graph.c,
 * cluster_builder.c), and the public route queries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/arena.h"
#include "sim/common/bundle.h"
#include "sim/common/yaml.h"
#include "topology/internal.h"
#include "topology/topology.h"

const char *gpp_link_class_name(gpp_link_class c) {
  static const char *const names[] = {
#define GPP__LC_NAME(name, str) str,
      GPP_LINK_CLASS_MAP(GPP__LC_NAME)
#undef GPP__LC_NAME
  };
  return (unsigned)c < GPP_LINK__NCLASSES ? names[c] : "unknown";
}

/* An unknown GPU name: list the catalog, with a suggestion. */
static int unknown_gpu(gpp_cluster *c, gpp_ynode n, const char *name,
                       gpp_errctx *err) {
  const char *names[GPP_CONFIG_NAMES_MAX];
  size_t k = gpp_config_names("hardware", names, GPP_CONFIG_NAMES_MAX,
                              c->arena);
  char list[1024];
  gpp_config_join(names, k, list, sizeof list);
  const char *hint = gpp_suggest(name, names, k);
  gpp_mark at = gpp_ynode_mark(n);
  if (hint != NULL)
    GPP_RAISE_AT(err, GPP_ENOENT, &at, "unknown GPU '%s'; did you mean "
                 "'%s'? (catalog: %s)", name, hint, list);
  GPP_RAISE_AT(err, GPP_ENOENT, &at, "unknown GPU '%s' (catalog: %s)", name,
               list);
}

static int load_gpu(gpp_cluster *c, gpp_ynode root, gpp_errctx *err) {
  gpp_ynode n;
  const char *name;
  GPP_TRY(gpp_ymap_require(root, "gpu", &n, err));
  GPP_TRY(gpp_yscalar_str(n, "gpu", &name, err));
  int rc = gpp_gpu_spec_load(name, &c->gpu, c->arena, err);
  if (rc == GPP_ENOENT) return unknown_gpu(c, n, name, err);
  if (rc != 0) {
    gpp_mark at = gpp_ynode_mark(n);
    gpp_error_prefix(err, "%s:%d:%d: GPU '%s'", at.file, at.line, at.column,
                     name);
  }
  return rc;
}

static int load_common(gpp_cluster *c, gpp_ynode root, gpp_errctx *err) {
  gpp_ynode n = gpp_ymap_find(root, "name");
  const char *name = "cluster";
  if (gpp_ynode_ok(n)) GPP_TRY(gpp_yscalar_str(n, "name", &name, err));
  c->name = gpp_arena_strdup(c->arena, name, err);
  c->path = gpp_arena_strdup(c->arena, gpp_ydoc_path(root.doc), err);
  if (c->name == NULL || c->path == NULL) return GPP_ENOMEM;
  n = gpp_ymap_find(root, "price_per_gpu_hour");
  if (gpp_ynode_ok(n))
    GPP_TRY(gpp_yscalar_qty(n, "price_per_gpu_hour", GPP_Q_COUNT, 0, 1e6,
                            &c->price_per_gpu_hour, err));
  return load_gpu(c, root, err);
}

static int build(gpp_cluster *c, gpp_ynode root, gpp_errctx *err) {
  GPP_TRY(gpp_yexpect(root, GPP_Y_MAP, "cluster", err));
  gpp__builder b = {.c = c};
  bool graph = gpp_ynode_ok(gpp_ymap_find(root, "links"));
  int rc = load_common(c, root, err);
  if (rc == 0)
    rc = graph ? gpp__cluster_graph(&b, root, err)
               : gpp__cluster_template(&b, root, err);
  if (rc == 0) rc = gpp__builder_finish(&b, err);
  if (rc == 0) rc = gpp__routes_create(c, b.gpu_transit, err);
  free(b.links);
  free((void *)b.names);
  if (rc == 0) {
    gpp_mark at = gpp_ynode_mark(graph ? gpp_ymap_find(root, "links") : root);
    rc = gpp__routes_check_connected(c, &at, err);
  }
  return rc;
}

int gpp_cluster_from_node(gpp_ynode root, gpp_cluster **out,
                          gpp_errctx *err) {
  *out = NULL;
  gpp_cluster *c = gpp_calloc(err, 1, sizeof *c);
  if (c == NULL) return GPP_ENOMEM;
  c->arena = gpp_arena_create(err);
  int rc = c->arena ? build(c, root, err) : GPP_ENOMEM;
  if (rc != 0) {
    gpp_cluster_destroy(c);
    return rc;
  }
  *out = c;
  return 0;
}

static int from_doc(gpp_ydoc *doc, gpp_cluster **out, gpp_errctx *err) {
  int rc = gpp_cluster_from_node(gpp_ydoc_root(doc), out, err);
  gpp_ydoc_destroy(doc);
  return rc;
}

int gpp_cluster_load(const char *path, gpp_cluster **out, gpp_errctx *err) {
  gpp_ydoc *doc;
  *out = NULL;
  GPP_TRY(gpp_ydoc_load_file(path, &doc, err));
  return from_doc(doc, out, err);
}

int gpp_cluster_from_string(const char *name, const char *yaml,
                            gpp_cluster **out, gpp_errctx *err) {
  gpp_ydoc *doc;
  *out = NULL;
  GPP_TRY(gpp_ydoc_load_string(name, yaml, strlen(yaml), &doc, err));
  return from_doc(doc, out, err);
}

/* A relative reference: as given, next to the referring file, under the
 * source tree or embedded, or a bundled configs/clusters name. */
static int resolve_ref(const char *ref, const char *from, char *buf,
                       size_t len) {
  if (gpp_input_near(ref, from, buf, len) == 0) return 0;
  gpp_input_loc loc;
  if (strchr(ref, '/') == NULL && strchr(ref, '.') == NULL &&
      gpp_config_path("clusters", ref, buf, len) == 0 &&
      gpp_input_locate(buf, &loc) != GPP_INPUT_NONE)
    return 0;
  return -1;
}

int gpp_cluster_from_ref(gpp_ynode node, gpp_cluster **out,
                         gpp_errctx *err) {
  *out = NULL;
  if (gpp_ynode_type(node) == GPP_Y_MAP)
    return gpp_cluster_from_node(node, out, err);
  const char *ref;
  GPP_TRY(gpp_yscalar_str(node, "cluster", &ref, err));
  char path[4096];
  gpp_mark at = gpp_ynode_mark(node);
  if (resolve_ref(ref, gpp_ydoc_path(node.doc), path, sizeof path) != 0)
    GPP_RAISE_AT(err, GPP_ENOENT, &at, "cluster '%s': no such file (also "
                 "looked next to this file and in configs/clusters)", ref);
  return gpp_cluster_load(path, out, err);
}

void gpp_cluster_destroy(gpp_cluster *c) {
  if (c == NULL) return;
  gpp__routes_destroy(c->routes);
  gpp_arena_destroy(c->arena);
  free(c);
}

int gpp_cluster_route(gpp_cluster *c, uint32_t src, uint32_t dst,
                      const uint32_t **links, uint32_t *n_links,
                      gpp_errctx *err) {
  const gpp__route *r;
  GPP_TRY(gpp__route_get(c, src, dst, &r, err));
  *links = r->links;
  *n_links = r->n;
  return 0;
}

int gpp_cluster_route_cost(gpp_cluster *c, uint32_t src, uint32_t dst,
                           double *latency, double *bottleneck,
                           gpp_errctx *err) {
  const gpp__route *r;
  GPP_TRY(gpp__route_get(c, src, dst, &r, err));
  *latency = r->latency;
  *bottleneck = r->bottleneck;
  return 0;
}

uint32_t gpp_cluster_node_of(const gpp_cluster *c, uint32_t gpu) {
  return c->gpus_per_node ? gpu / c->gpus_per_node : 0;
}
