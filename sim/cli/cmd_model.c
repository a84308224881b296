/* cmd_model.c -- `gppsim model show`: what a model file expands into, as
 * text or JSON, so a model can be checked before it is planned or
 * simulated. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli/cli.h"
#include "sim/common/bundle.h"
#include "sim/common/units.h"
#include "sim/model/model.h"

#define MAX_SETS 16

typedef struct show_opts {
  const char *path;
  bool json, ops;
  gpp_model_param sets[MAX_SETS];
  size_t n_sets;
} show_opts;

static void usage(FILE *out) {
  fprintf(out,
          "usage: gppsim model show FILE [--json] [--ops] [--set NAME=VALUE]...\n"
          "       gppsim model import FILE.onnx --out MODEL.yaml (see its "
          "--help)\n"
          "       gppsim model import-torch MODULE:FACTORY --input-shape "
          "DIMS --out MODEL.yaml\n"
          "\nLoads a model file, expands its generators and prints its op "
          "count,\nparameters, FLOPs per sample, branch groups and longest "
          "path.\nFILE is a model file or a bundled name (gpt, mmt, ...).\n\n"
          "  --ops               add a per-op table\n"
          "  --json              print JSON on stdout instead of text\n"
          "  --set NAME=VALUE    override an integer model parameter "
          "(e.g. branches=8)\n"
          "  -h, --help          this text\n");
}

static int parse_set(show_opts *o, char *arg) {
  char *eq = strchr(arg, '=');
  if (eq == NULL || eq == arg || o->n_sets == MAX_SETS)
    return gpp_cli_usage_error("model", "--set: expected NAME=INTEGER (at "
                               "most %d), got '%s'", MAX_SETS, arg);
  char *end;
  *eq = '\0';
  errno = 0;
  long long v = strtoll(eq + 1, &end, 10);
  if (*end != '\0' || end == eq + 1 || errno == ERANGE)
    return gpp_cli_usage_error("model", "--set %s: expected an integer, "
                               "got '%s'", arg, eq + 1);
  o->sets[o->n_sets].name = arg;
  o->sets[o->n_sets++].value = v;
  return 0;
}

static int parse_args(int argc, char **argv, show_opts *o) {
  static const struct option longs[] = {{"json", no_argument, NULL, 'j'},
                                        {"ops", no_argument, NULL, 'o'},
                                        {"set", required_argument, NULL, 's'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
    if (c == 'j') o->json = true;
    else if (c == 'o') o->ops = true;
    else if (c == 's') GPP_TRY(parse_set(o, optarg));
    else if (c == 'h') return usage(stdout), -1;
    else return gpp_cli_usage_error("model", "bad option");
  }
  if (optind + 1 != argc)
    return gpp_cli_usage_error("model", "expected one model FILE");
  o->path = argv[optind];
  return 0;
}

/* ---- text -------------------------------------------------------------- */

static void print_op(const gpp_model *m, const gpp_op *op) {
  char in[48] = "-", fl[16], pb[16], sv[16];
  if (op->n_inputs == 1) snprintf(in, sizeof in, "%s", m->ops[op->inputs[0]].name);
  else if (op->n_inputs > 1) snprintf(in, sizeof in, "%u ops", op->n_inputs);
  printf("  %-28s %-11s %-24.24s %6lld x %-6lld %10s %9s %9s\n", op->name,
         gpp_op_kind_name(op->kind), in, (long long)op->shape.tokens,
         (long long)op->shape.width,
         gpp_units_format(op->flops_fwd + op->flops_bwd, GPP_Q_COUNT, fl,
                          sizeof fl),
         gpp_units_format(op->param_bytes, GPP_Q_BYTES, pb, sizeof pb),
         gpp_units_format(op->saved_bytes, GPP_Q_BYTES, sv, sizeof sv));
}

static void print_text(const gpp_model *m, const gpp_model_stats *st,
                       bool ops) {
  char a[32], b[32], c[32];
  printf("model        %s (%s)\n", m->name, m->path);
  printf("precision    %s (%d bytes per element)\n", m->precision,
         m->dtype_bytes);
  printf("ops          %u (%u source%s, %u sink%s)\n", m->n_ops, st->n_sources,
         st->n_sources == 1 ? "" : "s", st->n_sinks, st->n_sinks == 1 ? "" : "s");
  printf("parameters   %s (%s)\n",
         gpp_units_format(st->param_count, GPP_Q_COUNT, a, sizeof a),
         gpp_units_format(st->param_bytes, GPP_Q_BYTES, b, sizeof b));
  printf("FLOPs/sample %s forward, %s backward\n",
         gpp_units_format(st->flops_fwd, GPP_Q_COUNT, a, sizeof a),
         gpp_units_format(st->flops_bwd, GPP_Q_COUNT, b, sizeof b));
  printf("activations  %s saved per sample\n",
         gpp_units_format(st->saved_bytes, GPP_Q_BYTES, c, sizeof c));
  printf("longest path %u ops; costliest path %s FLOPs/sample\n",
         st->longest_path_ops,
         gpp_units_format(st->longest_path_flops, GPP_Q_COUNT, a, sizeof a));
  for (uint32_t g = 0; g < m->n_groups; g++)
    printf("branches     %s: %u x %u ops\n", m->groups[g].name,
           m->groups[g].count, m->groups[g].ops_per_branch);
  if (!ops) return;
  printf("\n  %-28s %-11s %-24s %15s %10s %9s %9s\n", "op", "kind", "inputs",
         "tokens x width", "FLOPs f+b", "params", "saved");
  for (uint32_t i = 0; i < m->n_ops; i++) print_op(m, &m->ops[i]);
}

/* ---- JSON -------------------------------------------------------------- */

static json_t *op_json(const gpp_model *m, const gpp_op *op) {
  json_t *ins = json_array();
  for (uint32_t j = 0; j < op->n_inputs; j++)
    json_array_append_new(ins, json_string(m->ops[op->inputs[j]].name));
  json_t *o = json_pack("{s:s, s:s, s:o, s:I, s:I, s:f, s:f, s:f, s:f, s:f, "
                        "s:f, s:f, s:f}",
                        "name", op->name, "kind", gpp_op_kind_name(op->kind),
                        "inputs", ins, "tokens", (json_int_t)op->shape.tokens,
                        "width", (json_int_t)op->shape.width,
                        "flops_fwd", op->flops_fwd, "flops_bwd", op->flops_bwd,
                        "bytes_fwd", op->bytes_fwd, "bytes_bwd", op->bytes_bwd,
                        "param_count", op->param_count,
                        "param_bytes", op->param_bytes,
                        "saved_bytes", op->saved_bytes,
                        "out_bytes", op->out_bytes);
  if (op->has_time)
    json_object_set_new(o, "time_per_sample",
                        json_pack("{s:f, s:f}", "fwd", op->time_fwd, "bwd",
                                  op->time_bwd));
  return o;
}

static json_t *model_json(const gpp_model *m, const gpp_model_stats *st,
                          bool ops) {
  json_t *groups = json_array();
  for (uint32_t g = 0; g < m->n_groups; g++)
    json_array_append_new(groups, json_pack("{s:s, s:i, s:i}", "name",
                          m->groups[g].name, "count", (int)m->groups[g].count,
                          "ops_per_branch", (int)m->groups[g].ops_per_branch));
  json_t *o = json_pack(
      "{s:s, s:s, s:s, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:i, s:f, s:i, s:i, "
      "s:o}",
      "name", m->name, "path", m->path, "precision", m->precision,
      "dtype_bytes", m->dtype_bytes,
      "ops", (int)m->n_ops, "param_count", st->param_count, "param_bytes",
      st->param_bytes, "flops_fwd_per_sample", st->flops_fwd,
      "flops_bwd_per_sample", st->flops_bwd, "saved_bytes_per_sample",
      st->saved_bytes, "longest_path_ops", (int)st->longest_path_ops,
      "longest_path_flops", st->longest_path_flops, "sources",
      (int)st->n_sources, "sinks", (int)st->n_sinks, "branch_groups", groups);
  if (ops) {
    json_t *arr = json_array();
    for (uint32_t i = 0; i < m->n_ops; i++)
      json_array_append_new(arr, op_json(m, &m->ops[i]));
    json_object_set_new(o, "op_table", arr);
  }
  return o;
}

static int show(const show_opts *o) {
  gpp_errctx err = {0};
  gpp_model *m = NULL;
  char path[GPP_INPUT_PATH_MAX];
  if (gpp_input_named("models", o->path, path, sizeof path, &err) != 0 ||
      gpp_model_load(path, o->sets, o->n_sets, &m, &err) != 0)
    return gpp_cli_fail(&err);
  gpp_model_stats st;
  gpp_model_stats_compute(m, &st);
  int rc = 0;
  if (o->json) {
    json_t *j = model_json(m, &st, o->ops);
    rc = j == NULL || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) != 0;
    putchar('\n');
    json_decref(j);
  } else {
    print_text(m, &st, o->ops);
  }
  gpp_model_destroy(m);
  return rc;
}

int gpp_cmd_model(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "import") == 0 || strcmp(argv[1], "import-torch") == 0)
    return gpp_cmd_model_import(argc - 1, argv + 1,
                                strcmp(argv[1], "import-torch") == 0);
  if (strcmp(argv[1], "show") != 0)
    return gpp_cli_usage_error("model", "unknown subcommand '%s' (expected "
                               "show, import or import-torch)", argv[1]);
  show_opts o = {0};
  int rc = parse_args(argc - 1, argv + 1, &o);
  if (rc != 0) return rc < 0 ? 0 : rc;
  return show(&o);
}
