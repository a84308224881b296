/* fuzz.c -- shared helpers of the libFuzzer targets: the input as text or
 * as a file under $TMPDIR, the loader contract check, quiet stdout. */
#include "tests/fuzz/fuzz.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

char *gpp__fuzz_text(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (s == NULL) return NULL;
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

static char path[4096];

static void remove_file(void) { unlink(path); }

/* One file per process, rewritten for every input, removed at exit. */
const char *gpp__fuzz_file(const uint8_t *data, size_t size,
                           const char *suffix) {
  if (path[0] == '\0') {
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/gpp-fuzz-%ld%s",
             dir && *dir ? dir : "/tmp", (long)getpid(), suffix);
    atexit(remove_file);
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return NULL;
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) break;
    done += (size_t)n;
  }
  close(fd);
  return done == size ? path : NULL;
}

void gpp__fuzz_check(int rc, const gpp_errctx *err) {
  if (rc == 0) return;
  if (rc > 0 || err->code != rc || err->msg[0] == '\0') {
    fprintf(stderr, "loader contract broken: rc %d, err.code %d, msg '%s'\n",
            rc, err->code, err->msg);
    abort();
  }
}

void gpp__fuzz_quiet(void) {
  int fd = open("/dev/null", O_WRONLY);
  if (fd >= 0) {
    dup2(fd, STDOUT_FILENO);
    close(fd);
  }
}
