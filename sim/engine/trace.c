/* trace.c -- the Chrome-trace JSON timeline (chrome://tracing, Perfetto).
 *
 * Process 0 "GPUs" has one thread per used GPU compute stream; process 1
 * "network" holds transfers on lanes packed greedily by start time (a lane
 * never has overlapping slices); process 2 "collectives" one thread per
 * stage.  Flow arrows ("s"/"f" events) go from each producing compute task
 * to the compute task its transfer feeds.  Times are microseconds.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/outfile.h"
#include "sim/engine/results.h"
#include "sim/plan/sched.h"

enum { PID_GPU = 0, PID_NET = 1, PID_COLL = 2 };

static int add(json_t *arr, json_t *ev, gpp_errctx *err) {
  if (ev == NULL || json_array_append_new(arr, ev) != 0)
    GPP_RAISE(err, GPP_ENOMEM, "cannot build the trace");
  return 0;
}

static int meta(json_t *arr, const char *what, int pid, long tid,
                const char *name, gpp_errctx *err) {
  return add(arr, json_pack("{s:s, s:s, s:i, s:I, s:{s:s}}", "name", what,
                            "ph", "M", "pid", pid, "tid", (json_int_t)tid,
                            "args", "name", name), err);
}

static json_t *slice(const gpp_plan *p, const gpp_task_rec *t, int pid,
                     long tid) {
  char name[160];
  const char *st = t->stage >= 0 ? p->stages[t->stage].name : "?";
  if (t->micro_batch >= 0)
    snprintf(name, sizeof name, "%s %s mb%d", gpp_task_kind_name(t->kind), st,
             t->micro_batch);
  else
    snprintf(name, sizeof name, "%s %s", gpp_task_kind_name(t->kind), st);
  return json_pack("{s:s, s:s, s:s, s:f, s:f, s:i, s:I, s:{s:i, s:i, s:i, "
                   "s:i, s:i, s:f}}", "name", name, "cat",
                   gpp_task_kind_name(t->kind), "ph", "X", "ts", t->start * 1e6,
                   "dur", (t->end - t->start) * 1e6, "pid", pid, "tid",
                   (json_int_t)tid, "args", "stage", t->stage, "micro_batch",
                   t->micro_batch, "replica", (int)t->replica, "device",
                   (int)t->device, "peer", (int)t->peer, "bytes", t->bytes);
}

static bool is_compute(const gpp_task_rec *t) {
  return t->kind == GPP_TASK_FWD || t->kind == GPP_TASK_BWD ||
         t->kind == GPP_TASK_OPT;
}

static bool is_xfer(const gpp_task_rec *t) {
  return t->kind == GPP_TASK_ACT || t->kind == GPP_TASK_GRAD;
}

typedef struct trace_ctx {
  const gpp_plan *plan;
  const gpp_result *res;
  json_t *ev;
  uint32_t *rec_of_task; /* compute task id -> record index */
  uint32_t n_task_ids;
  double *lane_end;
  uint32_t n_lanes;
  gpp_errctx *err;
} trace_ctx;

typedef struct by_start {
  double start;
  uint32_t rec;
} by_start;

static int cmp_start(const void *a, const void *b) {
  const by_start *x = a, *y = b;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  return x->rec < y->rec ? -1 : x->rec > y->rec;
}

static int lane_for(trace_ctx *c, const gpp_task_rec *t) {
  uint32_t l = 0;
  while (l < c->n_lanes && c->lane_end[l] > t->start) l++;
  if (l == c->n_lanes) c->n_lanes++;
  c->lane_end[l] = t->end;
  return (int)l;
}

static int flow(trace_ctx *c, const gpp_task_rec *t, json_int_t id) {
  if (t->src_task >= c->n_task_ids || t->task >= c->n_task_ids) return 0;
  const gpp_task_rec *a = &c->res->tasks[c->rec_of_task[t->src_task]];
  const gpp_task_rec *b = &c->res->tasks[c->rec_of_task[t->task]];
  GPP_TRY(add(c->ev, json_pack("{s:s, s:s, s:s, s:I, s:f, s:i, s:I}", "name",
                               "data", "cat", "dependency", "ph", "s", "id",
                               id, "ts", a->start * 1e6, "pid", PID_GPU,
                               "tid", (json_int_t)a->device), c->err));
  return add(c->ev, json_pack("{s:s, s:s, s:s, s:s, s:I, s:f, s:i, s:I}",
                              "name", "data", "cat", "dependency", "ph", "f",
                              "bp", "e", "id", id, "ts", b->start * 1e6, "pid",
                              PID_GPU, "tid", (json_int_t)b->device), c->err);
}

static int compute_tracks(trace_ctx *c) {
  const gpp_result *r = c->res;
  GPP_TRY(meta(c->ev, "process_name", PID_GPU, 0, "GPUs", c->err));
  GPP_TRY(meta(c->ev, "process_name", PID_NET, 0, "network", c->err));
  GPP_TRY(meta(c->ev, "process_name", PID_COLL, 0, "collectives", c->err));
  char name[64];
  for (uint32_t d = 0; d < r->n_devices; d++) {
    if (!r->devices[d].used) continue;
    snprintf(name, sizeof name, "gpu%u compute", d);
    GPP_TRY(meta(c->ev, "thread_name", PID_GPU, d, name, c->err));
  }
  for (size_t i = 0; i < r->n_tasks; i++) {
    const gpp_task_rec *t = &r->tasks[i];
    if (is_compute(t)) {
      GPP_TRY(add(c->ev, slice(c->plan, t, PID_GPU, t->device), c->err));
      if (t->task < c->n_task_ids) c->rec_of_task[t->task] = (uint32_t)i;
    } else if (t->kind >= GPP_TASK_ALLREDUCE) {
      GPP_TRY(add(c->ev, slice(c->plan, t, PID_COLL, t->stage), c->err));
    }
  }
  for (uint32_t s = 0; s < c->plan->n_stages; s++) {
    snprintf(name, sizeof name, "all-reduce %s", c->plan->stages[s].name);
    GPP_TRY(meta(c->ev, "thread_name", PID_COLL, s, name, c->err));
  }
  return 0;
}

static int transfer_tracks(trace_ctx *c, by_start *order, size_t n) {
  char name[64];
  for (size_t i = 0; i < n; i++) {
    const gpp_task_rec *t = &c->res->tasks[order[i].rec];
    GPP_TRY(add(c->ev, slice(c->plan, t, PID_NET, lane_for(c, t)), c->err));
    GPP_TRY(flow(c, t, (json_int_t)i + 1));
  }
  for (uint32_t l = 0; l < c->n_lanes; l++) {
    snprintf(name, sizeof name, "transfers lane %u", l);
    GPP_TRY(meta(c->ev, "thread_name", PID_NET, l, name, c->err));
  }
  return 0;
}

static int build(trace_ctx *c) {
  const gpp_result *r = c->res;
  size_t n = 0;
  for (size_t i = 0; i < r->n_tasks; i++) {
    if (is_compute(&r->tasks[i]) && r->tasks[i].task >= c->n_task_ids)
      c->n_task_ids = r->tasks[i].task + 1;
    n += is_xfer(&r->tasks[i]);
  }
  by_start *order = gpp_calloc(c->err, n + 1, sizeof *order);
  c->rec_of_task = gpp_calloc(c->err, c->n_task_ids + 1, sizeof(uint32_t));
  c->lane_end = gpp_calloc(c->err, n + 1, sizeof(double));
  int rc = order && c->rec_of_task && c->lane_end ? 0 : c->err->code;
  for (size_t i = 0, k = 0; rc == 0 && i < r->n_tasks; i++)
    if (is_xfer(&r->tasks[i])) order[k++] = (by_start){r->tasks[i].start, (uint32_t)i};
  if (rc == 0) qsort(order, n, sizeof *order, cmp_start);
  if (rc == 0) rc = compute_tracks(c);
  if (rc == 0) rc = transfer_tracks(c, order, n);
  free(order);
  free(c->rec_of_task);
  free(c->lane_end);
  return rc;
}

static json_t *document(json_t *events, const gpp_plan *p,
                        const gpp_result *r) {
  return json_pack("{s:o, s:s, s:{s:s, s:s, s:f, s:I}}", "traceEvents",
                   events, "displayTimeUnit", "ms", "otherData", "plan",
                   p->path ? p->path : "", "schedule", p->schedule->name,
                   "iteration_time_s", r->iteration_time, "batch",
                   (json_int_t)p->batch);
}

int gpp_trace_write(const char *path, const gpp_plan *plan,
                    const gpp_result *res, gpp_errctx *err) {
  trace_ctx c = {.plan = plan, .res = res, .ev = json_array(), .err = err};
  if (c.ev == NULL) GPP_RAISE(err, GPP_ENOMEM, "cannot build the trace");
  int rc = build(&c);
  if (rc != 0) {
    json_decref(c.ev);
    return rc;
  }
  json_t *doc = document(c.ev, plan, res); /* takes c.ev, even on failure */
  if (doc == NULL) GPP_RAISE(err, GPP_ENOMEM, "cannot build the trace");
  char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(doc);
  if (text == NULL) GPP_RAISE(err, GPP_ENOMEM, "cannot build the trace");
  rc = gpp_outfile_write_text(path, text, strlen(text), err);
  free(text);
  return rc;
}
