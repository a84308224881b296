/* err.h -- the one error convention of gppsim.
 *
 * Every fallible function returns int: 0 on success or a negative gpp_err.
 * The code list is one X-macro, from which the enum, gpp_err_name() and
 * gpp_strerror() are generated.  Errors are raised through GPP_RAISE /
 * GPP_RAISE_AT, which record a formatted message (with a `file:line:column`
 * prefix when the error is about an input file) into the caller's gpp_errctx
 * and go through gpp_error_raise(), one function to put a breakpoint on.
 * Library code never exits; main() maps codes to exit statuses.
 */
#ifndef GPP_COMMON_ERR_H
#define GPP_COMMON_ERR_H

#include <stddef.h>

/* XX(name, code, exit status, description) */
#define GPP_ERRNO_MAP(XX)                                                     \
  XX(EINVAL, -1, 2, "invalid input")                                          \
  XX(EPARSE, -2, 2, "malformed input file")                                   \
  XX(ERANGE, -3, 2, "value out of range")                                     \
  XX(ENOENT, -4, 2, "no such file or name")                                   \
  XX(EUNIT, -5, 2, "bad quantity or unit")                                    \
  XX(EGRAPH, -6, 2, "invalid graph")                                          \
  XX(EOOM, -7, 2, "plan exceeds device memory")                               \
  XX(ENOPLAN, -8, 3, "no plan found")                                         \
  XX(ENOMEM, -9, 1, "out of host memory")                                     \
  XX(EIO, -10, 1, "input/output failure")                                     \
  XX(EINTERNAL, -11, 1, "internal error")

typedef enum {
  GPP_OK = 0,
#define GPP__ERR_ENUM(name, code, status, desc) GPP_##name = code,
  GPP_ERRNO_MAP(GPP__ERR_ENUM)
#undef GPP__ERR_ENUM
} gpp_err;

/* A position in an input file; line and column are 1-based. */
typedef struct gpp_mark {
  const char *file;
  int line;
  int column;
} gpp_mark;

#define GPP_ERRMSG_MAX 2048

/* Where an error is recorded.  Zero-initialise it before use. */
typedef struct gpp_errctx {
  int code;                  /* 0 or the gpp_err raised last */
  char msg[GPP_ERRMSG_MAX];  /* "file:line:col: what was expected" */
  const char *c_file;        /* the C source that raised it */
  int c_line;
} gpp_errctx;

const char *gpp_err_name(int code);
const char *gpp_strerror(int code);
/* The process exit status for an error code (0 for GPP_OK). */
int gpp_err_exit_status(int code);

/* Records the error and returns code.  at may be NULL. */
int gpp_error_raise(gpp_errctx *ctx, int code, const gpp_mark *at,
                    const char *c_file, int c_line, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Prepends "context: " to the recorded message (for nested errors). */
void gpp_error_prefix(gpp_errctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void gpp_error_clear(gpp_errctx *ctx);

/* Raise and return from the calling function. */
#define GPP_RAISE(ctx, code, ...)                                             \
  return gpp_error_raise((ctx), (code), NULL, __FILE__, __LINE__, __VA_ARGS__)
#define GPP_RAISE_AT(ctx, code, mark, ...)                                    \
  return gpp_error_raise((ctx), (code), (mark), __FILE__, __LINE__,           \
                         __VA_ARGS__)
/* Expression forms, for `rc = GPP_ERR(...); goto fail;`. */
#define GPP_ERR(ctx, code, ...)                                               \
  gpp_error_raise((ctx), (code), NULL, __FILE__, __LINE__, __VA_ARGS__)
#define GPP_ERR_AT(ctx, code, mark, ...)                                      \
  gpp_error_raise((ctx), (code), (mark), __FILE__, __LINE__, __VA_ARGS__)

/* Propagate a non-zero status. */
#define GPP_TRY(expr)                                                         \
  do {                                                                        \
    int gpp__rc = (expr);                                                     \
    if (gpp__rc != 0) return gpp__rc;                                         \
  } while (0)

/* Allocation that raises GPP_ENOMEM into ctx on failure (returns NULL). */
void *gpp_calloc(gpp_errctx *ctx, size_t n, size_t size);
void *gpp_realloc_array(gpp_errctx *ctx, void *p, size_t n, size_t size);

/* The one candidate that starts with word, else (when none does) the
 * closest by edit distance, or NULL when none is close enough to suggest
 * or several start with word ("did you mean").  word (a non-scalar key)
 * and entries of cands may be NULL. */
const char *gpp_suggest(const char *word, const char *const *cands, size_t n);

#endif
