/* engine_fixture.h -- what the engine's unit tests share: a cluster of n
 * GPUs with no network links (for the ideal network), 80 GB and 2 TB/s of
 * HBM each; and 2 A100s behind one NVSwitch (100 GB/s, 3 us) with their
 * route's latency and bandwidth.  Include after criterion.h. */
#ifndef GPP_TESTS_ENGINE_FIXTURE_H
#define GPP_TESTS_ENGINE_FIXTURE_H

#include <string.h>

#include "topology/topology.h"

static inline gpp_cluster test_cluster(uint32_t n) {
  gpp_cluster c;
  memset(&c, 0, sizeof c);
  c.name = "test";
  c.n_gpus = n;
  c.gpu.name = "test-gpu";
  c.gpu.mem_bytes = 80e9;
  c.gpu.mem_bandwidth = 2e12;
  c.gpu.peak_fp16 = c.gpu.peak_bf16 = 1e15;
  c.gpu.peak_fp32 = 6e13;
  return c;
}

static inline gpp_cluster *test_switch2(double *lat, double *bw) {
  gpp_errctx err = {0};
  gpp_cluster *c = NULL;
  cr_assert_eq(gpp_cluster_from_string("net-test",
      "name: net-test\ngpu: a100-sxm-80gb\nnodes: 1\ngpus_per_node: 2\n"
      "intra_node: {kind: nvswitch, bandwidth: 100 GB/s, latency: 3 us}\n",
      &c, &err), 0, "%s", err.msg);
  cr_assert_eq(gpp_cluster_route_cost(c, 0, 1, lat, bw, &err), 0);
  return c;
}

#endif
