/* cmd_validate_tables.c -- `gppsim validate kernels` and `validate
 * published`: the kernel model against published GEMM timings, and
 * predictions against published measured training runs (validate/). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "sim/cli/cli.h"
#include "validate/validate.h"

static void usage_kernels(FILE *f) {
  fprintf(f,
      "usage: gppsim validate kernels TABLE.csv... [--json] [--fit]\n\n"
      "Compares the kernel model's GEMM times (CTA tiles in waves, fastest "
      "tile,\nsplit-K; kernels_profile/kmodel.h) with published measured "
      "times and prints,\nper row, measured and predicted microseconds, the "
      "relative error\n(predicted - measured) / measured and the chosen tile, "
      "waves and split-K; then\nthe median and max |error| per GPU and dtype "
      "and over all rows.\n--json prints {\"rows\":[{\"M\",\"N\",\"K\","
      "\"dtype\",\"measured\",\"predicted\",\"error\",...}],\n"
      "\"median_abs_error\", \"max_abs_error\"}.\n"
      "--fit fits the model's efficiency parameters to the tables' rows (GSL "
      "least\nsquares on log time) and prints them with the error before and "
      "after; the\nbuilt-in defaults were fitted this way to validate/"
      "published/kernels/*.fit.csv.\n\n"
      "TABLE columns: gpu (a configs/hardware name), dtype (fp32 tf32 fp16 "
      "bf16 fp8),\nM, N, K, transA, transB (N or T), measured_seconds, and "
      "optionally batch.\nLines starting with '#' are comments.  Exit status 2 "
      "for bad input (file:line:column).\n");
}

int gpp__cmd_validate_kernels(int argc, char **argv) {
  static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                       {"fit", no_argument, NULL, 'f'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  bool json = false, do_fit = false;
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "jfh", opts, NULL)) != -1) {
    switch (ch) {
    case 'j': json = true; break;
    case 'f': do_fit = true; break;
    case 'h': usage_kernels(stdout); return 0;
    default: return gpp_cli_usage_error("validate kernels", "bad option");
    }
  }
  if (optind >= argc)
    return gpp_cli_usage_error("validate kernels", "name a TABLE.csv");
  gpp_errctx err = {0};
  int rc = gpp_validate_kernels(argv + optind, (size_t)(argc - optind), json,
                                do_fit, &err);
  return rc == 0 ? 0 : gpp_cli_fail(&err);
}

static void usage_published(FILE *f) {
  fprintf(f,
      "usage: gppsim validate published TABLE.csv [--json] [--markdown]\n\n"
      "Predicts each published measured training run of TABLE (format: "
      "validate/published/README.md;\nvalidate/published/mpt-a100.csv is "
      "bundled) and prints, per run, measured and\npredicted tokens/s per "
      "GPU, the relative error (predicted - measured) / measured,\nthe "
      "predicted peak memory of the fullest GPU against the GPU's memory and "
      "whether it\nfits; then the median and max |error| by model size, by "
      "checkpointing on/off and\nover all runs (runs predicted not to fit "
      "are left out of the error figures).\nEach run: a `decoder` model "
      "(the row's positions, ALiBi unless the optional\n`positions` column "
      "says learned, its attention kernel and `train_metrics` no-grad\n"
      "cross-entropies per micro-batch), its cluster with the\n"
      "row's GPU and enough nodes, and a one-stage plan on all its GPUs\n"
      "(tensor x data parallel, the row's sharding and recompute, gradients "
      "reduced in the\noptional `reduce_dtype` column's fp32, bf16 or fp16, "
      "else in the weights' dtype); one\n"
      "iteration is simulated.\n--json prints {\"rows\":[{\"name\","
      "\"measured\",\"predicted\",\"error\",\"peak_memory\","
      "\"fits\"}],\n\"median_abs_error\", \"max_abs_error\"}; "
      "--markdown prints the tables as Markdown.\nA row that cannot be built "
      "is an error naming its line (exit status 2).\n");
}

int gpp__cmd_validate_published(int argc, char **argv) {
  static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                       {"markdown", no_argument, NULL, 'm'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  bool json = false, md = false;
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "jmh", opts, NULL)) != -1) {
    switch (ch) {
    case 'j': json = true; break;
    case 'm': md = true; break;
    case 'h': usage_published(stdout); return 0;
    default: return gpp_cli_usage_error("validate published", "bad option");
    }
  }
  if (argc - optind != 1)
    return gpp_cli_usage_error("validate published", "name one TABLE.csv");
  gpp_errctx err = {0};
  int rc = gpp_validate_published(argv[optind], json, md, &err);
  return rc == 0 ? 0 : gpp_cli_fail(&err);
}
