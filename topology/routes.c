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
 * through NICs, not through another GPU); explicit graphs allow it.  Where
 * GPUs do not transit, the tables hold only the other vertices (a third of
 * a template's), and a source GPU's distance is taken from its out-links
 * when its route is built.  The last route looked up from each GPU is
 * remembered, so the repeated steps of a collective skip the hash table.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/arena.h"
#include "topology/internal.h"

/* Latencies of equal-cost paths may differ by rounding only. */
#define LAT_REL_TOL 1e-9

/* Out-degree beyond which a route step looks for its next link from the
 * vertices one level nearer the destination instead (a switch with
 * thousands of ports), and how many of the nearest vertices are kept. */
#define WIDE_DEGREE 64
#define NEAR_MAX 16

/* A vertex's distance to dst: hops (UINT32_MAX when it has no entry: a
 * GPU that does not transit) and latency. */
typedef struct dist {
  uint32_t hops;
  double lat;
} dist;

/* Distances to one destination of the vertices from `base` on (the
 * entries plus shift: see sole_entry), and the first vertices of the
 * search (nearest first: levels by hops). */
typedef struct dist_table {
  uint32_t *hops;
  double *lat;
  dist shift;
  uint32_t near[NEAR_MAX];
  uint32_t n_near, n_reached; /* kept, and reached in all */
} dist_table;

struct gpp__routes {
  uint32_t *out_off, *out_ids, *in_off, *in_ids; /* CSR by vertex */
  bool gpu_transit;
  uint32_t base;      /* first vertex in the tables: 0, or n_gpus when GPUs
                         do not transit */
  dist_table *by_dst; /* per GPU; hops NULL until computed */
  dist_table *by_switch; /* per vertex from base on, for sole_entry */
  uint32_t *queue;
  uint32_t *path; /* scratch for one route */
  uint64_t *keys; /* open-addressing cache: key src*n+dst+1, 0 empty */
  gpp__route **vals;
  size_t cap, used;
  uint32_t *memo_dst; /* per source GPU: the last destination looked up */
  gpp__route **memo;  /* and its route */
};

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
  r->by_switch = gpp_calloc(err, c->n_vertices - (gpu_transit ? 0 : c->n_gpus)
                            + 1, sizeof *r->by_switch);
  r->memo_dst = gpp_calloc(err, c->n_gpus + 1, sizeof *r->memo_dst);
  r->memo = gpp_calloc(err, c->n_gpus + 1, sizeof *r->memo);
  if (!r->out_off || !r->in_off || !r->out_ids || !r->in_ids || !r->queue ||
      !r->path || !r->by_dst || !r->by_switch || !r->memo_dst || !r->memo)
    return GPP_ENOMEM;
  memset(r->memo_dst, 0xff, c->n_gpus * sizeof *r->memo_dst);
  r->base = gpu_transit ? 0 : c->n_gpus;
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
  free(r->by_switch);
  free(r->memo_dst);
  free(r->memo);
  free(r);
}

static bool may_transit(const gpp_cluster *c, uint32_t v, uint32_t dst) {
  return v == dst || v >= c->n_gpus || c->routes->gpu_transit;
}

static uint32_t hops_at(const struct gpp__routes *r, const dist_table *d,
                        uint32_t v, uint32_t dst) {
  if (v == dst) return 0;
  uint32_t h = v < r->base ? UINT32_MAX : d->hops[v - r->base];
  return h == UINT32_MAX ? h : h + d->shift.hops;
}

static dist dist_at(const struct gpp__routes *r, const dist_table *d,
                    uint32_t v, uint32_t dst) {
  uint32_t hops = hops_at(r, d, v, dst);
  if (v == dst || hops == UINT32_MAX) return (dist){hops, 0};
  return (dist){hops, d->lat[v - r->base] + d->shift.lat};
}

/* Relaxes the links into u (at distance du): vertices one hop further
 * from dst. */
static void bfs_expand(const gpp_cluster *c, dist_table *d, uint32_t u,
                       dist du, uint32_t *tail) {
  const struct gpp__routes *r = c->routes;
  for (uint32_t k = r->in_off[u]; k < r->in_off[u + 1]; k++) {
    const gpp_link *l = &c->links[r->in_ids[k]];
    if (l->from < r->base) continue;
    uint32_t v = l->from - r->base;
    double lat = du.lat + l->latency;
    if (d->hops[v] == UINT32_MAX) {
      d->hops[v] = du.hops + 1;
      d->lat[v] = lat;
      r->queue[(*tail)++] = l->from;
    } else if (d->hops[v] == du.hops + 1 && lat < d->lat[v]) {
      d->lat[v] = lat;
    }
  }
}

/* Fills d by a reverse breadth-first search from root. */
static int bfs_table(gpp_cluster *c, dist_table *d, uint32_t root,
                     gpp_errctx *err) {
  struct gpp__routes *r = c->routes;
  size_t n = c->n_vertices - r->base;
  d->hops = gpp_arena_array(c->arena, n + 1, sizeof *d->hops, err);
  d->lat = gpp_arena_array(c->arena, n + 1, sizeof *d->lat, err);
  if (d->hops == NULL || d->lat == NULL) return GPP_ENOMEM;
  memset(d->hops, 0xff, n * sizeof *d->hops);
  if (root >= r->base) {
    d->hops[root - r->base] = 0;
    d->lat[root - r->base] = 0;
  }
  uint32_t head = 0, tail = 0, *q = r->queue;
  q[tail++] = root;
  while (head < tail) {
    uint32_t u = q[head++];
    if (may_transit(c, u, root)) bfs_expand(c, d, u, dist_at(r, d, u, root),
                                            &tail);
  }
  d->n_reached = tail;
  d->n_near = tail < NEAR_MAX ? tail : NEAR_MAX;
  memcpy(d->near, q, d->n_near * sizeof *q);
  return 0;
}

/* Where GPUs do not transit, the one link into GPU dst from another vertex
 * (a NIC that serves several GPUs), or UINT32_MAX when there are several.
 * Every path to dst then ends with that link, so dst's table is its start
 * vertex's, shifted by the link: the GPUs behind one NIC share a table. */
static uint32_t sole_entry(const gpp_cluster *c, uint32_t dst) {
  const struct gpp__routes *r = c->routes;
  uint32_t found = UINT32_MAX;
  for (uint32_t k = r->in_off[dst]; r->base > 0 && k < r->in_off[dst + 1];
       k++) {
    if (c->links[r->in_ids[k]].from < r->base) continue;
    if (found != UINT32_MAX) return UINT32_MAX;
    found = r->in_ids[k];
  }
  return found;
}

static int dist_compute(gpp_cluster *c, uint32_t dst, gpp_errctx *err) {
  struct gpp__routes *r = c->routes;
  dist_table *d = &r->by_dst[dst];
  if (d->hops != NULL) return 0;
  uint32_t e = sole_entry(c, dst);
  if (e == UINT32_MAX) return bfs_table(c, d, dst, err);
  const gpp_link *l = &c->links[e];
  dist_table *dw = &r->by_switch[l->from - r->base];
  if (dw->hops == NULL) GPP_TRY(bfs_table(c, dw, l->from, err));
  *d = *dw;
  d->shift = (dist){1, l->latency};
  d->near[0] = dst;
  d->n_near = dw->n_near < NEAR_MAX ? dw->n_near + 1 : NEAR_MAX;
  memcpy(d->near + 1, dw->near, (d->n_near - 1) * sizeof *d->near);
  d->n_reached = dw->n_reached + 1;
  return 0;
}

/* Whether the link from a vertex at distance du steps to a vertex one hop
 * nearer dst on a path as fast, to within rounding. */
static bool on_shortest(const gpp_cluster *c, const dist_table *d, dist du,
                        const gpp_link *l, uint32_t dst) {
  if (!may_transit(c, l->to, dst) ||
      hops_at(c->routes, d, l->to, dst) + 1 != du.hops)
    return false;
  dist dv = dist_at(c->routes, d, l->to, dst);
  double tol = LAT_REL_TOL * fmax(du.lat, 1e-300);
  return fabs(dv.lat + l->latency - du.lat) <= tol;
}

/* A source's distance: the table's, or for a GPU outside it, one hop more
 * than its nearest out-neighbour (the smallest latency among equals). */
static dist src_dist(const gpp_cluster *c, const dist_table *d, uint32_t src,
                     uint32_t dst) {
  const struct gpp__routes *r = c->routes;
  dist best = dist_at(r, d, src, dst);
  if (src >= r->base || src == dst) return best;
  for (uint32_t k = r->out_off[src]; k < r->out_off[src + 1]; k++) {
    const gpp_link *l = &c->links[r->out_ids[k]];
    if (!may_transit(c, l->to, dst)) continue;
    dist dv = dist_at(r, d, l->to, dst);
    if (dv.hops == UINT32_MAX) continue;
    double lat = dv.lat + l->latency;
    if (dv.hops + 1 < best.hops || (dv.hops + 1 == best.hops && lat < best.lat))
      best = (dist){dv.hops + 1, lat};
  }
  return best;
}

/* The shortest-path links from u, found through the in-links of the
 * vertices one level nearer dst, in link order; false when that level is
 * not all kept in d->near or holds more than 64 candidates. */
static bool near_candidates(const gpp_cluster *c, const dist_table *d,
                            uint32_t u, dist du, uint32_t dst,
                            uint32_t cand[64], uint32_t *n) {
  const struct gpp__routes *r = c->routes;
  uint32_t level = du.hops - 1, last = d->near[d->n_near - 1];
  if (d->n_near < d->n_reached && hops_at(r, d, last, dst) <= level)
    return false;
  *n = 0;
  for (uint32_t i = 0; i < d->n_near; i++) {
    uint32_t w = d->near[i];
    if (hops_at(r, d, w, dst) != level) continue;
    for (uint32_t k = r->in_off[w]; k < r->in_off[w + 1]; k++) {
      uint32_t id = r->in_ids[k];
      if (c->links[id].from != u || !on_shortest(c, d, du, &c->links[id], dst))
        continue;
      if (*n == 64) return false;
      uint32_t j = (*n)++;
      for (; j > 0 && cand[j - 1] > id; j--) cand[j] = cand[j - 1];
      cand[j] = id;
    }
  }
  return true;
}

/* The next link from u (at distance du) towards dst: among the
 * shortest-path candidates in link order (the first 64), the one the
 * (src, dst) hash picks. */
static uint32_t next_link(const gpp_cluster *c, const dist_table *d,
                          uint32_t u, dist du, uint32_t dst, uint64_t h) {
  const struct gpp__routes *r = c->routes;
  uint32_t cand[64], n = 0;
  bool wide = r->out_off[u + 1] - r->out_off[u] > WIDE_DEGREE;
  if (!wide || !near_candidates(c, d, u, du, dst, cand, &n))
    for (uint32_t k = r->out_off[u]; k < r->out_off[u + 1] && n < 64; k++)
      if (on_shortest(c, d, du, &c->links[r->out_ids[k]], dst))
        cand[n++] = r->out_ids[k];
  return n ? cand[h % n] : UINT32_MAX;
}

static int route_build(gpp_cluster *c, uint32_t src, uint32_t dst,
                       gpp__route **out, gpp_errctx *err) {
  GPP_TRY(dist_compute(c, dst, err));
  const dist_table *d = &c->routes->by_dst[dst];
  dist du = src_dist(c, d, src, dst);
  if (du.hops == UINT32_MAX)
    GPP_RAISE(err, GPP_EGRAPH, "no route from gpu%u to gpu%u", src, dst);
  gpp__route *rt = gpp_arena_alloc(c->arena, sizeof *rt, err);
  uint32_t *links = gpp_arena_array(c->arena, du.hops, sizeof *links, err);
  if (rt == NULL || links == NULL) return GPP_ENOMEM;
  uint64_t h = mix64(((uint64_t)src << 32) | dst);
  rt->bottleneck = INFINITY;
  for (uint32_t u = src; u != dst;) {
    uint32_t l = next_link(c, d, u, du, dst, h);
    if (l == UINT32_MAX)
      GPP_RAISE(err, GPP_EINTERNAL, "route gpu%u->gpu%u lost at %s", src,
                dst, c->vertex_names[u]);
    links[rt->n++] = l;
    rt->latency += c->links[l].latency;
    rt->bottleneck = fmin(rt->bottleneck, c->links[l].bandwidth);
    u = c->links[l].to;
    du = dist_at(c->routes, d, u, dst);
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
  if (src >= c->n_gpus || dst >= c->n_gpus)
    GPP_RAISE(err, GPP_ERANGE, "GPU %u is out of range; the cluster has %u "
              "GPUs (0..%u)", src >= c->n_gpus ? src : dst, c->n_gpus,
              c->n_gpus - 1);
  if (src == dst)
    GPP_RAISE(err, GPP_EINVAL, "a route from gpu%u to itself", src);
  struct gpp__routes *r = c->routes;
  if (r->memo_dst[src] == dst) {
    *out = r->memo[src];
    return 0;
  }
  if (2 * (r->used + 1) > r->cap) GPP_TRY(cache_grow(r, err));
  uint64_t key = (uint64_t)src * c->n_gpus + dst + 1;
  size_t j = mix64(key) & (r->cap - 1);
  for (; r->keys[j] != 0; j = (j + 1) & (r->cap - 1))
    if (r->keys[j] == key) break;
  if (r->keys[j] == 0) {
    GPP_TRY(route_build(c, src, dst, &r->vals[j], err));
    r->keys[j] = key;
    r->used++;
  }
  r->memo_dst[src] = dst;
  *out = r->memo[src] = r->vals[j];
  return 0;
}

int gpp__routes_check_connected(gpp_cluster *c, const gpp_mark *at,
                                gpp_errctx *err) {
  for (uint32_t dst = 0; dst < c->n_gpus && dst < 2; dst++) {
    GPP_TRY(dist_compute(c, dst, err));
    const dist_table *d = &c->routes->by_dst[dst];
    for (uint32_t g = 0; g < c->n_gpus; g++)
      if (src_dist(c, d, g, dst).hops == UINT32_MAX)
        GPP_RAISE_AT(err, GPP_EGRAPH, at, "disconnected graph: no path from "
                     "%s to %s", c->vertex_names[g], c->vertex_names[dst]);
  }
  return 0;
}
