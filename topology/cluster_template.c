/* cluster_template.c -- expands a cluster template (nodes x gpus_per_node,
 * an intra-node kind and an inter-node kind) into vertices and links.
 *
 * Modelling choices (the cluster files in configs/clusters rely on them):
 * - `bandwidth` is per GPU and per direction.  nvswitch and pcie put one
 *   switch vertex in each node; nvlink-mesh links every GPU pair of a node
 *   directly, splitting the GPU's bandwidth evenly over its g-1 peers.
 * - `latency` is the GPU-to-GPU latency over the fabric's shortest path and
 *   is split evenly over that path's hops (2 through a switch, 1 in a mesh,
 *   4 between nodes: GPU, NIC, switch, NIC, GPU).  Each extra switch-to-
 *   switch hop (through a spine) costs one more quarter of it.
 * - A NIC is two vertices, a transmit and a receive side, so no route can
 *   turn around inside a NIC.  GPU l of a node uses NIC floor(l*nics/g).
 * - fat-tree: nodes_per_leaf nodes on each leaf (default: all on one leaf);
 *   each leaf's uplinks carry its downlink capacity divided by
 *   `oversubscription`, spread evenly over `spines` spine switches (ECMP).
 *   An oversubscription other than 1 requires nodes_per_leaf: it would
 *   otherwise change nothing.  When all nodes fit on one leaf there are no
 *   uplinks and oversubscription has no effect.
 * - rail-optimized: NIC r of every node attaches to rail switch r; rails
 *   meet at one non-blocking spine for cross-rail traffic.
 * - single-switch: every NIC on one non-blocking switch.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "sim/common/limits.h"
#include "sim/common/yaml.h"
#include "topology/internal.h"

enum { INTRA_NVSWITCH, INTRA_MESH, INTRA_PCIE, INTRA_NONE };

/* The most GPUs an nvlink-mesh node may have: every pair is a link, so the
 * links grow with the square (a fuzzed 412-GPU mesh on 27 nodes, 4.6 M
 * links, took seconds to route).  NVLink meshes that exist have 4 (Summit's
 * sockets, DGX-1's quads) to 8 GPUs (DGX-1's hybrid cube mesh). */
#define MESH_MAX_GPUS 64u
enum { INTER_FAT_TREE, INTER_RAIL, INTER_SINGLE };

static const char *const intra_kinds[] = {"nvswitch", "nvlink-mesh", "pcie",
                                          "none", NULL};
static const char *const inter_kinds[] = {"fat-tree", "rail-optimized",
                                          "single-switch", NULL};

typedef struct top_fields {
  const char *name;
  gpp_ynode gpu, intra, inter, price;
  long long nodes, gpus_per_node;
} top_fields;

static const gpp_yfield top_table[] = {
    {"name", GPP_YF_STR, offsetof(top_fields, name), false, 0, 0, 0, NULL},
    {"gpu", GPP_YF_NODE, offsetof(top_fields, gpu), true, 0, 0, 0, NULL},
    {"nodes", GPP_YF_INT, offsetof(top_fields, nodes), false, 0, 1, 65536,
     NULL},
    {"gpus_per_node", GPP_YF_INT, offsetof(top_fields, gpus_per_node), true,
     0, 1, 1024, NULL},
    {"intra_node", GPP_YF_NODE, offsetof(top_fields, intra), false, 0, 0, 0,
     NULL},
    {"inter_node", GPP_YF_NODE, offsetof(top_fields, inter), false, 0, 0, 0,
     NULL},
    {"price_per_gpu_hour", GPP_YF_NODE, offsetof(top_fields, price), false, 0,
     0, 0, NULL},
};

typedef struct intra_fields {
  int kind;
  double bandwidth, latency;
} intra_fields;

static const gpp_yfield intra_table[] = {
    {"kind", GPP_YF_ENUM, offsetof(intra_fields, kind), true, 0, 0, 0,
     intra_kinds},
    {"bandwidth", GPP_YF_QTY, offsetof(intra_fields, bandwidth), false,
     GPP_Q_BANDWIDTH, 1, 1e15, NULL},
    {"latency", GPP_YF_QTY, offsetof(intra_fields, latency), false,
     GPP_Q_TIME, 0, 1, NULL},
};

typedef struct inter_fields {
  int kind;
  long long nics, nodes_per_leaf, spines;
  double nic_bw, latency, oversub;
} inter_fields;

static const gpp_yfield inter_table[] = {
    {"kind", GPP_YF_ENUM, offsetof(inter_fields, kind), true, 0, 0, 0,
     inter_kinds},
    {"nics_per_node", GPP_YF_INT, offsetof(inter_fields, nics), false, 0, 1,
     1024, NULL},
    {"nic_bandwidth", GPP_YF_QTY, offsetof(inter_fields, nic_bw), true,
     GPP_Q_BANDWIDTH, 1, 1e15, NULL},
    {"latency", GPP_YF_QTY, offsetof(inter_fields, latency), true, GPP_Q_TIME,
     0, 1, NULL},
    {"oversubscription", GPP_YF_QTY, offsetof(inter_fields, oversub), false,
     GPP_Q_COUNT, 1, 1000, NULL},
    {"nodes_per_leaf", GPP_YF_INT, offsetof(inter_fields, nodes_per_leaf),
     false, 0, 1, 65536, NULL},
    {"spines", GPP_YF_INT, offsetof(inter_fields, spines), false, 0, 1, 4096,
     NULL},
};

#define N_OF(t) (sizeof t / sizeof t[0])

/* Everything the expansion needs, read and checked. */
typedef struct tmpl {
  uint32_t nodes, g;
  bool has_intra, has_inter;
  intra_fields intra;
  inter_fields inter;
  uint32_t first_nic; /* vertex id of node 0's first NIC (tx) */
} tmpl;

static int missing(gpp_ynode map, const char *key, const char *why,
                   gpp_errctx *err) {
  gpp_mark at = gpp_ynode_mark(map);
  GPP_RAISE_AT(err, GPP_EPARSE, &at, "missing required key '%s' (%s)", key,
               why);
}

static int read_intra(gpp_ynode n, tmpl *t, gpp_errctx *err) {
  t->intra = (intra_fields){INTRA_NONE, NAN, NAN};
  GPP_TRY(gpp_yexpect(n, GPP_Y_MAP, "intra_node", err));
  GPP_TRY(gpp_yread_fields(n, intra_table, N_OF(intra_table), &t->intra,
                           err));
  if (t->intra.kind == INTRA_NONE) return 0;
  if (t->intra.kind == INTRA_MESH && t->g > MESH_MAX_GPUS) {
    gpp_mark at = gpp_ynode_mark(gpp_ymap_find(n, "kind"));
    GPP_RAISE_AT(err, GPP_ERANGE, &at, "nvlink-mesh: %u GPUs per node; a "
                 "mesh links every pair directly (g x (g-1) links), and at "
                 "most %u are modelled: use nvswitch for larger nodes", t->g,
                 MESH_MAX_GPUS);
  }
  if (isnan(t->intra.bandwidth))
    return missing(n, "bandwidth", "per GPU, per direction", err);
  if (isnan(t->intra.latency))
    return missing(n, "latency", "GPU to GPU", err);
  return 0;
}

static int only_fat_tree(gpp_ynode n, const char *key, gpp_errctx *err) {
  gpp_ynode v = gpp_ymap_find(n, key);
  if (!gpp_ynode_ok(v)) return 0;
  gpp_mark at = gpp_ynode_mark(v);
  GPP_RAISE_AT(err, GPP_EINVAL, &at, "'%s' applies to kind fat-tree only",
               key);
}

/* Oversubscription shapes only the leaf-to-spine uplinks, so it means
 * nothing until the file says how many nodes share a leaf. */
static int oversub_needs_leaf(gpp_ynode n, gpp_errctx *err) {
  gpp_mark at = gpp_ynode_mark(gpp_ymap_find(n, "oversubscription"));
  GPP_RAISE_AT(err, GPP_EINVAL, &at, "oversubscription: needs "
               "'nodes_per_leaf' (how many nodes share a leaf switch; "
               "oversubscription divides that leaf's uplinks to the spines, "
               "and without it every node is on one non-blocking leaf)");
}

static int read_inter(gpp_ynode n, tmpl *t, gpp_errctx *err) {
  t->inter = (inter_fields){.nics = 0, .oversub = 1};
  GPP_TRY(gpp_yexpect(n, GPP_Y_MAP, "inter_node", err));
  GPP_TRY(gpp_yread_fields(n, inter_table, N_OF(inter_table), &t->inter,
                           err));
  inter_fields *f = &t->inter;
  if (f->kind == INTER_RAIL && f->nics == 0)
    return missing(n, "nics_per_node", "one rail per NIC", err);
  if (f->nics == 0) f->nics = 1;
  if (f->nics > t->g) {
    gpp_mark at = gpp_ynode_mark(gpp_ymap_find(n, "nics_per_node"));
    GPP_RAISE_AT(err, GPP_ERANGE, &at, "nics_per_node: %lld NICs for %u "
                 "GPUs per node; expected at most one per GPU", f->nics,
                 t->g);
  }
  if (f->kind != INTER_FAT_TREE) {
    GPP_TRY(only_fat_tree(n, "oversubscription", err));
    GPP_TRY(only_fat_tree(n, "nodes_per_leaf", err));
    GPP_TRY(only_fat_tree(n, "spines", err));
  }
  if (f->kind == INTER_FAT_TREE && f->oversub != 1 && f->nodes_per_leaf == 0)
    return oversub_needs_leaf(n, err);
  if (f->nodes_per_leaf == 0 || f->nodes_per_leaf > t->nodes)
    f->nodes_per_leaf = t->nodes;
  if (f->spines == 0) f->spines = 1;
  return 0;
}

static int read_tmpl(gpp_ynode root, tmpl *t, gpp_errctx *err) {
  top_fields f = {.nodes = 1};
  GPP_TRY(gpp_yread_fields(root, top_table, N_OF(top_table), &f, err));
  t->nodes = (uint32_t)f.nodes;
  t->g = (uint32_t)f.gpus_per_node;
  t->has_intra = gpp_ynode_ok(f.intra);
  t->has_inter = gpp_ynode_ok(f.inter);
  if (t->has_intra) GPP_TRY(read_intra(f.intra, t, err));
  else t->intra.kind = INTRA_NONE;
  if (t->has_inter) GPP_TRY(read_inter(f.inter, t, err));
  if (!t->has_inter && t->nodes > 1)
    return missing(root, "inter_node", "more than one node", err);
  if (!t->has_inter && t->g > 1 && t->intra.kind == INTRA_NONE)
    return missing(root, t->has_intra ? "inter_node" : "intra_node",
                   "the GPUs of a node need a way to talk", err);
  if ((uint64_t)t->nodes * t->g > GPP_MAX_GPUS) {
    gpp_ynode n = gpp_ymap_find(root, "nodes");
    gpp_mark at = gpp_ynode_mark(gpp_ynode_ok(n) ? n : root);
    GPP_RAISE_AT(err, GPP_ERANGE, &at, "%u nodes x %u GPUs is more than "
                 "%u GPUs", t->nodes, t->g, GPP_MAX_GPUS);
  }
  return 0;
}

static int add_named(gpp__builder *b, uint32_t *id, gpp_errctx *err,
                     const char *fmt, unsigned x, unsigned y) {
  char name[96];
  snprintf(name, sizeof name, fmt, x, y);
  return gpp__builder_vertex(b, name, id, err);
}

static int intra_switch(gpp__builder *b, const tmpl *t, uint32_t node,
                        gpp_errctx *err) {
  bool pcie = t->intra.kind == INTRA_PCIE;
  gpp_link_class cls = pcie ? GPP_LINK_PCIE : GPP_LINK_NVSWITCH;
  uint32_t sw;
  GPP_TRY(add_named(b, &sw, err, pcie ? "node%u.pcie" : "node%u.nvswitch",
                    node, 0));
  for (uint32_t l = 0; l < t->g; l++)
    GPP_TRY(gpp__builder_link(b, node * t->g + l, sw, t->intra.bandwidth,
                              t->intra.latency / 2, cls, err));
  return 0;
}

static int intra_mesh(gpp__builder *b, const tmpl *t, uint32_t node,
                      gpp_errctx *err) {
  double bw = t->intra.bandwidth / (t->g > 1 ? t->g - 1 : 1);
  for (uint32_t i = 0; i < t->g; i++)
    for (uint32_t j = i + 1; j < t->g; j++)
      GPP_TRY(gpp__builder_link(b, node * t->g + i, node * t->g + j, bw,
                                t->intra.latency, GPP_LINK_NVLINK, err));
  return 0;
}

static int build_intra(gpp__builder *b, const tmpl *t, gpp_errctx *err) {
  for (uint32_t node = 0; node < t->nodes; node++) {
    if (t->intra.kind == INTRA_MESH) GPP_TRY(intra_mesh(b, t, node, err));
    else if (t->intra.kind != INTRA_NONE)
      GPP_TRY(intra_switch(b, t, node, err));
  }
  return 0;
}

/* NIC vertices (tx then rx for each NIC of each node), and GPU<->NIC. */
static int build_nics(gpp__builder *b, tmpl *t, gpp_errctx *err) {
  uint32_t nics = (uint32_t)t->inter.nics, id;
  double bw = t->inter.nic_bw, lat = t->inter.latency / 4;
  t->first_nic = b->n_names;
  for (uint32_t node = 0; node < t->nodes; node++)
    for (uint32_t r = 0; r < nics; r++) {
      GPP_TRY(add_named(b, &id, err, "node%u.nic%u.tx", node, r));
      GPP_TRY(add_named(b, &id, err, "node%u.nic%u.rx", node, r));
    }
  for (uint32_t gpu = 0; gpu < t->nodes * t->g; gpu++) {
    uint32_t node = gpu / t->g, r = (gpu % t->g) * nics / t->g;
    uint32_t tx = t->first_nic + 2 * (node * nics + r);
    GPP_TRY(gpp__builder_dlink(b, gpu, tx, bw, lat, GPP_LINK_NIC, err));
    GPP_TRY(gpp__builder_dlink(b, tx + 1, gpu, bw, lat, GPP_LINK_NIC, err));
  }
  return 0;
}

/* Both sides of NIC r of node to switch sw. */
static int attach_nic(gpp__builder *b, const tmpl *t, uint32_t node,
                      uint32_t r, uint32_t sw, gpp_errctx *err) {
  uint32_t tx = t->first_nic + 2 * (node * (uint32_t)t->inter.nics + r);
  double bw = t->inter.nic_bw, lat = t->inter.latency / 4;
  GPP_TRY(gpp__builder_dlink(b, tx, sw, bw, lat, GPP_LINK_NIC, err));
  return gpp__builder_dlink(b, sw, tx + 1, bw, lat, GPP_LINK_NIC, err);
}

static int inter_single(gpp__builder *b, const tmpl *t, gpp_errctx *err) {
  uint32_t sw;
  GPP_TRY(gpp__builder_vertex(b, "fabric", &sw, err));
  for (uint32_t node = 0; node < t->nodes; node++)
    for (uint32_t r = 0; r < (uint32_t)t->inter.nics; r++)
      GPP_TRY(attach_nic(b, t, node, r, sw, err));
  return 0;
}

static int inter_rail(gpp__builder *b, const tmpl *t, gpp_errctx *err) {
  uint32_t rails = (uint32_t)t->inter.nics, first = b->n_names, id, spine;
  for (uint32_t r = 0; r < rails; r++)
    GPP_TRY(add_named(b, &id, err, "rail%u", r, 0));
  for (uint32_t node = 0; node < t->nodes; node++)
    for (uint32_t r = 0; r < rails; r++)
      GPP_TRY(attach_nic(b, t, node, r, first + r, err));
  if (rails == 1) return 0;
  GPP_TRY(gpp__builder_vertex(b, "spine", &spine, err));
  double bw = t->nodes * t->inter.nic_bw;
  for (uint32_t r = 0; r < rails; r++)
    GPP_TRY(gpp__builder_link(b, first + r, spine, bw,
                              t->inter.latency / 4, GPP_LINK_FABRIC, err));
  return 0;
}

static int inter_fat_tree(gpp__builder *b, const tmpl *t, gpp_errctx *err) {
  const inter_fields *f = &t->inter;
  uint32_t npl = (uint32_t)f->nodes_per_leaf, nics = (uint32_t)f->nics;
  uint32_t leaves = (t->nodes + npl - 1) / npl, first = b->n_names, id;
  for (uint32_t l = 0; l < leaves; l++)
    GPP_TRY(add_named(b, &id, err, "leaf%u", l, 0));
  for (uint32_t node = 0; node < t->nodes; node++)
    for (uint32_t r = 0; r < nics; r++)
      GPP_TRY(attach_nic(b, t, node, r, first + node / npl, err));
  if (leaves == 1) return 0;
  uint32_t spines = (uint32_t)f->spines, first_spine = b->n_names;
  for (uint32_t s = 0; s < spines; s++)
    GPP_TRY(add_named(b, &id, err, "spine%u", s, 0));
  double up = npl * nics * f->nic_bw / (f->oversub * spines);
  for (uint32_t l = 0; l < leaves; l++)
    for (uint32_t s = 0; s < spines; s++)
      GPP_TRY(gpp__builder_link(b, first + l, first_spine + s, up,
                                f->latency / 4, GPP_LINK_FABRIC, err));
  return 0;
}

static int build_inter(gpp__builder *b, tmpl *t, gpp_errctx *err) {
  GPP_TRY(build_nics(b, t, err));
  switch (t->inter.kind) {
  case INTER_SINGLE: return inter_single(b, t, err);
  case INTER_RAIL: return inter_rail(b, t, err);
  default: return inter_fat_tree(b, t, err);
  }
}

int gpp__cluster_template(gpp__builder *b, gpp_ynode root, gpp_errctx *err) {
  tmpl t = {0};
  GPP_TRY(read_tmpl(root, &t, err));
  gpp_cluster *c = b->c;
  c->n_nodes = t.nodes;
  c->gpus_per_node = t.g;
  c->n_gpus = t.nodes * t.g;
  uint32_t id;
  for (uint32_t gpu = 0; gpu < c->n_gpus; gpu++)
    GPP_TRY(add_named(b, &id, err, "gpu%u", gpu, 0));
  GPP_TRY(build_intra(b, &t, err));
  return t.has_inter ? build_inter(b, &t, err) : 0;
}
