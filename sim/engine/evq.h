/* evq.h -- the engine's event queue: a 4-ary min-heap keyed on (time, seq).
 *
 * seq is a per-queue insertion counter, so events at equal times pop in the
 * order they were pushed and every run is reproducible bit for bit.  Events
 * live inline in one preallocated array (time, seq and a 64-bit payload the
 * owner packs), so pushing and popping never allocate once the array has
 * reached the queue's high-water mark.
 */
#ifndef GPP_SIM_EVQ_H
#define GPP_SIM_EVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/common/err.h"

typedef struct gpp_event {
  double time;
  uint64_t seq;
  uint64_t data; /* owner-defined payload */
} gpp_event;

typedef struct gpp_evq {
  gpp_event *heap;
  size_t size, cap;
  uint64_t next_seq;
} gpp_evq;

/* Prepares q with room for capacity events (at least 16). */
int gpp_evq_init(gpp_evq *q, size_t capacity, gpp_errctx *err);
void gpp_evq_fini(gpp_evq *q);
/* Empties the queue and restarts seq at 0, keeping the storage. */
void gpp_evq_clear(gpp_evq *q);

/* Adds an event; grows the array (doubling) only past its capacity. */
int gpp_evq_push(gpp_evq *q, double time, uint64_t data, gpp_errctx *err);
/* Removes the earliest event into *out; false when empty. */
bool gpp_evq_pop(gpp_evq *q, gpp_event *out);

static inline size_t gpp_evq_size(const gpp_evq *q) { return q->size; }
/* Time of the earliest event, or INFINITY when empty. */
double gpp_evq_peek_time(const gpp_evq *q);

#endif
