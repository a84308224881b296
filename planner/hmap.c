/* hmap.c -- an open-addressing hash map with 128-bit keys, for the DP memo
 * tables and caches, which are cleared between binary-search probes.  A
 * slot holds its key and value together, so a hit reads one cache line. */
#include <stdlib.h>

#include "planner/internal.h"

#define EMPTY UINT64_MAX

static uint64_t mix(uint64_t key) {
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdull;
  key ^= key >> 33;
  key *= 0xc4ceb9fe1a85ec53ull;
  key ^= key >> 33;
  return key;
}

static size_t slot_of(uint64_t k0, uint64_t k1, size_t cap) {
  return (size_t)mix(k0 ^ mix(k1 + 0x9e3779b97f4a7c15ull)) & (cap - 1);
}

static bool same(const gpp__hslot *e, uint64_t k0, uint64_t k1) {
  return e->key[0] == k0 && e->key[1] == k1;
}

int gpp__hmap_init(gpp__hmap *h, size_t cap, gpp_errctx *err) {
  size_t c = 16;
  while (c < cap) c *= 2;
  h->slots = gpp_calloc(err, c, sizeof *h->slots);
  if (h->slots == NULL) return err->code;
  h->cap = c;
  h->len = 0;
  for (size_t i = 0; i < c; i++) h->slots[i].key[0] = EMPTY;
  return 0;
}

void gpp__hmap_free(gpp__hmap *h) {
  free(h->slots);
  h->slots = NULL;
  h->cap = h->len = 0;
}

void gpp__hmap_clear(gpp__hmap *h) {
  if (h->len == 0) return;
  for (size_t i = 0; i < h->cap; i++) h->slots[i].key[0] = EMPTY;
  h->len = 0;
}

uint64_t *gpp__hmap_get2(const gpp__hmap *h, uint64_t k0, uint64_t k1) {
  for (size_t i = slot_of(k0, k1, h->cap);; i = (i + 1) & (h->cap - 1)) {
    gpp__hslot *e = &h->slots[i];
    if (same(e, k0, k1)) return e->val;
    if (e->key[0] == EMPTY) return NULL;
  }
}

static int grow(gpp__hmap *h, gpp_errctx *err) {
  gpp__hmap big = {0};
  GPP_TRY(gpp__hmap_init(&big, h->cap * 2, err));
  for (size_t i = 0; i < h->cap; i++) {
    const gpp__hslot *e = &h->slots[i];
    if (e->key[0] == EMPTY) continue;
    size_t j = slot_of(e->key[0], e->key[1], big.cap);
    while (big.slots[j].key[0] != EMPTY) j = (j + 1) & (big.cap - 1);
    big.slots[j] = *e;
  }
  big.len = h->len;
  gpp__hmap_free(h);
  *h = big;
  return 0;
}

uint64_t *gpp__hmap_put2(gpp__hmap *h, uint64_t k0, uint64_t k1,
                         gpp_errctx *err) {
  if (2 * (h->len + 1) > h->cap && grow(h, err) != 0) return NULL;
  size_t i = slot_of(k0, k1, h->cap);
  while (h->slots[i].key[0] != EMPTY && !same(&h->slots[i], k0, k1))
    i = (i + 1) & (h->cap - 1);
  gpp__hslot *e = &h->slots[i];
  if (e->key[0] == EMPTY) {
    *e = (gpp__hslot){{k0, k1}, {0, 0, 0, 0}};
    h->len++;
  }
  return e->val;
}
