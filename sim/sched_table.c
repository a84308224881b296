/* sched_table.c -- the table of schedules, selected by name. */
#include <string.h>

#include "sim/sched.h"
#include "sim/sched_internal.h"

static const gpp_sched_type *const table[] = {
    &gpp__sched_gpp, &gpp__sched_gpipe, &gpp__sched_1f1b,
    &gpp__sched_interleaved};
#define N_SCHED (sizeof table / sizeof table[0])

static const char *const names[N_SCHED + 1] = {"gpp", "gpipe", "1f1b",
                                                "interleaved", NULL};

const char *const *gpp_sched_names(void) { return names; }

const gpp_sched_type *gpp_sched_find(const char *name) {
  for (size_t i = 0; i < N_SCHED; i++)
    if (strcmp(table[i]->name, name) == 0) return table[i];
  return NULL;
}
