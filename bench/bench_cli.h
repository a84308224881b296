/* bench_cli.h -- the benchmarks' shared command line: -h or --help prints
 * the usage on stdout; more than max_args arguments is a usage error; lists
 * of counts ("N,N,...") parse one way. */
#ifndef GPP_BENCH_CLI_H
#define GPP_BENCH_CLI_H

#include <stdio.h>
#include <stdlib.h>
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

/* Parses "N,N,..." (each a whole number 1 to max) into out; returns how
 * many, 0 when malformed or longer than cap. */
static inline size_t bench_parse_counts(const char *s, unsigned long long max,
                                        unsigned long long *out, size_t cap) {
  size_t n = 0;
  while (*s && n < cap) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *s == '-' || v == 0 || v > max || (*end && *end != ','))
      return 0;
    out[n++] = v;
    s = *end ? end + 1 : end;
  }
  return *s ? 0 : n;
}

/* bench_cli's status as main's exit status. */
static inline int bench_cli_exit(int rc) { return rc < 0 ? 0 : rc; }

#endif
