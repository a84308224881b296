/* coll_run.c -- starting and stepping collectives: names, the `auto` rule,
 * rank checks, and the pool of collective records.
 *
 * `auto` picks: p2p -> direct; all-reduce -> hierarchical when the ranks
 * span several nodes with the same number (> 1) of ranks on each, ring
 * otherwise; all-gather and reduce-scatter -> ring.
 */
#include <stdio.h>
#include <string.h>

#include "topology/net_internal.h"

static const char *const op_names[] = {"allreduce", "allgather",
                                       "reduce-scatter", "p2p", NULL};
static const char *const algo_names[] = {"auto", "ring", "tree",
                                         "hierarchical", NULL};

const char *const *gpp_coll_op_names(void) { return op_names; }
const char *const *gpp_coll_algo_names(void) { return algo_names; }

const char *gpp_coll_op_name(gpp_coll_op op) {
  return (unsigned)op < 4 ? op_names[op] : "unknown";
}

const char *gpp_coll_algo_name(gpp_coll_algo algo) {
  return (unsigned)algo < 4 ? algo_names[algo] : "unknown";
}

static int name_lookup(const char *what, const char *name,
                       const char *const *names, int *out, gpp_errctx *err) {
  size_t n = 0;
  for (; names[n] != NULL; n++)
    if (strcmp(names[n], name) == 0) {
      *out = (int)n;
      return 0;
    }
  char list[256] = "";
  for (size_t i = 0; i < n; i++)
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
             i ? ", " : "", names[i]);
  GPP_RAISE(err, GPP_EINVAL, "unknown %s '%s'; valid: %s", what, name, list);
}

int gpp_coll_op_from_name(const char *name, gpp_coll_op *out,
                          gpp_errctx *err) {
  int v;
  GPP_TRY(name_lookup("collective", name, op_names, &v, err));
  *out = (gpp_coll_op)v;
  return 0;
}

int gpp_coll_algo_from_name(const char *name, gpp_coll_algo *out,
                            gpp_errctx *err) {
  int v;
  GPP_TRY(name_lookup("collective algorithm", name, algo_names, &v, err));
  *out = (gpp_coll_algo)v;
  return 0;
}

gpp_coll_algo gpp_net_coll_resolve(gpp_net *net, gpp_coll_op op,
                                   gpp_coll_algo algo, const uint32_t *ranks,
                                   size_t n) {
  if (algo != GPP_COLL_AUTO || op == GPP_COLL_P2P) return algo;
  uint32_t nodes, per_node;
  bool uniform = gpp__coll_groups(net, ranks, (uint32_t)n, &nodes, &per_node);
  return uniform && nodes > 1 && per_node > 1 ? GPP_COLL_HIERARCHICAL
                                              : GPP_COLL_RING;
}

static int check_ranks(gpp_net *net, gpp_coll_op op, const uint32_t *ranks,
                       size_t n, gpp_errctx *err) {
  uint32_t n_gpus = net->cluster->n_gpus;
  if (n == 0 || n > n_gpus)
    GPP_RAISE(err, GPP_EINVAL, "a collective over %zu ranks; expected 1 to "
              "%u", n, n_gpus);
  if (op == GPP_COLL_P2P && n != 2)
    GPP_RAISE(err, GPP_EINVAL, "p2p takes 2 ranks (source, destination), "
              "got %zu", n);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (ranks[i] >= n_gpus)
      rc = GPP_ERR(err, GPP_ERANGE, "rank %u is out of range; the cluster "
                   "has %u GPUs", ranks[i], n_gpus);
    else if (net->rank_seen[ranks[i]]++)
      rc = GPP_ERR(err, GPP_EINVAL, "rank %u appears twice", ranks[i]);
  }
  for (size_t i = 0; i < n; i++)
    if (ranks[i] < n_gpus) net->rank_seen[ranks[i]] = 0;
  return rc;
}

static int unsupported(gpp_coll_op op, gpp_coll_algo algo, gpp_errctx *err) {
  char list[128] = "auto";
  for (int a = GPP_COLL_RING; a <= GPP_COLL_HIERARCHICAL; a++)
    if (gpp__coll_type_of((gpp_coll_algo)a, op) != NULL)
      snprintf(list + strlen(list), sizeof list - strlen(list), ", %s",
               algo_names[a]);
  GPP_RAISE(err, GPP_EINVAL, "algorithm '%s' does not apply to %s; valid: "
            "%s", gpp_coll_algo_name(algo), gpp_coll_op_name(op), list);
}

static int coll_alloc(gpp_net *net, size_t n, uint32_t *id,
                      gpp_errctx *err) {
  if (net->free_coll != GPP__NONE) {
    *id = net->free_coll;
    net->free_coll = net->colls[*id].next_free;
  } else {
    GPP_TRY(gpp__grow((void **)&net->colls, &net->cap_colls,
                      net->n_colls + 1, sizeof *net->colls, err));
    *id = net->n_colls++;
    memset(&net->colls[*id], 0, sizeof net->colls[*id]);
  }
  gpp__coll *c = &net->colls[*id];
  c->used = true;
  return gpp__grow((void **)&c->ranks, &c->cap, (uint32_t)(2 * n),
                   sizeof *c->ranks, err);
}

void gpp__coll_free(gpp_net *net, uint32_t id) {
  net->colls[id].used = false;
  net->colls[id].next_free = net->free_coll;
  net->free_coll = id;
}

int gpp__coll_advance(gpp_net *net, uint32_t id, double now, bool *finished,
                      gpp_errctx *err) {
  *finished = false;
  while (net->colls[id].outstanding == 0) {
    gpp__coll *c = &net->colls[id];
    if (c->step >= c->n_steps) {
      *finished = true;
      return 0;
    }
    GPP_TRY(c->type->step(net, id, c->step++, now, err));
  }
  return 0;
}

static int coll_setup(gpp_net *net, uint32_t id, const gpp__coll_type *type,
                      gpp_coll_op op, const uint32_t *ranks, size_t n,
                      double bytes, uint64_t tag, gpp_errctx *err) {
  gpp__coll *c = &net->colls[id];
  c->type = type;
  c->op = op;
  c->n = (uint32_t)n;
  memcpy(c->ranks, ranks, n * sizeof *ranks);
  c->bytes = bytes;
  c->tag = tag;
  c->step = c->outstanding = 0;
  c->nodes = c->per_node = 1;
  if (type->prepare != NULL) GPP_TRY(type->prepare(net, c, err));
  c->n_steps = type->n_steps(c);
  return 0;
}

int gpp_net_collective(gpp_net *net, double now, gpp_coll_op op,
                       gpp_coll_algo algo, const uint32_t *ranks, size_t n,
                       double bytes, uint64_t tag, gpp_errctx *err) {
  if ((unsigned)op > GPP_COLL_P2P || (unsigned)algo > GPP_COLL_HIERARCHICAL)
    GPP_RAISE(err, GPP_EINVAL, "unknown collective or algorithm");
  GPP_TRY(gpp__net_check_time(net, now, err));
  GPP_TRY(gpp__net_check_bytes(bytes, err));
  GPP_TRY(check_ranks(net, op, ranks, n, err));
  gpp_coll_algo a = gpp_net_coll_resolve(net, op, algo, ranks, n);
  const gpp__coll_type *type = gpp__coll_type_of(a, op);
  if (type == NULL) return unsupported(op, algo, err);
  uint32_t id;
  GPP_TRY(coll_alloc(net, n, &id, err));
  int rc = coll_setup(net, id, type, op, ranks, n, bytes, tag, err);
  bool finished = false;
  if (rc == 0 && net->colls[id].n_steps == 0)
    return gpp__net_start_flow(net, now, ranks[0], ranks[0], 0, id, 0, err);
  if (rc == 0) rc = gpp__coll_advance(net, id, now, &finished, err);
  if (rc != 0) gpp__coll_free(net, id);
  return rc;
}
