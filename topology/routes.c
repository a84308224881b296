/* routes.c -- shortest-path routing between GPUs, with a cache.
 *
 * Cost is lexicographic: hop count first, then summed latency.  For each
 * destination a reverse breadth-first search over incoming links gives
 * every vertex its (hops, latency) distance; it is computed once per
 * destination and kept.  A route then walks from the source, choosing at
 * each vertex among the outgoing links that stay on a shortest path.  When
 * there are several (ECMP: several spines), the choice is a hash of
 * (src, dst) over the candidates in link-index order, so it is
 * deterministic and spreads different pairs over the equal-cost paths.
 * GPUs are not transit vertices in templates (traffic between nodes leaves
 * through NICs, not through another GPU); explicit graphs allow it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/arena.h"
#include "topology/internal.h"

/* Latencies of equal-cost paths may differ by rounding only. */
#define LAT_REL_TOL 1e-9

typedef struct dist_table {
  uint32_t *hops;
  double *lat;
} dist_table;

struct gpp__routes {
  uint32_t *out_off, *out_ids, *in_off, *in_ids; /* CSR by vertex */
  bool gpu_transit;
  dist_table *by_dst; /* per GPU; hops NULL until computed */
  uint32_t *queue;
  uint32_t *path; /* scratch for one route */
  uint64_t *keys; /* open-addressing cache: key src*n+dst+1, 0 empty */
  gpp__route **vals;
  size_t cap, used;
};

unsigned long long dbg_rget, dbg_probe, dbg_build, dbg_dist;
static uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static void csr_fill(const gpp_cluster *c, uint32_t *off, uint32_t *ids,
                     bool by_from) {
  for (uint32_t i = 0; i < c->n_links; i++)
    off[(by_from ? c->links[i].from : c->links[i].to) + 1]++;
  for (uint32_t v = 0; v < c->n_vertices; v++) off[v + 1] += off[v];
  uint32_t *fill = calloc(c->n_vertices + 1, sizeof *fill);
  for (uint32_t i = 0; fill != NULL && i < c->n_links; i++) {
    uint32_t v = by_from ? c->links[i].from : c->links[i].to;
    ids[off[v] + fill[v]++] = i;
  }
  free(fill);
}

int gpp__routes_create(gpp_cluster *c, bool gpu_transit, gpp_errctx *err) {
  struct gpp__routes *r = gpp_calloc(err, 1, sizeof *r);
  if (r == NULL) return GPP_ENOMEM;
  c->routes = r;
  r->gpu_transit = gpu_transit;
  size_t nv = c->n_vertices + 1, nl = c->n_links + 1;
  r->out_off = gpp_calloc(err, nv, sizeof(uint32_t));
  r->in_off = gpp_calloc(err, nv, sizeof(uint32_t));
  r->out_ids = gpp_calloc(err, nl, sizeof(uint32_t));
  r->in_ids = gpp_calloc(err, nl, sizeof(uint32_t));
  r->queue = gpp_calloc(err, nv, sizeof(uint32_t));
  r->path = gpp_calloc(err, nv, sizeof(uint32_t));
  r->by_dst = gpp_calloc(err, c->n_gpus, sizeof *r->by_dst);
  if (!r->out_off || !r->in_off || !r->out_ids || !r->in_ids || !r->queue ||
      !r->path || !r->by_dst)
    return GPP_ENOMEM;
  csr_fill(c, r->out_off, r->out_ids, true);
  csr_fill(c, r->in_off, r->in_ids, false);
  return 0;
}

void gpp__routes_destroy(struct gpp__routes *r) {
  if (r == NULL) return;
  free(r->out_off);
  free(r->in_off);
  free(r->out_ids);
  free(r->in_ids);
  free(r->queue);
  free(r->path);
  free(r->keys);
  free(r->vals);
  free(r->by_dst);
  free(r);
}

static bool may_transit(const gpp_cluster *c, uint32_t v, uint32_t dst) {
  return v == dst || v >= c->n_gpus || c->routes->gpu_transit;
}

/* Relaxes the links into u: vertices one hop further from dst. */
static void bfs_expand(const gpp_cluster *c, dist_table *d, uint32_t u,
                       uint32_t *tail) {
  const struct gpp__routes *r = c->routes;
  for (uint32_t k = r->in_off[u]; k < r->in_off[u + 1]; k++) {
    const gpp_link *l = &c->links[r->in_ids[k]];
    uint32_t v = l->from;
    double lat = d->lat[u] + l->latency;
    if (d->hops[v] == UINT32_MAX) {
      d->hops[v] = d->hops[u] + 1;
      d->lat[v] = lat;
      r->queue[(*tail)++] = v;
    } else if (d->hops[v] == d->hops[u] + 1 && lat < d->lat[v]) {
      d->lat[v] = lat;
    }
  }
}

static int dist_compute(gpp_cluster *c, uint32_t dst, gpp_errctx *err) {
  dist_table *d = &c->routes->by_dst[dst];
  if (d->hops != NULL) return 0;
  dbg_dist++;
  d->hops = gpp_arena_array(c->arena, c->n_vertices, sizeof *d->hops, err);
  d->lat = gpp_arena_array(c->arena, c->n_vertices, sizeof *d->lat, err);
  if (d->hops == NULL || d->lat == NULL) return GPP_ENOMEM;
  memset(d->hops, 0xff, c->n_vertices * sizeof *d->hops);
  uint32_t head = 0, tail = 0, *q = c->routes->queue;
  d->hops[dst] = 0;
  q[tail++] = dst;
  while (head < tail) {
    uint32_t u = q[head++];
    if (may_transit(c, u, dst)) bfs_expand(c, d, u, &tail);
  }
  return 0;
}

/* The next link from u towards dst: among the shortest-path candidates,
 * the one the (src, dst) hash picks. */
static uint32_t next_link(const gpp_cluster *c, const dist_table *d,
                          uint32_t u, uint32_t dst, uint64_t h) {
  const struct gpp__routes *r = c->routes;
  uint32_t cand[64], n = 0;
  double tol = LAT_REL_TOL * fmax(d->lat[u], 1e-300);
  for (uint32_t k = r->out_off[u]; k < r->out_off[u + 1] && n < 64; k++) {
    const gpp_link *l = &c->links[r->out_ids[k]];
    uint32_t v = l->to;
    if (d->hops[v] + 1 != d->hops[u] || !may_transit(c, v, dst)) continue;
    if (fabs(d->lat[v] + l->latency - d->lat[u]) <= tol)
      cand[n++] = r->out_ids[k];
  }
  return n ? cand[h % n] : UINT32_MAX;
}

static int route_build(gpp_cluster *c, uint32_t src, uint32_t dst,
                       gpp__route **out, gpp_errctx *err) {
  GPP_TRY(dist_compute(c, dst, err));
  const dist_table *d = &c->routes->by_dst[dst];
  if (d->hops[src] == UINT32_MAX)
    GPP_RAISE(err, GPP_EGRAPH, "no route from gpu%u to gpu%u", src, dst);
  gpp__route *rt = gpp_arena_alloc(c->arena, sizeof *rt, err);
  uint32_t *links = gpp_arena_array(c->arena, d->hops[src], sizeof *links,
                                    err);
  if (rt == NULL || links == NULL) return GPP_ENOMEM;
  uint64_t h = mix64(((uint64_t)src << 32) | dst);
  rt->bottleneck = INFINITY;
  for (uint32_t u = src; u != dst;) {
    uint32_t l = next_link(c, d, u, dst, h);
    if (l == UINT32_MAX)
      GPP_RAISE(err, GPP_EINTERNAL, "route gpu%u->gpu%u lost at %s", src,
                dst, c->vertex_names[u]);
    links[rt->n++] = l;
    rt->latency += c->links[l].latency;
    rt->bottleneck = fmin(rt->bottleneck, c->links[l].bandwidth);
    u = c->links[l].to;
  }
  rt->links = links;
  *out = rt;
  return 0;
}

static int cache_grow(struct gpp__routes *r, gpp_errctx *err) {
  size_t cap = r->cap ? 2 * r->cap : 1024;
  uint64_t *keys = gpp_calloc(err, cap, sizeof *keys);
  gpp__route **vals = gpp_calloc(err, cap, sizeof *vals);
  if (keys == NULL || vals == NULL) {
    free(keys);
    free(vals);
    return GPP_ENOMEM;
  }
  for (size_t i = 0; i < r->cap; i++) {
    if (r->keys[i] == 0) continue;
    size_t j = mix64(r->keys[i]) & (cap - 1);
    while (keys[j] != 0) j = (j + 1) & (cap - 1);
    keys[j] = r->keys[i];
    vals[j] = r->vals[i];
  }
  free(r->keys);
  free(r->vals);
  r->keys = keys;
  r->vals = vals;
  r->cap = cap;
  return 0;
}

int gpp__route_get(gpp_cluster *c, uint32_t src, uint32_t dst,
                   const gpp__route **out, gpp_errctx *err) {
  dbg_rget++;
  if (src >= c->n_gpus || dst >= c->n_gpus)
    GPP_RAISE(err, GPP_ERANGE, "GPU %u is out of range; the cluster has %u "
              "GPUs (0..%u)", src >= c->n_gpus ? src : dst, c->n_gpus,
              c->n_gpus - 1);
  if (src == dst)
    GPP_RAISE(err, GPP_EINVAL, "a route from gpu%u to itself", src);
  struct gpp__routes *r = c->routes;
  if (2 * (r->used + 1) > r->cap) GPP_TRY(cache_grow(r, err));
  uint64_t key = (uint64_t)src * c->n_gpus + dst + 1;
  size_t j = mix64(key) & (r->cap - 1);
  for (; r->keys[j] != 0; j = (j + 1) & (r->cap - 1), dbg_probe++)
    if (r->keys[j] == key) {
      *out = r->vals[j];
      return 0;
    }
  gpp__route *rt;
  dbg_build++;
  GPP_TRY(route_build(c, src, dst, &rt, err));
  r->keys[j] = key;
  r->vals[j] = rt;
  r->used++;
  *out = rt;
  return 0;
}

int gpp__routes_check_connected(gpp_cluster *c, const gpp_mark *at,
                                gpp_errctx *err) {
  for (uint32_t dst = 0; dst < c->n_gpus && dst < 2; dst++) {
    GPP_TRY(dist_compute(c, dst, err));
    const dist_table *d = &c->routes->by_dst[dst];
    for (uint32_t g = 0; g < c->n_gpus; g++)
      if (d->hops[g] == UINT32_MAX)
        GPP_RAISE_AT(err, GPP_EGRAPH, at, "disconnected graph: no path from "
                     "%s to %s", c->vertex_names[g], c->vertex_names[dst]);
  }
  return 0;
}
