/* sweep_expand.c -- a grid or listed-point mapping (key: value or list)
 * into points: the cartesian product of its lists, the last key varying
 * fastest.  Every value is checked once, where it is written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/planner.h"
#include "sim/common/limits.h"
#include "sim/sweep/sweep_internal.h"

#define MAX_DIMS 32
#define MAX_POINTS 1000000u

static const char *const fixed_keys[] = {"gpus", "batch", "planner",
                                         "micro_batch", "max_stage_devices"};
#define N_FIXED (sizeof fixed_keys / sizeof *fixed_keys)
enum { K_GPUS, K_BATCH, K_PLANNER, K_MICRO, K_MAXDEV, K_MODEL, K_CLUSTER };

typedef struct dim {
  const char *key;
  int kind;
  gpp_ynode node; /* a scalar, or a sequence of scalars */
  size_t n;
} dim;

static bool has_prefix(const char *s, const char *p) {
  return strncmp(s, p, strlen(p)) == 0 && s[strlen(p)] != '\0';
}

static int key_kind(gpp_ynode k, const char *key, int *kind,
                    gpp_errctx *err) {
  for (int i = 0; i < (int)N_FIXED; i++)
    if (strcmp(key, fixed_keys[i]) == 0) return *kind = i, 0;
  if (has_prefix(key, "model.")) return *kind = K_MODEL, 0;
  if (has_prefix(key, "cluster.")) return *kind = K_CLUSTER, 0;
  const char *cands[] = {"gpus", "batch", "planner", "micro_batch",
                         "max_stage_devices", "model.", "cluster."};
  const char *hint = gpp_suggest(key, cands, 7);
  gpp_mark at = gpp_ynode_mark(k);
  GPP_RAISE_AT(err, GPP_EINVAL, &at, "unknown key '%s'%s%s%s (expected gpus, "
               "batch, planner, micro_batch, max_stage_devices, "
               "model.<param> or "
               "cluster.<field>)", key, hint ? "; did you mean '" : "",
               hint ? hint : "", hint ? "'?" : "");
}

static int planner_index(gpp_ynode v, int *out, gpp_errctx *err) {
  return gpp_yscalar_enum(v, "planner", gpp_planner_names(), out, err);
}

static int check_value(const dim *d, gpp_ynode v, gpp_errctx *err) {
  long long x;
  int idx;
  const char *str;
  switch (d->kind) {
  case K_GPUS: return gpp_yscalar_int(v, d->key, 1, GPP_MAX_GPUS, &x, err);
  case K_BATCH: return gpp_yscalar_int(v, d->key, 1, 1 << 20, &x, err);
  case K_MICRO: return gpp_yscalar_int(v, d->key, 0, 1 << 20, &x, err);
  case K_MAXDEV: return gpp_yscalar_int(v, d->key, 0, 65536, &x, err);
  case K_PLANNER: return planner_index(v, &idx, err);
  case K_MODEL:
    return gpp_yscalar_int(v, d->key, -(1LL << 62), 1LL << 62, &x, err);
  default: return gpp_yscalar_str(v, d->key, &str, err);
  }
}

static gpp_ynode dim_value(const dim *d, size_t j) {
  return gpp_ynode_type(d->node) == GPP_Y_SEQ ? gpp_yseq_at(d->node, j)
                                              : d->node;
}

static int read_dim(gpp_ynode map, size_t i, dim *d, gpp_errctx *err) {
  gpp_ynode k = gpp_ymap_key(map, i);
  GPP_TRY(gpp_yscalar_str(k, "key", &d->key, err));
  GPP_TRY(key_kind(k, d->key, &d->kind, err));
  d->node = gpp_ymap_value(map, i);
  d->n = gpp_ynode_type(d->node) == GPP_Y_SEQ ? gpp_ynode_len(d->node) : 1;
  gpp_mark at = gpp_ynode_mark(d->node);
  if (d->n == 0) GPP_RAISE_AT(err, GPP_EINVAL, &at, "%s: empty list", d->key);
  for (size_t j = 0; j < d->n; j++)
    GPP_TRY(check_value(d, dim_value(d, j), err));
  return 0;
}

static int read_dims(gpp_ynode map, dim *dims, size_t *n, gpp_errctx *err) {
  *n = gpp_ynode_ok(map) ? gpp_ynode_len(map) : 0;
  if (!gpp_ynode_ok(map)) return 0;
  GPP_TRY(gpp_yexpect(map, GPP_Y_MAP, "grid or point", err));
  gpp_mark at = gpp_ynode_mark(map);
  if (*n > MAX_DIMS)
    GPP_RAISE_AT(err, GPP_ERANGE, &at, "at most %d keys", MAX_DIMS);
  for (size_t i = 0; i < *n; i++) {
    GPP_TRY(read_dim(map, i, &dims[i], err));
    for (size_t j = 0; j < i; j++)
      if (strcmp(dims[j].key, dims[i].key) == 0) {
        at = gpp_ynode_mark(gpp_ymap_key(map, i));
        GPP_RAISE_AT(err, GPP_EINVAL, &at, "key '%s' appears twice",
                     dims[i].key);
      }
  }
  return 0;
}

static int grow(gpp_sweep *s, uint32_t n_assign, gpp_errctx *err) {
  if (s->n_points == s->cap_points) {
    uint32_t cap = s->cap_points ? 2 * s->cap_points : 64;
    void *p = gpp_realloc_array(err, s->points, cap, sizeof *s->points);
    if (p == NULL) return GPP_ENOMEM;
    s->points = p;
    s->cap_points = cap;
  }
  while (s->n_assigns + n_assign > s->cap_assigns) {
    uint32_t cap = s->cap_assigns ? 2 * s->cap_assigns : 256;
    void *p = gpp_realloc_array(err, s->assigns, cap, sizeof *s->assigns);
    if (p == NULL) return GPP_ENOMEM;
    s->assigns = p;
    s->cap_assigns = cap;
  }
  return 0;
}

static uint32_t int_of(gpp_ynode v) {
  long long x = 0;
  gpp_errctx e = {0};
  gpp_yscalar_int(v, "", 0, 1 << 30, &x, &e); /* checked by check_value */
  return (uint32_t)x;
}

/* Sets a fixed field of p from v; best mode gathers planners instead. */
static void set_field(gpp_sweep *s, gpp__sw_point *p, const dim *d,
                      gpp_ynode v) {
  int idx = 0;
  gpp_errctx e = {0};
  switch (d->kind) {
  case K_GPUS: p->gpus = int_of(v); break;
  case K_BATCH: p->batch = int_of(v); break;
  case K_MICRO: p->micro_batch = int_of(v); break;
  case K_MAXDEV: p->max_stage_devices = int_of(v); break;
  case K_PLANNER:
    planner_index(v, &idx, &e);
    p->planners = (s->compare == GPP__SW_BEST ? p->planners : 0) | 1u << idx;
    break;
  default: break;
  }
}

static bool in_product(const gpp_sweep *s, const dim *d) {
  return !(s->compare == GPP__SW_BEST && d->kind == K_PLANNER);
}

/* Point number `index` of the product (last key fastest). */
static int add_point(gpp_sweep *s, const dim *dims, size_t n, size_t index,
                     gpp__sw_point p, gpp_errctx *err) {
  size_t pick[MAX_DIMS];
  GPP_TRY(grow(s, (uint32_t)n, err));
  for (size_t i = n; i-- > 0;) {
    pick[i] = in_product(s, &dims[i]) ? index % dims[i].n : 0;
    if (in_product(s, &dims[i])) index /= dims[i].n;
  }
  p.first = s->n_assigns;
  for (size_t i = 0; i < n; i++) {
    if (!in_product(s, &dims[i])) continue;
    gpp_ynode v = dim_value(&dims[i], pick[i]);
    set_field(s, &p, &dims[i], v);
    s->assigns[s->n_assigns++] = (gpp__sw_assign){dims[i].key, v};
  }
  p.n = s->n_assigns - p.first;
  s->points[s->n_points++] = p;
  return 0;
}

/* The fields every point of this block shares: defaults, and in best mode
 * the set of planners to try. */
static gpp__sw_point block_base(gpp_sweep *s, const dim *dims, size_t n,
                                uint32_t model, uint32_t cluster) {
  gpp__sw_point p = {.model = model, .cluster = cluster, .planners = 1};
  for (size_t i = 0; i < n; i++) {
    if (in_product(s, &dims[i])) continue;
    p.planners = 0;
    for (size_t j = 0; j < dims[i].n; j++)
      set_field(s, &p, &dims[i], dim_value(&dims[i], j));
  }
  return p;
}

static bool has_kind(const dim *dims, size_t n, int kind) {
  for (size_t i = 0; i < n; i++)
    if (dims[i].kind == kind) return true;
  return false;
}

int gpp__sweep_expand(gpp_sweep *s, gpp_ynode block, uint32_t model,
                      uint32_t cluster, gpp_errctx *err) {
  dim dims[MAX_DIMS];
  size_t n, total = 1;
  GPP_TRY(read_dims(block, dims, &n, err));
  gpp_mark at = gpp_ynode_mark(gpp_ynode_ok(block) ? block
                                                    : gpp_ydoc_root(s->doc));
  if (!has_kind(dims, n, K_BATCH))
    GPP_RAISE_AT(err, GPP_EINVAL, &at, "no batch: give `batch` in the grid "
                 "or in every listed point");
  for (size_t i = 0; i < n; i++)
    if (in_product(s, &dims[i])) total *= dims[i].n;
  if (total > MAX_POINTS || s->n_points + total > MAX_POINTS)
    GPP_RAISE_AT(err, GPP_ERANGE, &at, "more than %u points", MAX_POINTS);
  gpp__sw_point base = block_base(s, dims, n, model, cluster);
  for (size_t k = 0; k < total; k++)
    GPP_TRY(add_point(s, dims, n, k, base, err));
  return 0;
}

void gpp__sweep_params(const gpp_sweep *s, uint32_t point, char *buf,
                       size_t len) {
  const gpp__sw_point *p = &s->points[point];
  size_t used = 0;
  buf[0] = '\0';
  for (uint32_t i = 0; i < p->n && used < len; i++) {
    const gpp__sw_assign *a = &s->assigns[p->first + i];
    int k = snprintf(buf + used, len - used, "%s%s=%s", i ? "," : "", a->key,
                     gpp_ynode_scalar(a->value));
    used += k > 0 ? (size_t)k : 0;
  }
}
