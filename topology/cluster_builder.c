/* cluster_builder.c -- the vertex and link lists of a cluster under
 * construction, which the template and explicit-graph loaders fill, and
 * their copy into the cluster's arena when it is complete. */
#include <string.h>

#include "sim/common/arena.h"
#include "topology/internal.h"

int gpp__builder_vertex(gpp__builder *b, const char *name, uint32_t *id,
                        gpp_errctx *err) {
  if (b->n_names == b->cap_names) {
    uint32_t cap = b->cap_names ? 2 * b->cap_names : 64;
    const char **p = gpp_realloc_array(err, b->names, cap, sizeof *p);
    if (p == NULL) return GPP_ENOMEM;
    b->names = p;
    b->cap_names = cap;
  }
  const char *copy = gpp_arena_strdup(b->c->arena, name, err);
  if (copy == NULL) return GPP_ENOMEM;
  b->names[b->n_names] = copy;
  *id = b->n_names++;
  return 0;
}

int gpp__builder_dlink(gpp__builder *b, uint32_t from, uint32_t to,
                       double bandwidth, double latency, gpp_link_class cls,
                       gpp_errctx *err) {
  if (!(bandwidth > 0) || !(latency >= 0))
    GPP_RAISE(err, GPP_EINTERNAL, "link %u->%u: bad bandwidth or latency",
              from, to);
  if (b->n_links == b->cap_links) {
    uint32_t cap = b->cap_links ? 2 * b->cap_links : 256;
    gpp_link *p = gpp_realloc_array(err, b->links, cap, sizeof *p);
    if (p == NULL) return GPP_ENOMEM;
    b->links = p;
    b->cap_links = cap;
  }
  b->links[b->n_links++] = (gpp_link){from, to, bandwidth, latency, cls};
  return 0;
}

int gpp__builder_link(gpp__builder *b, uint32_t u, uint32_t v,
                      double bandwidth, double latency, gpp_link_class cls,
                      gpp_errctx *err) {
  GPP_TRY(gpp__builder_dlink(b, u, v, bandwidth, latency, cls, err));
  return gpp__builder_dlink(b, v, u, bandwidth, latency, cls, err);
}

/* Copies the builder's lists into the arena; the cluster owns them then. */
int gpp__builder_finish(gpp__builder *b, gpp_errctx *err) {
  gpp_cluster *c = b->c;
  c->n_vertices = b->n_names;
  c->n_links = b->n_links;
  c->vertex_names = gpp_arena_array(c->arena, b->n_names + 1,
                                    sizeof *c->vertex_names, err);
  c->links = gpp_arena_array(c->arena, b->n_links + 1, sizeof *c->links, err);
  if (c->vertex_names == NULL || c->links == NULL) return GPP_ENOMEM;
  if (b->n_names) /* memcpy's source may not be NULL, even for 0 bytes */
    memcpy(c->vertex_names, b->names, b->n_names * sizeof *b->names);
  if (b->n_links) /* a 1-GPU cluster has no links */
    memcpy(c->links, b->links, b->n_links * sizeof *b->links);
  return 0;
}
