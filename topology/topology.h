/* topology.h -- GPU specs, clusters and routes.
 *
 * A cluster is loaded from a template (nodes x gpus_per_node with intra- and
 * inter-node kinds) or an explicit graph (switches and links).  Either way it
 * becomes one directed graph: every physical link is full duplex and appears
 * as two directed links, each with its own capacity.  GPUs are vertices
 * 0..n_gpus-1, numbered `node * gpus_per_node + local`; switches and NICs
 * follow.  Routes are shortest paths with a deterministic tie-break.
 */
#ifndef GPP_TOPOLOGY_TOPOLOGY_H
#define GPP_TOPOLOGY_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>

#include "sim/common/err.h"
#include "sim/common/yaml.h"

struct gpp_arena;

/* One GPU model, from configs/hardware/<name>.yaml. */
typedef struct gpp_gpu_spec {
  const char *name;
  double peak_fp64, peak_fp32, peak_tf32, peak_fp16, peak_bf16,
      peak_fp8;            /* FLOP/s, dense; 0 when not supported */
  double mem_bytes;        /* HBM capacity */
  double mem_bandwidth;    /* HBM bytes/s */
  double launch_overhead;  /* seconds per kernel launch */
  int sm_count;
  /* Microarchitecture, for the kernel model (kernels_profile/kmodel.h). */
  double clock_hz;         /* SM clock at which the peaks are reached */
  double peak_fp16_simt;   /* FLOP/s of fp16 without tensor cores */
  double l2_bytes;         /* L2 cache capacity */
  double l2_bandwidth;     /* L2 read bytes/s, whole GPU */
  double hbm_efficiency;   /* achievable fraction of mem_bandwidth */
  double smem_per_sm;      /* shared memory bytes per SM */
} gpp_gpu_spec;

/* Loads configs/hardware/<name>.yaml (or a path ending in .yaml). */
int gpp_gpu_spec_load(const char *name_or_path, gpp_gpu_spec *out,
                      struct gpp_arena *arena, gpp_errctx *err);
/* Peak FLOP/s for an element size: 2 -> fp16/bf16 tensor, 4 -> fp32 (TF32
 * tensor cores when allowed is not assumed), 8 -> fp64. */
double gpp_gpu_peak_for_dtype(const gpp_gpu_spec *g, int dtype_bytes);

/* Classes of links, for per-class accounting. */
#define GPP_LINK_CLASS_MAP(XX)                                                \
  XX(NVLINK, "nvlink")                                                        \
  XX(NVSWITCH, "nvswitch")                                                    \
  XX(PCIE, "pcie")                                                            \
  XX(NIC, "nic")                                                              \
  XX(FABRIC, "fabric")                                                        \
  XX(CUSTOM, "custom")

typedef enum {
#define GPP__LC(name, str) GPP_LINK_##name,
  GPP_LINK_CLASS_MAP(GPP__LC)
#undef GPP__LC
  GPP_LINK__NCLASSES
} gpp_link_class;

const char *gpp_link_class_name(gpp_link_class c);

/* A directed link. */
typedef struct gpp_link {
  uint32_t from, to;  /* vertices */
  double bandwidth;   /* bytes/s in this direction */
  double latency;     /* seconds */
  gpp_link_class cls;
} gpp_link;

typedef struct gpp_cluster {
  const char *name;
  const char *path;
  gpp_gpu_spec gpu;
  uint32_t n_gpus, n_nodes, gpus_per_node;
  uint32_t n_vertices;     /* GPUs first, then switches / NICs */
  const char **vertex_names;
  gpp_link *links;         /* directed */
  uint32_t n_links;
  double price_per_gpu_hour; /* currency units; 0 when not given */
  struct gpp_arena *arena;
  struct gpp__routes *routes; /* internal route cache */
} gpp_cluster;

/* Loads a cluster file; a YAML mapping node may instead be given inline by
 * the caller through gpp_cluster_from_node (topology/cluster.c). */
int gpp_cluster_load(const char *path, gpp_cluster **out, gpp_errctx *err);
void gpp_cluster_destroy(gpp_cluster *c);

/* Builds a cluster from an already-parsed YAML mapping (an inline cluster
 * in a scenario or plan); errors carry the mapping's file:line:column. */
int gpp_cluster_from_node(gpp_ynode node, gpp_cluster **out,
                          gpp_errctx *err);
/* A `cluster:` value: an inline mapping, or a path (as given, relative to
 * the file holding the node, or a name in configs/clusters). */
int gpp_cluster_from_ref(gpp_ynode node, gpp_cluster **out,
                         gpp_errctx *err);
/* Builds a cluster from YAML text; name is used in messages. */
int gpp_cluster_from_string(const char *name, const char *yaml,
                            gpp_cluster **out, gpp_errctx *err);

/* A key of a cluster document to replace, or to add where its mapping lacks
 * it: path is dotted below the root ("gpu", "nodes", "nvlink.bandwidth");
 * at is where the override was written, for messages (may be absent). */
typedef struct gpp_cluster_ovr {
  const char *path;
  const char *value;
  gpp_ynode at;
  bool used;
} gpp_cluster_ovr;

/* The cluster of document root (name: for messages) with the n_o overrides
 * put in and, when it has fewer than gpus GPUs, its `nodes` raised to hold
 * them (o must have room for one more entry); text, if not NULL, receives
 * the YAML text loaded (the caller frees it).  An override with no mapping
 * to go into is GPP_EINVAL at its `at` (cluster_override.c). */
int gpp_cluster_overridden(gpp_ynode root, const char *name,
                           gpp_cluster_ovr *o, size_t n_o, uint32_t gpus,
                           gpp_cluster **out, char **text, gpp_errctx *err);
/* The same with only `gpu` replaced (NULL: kept), as `validate published`
 * sizes a run's cluster. */
int gpp_cluster_resized(gpp_ynode root, const char *gpu, uint32_t gpus,
                        gpp_cluster **out, gpp_errctx *err);
/* The node holding a GPU. */
uint32_t gpp_cluster_node_of(const gpp_cluster *c, uint32_t gpu);

/* The route from GPU src to GPU dst as directed link indices.  *links points
 * into the cluster (valid until it is destroyed).  src == dst is an error. */
int gpp_cluster_route(gpp_cluster *c, uint32_t src, uint32_t dst,
                      const uint32_t **links, uint32_t *n_links,
                      gpp_errctx *err);
/* Sum of latencies and minimum bandwidth along the route. */
int gpp_cluster_route_cost(gpp_cluster *c, uint32_t src, uint32_t dst,
                           double *latency, double *bottleneck,
                           gpp_errctx *err);

#endif
