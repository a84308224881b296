/* exec_prog.c -- gppsim-exec's issue program: the order the simulator
 * predicts, as the order in which the executor issues real work.
 *
 * Issuing every task in order of simulated start time is a valid order for
 * CUDA events: a task's dependencies end no later than it starts, and a
 * dependency that starts at the same instant (a zero-time task) completed,
 * and so was recorded, before it -- hence the tie-break by record index.
 */
#include <stdlib.h>

#include "validate/validate.h"

int gpp_exec_check_plan(const gpp_plan *plan, gpp_errctx *err) {
  for (uint32_t s = 0; s < plan->n_stages; s++) {
    const gpp_plan_stage *st = &plan->stages[s];
    if (st->n_devices > 1)
      GPP_RAISE_AT(err, GPP_EINVAL, &st->devices_mark,
                   "stage '%s' has %u data-parallel replicas: gppsim-exec "
                   "runs pipelines of one device per stage (it has no "
                   "all-reduce)", st->name, st->n_devices);
    for (uint32_t i = 0; i < st->n_ops; i++) {
      const gpp_op *op = &plan->model->ops[st->ops[i]];
      if (op->kind == GPP_OP_CUSTOM)
        GPP_RAISE_AT(err, GPP_EINVAL, &st->mark,
                     "stage '%s': op '%s' is of kind custom, which has no "
                     "kernels to run", st->name, op->name);
    }
  }
  return 0;
}

static const gpp_task_rec *sort_recs;

static int by_start(const void *a, const void *b) {
  uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
  double si = sort_recs[i].start, sj = sort_recs[j].start;
  if (si != sj) return si < sj ? -1 : 1;
  return i < j ? -1 : i > j;
}

static bool is_compute(uint32_t kind) {
  return kind == GPP_TASK_FWD || kind == GPP_TASK_BWD || kind == GPP_TASK_OPT;
}

static bool is_transfer(uint32_t kind) {
  return kind == GPP_TASK_ACT || kind == GPP_TASK_GRAD;
}

/* pos_of_task[id] = issue position of the compute task with that id. */
static int index_compute(const gpp_result *res, const gpp_exec_prog *p,
                         uint32_t **pos_of_task, uint32_t *n_ids,
                         gpp_errctx *err) {
  uint32_t max_id = 0;
  for (size_t i = 0; i < res->n_tasks; i++)
    if (is_compute(res->tasks[i].kind) && res->tasks[i].task > max_id)
      max_id = res->tasks[i].task;
  uint32_t *pos = gpp_calloc(err, (size_t)max_id + 1, sizeof *pos);
  if (pos == NULL) return err->code;
  for (uint32_t i = 0; i <= max_id; i++) pos[i] = UINT32_MAX;
  for (uint32_t k = 0; k < p->n; k++) {
    const gpp_task_rec *r = &res->tasks[p->order[k]];
    if (is_compute(r->kind)) pos[r->task] = k;
  }
  *pos_of_task = pos;
  *n_ids = max_id + 1;
  return 0;
}

/* The issue position a record at position k waits for, or UINT32_MAX. */
static uint32_t wait_of(const gpp_result *res, const gpp_exec_prog *p,
                        const uint32_t *pos, uint32_t k) {
  const gpp_task_rec *r = &res->tasks[p->order[k]];
  return is_transfer(r->kind) ? pos[r->src_task] : UINT32_MAX;
}

/* Transfers feed the compute task r->task; the producer feeds the
 * transfer.  Counting pass when deps is NULL. */
static void link_deps(const gpp_result *res, gpp_exec_prog *p,
                      const uint32_t *pos, uint32_t *fill) {
  for (uint32_t k = 0; k < p->n; k++) {
    const gpp_task_rec *r = &res->tasks[p->order[k]];
    if (!is_transfer(r->kind)) continue;
    uint32_t src = wait_of(res, p, pos, k), dst = pos[r->task];
    if (fill == NULL) {
      p->dep_first[k + 1]++;
      p->dep_first[dst + 1]++;
      continue;
    }
    p->deps[fill[k]++] = src;
    p->deps[fill[dst]++] = k;
  }
}

static int check_transfers(const gpp_result *res, const gpp_exec_prog *p,
                           const uint32_t *pos, uint32_t n_ids,
                           gpp_errctx *err) {
  for (uint32_t k = 0; k < p->n; k++) {
    const gpp_task_rec *r = &res->tasks[p->order[k]];
    if (r->kind == GPP_TASK_ALLREDUCE)
      GPP_RAISE(err, GPP_EINVAL, "the result has an all-reduce (stage %d), "
                "which gppsim-exec cannot run", r->stage);
    if (is_transfer(r->kind) &&
        (r->src_task >= n_ids || r->task >= n_ids ||
         pos[r->src_task] == UINT32_MAX || pos[r->task] == UINT32_MAX))
      GPP_RAISE(err, GPP_EINTERNAL, "transfer into stage %d micro-batch %d "
                "names a task that was not recorded", r->stage,
                r->micro_batch);
  }
  return 0;
}

static int build(const gpp_result *res, gpp_exec_prog *p, gpp_errctx *err) {
  p->n = (uint32_t)res->n_tasks;
  p->order = gpp_calloc(err, p->n ? p->n : 1, sizeof *p->order);
  p->dep_first = gpp_calloc(err, (size_t)p->n + 1, sizeof *p->dep_first);
  if (p->order == NULL || p->dep_first == NULL) return err->code;
  for (uint32_t i = 0; i < p->n; i++) p->order[i] = i;
  sort_recs = res->tasks;
  qsort(p->order, p->n, sizeof *p->order, by_start);
  uint32_t *pos = NULL, n_ids = 0;
  GPP_TRY(index_compute(res, p, &pos, &n_ids, err));
  int rc = check_transfers(res, p, pos, n_ids, err);
  uint32_t *fill = NULL;
  if (rc == 0) {
    link_deps(res, p, pos, NULL);
    for (uint32_t k = 0; k < p->n; k++) p->dep_first[k + 1] += p->dep_first[k];
    p->deps = gpp_calloc(err, p->dep_first[p->n] + 1, sizeof *p->deps);
    fill = gpp_calloc(err, p->n + 1, sizeof *fill);
    rc = p->deps && fill ? 0 : err->code;
  }
  if (rc == 0) {
    for (uint32_t k = 0; k < p->n; k++) fill[k] = p->dep_first[k];
    link_deps(res, p, pos, fill);
  }
  free(fill);
  free(pos);
  return rc;
}

int gpp_exec_prog_build(const gpp_result *res, gpp_exec_prog *prog,
                        gpp_errctx *err) {
  *prog = (gpp_exec_prog){0};
  if (res->tasks == NULL && res->n_tasks > 0)
    GPP_RAISE(err, GPP_EINTERNAL, "the result has no per-task records");
  int rc = build(res, prog, err);
  if (rc != 0) gpp_exec_prog_free(prog);
  return rc;
}

void gpp_exec_prog_free(gpp_exec_prog *prog) {
  free(prog->order);
  free(prog->dep_first);
  free(prog->deps);
  *prog = (gpp_exec_prog){0};
}
