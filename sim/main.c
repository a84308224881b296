/* main.c -- the gppsim command-line entry point: dispatches subcommands. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli/cli.h"
#include "sim/common/h5.h"

static const gpp_command commands[] = {
    {"model", "inspect a model graph (ops, parameters, FLOPs, branches)",
     gpp_cmd_model},
    {"simulate", "replay one training iteration of a plan on a cluster",
     gpp_cmd_simulate},
    {"costs", "per-op fwd/bwd costs and their source; roofline calibration",
     gpp_cmd_costs},
    {"net", "run flows and collectives on a cluster's network", gpp_cmd_net},
    {"plan", "search a partition plan (graphpipe, pipedream, piper)",
     gpp_cmd_plan},
    {"sweep", "plan and simulate every point of an experiment (what-if)",
     gpp_cmd_sweep},
    {"validate", "compare a measured GPU run with the simulation",
     gpp_cmd_validate},
    {"demo", "a small study: MMT on Summit, three planners, plots",
     gpp_cmd_demo},
    {"reproduce", "run the GraphPipe paper's experiments and draw them",
     gpp_cmd_reproduce},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_help(FILE *out) {
  fprintf(out,
          "gppsim %s -- a discrete-event simulator for pipeline-parallel DNN "
          "training\n\n"
          "usage: gppsim COMMAND [ARGS...]\n"
          "       gppsim COMMAND --help\n\ncommands:\n",
          GPP_VERSION);
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\noptions:\n  -h, --help     this text\n"
               "  -V, --version  print the version\n\n"
               "exit status: 0 success, 1 internal failure, 2 bad input, "
               "3 no plan found\n");
}

int gpp_cli_fail(const gpp_errctx *err) {
  fprintf(stderr, "gppsim: %s\n", err->msg[0] ? err->msg
                                              : gpp_strerror(err->code));
  return gpp_err_exit_status(err->code);
}

int gpp_cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "gppsim %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'gppsim %s --help'.\n", cmd);
  return 2;
}

int gpp_cli_parse_long(const char *cmd, const char *opt, const char *text,
                       long lo, long hi, long *out) {
  char *end;
  long v = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < lo || v > hi)
    return gpp_cli_usage_error(cmd, "--%s expects an integer in %ld..%ld, "
                               "got '%s'", opt, lo, hi, text);
  *out = v;
  return 0;
}

void gpp_cli_json_nums(json_t *o, const gpp_cli_jnum *f, size_t n) {
  for (size_t i = 0; i < n; i++)
    json_object_set_new(o, f[i].name, isfinite(f[i].value)
                                          ? json_real(f[i].value)
                                          : json_null());
}

int main(int argc, char **argv) {
  gpp_h5_init();
  if (argc < 2) {
    print_help(stderr);
    return 2;
  }
  const char *name = argv[1];
  if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 ||
      strcmp(name, "help") == 0) {
    print_help(stdout);
    return 0;
  }
  if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
    printf("gppsim %s\n", GPP_VERSION);
    return 0;
  }
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  const char *names[N_COMMANDS];
  for (size_t i = 0; i < N_COMMANDS; i++) names[i] = commands[i].name;
  const char *hint = gpp_suggest(name, names, N_COMMANDS);
  fprintf(stderr, "gppsim: unknown command '%s'%s%s%s\nTry 'gppsim --help'.\n",
          name, hint ? "; did you mean '" : "", hint ? hint : "",
          hint ? "'?" : "");
  return 2;
}
