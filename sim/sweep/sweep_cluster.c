/* sweep_cluster.c -- a point's cluster: the base cluster with the point's
 * `cluster.<key>` values put in and `nodes` raised when the point wants
 * more GPUs (topology/cluster_override.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sweep/sweep_internal.h"
#include "topology/topology.h"

#define MAX_OVR 40

/* The point's cluster.<key> overrides (only: just its assignment number
 * `only`; -1: all), leaving room for `nodes`. */
static size_t point_overrides(const gpp_sweep *s, uint32_t i, int only,
                              gpp_cluster_ovr *o) {
  const gpp__sw_point *p = &s->points[i];
  size_t n = 0;
  for (uint32_t k = 0; k < p->n && n < MAX_OVR - 1; k++) {
    const gpp__sw_assign *a = &s->assigns[p->first + k];
    if (strncmp(a->key, "cluster.", 8) == 0 && (only < 0 || (int)k == only))
      o[n++] = (gpp_cluster_ovr){a->key + 8, gpp_ynode_scalar(a->value),
                                 a->value, false};
  }
  return n;
}

/* gpus 0: not resized. */
static int build(const gpp_sweep *s, uint32_t i, int only, uint32_t gpus,
                 gpp_cluster **out, char **text, gpp_errctx *err) {
  gpp_cluster_ovr o[MAX_OVR];
  char name[128];
  size_t n_o = point_overrides(s, i, only, o);
  snprintf(name, sizeof name, "%s(point %u cluster)", s->name, i);
  return gpp_cluster_overridden(s->clusters[s->points[i].cluster], name, o,
                                n_o, gpus, out, text, err);
}

int gpp__sweep_cluster(const gpp_sweep *s, uint32_t i, gpp_cluster **out,
                       gpp_errctx *err) {
  return build(s, i, -1, s->points[i].gpus, out, NULL, err);
}

int gpp__sweep_cluster_text(const gpp_sweep *s, uint32_t i, char **out,
                            gpp_errctx *err) {
  gpp_cluster *c = NULL;
  int rc = build(s, i, -1, s->points[i].gpus, &c, out, err);
  gpp_cluster_destroy(c);
  return rc;
}

int gpp__sweep_cluster_one(const gpp_sweep *s, uint32_t i, int only,
                           gpp_cluster **out, gpp_errctx *err) {
  return build(s, i, only, 0, out, NULL, err);
}
