/* fuzz.h -- shared helpers of the libFuzzer targets (tests/fuzz/):
 * inputs as a NUL-terminated string or as a file (the path loaders), the
 * error-context check every target makes, and stdout silenced for targets
 * that drive a whole command. */
#ifndef GPP_FUZZ_H
#define GPP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sim/common/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* fuzz.c has a weak one that does nothing; a target may define its own. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* data as a malloc'd NUL-terminated string (NULL when out of memory). */
char *gpp__fuzz_text(const uint8_t *data, size_t size);
/* Writes data to this process's input file, named with suffix (".yaml",
 * ".csv", ".h5"), created on first use; returns its path or NULL. */
const char *gpp__fuzz_file(const uint8_t *data, size_t size,
                           const char *suffix);
/* The loader contract: 0, or a negative code that err holds with a
 * message.  Anything else aborts, which libFuzzer reports as a finding. */
void gpp__fuzz_check(int rc, const gpp_errctx *err);
/* Sends stdout to /dev/null (targets that run a command print results). */
void gpp__fuzz_quiet(void);

/* A target whose loader reads NUL-terminated text: CALL may use `text`,
 * `&obj` (a TYPE *) and `&err`; DESTROY(obj) frees what it built. */
#define GPP_FUZZ_TEXT_TARGET(TYPE, CALL, DESTROY)                             \
  int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {             \
    char *text = gpp__fuzz_text(data, size);                                 \
    if (text == NULL) return 0;                                              \
    gpp_errctx err = {0};                                                    \
    TYPE *obj = NULL;                                                        \
    gpp__fuzz_check((CALL), &err);                                           \
    DESTROY(obj);                                                            \
    free(text);                                                              \
    return 0;                                                                \
  }

#endif
