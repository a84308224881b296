/* arena.h -- a bump allocator for immutable data freed all at once
 * (parsed configs, model graphs, topologies). */
#ifndef GPP_COMMON_ARENA_H
#define GPP_COMMON_ARENA_H

#include <stddef.h>

#include "sim/common/err.h"

typedef struct gpp_arena gpp_arena;

gpp_arena *gpp_arena_create(gpp_errctx *err);
void gpp_arena_destroy(gpp_arena *a);
/* Zeroed, 16-byte aligned; NULL (and GPP_ENOMEM in err) on failure. */
void *gpp_arena_alloc(gpp_arena *a, size_t size, gpp_errctx *err);
void *gpp_arena_array(gpp_arena *a, size_t n, size_t size, gpp_errctx *err);
char *gpp_arena_strdup(gpp_arena *a, const char *s, gpp_errctx *err);
char *gpp_arena_printf(gpp_arena *a, gpp_errctx *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Bytes handed out so far. */
size_t gpp_arena_used(const gpp_arena *a);

#endif
