/* bench_cli.h -- the benchmarks' shared command line: -h or --help prints
 * the usage on stdout; more than max_args arguments is a usage error. */
#ifndef GPP_BENCH_CLI_H
#define GPP_BENCH_CLI_H

#include <stdio.h>
#include <string.h>

/* 0: go on; otherwise the process's exit status (0 after --help, 2 for a
 * usage error, reported on stderr). */
static inline int bench_cli(int argc, char **argv, int max_args,
                            const char *usage) {
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      fputs(usage, stdout);
      return -1;
    }
  if (argc - 1 <= max_args) return 0;
  fprintf(stderr, "%s: at most %d argument%s\n%s", argv[0], max_args,
          max_args == 1 ? "" : "s", usage);
  return 2;
}

/* bench_cli's status as main's exit status. */
static inline int bench_cli_exit(int rc) { return rc < 0 ? 0 : rc; }

#endif
