/* layers.c -- the layer graph Piper plans on: Piper (NeurIPS'21,
 * msr-fiddle/piper) partitions a graph of layers, not of single ops, so
 * its downsets are counted over layers.  Ops are grouped by the structure
 * the model generators give their names (sim/model/model_gen.c): the ops of one
 * Transformer layer ("<p>.l<N>.<op>") form a layer, an MLP's linear and
 * its activation ("<p>.fc<N>", "<p>.act<N>") form a layer, and every
 * other op is a layer of its own.  Ops are in topological order and a
 * layer is a run of consecutive ops with one key, so every layer is convex
 * and the layer graph is acyclic. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"

/* Whether s[0, n) is `word` followed by one or more digits. */
static bool word_digits(const char *s, size_t n, const char *word) {
  size_t w = strlen(word);
  if (n <= w || strncmp(s, word, w) != 0) return false;
  for (size_t i = w; i < n; i++)
    if (!isdigit((unsigned char)s[i])) return false;
  return true;
}

/* The layer key of an op name: its length in name, or 0 for the op alone;
 * *num gets the MLP layer's number (its digits), else NULL. */
static size_t layer_key(const char *name, const char **num) {
  *num = NULL;
  const char *dot = strrchr(name, '.');
  if (dot == NULL) return 0;
  size_t plen = (size_t)(dot - name);
  const char *parent = dot;
  while (parent > name && parent[-1] != '.') parent--;
  if (word_digits(parent, (size_t)(dot - parent), "l")) return plen;
  const char *leaf = dot + 1;
  size_t ln = strlen(leaf);
  if (word_digits(leaf, ln, "fc")) *num = leaf + 2;
  else if (word_digits(leaf, ln, "act")) *num = leaf + 3;
  return *num ? plen : 0;
}

static bool same_layer(const char *a, const char *b) {
  const char *na, *nb;
  size_t ka = layer_key(a, &na), kb = layer_key(b, &nb);
  if (ka == 0 || ka != kb || strncmp(a, b, ka) != 0) return false;
  if ((na == NULL) != (nb == NULL)) return false;
  return na == NULL || strcmp(na, nb) == 0;
}

/* Distinct layer-graph edges, in order of their consumer. */
static int layer_edges(const gpp_model *m, gpp__layers *L, gpp_errctx *err) {
  size_t cap = 0;
  for (uint32_t i = 0; i < m->n_ops; i++) cap += m->ops[i].n_inputs;
  L->from = gpp_calloc(err, cap ? cap : 1, sizeof *L->from);
  L->to = gpp_calloc(err, cap ? cap : 1, sizeof *L->to);
  L->in_off = gpp_calloc(err, (size_t)L->n + 1, sizeof *L->in_off);
  uint32_t *seen = gpp_calloc(err, L->n, sizeof *seen);
  if (!(L->from && L->to && L->in_off && seen)) {
    free(seen);
    return err->code;
  }
  for (uint32_t v = 0; v < m->n_ops; v++) {
    uint32_t b = L->of[v];
    for (uint32_t j = 0; j < m->ops[v].n_inputs; j++) {
      uint32_t a = L->of[m->ops[v].inputs[j]];
      if (a == b || seen[a] == b + 1) continue;
      seen[a] = b + 1;
      L->from[L->n_edges] = a;
      L->to[L->n_edges++] = b;
    }
    L->in_off[b + 1] = (uint32_t)L->n_edges;
  }
  free(seen);
  return 0;
}

int gpp__layers_build(const gpp_model *m, gpp__layers *L, gpp_errctx *err) {
  memset(L, 0, sizeof *L);
  L->of = gpp_calloc(err, m->n_ops ? m->n_ops : 1, sizeof *L->of);
  if (L->of == NULL) return err->code;
  for (uint32_t v = 0; v < m->n_ops; v++) {
    if (v == 0 || !same_layer(m->ops[v - 1].name, m->ops[v].name)) L->n++;
    L->of[v] = L->n - 1;
  }
  int rc = layer_edges(m, L, err);
  if (rc != 0) gpp__layers_free(L);
  return rc;
}

void gpp__layers_free(gpp__layers *L) {
  if (L == NULL) return;
  free(L->of);
  free(L->from);
  free(L->to);
  free(L->in_off);
  memset(L, 0, sizeof *L);
}
