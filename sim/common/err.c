/* err.c -- error names, exit statuses, raising, and "did you mean". */
#include "sim/common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *gpp_err_name(int code) {
  switch (code) {
  case GPP_OK: return "OK";
#define GPP__ERR_NAME(name, c, status, desc) case c: return "GPP_" #name;
    GPP_ERRNO_MAP(GPP__ERR_NAME)
#undef GPP__ERR_NAME
  default: return "GPP_EUNKNOWN";
  }
}

const char *gpp_strerror(int code) {
  switch (code) {
  case GPP_OK: return "success";
#define GPP__ERR_DESC(name, c, status, desc) case c: return desc;
    GPP_ERRNO_MAP(GPP__ERR_DESC)
#undef GPP__ERR_DESC
  default: return "unknown error";
  }
}

int gpp_err_exit_status(int code) {
  switch (code) {
  case GPP_OK: return 0;
#define GPP__ERR_STATUS(name, c, status, desc) case c: return status;
    GPP_ERRNO_MAP(GPP__ERR_STATUS)
#undef GPP__ERR_STATUS
  default: return 1;
  }
}

int gpp_error_raise(gpp_errctx *ctx, int code, const gpp_mark *at,
                    const char *c_file, int c_line, const char *fmt, ...) {
  if (ctx == NULL) return code;
  size_t off = 0;
  if (at != NULL && at->file != NULL)
    off = (size_t)snprintf(ctx->msg, sizeof ctx->msg, "%s:%d:%d: ", at->file,
                           at->line, at->column);
  if (off >= sizeof ctx->msg) off = sizeof ctx->msg - 1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx->msg + off, sizeof ctx->msg - off, fmt, ap);
  va_end(ap);
  ctx->code = code;
  ctx->c_file = c_file;
  ctx->c_line = c_line;
  return code;
}

void gpp_error_prefix(gpp_errctx *ctx, const char *fmt, ...) {
  char head[512], old[GPP_ERRMSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(head, sizeof head, fmt, ap);
  va_end(ap);
  memcpy(old, ctx->msg, sizeof old);
  size_t n = strlen(head);
  if (n > sizeof ctx->msg - 3) n = sizeof ctx->msg - 3;
  memcpy(ctx->msg, head, n);
  memcpy(ctx->msg + n, ": ", 2);
  size_t room = sizeof ctx->msg - n - 3;
  size_t m = strnlen(old, room);
  memcpy(ctx->msg + n + 2, old, m);
  ctx->msg[n + 2 + m] = '\0';
}

void gpp_error_clear(gpp_errctx *ctx) {
  ctx->code = 0;
  ctx->msg[0] = '\0';
  ctx->c_file = NULL;
  ctx->c_line = 0;
}

void *gpp_calloc(gpp_errctx *ctx, size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (p == NULL)
    GPP_ERR(ctx, GPP_ENOMEM, "cannot allocate %zu x %zu bytes", n, size);
  return p;
}

void *gpp_realloc_array(gpp_errctx *ctx, void *p, size_t n, size_t size) {
  if (size != 0 && n > (size_t)-1 / size) {
    GPP_ERR(ctx, GPP_ENOMEM, "array of %zu x %zu bytes overflows", n, size);
    return NULL;
  }
  size_t bytes = n * size;
  void *q = realloc(p, bytes != 0 ? bytes : 1);
  if (q == NULL)
    GPP_ERR(ctx, GPP_ENOMEM, "cannot allocate %zu x %zu bytes", n, size);
  return q;
}

/* Levenshtein distance, capped: strings longer than 63 are not compared. */
static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63) return (size_t)-1;
  size_t row[64];
  for (size_t j = 0; j <= lb; j++) row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (row[j] + 1 < best) best = row[j] + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

/* How many candidates start with word (a name given short, "h100" for
 * "h100-sxm-80gb"); *hit is the last of them. */
static size_t prefixed(const char *word, const char *const *cands, size_t n,
                       const char **hit) {
  size_t len = strlen(word), k = 0;
  for (size_t i = 0; i < n; i++)
    if (cands[i] != NULL && len > 0 && strncmp(cands[i], word, len) == 0) {
      *hit = cands[i];
      k++;
    }
  return k;
}

const char *gpp_suggest(const char *word, const char *const *cands, size_t n) {
  if (word == NULL) return NULL; /* a non-scalar key: nothing to spell */
  const char *best = NULL;
  size_t k = prefixed(word, cands, n, &best);
  if (k > 0) return k == 1 ? best : NULL; /* several: the list says more */
  size_t best_d = (size_t)-1;
  for (size_t i = 0; i < n; i++) {
    if (cands[i] == NULL) continue;
    size_t d = edit_distance(word, cands[i]);
    if (d < best_d) {
      best_d = d;
      best = cands[i];
    }
  }
  size_t len = strlen(word);
  size_t limit = len < 4 ? 1 : len / 3 + 1;
  return best_d <= limit ? best : NULL;
}
