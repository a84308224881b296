/* internal.h -- private to topology/: the cluster builder shared by the
 * template and explicit-graph loaders, and the route cache used by the flow
 * network.  Nothing here is part of the public API.
 */
#ifndef GPP_TOPOLOGY_INTERNAL_H
#define GPP_TOPOLOGY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/common/arena.h"
#include "sim/common/yaml.h"
#include "topology/topology.h"

#define GPP__NO_VERTEX UINT32_MAX

/* Grows the vertex and link lists of a cluster under construction; the
 * finished lists are copied into the cluster's arena. */
typedef struct gpp__builder {
  gpp_cluster *c;
  gpp_link *links;
  uint32_t n_links, cap_links;
  const char **names;
  uint32_t n_names, cap_names;
  bool gpu_transit; /* may routes pass through a GPU? (explicit graphs) */
} gpp__builder;

/* cluster_builder.c: adds a vertex named name (copied into the cluster's
 * arena). */
int gpp__builder_vertex(gpp__builder *b, const char *name, uint32_t *id,
                        gpp_errctx *err);
/* Adds one directed link. */
int gpp__builder_dlink(gpp__builder *b, uint32_t from, uint32_t to,
                       double bandwidth, double latency, gpp_link_class cls,
                       gpp_errctx *err);
/* Adds a full-duplex physical link: two directed links. */
int gpp__builder_link(gpp__builder *b, uint32_t u, uint32_t v,
                      double bandwidth, double latency, gpp_link_class cls,
                      gpp_errctx *err);

/* Copies the lists into the cluster's arena; the cluster owns them then. */
int gpp__builder_finish(gpp__builder *b, gpp_errctx *err);

/* Fill b from a template (nodes x gpus_per_node) or an explicit graph
 * mapping; the cluster's gpu and price are already set. */
int gpp__cluster_template(gpp__builder *b, gpp_ynode root, gpp_errctx *err);
int gpp__cluster_graph(gpp__builder *b, gpp_ynode root, gpp_errctx *err);

/* A cached route between two GPUs; arrays live in the cluster's arena. */
typedef struct gpp__route {
  const uint32_t *links;
  uint32_t n;
  double latency;    /* sum over the links */
  double bottleneck; /* minimum bandwidth over the links */
  /* By link class: the minimum bandwidth (INFINITY: none) and the number
   * of links, for a flow alone on the route (topology/net_class.c). */
  double class_bw[GPP_LINK__NCLASSES];
  uint32_t class_links[GPP_LINK__NCLASSES];
} gpp__route;

int gpp__routes_create(gpp_cluster *c, bool gpu_transit, gpp_errctx *err);
void gpp__routes_destroy(struct gpp__routes *r);
/* Raises GPP_EGRAPH at `at` unless every GPU can reach every other. */
int gpp__routes_check_connected(gpp_cluster *c, const gpp_mark *at,
                                gpp_errctx *err);
int gpp__route_get(gpp_cluster *c, uint32_t src, uint32_t dst,
                   const gpp__route **out, gpp_errctx *err);

#endif
