/* cmd_net.c -- `gppsim net SCENARIO.yaml [--json]`: runs flows and
 * collectives on a cluster through the flow network alone, and reports each
 * item's start, finish and achieved bandwidth plus per link class bytes and
 * peak utilisation.  It is the network's whole-program test bench.
 *
 * Scenario keys: cluster (a path or an inline mapping), flows
 * [{name, src, dst, bytes, start}], collectives [{name, op, algorithm,
 * ranks, bytes, start}] with ranks a list of GPU ids and "a-b" ranges.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli/cli.h"
#include "sim/common/units.h"
#include "sim/common/limits.h"
#include "sim/common/yaml.h"
#include "topology/network.h"
#include "topology/topology.h"

typedef struct item {
  const char *name;
  gpp_mark mark;
  bool coll;
  uint32_t src, dst;
  int op, algo;
  gpp_coll_algo resolved;
  uint32_t *ranks;
  size_t n;
  double bytes, start, finish;
} item;

typedef struct scenario {
  gpp_ydoc *doc;
  gpp_cluster *cluster;
  item *items;
  size_t n_items;
  size_t *order; /* items by (start, index) */
} scenario;

typedef struct flow_fields {
  const char *name;
  long long src, dst;
  double bytes, start;
} flow_fields;

static const gpp_yfield flow_table[] = {
    {"name", GPP_YF_STR, offsetof(flow_fields, name), true, 0, 0, 0, NULL},
    {"src", GPP_YF_INT, offsetof(flow_fields, src), true, 0, 0,
     GPP_MAX_GPUS - 1, NULL},
    {"dst", GPP_YF_INT, offsetof(flow_fields, dst), true, 0, 0,
     GPP_MAX_GPUS - 1, NULL},
    {"bytes", GPP_YF_QTY, offsetof(flow_fields, bytes), true, GPP_Q_BYTES, 0,
     INFINITY, NULL},
    {"start", GPP_YF_QTY, offsetof(flow_fields, start), false, GPP_Q_TIME, 0,
     1e9, NULL},
};

typedef struct coll_fields {
  const char *name;
  int op, algo;
  gpp_ynode ranks;
  double bytes, start;
} coll_fields;

static gpp_yfield coll_table[] = {
    {"name", GPP_YF_STR, offsetof(coll_fields, name), true, 0, 0, 0, NULL},
    {"op", GPP_YF_ENUM, offsetof(coll_fields, op), true, 0, 0, 0, NULL},
    {"algorithm", GPP_YF_ENUM, offsetof(coll_fields, algo), false, 0, 0, 0,
     NULL},
    {"ranks", GPP_YF_NODE, offsetof(coll_fields, ranks), true, 0, 0, 0, NULL},
    {"bytes", GPP_YF_QTY, offsetof(coll_fields, bytes), true, GPP_Q_BYTES, 0,
     INFINITY, NULL},
    {"start", GPP_YF_QTY, offsetof(coll_fields, start), false, GPP_Q_TIME, 0,
     1e9, NULL},
};

#define N_OF(t) (sizeof t / sizeof t[0])

static void scenario_free(scenario *s) {
  for (size_t i = 0; i < s->n_items; i++) free(s->items[i].ranks);
  free(s->items);
  free(s->order);
  gpp_cluster_destroy(s->cluster);
  gpp_ydoc_destroy(s->doc);
}

static int gpu_in_range(const scenario *s, gpp_ynode n, long long v,
                        gpp_errctx *err) {
  if (v < (long long)s->cluster->n_gpus) return 0;
  gpp_mark at = gpp_ynode_mark(n);
  GPP_RAISE_AT(err, GPP_ERANGE, &at, "GPU %lld is out of range; cluster "
               "'%s' has GPUs 0..%u", v, s->cluster->name,
               s->cluster->n_gpus - 1);
}

static int read_flow(scenario *s, gpp_ynode n, item *it, gpp_errctx *err) {
  flow_fields f = {0};
  GPP_TRY(gpp_yexpect(n, GPP_Y_MAP, "flow", err));
  GPP_TRY(gpp_yread_fields(n, flow_table, N_OF(flow_table), &f, err));
  GPP_TRY(gpu_in_range(s, gpp_ymap_find(n, "src"), f.src, err));
  GPP_TRY(gpu_in_range(s, gpp_ymap_find(n, "dst"), f.dst, err));
  it->mark = gpp_ynode_mark(n);
  if (f.src == f.dst)
    GPP_RAISE_AT(err, GPP_EINVAL, &it->mark, "flow '%s' from GPU %lld to "
                 "itself", f.name, f.src);
  *it = (item){f.name, it->mark, false, (uint32_t)f.src, (uint32_t)f.dst, 0,
               0, GPP_COLL_AUTO, NULL, 0, f.bytes, f.start, NAN};
  return 0;
}

static int push_rank(item *it, size_t *cap, uint32_t r, gpp_errctx *err) {
  if (it->n == *cap) {
    *cap = *cap ? 2 * *cap : 16;
    uint32_t *p = gpp_realloc_array(err, it->ranks, *cap, sizeof *p);
    if (p == NULL) return GPP_ENOMEM;
    it->ranks = p;
  }
  it->ranks[it->n++] = r;
  return 0;
}

/* One scalar of a ranks list: "5" or "0-7". */
static int read_rank_text(const scenario *s, gpp_ynode n, item *it,
                          size_t *cap, gpp_errctx *err) {
  const char *text;
  GPP_TRY(gpp_yscalar_str(n, "ranks", &text, err));
  unsigned lo, hi;
  int used = 0;
  gpp_mark at = gpp_ynode_mark(n);
  if (sscanf(text, "%u-%u%n", &lo, &hi, &used) == 2 && text[used] == '\0') {
    if (lo > hi)
      GPP_RAISE_AT(err, GPP_EINVAL, &at, "ranks: range '%s' is empty", text);
  } else if (sscanf(text, "%u%n", &lo, &used) == 1 && text[used] == '\0') {
    hi = lo;
  } else {
    GPP_RAISE_AT(err, GPP_EPARSE, &at, "ranks: expected a GPU id or a range "
                 "like 0-7, found '%s'", text);
  }
  GPP_TRY(gpu_in_range(s, n, hi, err));
  for (unsigned r = lo; r <= hi; r++) GPP_TRY(push_rank(it, cap, r, err));
  return 0;
}

static int read_ranks(const scenario *s, gpp_ynode n, item *it,
                      gpp_errctx *err) {
  size_t cap = 0;
  if (gpp_ynode_type(n) != GPP_Y_SEQ)
    return read_rank_text(s, n, it, &cap, err);
  for (size_t i = 0; i < gpp_ynode_len(n); i++)
    GPP_TRY(read_rank_text(s, gpp_yseq_at(n, i), it, &cap, err));
  if (it->n == 0) {
    gpp_mark at = gpp_ynode_mark(n);
    GPP_RAISE_AT(err, GPP_EINVAL, &at, "ranks: the list is empty");
  }
  return 0;
}

static int read_coll(scenario *s, gpp_ynode n, item *it, gpp_errctx *err) {
  coll_fields f = {.algo = GPP_COLL_AUTO};
  coll_table[1].names = gpp_coll_op_names();
  coll_table[2].names = gpp_coll_algo_names();
  GPP_TRY(gpp_yexpect(n, GPP_Y_MAP, "collective", err));
  GPP_TRY(gpp_yread_fields(n, coll_table, N_OF(coll_table), &f, err));
  *it = (item){f.name, gpp_ynode_mark(n), true, 0, 0, f.op, f.algo,
               GPP_COLL_AUTO, NULL, 0, f.bytes, f.start, NAN};
  return read_ranks(s, f.ranks, it, err);
}

static int read_list(scenario *s, gpp_ynode root, const char *key,
                     bool coll, gpp_errctx *err) {
  gpp_ynode list = gpp_ymap_find(root, key);
  if (!gpp_ynode_ok(list)) return 0;
  GPP_TRY(gpp_yexpect(list, GPP_Y_SEQ, key, err));
  size_t n = gpp_ynode_len(list);
  item *p = gpp_realloc_array(err, s->items, s->n_items + n + 1, sizeof *p);
  if (p == NULL) return GPP_ENOMEM;
  s->items = p;
  for (size_t i = 0; i < n; i++) {
    item *it = &s->items[s->n_items];
    memset(it, 0, sizeof *it);
    s->n_items++;
    gpp_ynode v = gpp_yseq_at(list, i);
    GPP_TRY(coll ? read_coll(s, v, it, err) : read_flow(s, v, it, err));
  }
  return 0;
}

static int by_start(const void *a, const void *b, void *items) {
  const item *it = items;
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  if (it[x].start != it[y].start) return it[x].start < it[y].start ? -1 : 1;
  return x < y ? -1 : x > y;
}

/* Insertion sort by (start, index): scenarios are small and order must be
 * stable and portable (qsort_r is not). */
static void sort_items(scenario *s) {
  for (size_t i = 0; i < s->n_items; i++) s->order[i] = i;
  for (size_t i = 1; i < s->n_items; i++)
    for (size_t j = i; j > 0 && by_start(&s->order[j], &s->order[j - 1],
                                         s->items) < 0; j--) {
      size_t t = s->order[j];
      s->order[j] = s->order[j - 1];
      s->order[j - 1] = t;
    }
}

static int scenario_load(const char *path, scenario *s, gpp_errctx *err) {
  static const char *const keys[] = {"cluster", "flows", "collectives",
                                     "description"};
  GPP_TRY(gpp_ydoc_load_file(path, &s->doc, err));
  gpp_ynode root = gpp_ydoc_root(s->doc), cl;
  GPP_TRY(gpp_yexpect(root, GPP_Y_MAP, "scenario", err));
  GPP_TRY(gpp_ymap_check_keys(root, keys, N_OF(keys), err));
  GPP_TRY(gpp_ymap_require(root, "cluster", &cl, err));
  GPP_TRY(gpp_cluster_from_ref(cl, &s->cluster, err));
  GPP_TRY(read_list(s, root, "flows", false, err));
  GPP_TRY(read_list(s, root, "collectives", true, err));
  s->order = gpp_calloc(err, s->n_items + 1, sizeof *s->order);
  if (s->order == NULL) return GPP_ENOMEM;
  sort_items(s);
  return 0;
}

static void on_done(void *ctx, uint64_t tag, double t) {
  scenario *s = ctx;
  s->items[tag].finish = t;
}

static int start_item(gpp_net *net, scenario *s, size_t i, gpp_errctx *err) {
  item *it = &s->items[i];
  int rc;
  if (!it->coll) {
    rc = gpp_net_flow(net, it->start, it->src, it->dst, it->bytes, i, err);
  } else {
    it->resolved = gpp_net_coll_resolve(net, (gpp_coll_op)it->op,
                                        (gpp_coll_algo)it->algo, it->ranks,
                                        it->n);
    rc = gpp_net_collective(net, it->start, (gpp_coll_op)it->op,
                            (gpp_coll_algo)it->algo, it->ranks, it->n,
                            it->bytes, i, err);
  }
  if (rc != 0)
    gpp_error_prefix(err, "%s:%d:%d: %s '%s'", it->mark.file, it->mark.line,
                     it->mark.column, it->coll ? "collective" : "flow",
                     it->name);
  return rc;
}

static int run(scenario *s, gpp_net *net, gpp_errctx *err) {
  size_t next = 0;
  for (;;) {
    double t_item = next < s->n_items ? s->items[s->order[next]].start
                                      : INFINITY;
    double t_net = gpp_net_next_time(net);
    if (isinf(t_item) && isinf(t_net)) return 0;
    if (t_item <= t_net) {
      GPP_TRY(gpp_net_advance(net, t_item, on_done, s, err));
      GPP_TRY(start_item(net, s, s->order[next++], err));
    } else {
      GPP_TRY(gpp_net_advance(net, t_net, on_done, s, err));
    }
  }
}

static const char *item_kind(const item *it, char *buf, size_t len) {
  if (!it->coll)
    snprintf(buf, len, "flow %u->%u", it->src, it->dst);
  else
    snprintf(buf, len, "%s/%s x%zu", gpp_coll_op_name((gpp_coll_op)it->op),
             gpp_coll_algo_name(it->resolved), it->n);
  return buf;
}

static void print_item(const item *it) {
  char k[64], a[32], b[32], c[32], d[32], e[32];
  double dur = it->finish - it->start;
  printf("%-16s %-26s %10s %10s %10s %10s %12s\n", it->name,
         item_kind(it, k, sizeof k), gpp_units_format(it->start, GPP_Q_TIME,
                                                       a, sizeof a),
         gpp_units_format(it->finish, GPP_Q_TIME, b, sizeof b),
         gpp_units_format(dur, GPP_Q_TIME, c, sizeof c),
         gpp_units_format(it->bytes, GPP_Q_BYTES, d, sizeof d),
         dur > 0 ? gpp_units_format(it->bytes / dur, GPP_Q_BANDWIDTH, e,
                                    sizeof e) : "-");
}

static void print_text(const scenario *s, const gpp_net *net) {
  const gpp_cluster *c = s->cluster;
  printf("cluster %s: %u GPUs (%u nodes x %u), %s\n\n", c->name, c->n_gpus,
         c->n_nodes, c->gpus_per_node, c->gpu.name);
  printf("%-16s %-26s %10s %10s %10s %10s %12s\n", "item", "kind", "start",
         "finish", "time", "bytes", "achieved");
  for (size_t i = 0; i < s->n_items; i++) print_item(&s->items[i]);
  gpp_net_class_stats st[GPP_LINK__NCLASSES];
  gpp_net_class_stats_get(net, st);
  printf("\n%-12s %16s %18s\n", "link class", "bytes carried",
         "peak utilisation");
  for (int k = 0; k < GPP_LINK__NCLASSES; k++) {
    char b[32];
    if (st[k].bytes == 0 && st[k].peak_utilisation == 0) continue;
    printf("%-12s %16s %17.1f%%\n", gpp_link_class_name((gpp_link_class)k),
           gpp_units_format(st[k].bytes, GPP_Q_BYTES, b, sizeof b),
           100 * st[k].peak_utilisation);
  }
  uint64_t r, f;
  gpp_net_counters(net, &r, &f);
  printf("\nre-sharings: %llu, flows touched: %llu\n", (unsigned long long)r,
         (unsigned long long)f);
}

static json_t *item_json(const item *it) {
  double dur = it->finish - it->start;
  json_t *o = json_pack("{s:s, s:s, s:f, s:f, s:f, s:f, s:f}", "name",
                        it->name, "kind", it->coll ? "collective" : "flow",
                        "start", it->start, "finish", it->finish, "time",
                        dur, "bytes", it->bytes, "bandwidth",
                        dur > 0 ? it->bytes / dur : 0.0);
  if (!it->coll) {
    json_object_set_new(o, "src", json_integer(it->src));
    json_object_set_new(o, "dst", json_integer(it->dst));
    return o;
  }
  json_t *ranks = json_array();
  for (size_t i = 0; i < it->n; i++)
    json_array_append_new(ranks, json_integer(it->ranks[i]));
  json_object_set_new(o, "op", json_string(gpp_coll_op_name(it->op)));
  json_object_set_new(o, "algorithm",
                      json_string(gpp_coll_algo_name(it->resolved)));
  json_object_set_new(o, "ranks", ranks);
  return o;
}

static json_t *classes_json(const gpp_net *net) {
  gpp_net_class_stats st[GPP_LINK__NCLASSES];
  gpp_net_class_stats_get(net, st);
  json_t *o = json_object();
  for (int k = 0; k < GPP_LINK__NCLASSES; k++)
    json_object_set_new(o, gpp_link_class_name((gpp_link_class)k),
                        json_pack("{s:f, s:f}", "bytes", st[k].bytes,
                                  "peak_utilisation",
                                  st[k].peak_utilisation));
  return o;
}

static int print_json(const scenario *s, const gpp_net *net) {
  const gpp_cluster *c = s->cluster;
  json_t *items = json_array();
  for (size_t i = 0; i < s->n_items; i++)
    json_array_append_new(items, item_json(&s->items[i]));
  uint64_t r, f;
  gpp_net_counters(net, &r, &f);
  json_t *root = json_pack(
      "{s:{s:s, s:s, s:i, s:i, s:i}, s:o, s:o, s:{s:I, s:I}}", "cluster",
      "name", c->name, "gpu", c->gpu.name, "gpus", (json_int_t)c->n_gpus,
      "nodes", (json_int_t)c->n_nodes, "gpus_per_node",
      (json_int_t)c->gpus_per_node, "items", items, "link_classes",
      classes_json(net), "counters", "reshares", (json_int_t)r,
      "flows_touched", (json_int_t)f);
  if (root == NULL) return 1;
  int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
  printf("\n");
  json_decref(root);
  return rc == 0 ? 0 : 1;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: gppsim net SCENARIO.yaml [--json]\n\n"
          "Runs a scenario's flows and collectives on its cluster through the\n"
          "flow-level network (latency, then max-min fair sharing) and prints\n"
          "each item's start, finish and achieved bandwidth, and the bytes and\n"
          "peak utilisation of each link class.\n\n"
          "scenario keys:\n"
          "  cluster      a cluster file, a configs/clusters name, or a mapping\n"
          "  flows        [{name, src, dst, bytes, start}]\n"
          "  collectives  [{name, op, algorithm, ranks, bytes, start}]\n"
          "               op: allreduce | allgather | reduce-scatter | p2p\n"
          "               algorithm: auto | ring | tree | hierarchical\n"
          "               ranks: [0, 1, 2] or \"0-7\" or [\"0-3\", 8]\n\n"
          "options:\n"
          "  --json       print the results as JSON on stdout\n"
          "  -h, --help   this text\n");
}

static int simulate(const char *path, bool json) {
  gpp_errctx err = {0};
  scenario s = {0};
  gpp_net *net = NULL;
  int rc = scenario_load(path, &s, &err);
  if (rc == 0) rc = gpp_net_create(s.cluster, &net, &err);
  if (rc == 0) rc = run(&s, net, &err);
  int status = rc != 0 ? gpp_cli_fail(&err) : 0;
  if (rc == 0 && json) status = print_json(&s, net);
  else if (rc == 0) print_text(&s, net);
  gpp_net_destroy(net);
  scenario_free(&s);
  return status;
}

int gpp_cmd_net(int argc, char **argv) {
  static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  bool json = false;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
    if (c == 'j') json = true;
    else if (c == 'h') {
      usage(stdout);
      return 0;
    } else {
      return gpp_cli_usage_error("net", "unknown option");
    }
  }
  if (optind != argc - 1)
    return gpp_cli_usage_error("net", "expected one SCENARIO.yaml");
  return simulate(argv[optind], json);
}
