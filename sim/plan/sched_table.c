/* sched_table.c -- the schedules a plan may name, selected by name: each
 * one's policy flags, and the plan-shape check of the interleaved schedule
 * (Megatron-LM's interleaved 1F1B, whose p*v stages run on p pipeline
 * ranks: stage j on rank j mod p, so stage j and stage j+p list the same
 * devices, and m must be a multiple of p). */
#include <string.h>

#include "sim/plan/plan.h"
#include "sim/plan/sched.h"

static bool same_devices(const gpp_plan_stage *a, const gpp_plan_stage *b) {
  if (a->n_devices != b->n_devices) return false;
  for (uint32_t i = 0; i < a->n_devices; i++)
    if (a->devices[i] != b->devices[i]) return false;
  return true;
}

static int check_stage(const gpp_plan *pl, uint32_t j, uint32_t p,
                       gpp_errctx *err) {
  const gpp_plan_stage *s = &pl->stages[pl->topo[j]];
  const gpp_plan_stage *r = &pl->stages[pl->topo[j % p]];
  if (s->micro_batch != pl->micro_batch)
    GPP_RAISE_AT(err, GPP_EINVAL, &s->mark, "interleaved: stage '%s' has "
                 "its own micro_batch; all stages must use %u", s->name,
                 pl->micro_batch);
  if (!same_devices(s, r))
    GPP_RAISE_AT(err, GPP_EINVAL, &s->devices_mark, "interleaved: stage "
                 "'%s' (chunk %u of rank %u) must list the devices of stage "
                 "'%s'", s->name, j / p, j % p, r->name);
  for (uint32_t i = 0; i < p && j < p; i++)
    for (uint32_t a = 0; i != j && a < s->n_devices; a++)
      for (uint32_t b = 0; b < pl->stages[pl->topo[i]].n_devices; b++)
        if (s->devices[a] == pl->stages[pl->topo[i]].devices[b])
          GPP_RAISE_AT(err, GPP_EINVAL, &s->devices_mark, "interleaved: "
                       "device %u serves two pipeline ranks", s->devices[a]);
  return 0;
}

static int check_interleaved(const gpp_plan *pl, gpp_errctx *err) {
  uint32_t v = pl->chunks, n = pl->n_stages;
  if (n % v != 0)
    GPP_RAISE_AT(err, GPP_EINVAL, &pl->schedule_mark, "interleaved with %u "
                 "chunks needs a multiple of %u stages, not %u", v, v, n);
  uint32_t p = n / v, m = pl->stages[0].n_micro;
  if (m % p != 0)
    GPP_RAISE_AT(err, GPP_EINVAL, &pl->schedule_mark, "interleaved: %u "
                 "micro-batches is not a multiple of the %u pipeline ranks",
                 m, p);
  for (uint32_t j = 0; j < n; j++) GPP_TRY(check_stage(pl, j, p, err));
  return 0;
}

static const gpp_sched_type table[GPP_SCHED_COUNT] = {
    [GPP_SCHED_GPP] = {
        .id = GPP_SCHED_GPP,
        .name = "gpp",
        .summary = "1F1B on the stage graph (in-flight = depth to the sink)",
    },
    [GPP_SCHED_GPIPE] = {
        .id = GPP_SCHED_GPIPE,
        .name = "gpipe",
        .summary = "all forwards, then all backwards",
        .flush_forwards = true,
        .forward_first = true,
        .sequential = true,
    },
    [GPP_SCHED_1F1B] = {
        .id = GPP_SCHED_1F1B,
        .name = "1f1b",
        .summary = "one forward one backward; stage i of p caps p-i in flight",
        .sequential = true,
    },
    [GPP_SCHED_INTERLEAVED] = {
        .id = GPP_SCHED_INTERLEAVED,
        .name = "interleaved",
        .summary = "Megatron interleaved 1F1B with `chunks` stages per device",
        .check = check_interleaved,
        .static_order = true,
        .sequential = true,
    },
};

static const char *const names[GPP_SCHED_COUNT + 1] = {
    "gpp", "gpipe", "1f1b", "interleaved", NULL};

const char *const *gpp_sched_names(void) { return names; }

const gpp_sched_type *gpp_sched_find(const char *name) {
  for (size_t i = 0; i < GPP_SCHED_COUNT; i++)
    if (strcmp(table[i].name, name) == 0) return &table[i];
  return NULL;
}
