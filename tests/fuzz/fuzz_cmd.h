/* fuzz_cmd.h -- a libFuzzer target that runs a whole gppsim command on the
 * input file (loaders that are static to their command): the command must
 * end with status 0 or 2 (bad input, located); any other status aborts.
 * Define GPP_FUZZ_CMD (the command function), GPP_FUZZ_ARGS (its argv
 * before the file, as string literals) and GPP_FUZZ_SUFFIX, then include. */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  gpp__fuzz_quiet();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = gpp__fuzz_file(data, size, GPP_FUZZ_SUFFIX);
  if (path == NULL) return 0;
  char *args[] = {GPP_FUZZ_ARGS, (char *)path, NULL};
  int status = GPP_FUZZ_CMD((int)(sizeof args / sizeof *args) - 1, args);
  if (status != 0 && status != 2) {
    fprintf(stderr, "command ended with status %d\n", status);
    abort();
  }
  return 0;
}
