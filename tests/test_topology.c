/* test_topology.c -- the GPU catalog, cluster templates and explicit graphs,
 * routing (shortest path, latency tie-break, ECMP spreading, caching) and
 * every cluster input error with its file:line:column. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/arena.h"
#include "topology/topology.h"

static gpp_cluster *load_str(const char *yaml) {
  gpp_errctx e = {0};
  gpp_cluster *c = NULL;
  int rc = gpp_cluster_from_string("t.yaml", yaml, &c, &e);
  cr_assert_eq(rc, 0, "%s", e.msg);
  return c;
}

static gpp_errctx load_bad(const char *yaml, int code) {
  gpp_errctx e = {0};
  gpp_cluster *c = NULL;
  int rc = gpp_cluster_from_string("bad.yaml", yaml, &c, &e);
  cr_assert_eq(rc, code, "rc %d (%s), expected %d", rc, e.msg, code);
  cr_assert_null(c);
  cr_assert(strncmp(e.msg, "bad.yaml:", 9) == 0, "no file:line:col: %s",
            e.msg);
  return e;
}

static gpp_cluster *load_file(const char *name) {
  char path[4096];
  const char *root = getenv("GPP_SOURCE_DIR");
  snprintf(path, sizeof path, "%s/configs/clusters/%s.yaml",
           root ? root : GPP_SOURCE_DIR, name);
  gpp_errctx e = {0};
  gpp_cluster *c = NULL;
  cr_assert_eq(gpp_cluster_load(path, &c, &e), 0, "%s", e.msg);
  return c;
}

static void route(gpp_cluster *c, uint32_t s, uint32_t d, uint32_t *n,
                  double *lat, double *bw) {
  gpp_errctx e = {0};
  const uint32_t *links;
  cr_assert_eq(gpp_cluster_route(c, s, d, &links, n, &e), 0, "%s", e.msg);
  cr_assert_eq(gpp_cluster_route_cost(c, s, d, lat, bw, &e), 0, "%s", e.msg);
  cr_assert_eq(c->links[links[0]].from, s);
  cr_assert_eq(c->links[links[*n - 1]].to, d);
}

Test(gpu, catalog_figures) {
  gpp_errctx e = {0};
  gpp_gpu_spec g;
  struct gpp_arena *a = gpp_arena_create(&e);
  cr_assert_eq(gpp_gpu_spec_load("h100-sxm-80gb", &g, a, &e), 0, "%s", e.msg);
  cr_assert_float_eq(g.peak_fp16, 989.4e12, 1e6);
  cr_assert_float_eq(g.peak_fp8, 1979e12, 1e6);
  cr_assert_float_eq(g.mem_bandwidth, 3.35e12, 1e3);
  cr_assert_eq(g.sm_count, 132);
  cr_assert_float_eq(gpp_gpu_peak_for_dtype(&g, 4), 67e12, 1e6);
  cr_assert_eq(gpp_gpu_spec_load("v100-sxm2-32gb", &g, a, &e), 0, "%s", e.msg);
  cr_assert_float_eq(gpp_gpu_peak_for_dtype(&g, 2), 125e12, 1e6);
  cr_assert_float_eq(g.mem_bytes, 32.0 * 1073741824.0, 1);
  cr_assert_eq(g.peak_bf16, 0);
  cr_assert_eq(gpp_gpu_spec_load("a100-sxm-40gb", &g, a, &e), 0, "%s", e.msg);
  cr_assert_float_eq(g.mem_bandwidth, 1555e9, 1e3);
  cr_assert_float_eq(gpp_gpu_peak_for_dtype(&g, 8), 19.5e12, 1e6);
  cr_assert_eq(gpp_gpu_peak_for_dtype(&g, 3), 0);
  const char *all[] = {"v100-sxm2-16gb", "a100-sxm-80gb", "h200"};
  for (int i = 0; i < 3; i++)
    cr_assert_eq(gpp_gpu_spec_load(all[i], &g, a, &e), 0, "%s", e.msg);
  cr_assert_float_eq(g.mem_bandwidth, 4.8e12, 1e3);
  cr_assert_eq(gpp_gpu_spec_load("no-such-gpu", &g, a, &e), GPP_ENOENT);
  /* A path that is not there (names with a "/" are paths, as given). */
  cr_assert_eq(gpp_gpu_spec_load("/nonexistent/x.yaml", &g, a, &e),
               GPP_ENOENT);
  gpp_arena_destroy(a);
}

Test(cluster, bundled_files_load) {
  const char *names[] = {"summit", "dgx-a100", "dgx-h100", "pcie-box"};
  const uint32_t gpus[] = {32, 32, 32, 8};
  for (int i = 0; i < 4; i++) {
    gpp_cluster *c = load_file(names[i]);
    cr_assert_eq(c->n_gpus, gpus[i], "%s", names[i]);
    cr_assert_str_eq(c->name, names[i]);
    cr_assert_eq(c->n_links % 2, 0);
    gpp_cluster_destroy(c);
  }
}

Test(cluster, dgx_routes_intra_rail_and_cross_rail) {
  gpp_cluster *c = load_file("dgx-a100");
  uint32_t n;
  double lat, bw;
  cr_assert_float_eq(c->price_per_gpu_hour, 5.12, 1e-12);
  route(c, 3, 5, &n, &lat, &bw);
  cr_assert_eq(n, 2);
  cr_assert_float_eq(lat, 2e-6, 1e-15);
  cr_assert_float_eq(bw, 300e9, 1);
  route(c, 2, 10, &n, &lat, &bw); /* same rail (local 2) */
  cr_assert_eq(n, 4);
  cr_assert_float_eq(lat, 5e-6, 1e-15);
  cr_assert_float_eq(bw, 25e9, 1);
  route(c, 2, 11, &n, &lat, &bw); /* rail 2 to rail 3 through the spine */
  cr_assert_eq(n, 6);
  cr_assert_float_eq(lat, 7.5e-6, 1e-15);
  cr_assert_eq(gpp_cluster_node_of(c, 11), 1);
  gpp_cluster_destroy(c);
}

Test(cluster, summit_mesh_and_shared_nic) {
  gpp_cluster *c = load_file("summit");
  uint32_t n;
  double lat, bw;
  route(c, 0, 3, &n, &lat, &bw);
  cr_assert_eq(n, 1);
  cr_assert_float_eq(bw, 50e9, 1);
  const uint32_t *l0, *l1;
  gpp_errctx e = {0};
  cr_assert_eq(gpp_cluster_route(c, 0, 4, &l0, &n, &e), 0);
  cr_assert_eq(gpp_cluster_route(c, 1, 5, &l1, &n, &e), 0);
  cr_assert_eq(l0[1], l1[1], "GPUs 0 and 1 share NIC port 0");
  cr_assert_eq(gpp_cluster_route(c, 2, 5, &l1, &n, &e), 0);
  cr_assert_neq(l0[1], l1[1], "GPU 2 uses port 1");
  gpp_cluster_destroy(c);
}

static const char *fat_tree =
    "name: ft\ngpu: a100-sxm-80gb\nnodes: 16\ngpus_per_node: 2\n"
    "intra_node: {kind: nvswitch, bandwidth: 300 GB/s, latency: 2 us}\n"
    "inter_node: {kind: fat-tree, nics_per_node: 2, nic_bandwidth: 200 Gb/s,"
    " latency: 4.4 us, nodes_per_leaf: 4, spines: 4, oversubscription: 2}\n";

Test(cluster, fat_tree_ecmp_spreads_and_caches) {
  gpp_cluster *c = load_str(fat_tree);
  bool used[512] = {false};
  cr_assert_lt(c->n_vertices, 512);
  int distinct = 0;
  for (uint32_t s = 0; s < 8; s++)
    for (uint32_t d = 24; d < 32; d++) {
      const uint32_t *l, *again;
      uint32_t n, n2;
      cr_assert_eq(gpp_cluster_route(c, s, d, &l, &n, NULL), 0);
      cr_assert_eq(n, 6);
      cr_assert_eq(gpp_cluster_route(c, s, d, &again, &n2, NULL), 0);
      cr_assert_eq(l, again, "routes are cached");
      const gpp_link *up = &c->links[l[2]];
      cr_assert_eq(up->cls, GPP_LINK_FABRIC);
      cr_assert_float_eq(up->bandwidth, 4 * 2 * 25e9 / (2 * 4), 1);
      cr_assert(strncmp(c->vertex_names[up->to], "spine", 5) == 0);
      if (!used[up->to]) used[up->to] = true, distinct++;
    }
  cr_assert_geq(distinct, 3, "ECMP used %d of 4 spines", distinct);
  double lat, bw;
  cr_assert_eq(gpp_cluster_route_cost(c, 0, 31, &lat, &bw, NULL), 0);
  cr_assert_float_eq(lat, 1.5 * 4.4e-6, 1e-15);
  gpp_cluster_destroy(c);
}

Test(cluster, graph_shortest_then_lowest_latency) {
  gpp_cluster *c = load_str(
      "name: g\ngpu: h200\nswitches: [fast, slow]\nlinks:\n"
      "  - {a: gpu0, b: slow, bandwidth: 50 GB/s, latency: 3 us}\n"
      "  - {a: slow, b: gpu1, bandwidth: 50 GB/s, latency: 3 us}\n"
      "  - {a: gpu0, b: fast, bandwidth: 10 GB/s, latency: 1.3 us}\n"
      "  - {a: fast, b: gpu1, bandwidth: 10 GB/s, latency: 1.3 us, class: "
      "pcie}\n"
      "  - {a: gpu1, b: gpu2, bandwidth: 7 GB/s, latency: 0.9 us}\n");
  uint32_t n;
  double lat, bw;
  route(c, 0, 1, &n, &lat, &bw);
  cr_assert_eq(n, 2);
  cr_assert_float_eq(lat, 2.6e-6, 1e-15);
  cr_assert_float_eq(bw, 10e9, 1);
  route(c, 0, 2, &n, &lat, &bw); /* through gpu1: graphs allow GPU transit */
  cr_assert_eq(n, 3);
  cr_assert_float_eq(bw, 7e9, 1);
  cr_assert_eq(c->n_gpus, 3);
  cr_assert_eq(c->n_vertices, 5);
  cr_assert_str_eq(c->vertex_names[3], "fast");
  gpp_errctx e = {0};
  cr_assert_eq(gpp_cluster_route(c, 1, 1, &(const uint32_t *){0}, &n, &e),
               GPP_EINVAL);
  cr_assert_eq(gpp_cluster_route(c, 0, 9, &(const uint32_t *){0}, &n, &e),
               GPP_ERANGE);
  gpp_cluster_destroy(c);
}

Test(cluster, mesh_pcie_and_nic_sharing_templates) {
  gpp_cluster *c = load_str(
      "gpu: v100-sxm2-16gb\nnodes: 2\ngpus_per_node: 4\n"
      "intra_node: {kind: none}\n"
      "inter_node: {kind: single-switch, nics_per_node: 1, nic_bandwidth: "
      "100 Gb/s, latency: 6 us}\n");
  uint32_t n;
  double lat, bw;
  route(c, 0, 1, &n, &lat, &bw); /* no intra fabric: out and back in */
  cr_assert_eq(n, 4);
  cr_assert_float_eq(lat, 6e-6, 1e-15);
  gpp_cluster_destroy(c);
  c = load_str("gpu: h200\ngpus_per_node: 4\nintra_node: {kind: pcie, "
               "bandwidth: 26 GB/s, latency: 5 us}\n");
  route(c, 0, 3, &n, &lat, &bw);
  cr_assert_eq(n, 2);
  cr_assert_eq(c->links[0].cls, GPP_LINK_PCIE);
  cr_assert_str_eq(gpp_link_class_name(GPP_LINK_PCIE), "pcie");
  gpp_cluster_destroy(c);
}

Test(cluster_errors, unknown_gpu_with_suggestion) {
  gpp_errctx e = load_bad("gpu: a100-sxm-80g\ngpus_per_node: 1\n",
                          GPP_ENOENT);
  cr_assert(strstr(e.msg, "bad.yaml:1:6:") != NULL, "%s", e.msg);
  cr_assert(strstr(e.msg, "did you mean 'a100-sxm-80gb'") != NULL, "%s",
            e.msg);
}

Test(cluster_errors, mesh_too_large) {
  /* Links grow with the square of a mesh node (fuzz_cluster: 412 GPUs). */
  gpp_errctx e = load_bad("gpu: h200\ngpus_per_node: 65\nintra_node: {kind: "
                          "nvlink-mesh, bandwidth: 1 GB/s, latency: 1 us}\n",
                          GPP_ERANGE);
  cr_assert(strstr(e.msg, "bad.yaml:3:20: nvlink-mesh: 65 GPUs per node") !=
            NULL, "%s", e.msg);
}

Test(cluster_errors, zero_bandwidth) {
  gpp_errctx e = load_bad("gpu: h200\ngpus_per_node: 2\nintra_node: {kind: "
                          "nvswitch, bandwidth: 0 GB/s, latency: 1 us}\n",
                          GPP_ERANGE);
  cr_assert(strstr(e.msg, "bad.yaml:3:") != NULL, "%s", e.msg);
  e = load_bad("gpu: h200\nlinks:\n  - {a: gpu0, b: gpu1, bandwidth: 0, "
               "latency: 1 us}\n", GPP_ERANGE);
  cr_assert(strstr(e.msg, "bandwidth") != NULL, "%s", e.msg);
}

Test(cluster_errors, disconnected_graph) {
  gpp_errctx e = load_bad("gpu: h200\nswitches: [s]\nlinks:\n"
                          "  - {a: gpu0, b: s, bandwidth: 1 GB/s, latency: "
                          "1 us}\n"
                          "  - {a: gpu2, b: gpu3, bandwidth: 1 GB/s, "
                          "latency: 1 us}\n", GPP_EGRAPH);
  cr_assert(strstr(e.msg, "bad.yaml:4:3: disconnected") != NULL, "%s",
            e.msg);
}

Test(cluster_errors, unknown_vertex_and_self_link) {
  gpp_errctx e = load_bad("gpu: h200\nswitches: [spine]\nlinks:\n"
                          "  - {a: gpu0, b: spien, bandwidth: 1 GB/s, "
                          "latency: 1 us}\n", GPP_EGRAPH);
  cr_assert(strstr(e.msg, "bad.yaml:4:") != NULL, "%s", e.msg);
  cr_assert(strstr(e.msg, "did you mean 'spine'") != NULL, "%s", e.msg);
  e = load_bad("gpu: h200\nlinks:\n  - {a: gpu1, b: gpu1, bandwidth: 1 GB/s,"
               " latency: 1 us}\n", GPP_EGRAPH);
  cr_assert(strstr(e.msg, "itself") != NULL, "%s", e.msg);
  e = load_bad("gpu: h200\nswitches: [gpu7]\nlinks: []\n", GPP_EGRAPH);
}

Test(cluster_errors, template_keys_kinds_and_missing) {
  gpp_errctx e = load_bad("gpu: h200\nnode: 2\ngpus_per_node: 1\n",
                          GPP_EPARSE);
  cr_assert(strstr(e.msg, "bad.yaml:2:1: unknown key 'node'; did you mean "
                   "'nodes'") != NULL, "%s", e.msg);
  e = load_bad("gpu: h200\ngpus_per_node: 2\nintra_node: {kind: nvswich, "
               "bandwidth: 1 GB/s, latency: 1 us}\n", GPP_EINVAL);
  cr_assert(strstr(e.msg, "did you mean 'nvswitch'") != NULL, "%s", e.msg);
  e = load_bad("gpu: h200\nnodes: 2\ngpus_per_node: 1\n", GPP_EPARSE);
  cr_assert(strstr(e.msg, "inter_node") != NULL, "%s", e.msg);
  e = load_bad("gpu: h200\ngpus_per_node: 2\nintra_node: {kind: nvswitch, "
               "latency: 1 us}\n", GPP_EPARSE);
  cr_assert(strstr(e.msg, "bandwidth") != NULL, "%s", e.msg);
  e = load_bad("gpu: h200\nnodes: 2\ngpus_per_node: 2\ninter_node: {kind: "
               "rail-optimized, nic_bandwidth: 1 GB/s, latency: 1 us, "
               "spines: 2}\n", GPP_EPARSE);
  e = load_bad("gpu: h200\nnodes: 2\ngpus_per_node: 2\ninter_node: {kind: "
               "single-switch, nic_bandwidth: 1 GB/s, latency: 1 us, "
               "nics_per_node: 3}\n", GPP_ERANGE);
  e = load_bad("gpu: h200\nnodes: 2\ngpus_per_node: 2\ninter_node: {kind: "
               "single-switch, nic_bandwidth: 1 GB/s, latency: 1 us, "
               "oversubscription: 2}\n", GPP_EINVAL);
  cr_assert(strstr(e.msg, "fat-tree only") != NULL, "%s", e.msg);
  e = load_bad("- 1\n", GPP_EPARSE);
}

/* Issue 22: settings that once changed nothing, silently. */
Test(cluster, oversubscription_without_leaf_size_is_located_error) {
  gpp_errctx e = load_bad("gpu: h200\nnodes: 8\ngpus_per_node: 2\n"
                          "inter_node: {kind: fat-tree, nic_bandwidth: "
                          "1 GB/s, latency: 1 us, oversubscription: 2}\n",
                          GPP_EINVAL);
  cr_assert(strstr(e.msg, "bad.yaml:4:") != NULL, "%s", e.msg);
  cr_assert(strstr(e.msg, "nodes_per_leaf") != NULL, "%s", e.msg);
}

Test(cluster, unitless_bandwidth_is_located_error) {
  gpp_errctx e = load_bad("gpu: h200\nnodes: 2\ngpus_per_node: 1\n"
                          "inter_node: {kind: single-switch,\n"
                          "  nic_bandwidth: 400, latency: 1 us}\n",
                          GPP_EUNIT);
  cr_assert(strstr(e.msg, "bad.yaml:5:18:") != NULL, "%s", e.msg);
  cr_assert(strstr(e.msg, "has no unit") != NULL, "%s", e.msg);
}

/* Two leaves: the uplinks now carry half the leaf's NIC capacity. */
Test(cluster, oversubscription_halves_the_uplinks) {
  double up[2];
  for (int k = 0; k < 2; k++) {
    char y[512];
    snprintf(y, sizeof y, "gpu: h200\nnodes: 4\ngpus_per_node: 1\n"
             "inter_node: {kind: fat-tree, nic_bandwidth: 1 GB/s, latency: "
             "1 us, nodes_per_leaf: 2, oversubscription: %d}\n", k + 1);
    gpp_cluster *c = load_str(y);
    up[k] = 0;
    for (uint32_t l = 0; l < c->n_links; l++)
      if (c->links[l].cls == GPP_LINK_FABRIC) up[k] = c->links[l].bandwidth;
    gpp_cluster_destroy(c);
  }
  cr_assert_float_eq(up[0], 2e9, 1);
  cr_assert_float_eq(up[1], 1e9, 1);
}
