/* routes.c -- shortest-path routing between GPUs, with a cache.
 *
 * Cost is lexicographic: hop count first, then summed latency.  A table
 * gives every vertex its (hops, latency) distance to one vertex; it is
 * built on first use and kept.  Where GPUs do not transit, a vertex with
 * few in-links from transit vertices (a GPU: its NVSwitch and its NIC; a
 * NIC's receive side: its leaf) keeps only references to their tables
 * (its distance is the nearest of theirs plus the link), so dense tables
 * exist only for the switches many links enter, and memory grows with the
 * switches rather than with GPU pairs.  Other tables are filled by a
 * reverse breadth-first search over incoming links.  A route then walks from the source, choosing at
 * each vertex among the outgoing links that stay on a shortest path.  When
 * there are several (ECMP: several spines), the choice is a hash of
 * (src, dst) over the candidates in link-index order, so it is
 * deterministic and spreads different pairs over the equal-cost paths.
 * GPUs are not transit vertices in templates (traffic between nodes leaves
 * through NICs, not through another GPU); explicit graphs allow it.  Where
 * GPUs do not transit, dense tables hold only the other vertices, and a
 * source GPU's distance is taken from its out-links when its route is
 * built.  The last route looked up from each GPU is
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
/* Most in-links from transit vertices of a vertex whose table is kept as
 * references to theirs. */
#define MAX_REFS 4

/* A vertex's distance to a table's vertex: hops (UINT32_MAX when it has
 * none: unreachable, or a GPU that does not transit) and latency. */
typedef struct dist {
  uint32_t hops;
  double lat;
} dist;

typedef struct dist_table dist_table;

/* An in-link of a table's vertex from a transit vertex: distances through
 * it are the in-neighbour's plus one hop and the link's latency. */
typedef struct dist_ref {
  const dist_table *t;
  double lat;
} dist_ref;

/* Distances to one vertex `self`: dense (a search filled hops and lat for
 * the vertices from `base` on), or by references to the tables of its
 * in-neighbours (see the file comment); and the nearest vertices (in
 * order of hops), every one with fewer hops than near_below among them
 * (UINT32_MAX: all it reaches). */
struct dist_table {
  uint32_t self;
  uint32_t *hops;
  double *lat;
  dist_ref refs[MAX_REFS];
  uint32_t n_refs;
  uint32_t near[NEAR_MAX];
  uint32_t n_near, near_below;
  uint8_t state; /* TABLE_NONE, TABLE_BUSY (being built), TABLE_DONE */
};

enum { TABLE_NONE, TABLE_BUSY, TABLE_DONE };

struct gpp__routes {
  uint32_t *out_off, *out_ids, *in_off, *in_ids; /* CSR by vertex */
  /* Where GPUs do not transit: each vertex's out-links to switches from
   * which more than GPUs can be reached (not to GPUs, nor to stubs: NICs'
   * receive sides and the like, whose links all enter GPUs), in link
   * order.  More than two hops from a destination only they can be on a
   * shortest path, so a switch with thousands of NIC ports steps through
   * its few uplinks. */
  uint32_t *hub_off, *hub_ids;
  bool gpu_transit;
  uint32_t base;      /* first vertex in dense tables: 0, or n_gpus when
                         GPUs do not transit */
  dist_table *tables; /* per vertex; built on first use */
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

/* Whether vertex v reaches only GPUs in one hop: a GPU, or a vertex whose
 * out-links all enter GPUs. */
static bool stub(const gpp_cluster *c, uint32_t v) {
  const struct gpp__routes *r = c->routes;
  if (v < c->n_gpus) return true;
  for (uint32_t k = r->out_off[v]; k < r->out_off[v + 1]; k++)
    if (c->links[r->out_ids[k]].to >= c->n_gpus) return false;
  return true;
}

static int hubs_fill(gpp_cluster *c, gpp_errctx *err) {
  struct gpp__routes *r = c->routes;
  r->hub_off = gpp_calloc(err, c->n_vertices + 1, sizeof *r->hub_off);
  r->hub_ids = gpp_calloc(err, c->n_links + 1, sizeof *r->hub_ids);
  if (r->hub_off == NULL || r->hub_ids == NULL) return GPP_ENOMEM;
  uint32_t n = 0;
  for (uint32_t v = 0; v < c->n_vertices; v++) {
    r->hub_off[v] = n;
    for (uint32_t k = r->out_off[v]; k < r->out_off[v + 1]; k++)
      if (!stub(c, c->links[r->out_ids[k]].to)) r->hub_ids[n++] = r->out_ids[k];
  }
  r->hub_off[c->n_vertices] = n;
  return 0;
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
  r->tables = gpp_calloc(err, nv, sizeof *r->tables);
  r->memo_dst = gpp_calloc(err, c->n_gpus + 1, sizeof *r->memo_dst);
  r->memo = gpp_calloc(err, c->n_gpus + 1, sizeof *r->memo);
  if (!r->out_off || !r->in_off || !r->out_ids || !r->in_ids || !r->queue ||
      !r->path || !r->tables || !r->memo_dst || !r->memo)
    return GPP_ENOMEM;
  memset(r->memo_dst, 0xff, c->n_gpus * sizeof *r->memo_dst);
  r->base = gpu_transit ? 0 : c->n_gpus;
  csr_fill(c, r->out_off, r->out_ids, true);
  csr_fill(c, r->in_off, r->in_ids, false);
  return gpu_transit ? 0 : hubs_fill(c, err);
}

void gpp__routes_destroy(struct gpp__routes *r) {
  if (r == NULL) return;
  free(r->out_off);
  free(r->in_off);
  free(r->out_ids);
  free(r->in_ids);
  free(r->hub_off);
  free(r->hub_ids);
  free(r->queue);
  free(r->path);
  free(r->keys);
  free(r->vals);
  free(r->tables);
  free(r->memo_dst);
  free(r->memo);
  free(r);
}

static bool may_transit(const gpp_cluster *c, uint32_t v, uint32_t dst) {
  return v == dst || v >= c->n_gpus || c->routes->gpu_transit;
}

/* Whether a is nearer than b: fewer hops, then less latency. */
static bool dist_less(dist a, dist b) {
  return a.hops < b.hops || (a.hops == b.hops && a.lat < b.lat);
}

static dist dist_at(const struct gpp__routes *r, const dist_table *d,
                    uint32_t v) {
  if (v == d->self) return (dist){0, 0};
  if (d->hops != NULL) {
    uint32_t h = v < r->base ? UINT32_MAX : d->hops[v - r->base];
    return (dist){h, h == UINT32_MAX ? 0 : d->lat[v - r->base]};
  }
  dist best = {UINT32_MAX, 0};
  for (uint32_t i = 0; i < d->n_refs; i++) {
    dist x = dist_at(r, d->refs[i].t, v);
    if (x.hops == UINT32_MAX) continue;
    x = (dist){x.hops + 1, x.lat + d->refs[i].lat};
    if (dist_less(x, best)) best = x;
  }
  return best;
}

static uint32_t hops_at(const struct gpp__routes *r, const dist_table *d,
                        uint32_t v) {
  return dist_at(r, d, v).hops;
}

/* Relaxes the links into u (at distance du): vertices one hop further
 * from the root. */
static void bfs_expand(const gpp_cluster *c, dist_table *d, uint32_t u,
                       dist du, uint32_t *tail) {
  const struct gpp__routes *r = c->routes;
  for (uint32_t k = r->in_off[u]; k < r->in_off[u + 1]; k++) {
    const gpp_link *l = &c->links[r->in_ids[k]];
    if (l->from < r->base || l->from == d->self) continue;
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

/* Fills d densely by a reverse breadth-first search from its vertex. */
static int bfs_table(gpp_cluster *c, dist_table *d, gpp_errctx *err) {
  struct gpp__routes *r = c->routes;
  size_t n = c->n_vertices - r->base;
  uint32_t root = d->self;
  d->hops = gpp_arena_array(c->arena, n + 1, sizeof *d->hops, err);
  d->lat = gpp_arena_array(c->arena, n + 1, sizeof *d->lat, err);
  if (d->hops == NULL || d->lat == NULL) return GPP_ENOMEM;
  memset(d->hops, 0xff, n * sizeof *d->hops);
  d->n_refs = 0;
  uint32_t head = 0, tail = 0, *q = r->queue;
  q[tail++] = root;
  while (head < tail) {
    uint32_t u = q[head++];
    if (may_transit(c, u, root)) bfs_expand(c, d, u, dist_at(r, d, u), &tail);
  }
  d->near_below = tail <= NEAR_MAX ? UINT32_MAX : d->hops[q[NEAR_MAX] - r->base];
  d->n_near = tail < NEAR_MAX ? tail : NEAR_MAX;
  memcpy(d->near, q, d->n_near * sizeof *q);
  return 0;
}

/* Adds v to d's near list (kept in order of hops) unless it is there. */
static void near_insert(const struct gpp__routes *r, dist_table *d,
                        uint32_t *list, uint32_t *n, uint32_t v) {
  for (uint32_t i = 0; i < *n; i++)
    if (list[i] == v) return;
  uint32_t h = hops_at(r, d, v), j = (*n)++;
  for (; j > 0 && hops_at(r, d, list[j - 1]) > h; j--) list[j] = list[j - 1];
  list[j] = v;
}

/* The near list of a table by references: its vertex, then its
 * in-neighbours' near vertices, up to the first level one of them may not
 * hold entirely (one hop further from this table's vertex). */
static void refs_near(const struct gpp__routes *r, dist_table *d) {
  uint32_t below = UINT32_MAX, list[1 + MAX_REFS * NEAR_MAX], n = 0;
  for (uint32_t i = 0; i < d->n_refs; i++) {
    uint32_t b = d->refs[i].t->near_below;
    if (b != UINT32_MAX && b + 1 < below) below = b + 1;
  }
  near_insert(r, d, list, &n, d->self);
  for (uint32_t i = 0; i < d->n_refs; i++)
    for (uint32_t k = 0; k < d->refs[i].t->n_near; k++) {
      uint32_t v = d->refs[i].t->near[k];
      if (hops_at(r, d, v) < below) near_insert(r, d, list, &n, v);
    }
  if (n > NEAR_MAX) below = hops_at(r, d, list[NEAR_MAX]);
  d->near_below = below;
  d->n_near = n < NEAR_MAX ? n : NEAR_MAX;
  memcpy(d->near, list, d->n_near * sizeof *list);
}

static int table_get(gpp_cluster *c, uint32_t v, const dist_table **out,
                     gpp_errctx *err);

/* Builds d from references to its in-neighbours' tables; *ok false (and
 * d untouched but for refs) when there are too many or one is still being
 * built (a cycle of such vertices), so that a search must fill it. */
static int refs_table(gpp_cluster *c, dist_table *d, bool *ok,
                      gpp_errctx *err) {
  struct gpp__routes *r = c->routes;
  uint32_t v = d->self;
  *ok = false;
  d->n_refs = 0;
  for (uint32_t k = r->in_off[v]; k < r->in_off[v + 1]; k++) {
    const gpp_link *l = &c->links[r->in_ids[k]];
    if (l->from < r->base || l->from == v) continue;
    if (d->n_refs == MAX_REFS || r->tables[l->from].state == TABLE_BUSY)
      return 0;
    const dist_table *t;
    GPP_TRY(table_get(c, l->from, &t, err));
    d->refs[d->n_refs++] = (dist_ref){t, l->latency};
  }
  refs_near(r, d);
  *ok = true;
  return 0;
}

/* The table of distances to vertex v, built on first use: by references
 * where GPUs do not transit and v has few in-neighbours, else by a search. */
static int table_get(gpp_cluster *c, uint32_t v, const dist_table **out,
                     gpp_errctx *err) {
  dist_table *d = &c->routes->tables[v];
  *out = d;
  if (d->state == TABLE_DONE) return 0;
  d->self = v;
  d->state = TABLE_BUSY;
  bool ok = false;
  int rc = c->routes->base > 0 ? refs_table(c, d, &ok, err) : 0;
  if (rc == 0 && !ok) rc = bfs_table(c, d, err);
  d->state = rc == 0 ? TABLE_DONE : TABLE_NONE;
  return rc;
}

/* Whether the link from a vertex at distance du steps to a vertex one hop
 * nearer dst on a path as fast, to within rounding. */
static bool on_shortest(const gpp_cluster *c, const dist_table *d, dist du,
                        const gpp_link *l, uint32_t dst) {
  if (!may_transit(c, l->to, dst) ||
      hops_at(c->routes, d, l->to) + 1 != du.hops)
    return false;
  dist dv = dist_at(c->routes, d, l->to);
  double tol = LAT_REL_TOL * fmax(du.lat, 1e-300);
  return fabs(dv.lat + l->latency - du.lat) <= tol;
}

/* A source's distance: the table's, or for a GPU outside it, one hop more
 * than its nearest out-neighbour (the smallest latency among equals). */
static dist src_dist(const gpp_cluster *c, const dist_table *d, uint32_t src,
                     uint32_t dst) {
  const struct gpp__routes *r = c->routes;
  dist best = dist_at(r, d, src);
  if (src >= r->base || src == dst) return best;
  for (uint32_t k = r->out_off[src]; k < r->out_off[src + 1]; k++) {
    const gpp_link *l = &c->links[r->out_ids[k]];
    if (!may_transit(c, l->to, dst)) continue;
    dist dv = dist_at(r, d, l->to);
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
  uint32_t level = du.hops - 1;
  if (level >= d->near_below) return false;
  *n = 0;
  for (uint32_t i = 0; i < d->n_near; i++) {
    uint32_t w = d->near[i];
    if (hops_at(r, d, w) != level) continue;
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
  bool far = r->hub_off != NULL && du.hops > 2;
  const uint32_t *off = far ? r->hub_off : r->out_off;
  const uint32_t *ids = far ? r->hub_ids : r->out_ids;
  bool wide = off[u + 1] - off[u] > WIDE_DEGREE;
  if (!wide || !near_candidates(c, d, u, du, dst, cand, &n))
    for (uint32_t k = off[u]; k < off[u + 1] && n < 64; k++)
      if (on_shortest(c, d, du, &c->links[ids[k]], dst)) cand[n++] = ids[k];
  return n ? cand[h % n] : UINT32_MAX;
}

static int route_build(gpp_cluster *c, uint32_t src, uint32_t dst,
                       gpp__route **out, gpp_errctx *err) {
  const dist_table *d;
  GPP_TRY(table_get(c, dst, &d, err));
  dist du = src_dist(c, d, src, dst);
  if (du.hops == UINT32_MAX)
    GPP_RAISE(err, GPP_EGRAPH, "no route from gpu%u to gpu%u", src, dst);
  gpp__route *rt = gpp_arena_alloc(c->arena, sizeof *rt, err);
  uint32_t *links = gpp_arena_array(c->arena, du.hops, sizeof *links, err);
  if (rt == NULL || links == NULL) return GPP_ENOMEM;
  uint64_t h = mix64(((uint64_t)src << 32) | dst);
  rt->bottleneck = INFINITY;
  for (int k = 0; k < GPP_LINK__NCLASSES; k++) rt->class_bw[k] = INFINITY;
  for (uint32_t u = src; u != dst;) {
    uint32_t l = next_link(c, d, u, du, dst, h);
    if (l == UINT32_MAX)
      GPP_RAISE(err, GPP_EINTERNAL, "route gpu%u->gpu%u lost at %s", src,
                dst, c->vertex_names[u]);
    links[rt->n++] = l;
    rt->latency += c->links[l].latency;
    rt->bottleneck = fmin(rt->bottleneck, c->links[l].bandwidth);
    gpp_link_class k = c->links[l].cls;
    rt->class_bw[k] = fmin(rt->class_bw[k], c->links[l].bandwidth);
    rt->class_links[k]++;
    u = c->links[l].to;
    du = dist_at(c->routes, d, u);
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
    const dist_table *d;
    GPP_TRY(table_get(c, dst, &d, err));
    for (uint32_t g = 0; g < c->n_gpus; g++)
      if (src_dist(c, d, g, dst).hops == UINT32_MAX)
        GPP_RAISE_AT(err, GPP_EGRAPH, at, "disconnected graph: no path from "
                     "%s to %s", c->vertex_names[g], c->vertex_names[dst]);
  }
  return 0;
}
