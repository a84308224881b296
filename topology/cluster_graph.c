/* cluster_graph.c -- an explicit cluster graph: `switches` (names) and
 * `links: [{a, b, bandwidth, latency, class}]` between switches and GPUs
 * named gpuN.  GPUs are numbered by N and must be 0..n-1 with none
 * missing; routes may pass through GPUs (a GPU ring has no switch).
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/limits.h"
#include "sim/common/yaml.h"
#include "topology/internal.h"

static const char *const graph_keys[] = {
    "name", "gpu", "gpus", "gpus_per_node", "switches", "links",
    "price_per_gpu_hour"};

static const char *const class_names[] = {
#define GPP__LC_STR(name, str) str,
    GPP_LINK_CLASS_MAP(GPP__LC_STR)
#undef GPP__LC_STR
    NULL};

typedef struct link_fields {
  const char *a, *b;
  double bandwidth, latency;
  int cls;
} link_fields;

static const gpp_yfield link_table[] = {
    {"a", GPP_YF_STR, offsetof(link_fields, a), true, 0, 0, 0, NULL},
    {"b", GPP_YF_STR, offsetof(link_fields, b), true, 0, 0, 0, NULL},
    {"bandwidth", GPP_YF_QTY, offsetof(link_fields, bandwidth), true,
     GPP_Q_BANDWIDTH, 1, 1e15, NULL},
    {"latency", GPP_YF_QTY, offsetof(link_fields, latency), true, GPP_Q_TIME,
     0, 1, NULL},
    {"class", GPP_YF_ENUM, offsetof(link_fields, cls), false, 0, 0, 0,
     class_names},
};

/* "gpuN" with N a plain decimal: its index, else -1. */
static long gpu_index(const char *s) {
  if (strncmp(s, "gpu", 3) != 0 || !isdigit((unsigned char)s[3])) return -1;
  if (s[3] == '0' && s[4] != '\0') return -1;
  char *end;
  long v = strtol(s + 3, &end, 10);
  return *end == '\0' && v < (long)GPP_MAX_GPUS ? v : -1;
}

typedef struct graph {
  gpp_ynode switches, links;
  uint32_t n_gpus, n_switches;
} graph;

static int read_switches(gpp__builder *b, graph *g, gpp_errctx *err) {
  if (!gpp_ynode_ok(g->switches)) return 0;
  GPP_TRY(gpp_yexpect(g->switches, GPP_Y_SEQ, "switches", err));
  g->n_switches = (uint32_t)gpp_ynode_len(g->switches);
  for (uint32_t i = 0; i < g->n_switches; i++) {
    gpp_ynode n = gpp_yseq_at(g->switches, i);
    const char *name;
    uint32_t id;
    GPP_TRY(gpp_yscalar_str(n, "switch name", &name, err));
    gpp_mark at = gpp_ynode_mark(n);
    if (gpu_index(name) >= 0)
      GPP_RAISE_AT(err, GPP_EINVAL, &at, "switch '%s': gpuN names GPUs",
                   name);
    for (uint32_t j = b->c->n_gpus; j < b->n_names; j++)
      if (strcmp(b->names[j], name) == 0)
        GPP_RAISE_AT(err, GPP_EINVAL, &at, "duplicate switch '%s'", name);
    GPP_TRY(gpp__builder_vertex(b, name, &id, err));
  }
  return 0;
}

/* The largest gpuN in any link's a or b, plus one. */
static uint32_t count_gpus(gpp_ynode links) {
  long max = -1;
  for (size_t i = 0; i < gpp_ynode_len(links); i++) {
    gpp_ynode l = gpp_yseq_at(links, i);
    const char *ends[2] = {gpp_ynode_scalar(gpp_ymap_find(l, "a")),
                           gpp_ynode_scalar(gpp_ymap_find(l, "b"))};
    for (int e = 0; e < 2; e++) {
      long v = ends[e] ? gpu_index(ends[e]) : -1;
      if (v > max) max = v;
    }
  }
  return (uint32_t)(max + 1);
}

static int unknown_vertex(const gpp__builder *b, gpp_ynode n,
                          const char *name, gpp_errctx *err) {
  const char *cands[2048];
  size_t k = 0;
  for (uint32_t j = b->c->n_gpus; j < b->n_names && k < 2048; j++)
    cands[k++] = b->names[j];
  const char *hint = gpp_suggest(name, cands, k);
  gpp_mark at = gpp_ynode_mark(n);
  if (hint != NULL)
    GPP_RAISE_AT(err, GPP_EGRAPH, &at, "unknown vertex '%s'; did you mean "
                 "'%s'?", name, hint);
  GPP_RAISE_AT(err, GPP_EGRAPH, &at, "unknown vertex '%s'; expected a "
               "switch listed in 'switches' or gpu0..gpu%u (a cluster has at most "
               "%u GPUs)", name, b->c->n_gpus ? b->c->n_gpus - 1 : 0,
               GPP_MAX_GPUS);
}

static int vertex_of(const gpp__builder *b, gpp_ynode n, const char *name,
                     uint32_t *id, gpp_errctx *err) {
  long g = gpu_index(name);
  if (g >= 0 && (uint32_t)g < b->c->n_gpus) {
    *id = (uint32_t)g;
    return 0;
  }
  for (uint32_t j = b->c->n_gpus; g < 0 && j < b->n_names; j++)
    if (strcmp(b->names[j], name) == 0) {
      *id = j;
      return 0;
    }
  return unknown_vertex(b, n, name, err);
}

static int read_link(gpp__builder *b, gpp_ynode l, gpp_errctx *err) {
  link_fields f = {.cls = GPP_LINK_CUSTOM};
  uint32_t u = 0, v = 0;
  GPP_TRY(gpp_yexpect(l, GPP_Y_MAP, "link", err));
  GPP_TRY(gpp_yread_fields(l, link_table, sizeof link_table /
                           sizeof link_table[0], &f, err));
  GPP_TRY(vertex_of(b, gpp_ymap_find(l, "a"), f.a, &u, err));
  GPP_TRY(vertex_of(b, gpp_ymap_find(l, "b"), f.b, &v, err));
  if (u == v) {
    gpp_mark at = gpp_ynode_mark(l);
    GPP_RAISE_AT(err, GPP_EGRAPH, &at, "link from '%s' to itself", f.a);
  }
  return gpp__builder_link(b, u, v, f.bandwidth, f.latency,
                           (gpp_link_class)f.cls, err);
}

static int read_sizes(gpp_cluster *c, gpp_ynode root, graph *g,
                      gpp_errctx *err) {
  gpp_ynode n = gpp_ymap_find(root, "gpus");
  long long v = g->n_gpus;
  if (gpp_ynode_ok(n))
    GPP_TRY(gpp_yscalar_int(n, "gpus", g->n_gpus ? g->n_gpus : 1,
                            GPP_MAX_GPUS, &v, err));
  c->n_gpus = (uint32_t)v;
  gpp_mark at = gpp_ynode_mark(g->links);
  if (c->n_gpus == 0)
    GPP_RAISE_AT(err, GPP_EGRAPH, &at, "no link names a GPU (gpu0, gpu1...)");
  v = c->n_gpus;
  n = gpp_ymap_find(root, "gpus_per_node");
  if (gpp_ynode_ok(n))
    GPP_TRY(gpp_yscalar_int(n, "gpus_per_node", 1, c->n_gpus, &v, err));
  at = gpp_ynode_mark(n);
  if (c->n_gpus % v != 0)
    GPP_RAISE_AT(err, GPP_ERANGE, &at, "gpus_per_node: %lld does not divide "
                 "the %u GPUs", v, c->n_gpus);
  c->gpus_per_node = (uint32_t)v;
  c->n_nodes = c->n_gpus / c->gpus_per_node;
  return 0;
}

int gpp__cluster_graph(gpp__builder *b, gpp_ynode root, gpp_errctx *err) {
  graph g = {0};
  GPP_TRY(gpp_ymap_check_keys(root, graph_keys,
                              sizeof graph_keys / sizeof graph_keys[0], err));
  g.switches = gpp_ymap_find(root, "switches");
  g.links = gpp_ymap_find(root, "links");
  GPP_TRY(gpp_yexpect(g.links, GPP_Y_SEQ, "links", err));
  g.n_gpus = count_gpus(g.links);
  GPP_TRY(read_sizes(b->c, root, &g, err));
  uint32_t id;
  char name[32];
  for (uint32_t i = 0; i < b->c->n_gpus; i++) {
    snprintf(name, sizeof name, "gpu%u", i);
    GPP_TRY(gpp__builder_vertex(b, name, &id, err));
  }
  GPP_TRY(read_switches(b, &g, err));
  for (size_t i = 0; i < gpp_ynode_len(g.links); i++)
    GPP_TRY(read_link(b, gpp_yseq_at(g.links, i), err));
  b->gpu_transit = true;
  return 0;
}
