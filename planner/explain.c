/* explain.c -- the candidate and per-stage listing of `plan --explain`
 * (explain.h). */
#include "planner/explain.h"

#include <stdbool.h>

#include "sim/common/units.h"

double gpp_explain_simulated(const gpp_study_point *pt, uint32_t i) {
  if (i < pt->n_simulated) return pt->simulated[i];
  if (i == pt->chosen && pt->sim != NULL)
    return pt->sim->oom ? -1 : pt->sim->iteration_time;
  return 0;
}

/* "0.54 s (+0.9% vs estimate)", "out of memory or failed", "-". */
static void simulated_cell(double sim, double est, char *buf, size_t len) {
  if (sim > 0)
    snprintf(buf, len, "%.4g s (%+.1f%%)", sim, 100 * (est / sim - 1));
  else
    snprintf(buf, len, "%s", sim < 0 ? "does not fit / failed" : "-");
}

/* "-" in the default mode, else e.g. "tp2 shard:full recompute:selective". */
static void mode_cell(const gpp_planner_stage *st, char *buf, size_t len) {
  int n = 0;
  buf[0] = 0;
  if (st->tensor > 1) n += snprintf(buf, len, "tp%u", st->tensor);
  if (st->sharding != GPP_SHARD_NONE)
    n += snprintf(buf + n, len - (size_t)n, "%sshard:%s", n ? " " : "",
                  gpp_sharding_name(st->sharding));
  if (st->recompute != GPP_RECOMPUTE_NONE)
    n += snprintf(buf + n, len - (size_t)n, "%srecompute:%s", n ? " " : "",
                  gpp_recompute_name(st->recompute));
  if (n == 0) snprintf(buf, len, "-");
}

static void stage_rows(FILE *f, const gpp_model *m,
                       const gpp_planner_candidate *c, double mem_bytes) {
  char t[32], mem[32], cap[32];
  gpp_units_format(mem_bytes, GPP_Q_BYTES, cap, sizeof cap);
  fprintf(f, "  %5s %5s %-40s %9s %6s %9s %12s %10s  %s\n", "stage", "ops",
          "first op .. last op", "GPUs", "micro", "in-flight", "time/sample",
          "memory", "mode");
  for (uint32_t s = 0; s < c->n_stages; s++) {
    const gpp_planner_stage *st = &c->stages[s];
    char span[96];
    snprintf(span, sizeof span, "%.18s .. %.18s", m->ops[st->ops[0]].name,
             m->ops[st->ops[st->n_ops - 1]].name);
    char gpus[24];
    snprintf(gpus, sizeof gpus, "%u-%u", st->first_device,
             st->first_device + st->n_devices - 1);
    gpp_units_format(st->tps, GPP_Q_TIME, t, sizeof t);
    gpp_units_format(st->mem_bytes, GPP_Q_BYTES, mem, sizeof mem);
    char mode[80];
    mode_cell(st, mode, sizeof mode);
    fprintf(f, "  %5u %5u %-40s %9s %6u %9u %12s %10s  %s\n", s, st->n_ops,
            span, gpus, st->micro_batch, st->inflight, t, mem, mode);
  }
  fprintf(f, "  (time per sample and memory per GPU are the planner's "
          "estimates; each GPU has %s; mode: tensor-parallel degree, "
          "sharding, recompute where not the default)\n", cap);
}

/* Whether the candidate's stages use more than one micro-batch size. */
static bool mixed(const gpp_planner_candidate *c) {
  for (uint32_t s = 0; s < c->n_stages; s++)
    if (c->stages[s].micro_batch != c->micro_batch) return true;
  return false;
}

void gpp_explain_text(FILE *f, const gpp_planner_input *in,
                      const gpp_study_point *pt, double mem_bytes) {
  const gpp_planner_result *res = &pt->res;
  fprintf(f, "\ncandidates: the best plan per micro-batch size, best "
          "estimate first (* chosen)\n");
  fprintf(f, "  %3s %6s %6s %5s %5s %12s %14s %24s\n", "#", "micro", "stages",
          "depth", "GPUs", "TPS", "iteration est", "simulated (est. error)");
  fprintf(f, "  (micro <=N: the stages' sizes differ, N the largest)\n");
  for (uint32_t i = 0; i < res->n_cands; i++) {
    const gpp_planner_candidate *c = &res->cands[i];
    char tps[32], sim[64], mb[16];
    snprintf(mb, sizeof mb, "%s%u", mixed(c) ? "<=" : "", c->micro_batch);
    gpp_units_format(c->tps, GPP_Q_TIME, tps, sizeof tps);
    simulated_cell(gpp_explain_simulated(pt, i), c->iteration, sim,
                   sizeof sim);
    fprintf(f, "%c %3u %6s %6u %5u %5u %12s %12.4g s %24s\n",
            i == pt->chosen ? '*' : ' ', i, mb, c->n_stages,
            c->depth, c->devices_used, tps, c->iteration, sim);
  }
  for (uint32_t i = 0; i < res->n_cands; i++) {
    const gpp_planner_candidate *c = &res->cands[i];
    fprintf(f, "\ncandidate %u%s: micro-batch %u, schedule %s\n", i,
            i == pt->chosen ? " (chosen)" : "", c->micro_batch, c->schedule);
    stage_rows(f, in->model, c, mem_bytes);
  }
}

static json_t *stage_json(const gpp_model *m, const gpp_planner_stage *st) {
  return json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:I, "
                   "s:s, s:s}", "ops",
                   (json_int_t)st->n_ops, "first_op",
                   m->ops[st->ops[0]].name, "last_op",
                   m->ops[st->ops[st->n_ops - 1]].name, "first_device",
                   (json_int_t)st->first_device, "devices",
                   (json_int_t)st->n_devices, "micro_batch",
                   (json_int_t)st->micro_batch, "inflight",
                   (json_int_t)st->inflight, "tps_seconds", st->tps,
                   "memory_bytes", st->mem_bytes, "tensor",
                   (json_int_t)st->tensor, "sharding",
                   gpp_sharding_name(st->sharding), "recompute",
                   gpp_recompute_name(st->recompute));
}

static json_t *cand_json(const gpp_planner_input *in,
                         const gpp_study_point *pt, uint32_t i) {
  const gpp_planner_candidate *c = &pt->res.cands[i];
  double sim = gpp_explain_simulated(pt, i);
  json_t *stages = json_array();
  for (uint32_t s = 0; stages && s < c->n_stages; s++)
    if (json_array_append_new(stages, stage_json(in->model, &c->stages[s])))
      break;
  return json_pack("{s:I, s:b, s:I, s:b, s:s, s:I, s:I, s:I, s:f, s:f, s:o, "
                   "s:o, s:o}", "index", (json_int_t)i, "chosen",
                   i == pt->chosen, "micro_batch", (json_int_t)c->micro_batch,
                   "mixed_micro_batches", mixed(c),
                   "schedule", c->schedule, "stages", (json_int_t)c->n_stages,
                   "depth", (json_int_t)c->depth, "devices_used",
                   (json_int_t)c->devices_used, "tps", c->tps,
                   "iteration_estimate", c->iteration, "iteration_simulated",
                   sim > 0 ? json_real(sim) : json_null(), "fits",
                   sim == 0 ? json_null() : json_boolean(sim > 0),
                   "stage_list", stages);
}

json_t *gpp_explain_json(const gpp_planner_input *in,
                         const gpp_study_point *pt) {
  json_t *a = json_array();
  for (uint32_t i = 0; a && i < pt->res.n_cands; i++)
    if (json_array_append_new(a, cand_json(in, pt, i)) != 0) {
      json_decref(a);
      return NULL;
    }
  return a;
}
