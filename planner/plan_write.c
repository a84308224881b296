/* plan_write.c -- writes a candidate as a plan file (the format:
 * configs/experiments/plans/README.md), which the engine's plan loader (sim/plan/plan.h) reads back: exact op names
 * (glob characters escaped for fnmatch), the data-parallel devices of each
 * stage and, where they differ from the defaults, the stage's micro-batch,
 * tensor degree, sharding and recompute (so default plans read as before).
 * The planner's estimate goes into comments.  Files are written to a
 * temporary and renamed (sim/common/outfile.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/internal.h"
#include "sim/common/outfile.h"

/* A double-quoted YAML scalar whose text is an fnmatch pattern matching
 * exactly name. */
static void put_name(FILE *f, const char *name) {
  fputc('"', f);
  for (const char *p = name; *p; p++) {
    if (strchr("*?[\\", *p)) fputs("\\\\", f);
    if (*p == '"') fputc('\\', f);
    fputc(*p, f);
  }
  fputc('"', f);
}

static void put_stage(FILE *f, const gpp_model *m, const gpp_planner_stage *s,
                      uint32_t idx, uint32_t default_b) {
  fprintf(f, "  - name: s%u\n    ops: [", idx);
  for (uint32_t j = 0; j < s->n_ops; j++) {
    if (j) fputs(", ", f);
    put_name(f, m->ops[s->ops[j]].name);
  }
  fputs("]\n    devices: [", f);
  for (uint32_t d = 0; d < s->n_devices; d++)
    fprintf(f, "%s%u", d ? ", " : "", s->first_device + d);
  fputs("]\n", f);
  if (s->micro_batch != default_b)
    fprintf(f, "    micro_batch: %u\n", s->micro_batch);
  if (s->tensor > 1) fprintf(f, "    tensor: %u\n", s->tensor);
  if (s->sharding != GPP_SHARD_NONE)
    fprintf(f, "    sharding: %s\n", gpp_sharding_name(s->sharding));
  if (s->recompute != GPP_RECOMPUTE_NONE)
    fprintf(f, "    recompute: %s\n", gpp_recompute_name(s->recompute));
}

static void put_plan(FILE *f, const gpp_planner_input *in,
                     const gpp_planner_options *opt,
                     const gpp_planner_result *r,
                     const gpp_planner_candidate *c) {
  const char *path = in->model_path ? in->model_path : in->model->path;
  /* No wall-clock figure here: the same search writes the same file. */
  fprintf(f, "# planner: %s; estimated bottleneck %.6g s/sample, iteration "
          "%.6g s, depth %u; %llu states searched\n",
          r->planner, c->tps, c->iteration, c->depth,
          (unsigned long long)r->states);
  fputs("model: ", f);
  put_name(f, path ? path : "");
  fprintf(f, "\nbatch: %u\nmicro_batch: %u\nschedule: %s\n", in->batch,
          c->micro_batch, c->schedule);
  fprintf(f, "optimizer: %s\nprecision: %s\nstages:\n",
          gpp_optimizer_name(opt->optimizer),
          gpp_precision_name(gpp_precision_of_model(in->model)));
  for (uint32_t s = 0; s < c->n_stages; s++)
    put_stage(f, in->model, &c->stages[s], s, c->micro_batch);
}

int gpp_planner_write_plan(const gpp_planner_input *in,
                           const gpp_planner_options *opt,
                           const gpp_planner_result *r,
                           const gpp_planner_candidate *c, const char *path,
                           gpp_errctx *err) {
  gpp_outfile o;
  GPP_TRY(gpp_outfile_begin(&o, path, 1, err));
  put_plan(o.f, in, opt, r, c);
  return gpp_outfile_commit(&o, err); /* reports a failed write */
}

int gpp_planner_format_plan(const gpp_planner_input *in,
                            const gpp_planner_options *opt,
                            const gpp_planner_result *r,
                            const gpp_planner_candidate *c, char **text,
                            gpp_errctx *err) {
  size_t len = 0;
  *text = NULL;
  FILE *f = open_memstream(text, &len);
  if (f == NULL) GPP_RAISE(err, GPP_ENOMEM, "cannot format a plan");
  put_plan(f, in, opt, r, c);
  if (fclose(f) != 0) {
    free(*text);
    *text = NULL;
    GPP_RAISE(err, GPP_ENOMEM, "cannot format a plan");
  }
  return 0;
}
