/* arena.c -- chained blocks; large requests get a block of their own. */
#include "sim/common/arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK (64u << 10)

typedef struct block {
  struct block *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
} block;

struct gpp_arena {
  block *head;
  size_t total;
};

gpp_arena *gpp_arena_create(gpp_errctx *err) {
  return gpp_calloc(err, 1, sizeof(gpp_arena));
}

void gpp_arena_destroy(gpp_arena *a) {
  if (a == NULL) return;
  for (block *b = a->head, *next; b != NULL; b = next) {
    next = b->next;
    free(b);
  }
  free(a);
}

static block *new_block(gpp_arena *a, size_t need, gpp_errctx *err) {
  size_t cap = need > ARENA_BLOCK ? need : ARENA_BLOCK;
  block *b = calloc(1, sizeof(block) + cap);
  if (b == NULL) {
    GPP_ERR(err, GPP_ENOMEM, "cannot allocate %zu bytes", need);
    return NULL;
  }
  b->cap = cap;
  b->next = a->head;
  a->head = b;
  return b;
}

void *gpp_arena_alloc(gpp_arena *a, size_t size, gpp_errctx *err) {
  size_t need = (size + 15) & ~(size_t)15;
  if (need < size) {
    GPP_ERR(err, GPP_ENOMEM, "allocation of %zu bytes overflows", size);
    return NULL;
  }
  block *b = a->head;
  if (b == NULL || b->cap - b->used < need) b = new_block(a, need, err);
  if (b == NULL) return NULL;
  void *p = b->data + b->used;
  b->used += need;
  a->total += size;
  return p;
}

void *gpp_arena_array(gpp_arena *a, size_t n, size_t size, gpp_errctx *err) {
  if (size != 0 && n > (size_t)-1 / size) {
    GPP_ERR(err, GPP_ENOMEM, "array of %zu x %zu bytes overflows", n, size);
    return NULL;
  }
  return gpp_arena_alloc(a, n * size, err);
}

char *gpp_arena_strdup(gpp_arena *a, const char *s, gpp_errctx *err) {
  size_t n = strlen(s) + 1;
  char *p = gpp_arena_alloc(a, n, err);
  if (p != NULL) memcpy(p, s, n);
  return p;
}

char *gpp_arena_printf(gpp_arena *a, gpp_errctx *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    GPP_ERR(err, GPP_EINTERNAL, "bad format");
    return NULL;
  }
  char *p = gpp_arena_alloc(a, (size_t)n + 1, err);
  if (p == NULL) return NULL;
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

size_t gpp_arena_used(const gpp_arena *a) { return a->total; }
