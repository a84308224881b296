/* fuzz_cluster.c -- libFuzzer target: cluster YAML through
 * gpp_cluster_from_string. */
#include "topology/topology.h"
#include "tests/fuzz/fuzz.h"

GPP_FUZZ_TEXT_TARGET(gpp_cluster,
                     gpp_cluster_from_string("fuzz.yaml", text, &obj, &err),
                     gpp_cluster_destroy)
