/* plan_format.c -- the effective plan as YAML, for the /inputs record of a
 * results file: every default filled in, so the run can be replayed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/arena.h"
#include "sim/plan/plan.h"
#include "sim/plan/sched.h"

static void put_stage(FILE *f, const gpp_plan_stage *s) {
  fprintf(f, "  - name: \"%s\"\n    ops: [", s->name);
  for (uint32_t i = 0; i < s->n_patterns; i++)
    fprintf(f, "%s\"%s\"", i ? ", " : "", s->patterns[i]);
  fprintf(f, "]\n    devices: [");
  for (uint32_t i = 0; i < s->n_devices; i++)
    fprintf(f, "%s%u", i ? ", " : "", s->devices[i]);
  fprintf(f, "]\n    micro_batch: %u\n", s->micro_batch);
  if (s->tensor != 1) fprintf(f, "    tensor: %u\n", s->tensor);
  if (s->sequence_parallel) fprintf(f, "    sequence_parallel: true\n");
  if (s->sharding != GPP_SHARD_NONE)
    fprintf(f, "    sharding: %s\n", gpp_sharding_name(s->sharding));
  if (s->recompute != GPP_RECOMPUTE_NONE)
    fprintf(f, "    recompute: %s\n", gpp_recompute_name(s->recompute));
}

static void put_plan(FILE *f, const gpp_plan *p) {
  fprintf(f, "model: \"%s\"\nbatch: %u\nmicro_batch: %u\nschedule: %s\n",
          p->model_path, p->batch, p->micro_batch, p->schedule->name);
  fprintf(f, "chunks: %u\noptimizer: %s\nprecision: %s\n", p->chunks,
          gpp_optimizer_name(p->optimizer), gpp_precision_name(p->precision));
  if (gpp_reduce_dtype_name(p))
    fprintf(f, "reduce_dtype: %s\n", gpp_reduce_dtype_name(p));
  fprintf(f, "stages:\n");
  for (uint32_t s = 0; s < p->n_stages; s++) put_stage(f, &p->stages[s]);
}

const char *gpp_plan_format(gpp_plan *p, gpp_errctx *err) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL) {
    GPP_ERR(err, GPP_ENOMEM, "cannot format the plan");
    return NULL;
  }
  put_plan(f, p);
  if (fclose(f) != 0 || buf == NULL) {
    free(buf);
    GPP_ERR(err, GPP_ENOMEM, "cannot format the plan");
    return NULL;
  }
  char *out = gpp_arena_strdup(p->arena, buf, err);
  free(buf);
  return out;
}
