/* fuzz.h -- shared helpers of the libFuzzer targets (tests/fuzz/):
 * inputs as a NUL-terminated string or as a file (the path loaders), the
 * error-context check every target makes, and stdout silenced for targets
 * that drive a whole command. */
#ifndef GPP_FUZZ_H
#define GPP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "sim/common/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
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

#endif
