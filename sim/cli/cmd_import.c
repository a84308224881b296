/* cmd_import.c -- `gppsim model import` and `gppsim model import-torch`:
 * bring a user's own model in from ONNX or PyTorch.  The graph work is done
 * by the Python importer (sim/importer/, run with /usr/bin/python3); here
 * the result is written through a temporary file, loaded by the model
 * loader as a check, and only then renamed into place. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sim/cli/cli.h"
#include "sim/common/bundle.h"
#include "sim/common/outfile.h"
#include "sim/model/model.h"
#include "sim/cli/python.h"

#define MAX_SHAPES 16
/* script, source, output, options with their values, NULL */
#define MAX_ARGV (4 + 2 * MAX_SHAPES + 8)

typedef struct import_opts {
  bool torch;
  const char *src, *out, *batch_dim, *name, *onnx;
  const char *shapes[MAX_SHAPES];
  int n_shapes;
} import_opts;

static void usage(FILE *out, bool torch) {
  if (torch)
    fprintf(out,
            "usage: gppsim model import-torch MODULE:FACTORY --input-shape "
            "DIMS[:DTYPE]... --out MODEL.yaml\n"
            "                                 [--onnx KEEP.onnx] [--name "
            "NAME]\n\n"
            "Builds the nn.Module that FACTORY() returns (MODULE: a module "
            "name found from\nthe current folder, or a .py file), exports it "
            "with torch.onnx.export (opset\n17, training mode) and imports "
            "that as `gppsim model import` does.\n\n"
            "  --input-shape DIMS[:DTYPE]  one example input per option, "
            "batch first:\n"
            "                      1x256x1024, 4x100:int64 (float32, "
            "float16, int64, int32)\n"
            "  --out FILE          the model file to write\n"
            "  --onnx FILE         also keep the exported ONNX file\n"
            "  --name NAME         the model's name (default: FACTORY)\n"
            "  -h, --help          this text\n\n"
            "Needs python3-torch and python3-onnx for /usr/bin/python3 "
            "(or $GPP_PYTHON).\n");
  else
    fprintf(out,
            "usage: gppsim model import FILE.onnx --out MODEL.yaml "
            "[--batch-dim NAME] [--name NAME]\n\n"
            "Reads an ONNX graph (shapes from its value_info and ONNX shape "
            "inference),\nmaps its nodes to gppsim op kinds (the table is in "
            "configs/models/README.md)\nand writes a model file that keeps "
            "the nodes' names.  Nodes without a\ngppsim kind become `custom` "
            "ops with FLOPs estimated from their shapes,\nlisted on stderr.\n"
            "\n"
            "  --out FILE          the model file to write\n"
            "  --batch-dim NAME    the symbolic dimension that is the batch "
            "(default: the\n"
            "                      first input's first dimension)\n"
            "  --name NAME         the model's name (default: the file's "
            "name)\n"
            "  -h, --help          this text\n\n"
            "Needs python3-onnx for /usr/bin/python3 (or $GPP_PYTHON).\n");
}

static const char *cmd_name(const import_opts *o) {
  return o->torch ? "model import-torch" : "model import";
}

static int parse_opt(import_opts *o, int c) {
  if (c == 'o') o->out = optarg;
  else if (c == 'b' && !o->torch) o->batch_dim = optarg;
  else if (c == 'n') o->name = optarg;
  else if (c == 'x' && o->torch) o->onnx = optarg;
  else if (c == 's' && o->torch && o->n_shapes < MAX_SHAPES)
    o->shapes[o->n_shapes++] = optarg;
  else if (c == 'h') return usage(stdout, o->torch), -1;
  else return gpp_cli_usage_error(cmd_name(o), "bad option");
  return 0;
}

static int parse_args(int argc, char **argv, import_opts *o) {
  static const struct option longs[] = {
      {"out", required_argument, NULL, 'o'},
      {"batch-dim", required_argument, NULL, 'b'},
      {"name", required_argument, NULL, 'n'},
      {"onnx", required_argument, NULL, 'x'},
      {"input-shape", required_argument, NULL, 's'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "ho:", longs, NULL)) != -1)
    GPP_TRY(parse_opt(o, c));
  if (optind + 1 != argc)
    return gpp_cli_usage_error(cmd_name(o), "expected one %s",
                               o->torch ? "MODULE:FACTORY" : "ONNX FILE");
  if (o->out == NULL)
    return gpp_cli_usage_error(cmd_name(o), "--out FILE is required");
  if (o->torch && o->n_shapes == 0)
    return gpp_cli_usage_error(cmd_name(o), "give each example input's "
                               "sizes with --input-shape");
  o->src = argv[optind];
  return 0;
}

static void push_opt(const char **args, int *n, const char *opt,
                     const char *val) {
  if (val == NULL) return;
  args[(*n)++] = opt;
  args[(*n)++] = val;
}

/* Runs the importer script into tmp; the script prints its own messages.
 * Its exit status 2 (bad input) stays 2, anything else is a failure. */
static int run_importer(const import_opts *o, const char *tmp,
                        gpp_errctx *err) {
  char script[GPP_INPUT_PATH_MAX + 64];
  GPP_TRY(gpp_python_importer_script(o->torch ? "torch_import.py"
                                              : "onnx_import.py",
                                     script, sizeof script, err));
  const char *args[MAX_ARGV] = {script, o->src, tmp};
  int n = 3;
  push_opt(args, &n, "--batch-dim", o->batch_dim);
  push_opt(args, &n, "--name", o->name);
  push_opt(args, &n, "--onnx", o->onnx);
  for (int i = 0; i < o->n_shapes; i++)
    push_opt(args, &n, "--input-shape", o->shapes[i]);
  int rc = gpp_python_status(args);
  if (rc == 2) GPP_RAISE(err, GPP_EINVAL, "%s: not imported", o->src);
  if (rc != 0)
    GPP_RAISE(err, GPP_EIO, "%s %s failed (exit status %d)",
              gpp_python_path(), script, rc);
  return 0;
}

/* Loads the written model as `gppsim model show` would. */
static int check_model(const char *path, gpp_errctx *err) {
  gpp_model *m = NULL;
  GPP_TRY(gpp_model_load(path, NULL, 0, &m, err));
  gpp_model_stats st;
  gpp_model_stats_compute(m, &st);
  printf("imported %s: %u ops, %.0f parameters, %.4g FLOPs/sample forward\n",
         m->name, m->n_ops, st.param_count, st.flops_fwd);
  gpp_model_destroy(m);
  return 0;
}

static int import(const import_opts *o, gpp_errctx *err) {
  gpp_outfile f;
  GPP_TRY(gpp_outfile_begin(&f, o->out, 0, err));
  int rc = run_importer(o, f.tmp, err);
  if (rc == 0) rc = check_model(f.tmp, err);
  if (rc == 0) rc = gpp_outfile_commit(&f, err);
  if (rc != 0) gpp_outfile_abort(&f);
  return rc;
}

int gpp_cmd_model_import(int argc, char **argv, bool torch) {
  import_opts o = {.torch = torch};
  int rc = parse_args(argc, argv, &o);
  if (rc != 0) return rc < 0 ? 0 : rc;
  gpp_errctx err = {0};
  if (import(&o, &err) != 0) return gpp_cli_fail(&err);
  return 0;
}
