/* cli.h -- the gppsim command table and what every command shares.
 *
 * Each subcommand is a function `int cmd(int argc, char **argv)` that
 * returns a process exit status (0 ok, 1 internal failure, 2 bad input,
 * 3 no plan).  argv[0] is the subcommand's own name, so getopt_long works
 * as in a standalone program.
 */
#ifndef GPP_SIM_CLI_H
#define GPP_SIM_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "sim/common/err.h"

typedef struct gpp_command {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
} gpp_command;

/* Subcommands, defined in their modules. */
int gpp_cmd_model(int argc, char **argv);
/* `model import` (ONNX) and, with torch, `model import-torch`. */
int gpp_cmd_model_import(int argc, char **argv, bool torch);
int gpp_cmd_simulate(int argc, char **argv);
int gpp_cmd_costs(int argc, char **argv);
int gpp_cmd_net(int argc, char **argv);
int gpp_cmd_plan(int argc, char **argv);
int gpp_cmd_sweep(int argc, char **argv);
int gpp_cmd_validate(int argc, char **argv);
/* `validate kernels` and `validate published` (cmd_validate_tables.c);
 * argv[0] is the subcommand's name. */
int gpp__cmd_validate_kernels(int argc, char **argv);
int gpp__cmd_validate_published(int argc, char **argv);
int gpp_cmd_demo(int argc, char **argv);

int gpp_cmd_reproduce(int argc, char **argv);

/* `gppsim simulate --plan PLAN --cluster CLUSTER --out OUT --trace TRACE
 * --allow-oom` without the printed summary (OUT or TRACE may be NULL). */
int gpp_simulate_files(const char *plan, const char *cluster, const char *out,
                       const char *trace, gpp_errctx *err);

/* Prints "gppsim: <message>" on stderr and returns the exit status for
 * err's code. */
int gpp_cli_fail(const gpp_errctx *err);
/* Prints a usage error (exit status 2) with a hint to --help. */
int gpp_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets each of n named numbers on the JSON object o: a real, or null where
 * it is not finite (NaN: no figure). */
typedef struct gpp_cli_jnum {
  const char *name;
  double value;
} gpp_cli_jnum;
void gpp_cli_json_nums(json_t *o, const gpp_cli_jnum *f, size_t n);
/* Parses option --opt of command cmd as an integer in lo..hi into *out;
 * a usage error (exit status 2) otherwise. */
int gpp_cli_parse_long(const char *cmd, const char *opt, const char *text,
                       long lo, long hi, long *out);

#endif
