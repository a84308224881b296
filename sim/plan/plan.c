/* plan.c -- reading a plan file: keys, stages, model path resolution. The
 * op assignment and the stage graph are in plan_graph.c. */
#include "sim/plan/plan.h"

#include <stdlib.h>
#include <string.h>

#include "sim/common/arena.h"
#include "sim/common/bundle.h"
#include "sim/plan/plan_internal.h"
#include "sim/plan/sched.h"

static const char *const optimizer_names[] = {"sgd", "adam", NULL};
static const char *const precision_names[] = {"full", "mixed", "fp32", "tf32",
                                              "fp16", "bf16", "fp8", NULL};
static const char *const sharding_names[] = {"none", "optimizer", "gradients",
                                             "full", NULL};
static const char *const recompute_names[] = {"none", "selective", "full",
                                              NULL};
/* The dtypes gradients may be reduced in, with their element sizes. */
static const char *const reduce_names[] = {"fp32", "bf16", "fp16", NULL};
static const double reduce_sizes[] = {4, 2, 2};

const char *gpp_optimizer_name(gpp_optimizer o) {
  return (unsigned)o < 2 ? optimizer_names[o] : "?";
}

const char *gpp_precision_name(gpp_precision p) {
  return (unsigned)p < GPP_PREC__N ? precision_names[p] : "?";
}

const char *const *gpp_precision_names(void) { return precision_names; }

int gpp_precision_from_name(const char *name) {
  for (int i = 0; i < GPP_PREC__N; i++)
    if (strcmp(precision_names[i], name) == 0) return i;
  return -1;
}

const char *gpp_precision_model_dtype(gpp_precision p) {
  return p == GPP_PREC_FULL ? NULL : precision_names[p];
}

bool gpp_precision_master(gpp_precision p) {
  return p == GPP_PREC_MIXED || p >= GPP_PREC_FP16;
}

gpp_precision gpp_precision_of_model(const gpp_model *m) {
  for (int i = GPP_PREC_FP32; i < GPP_PREC__N; i++)
    if (m->precision && strcmp(precision_names[i], m->precision) == 0)
      return (gpp_precision)i;
  return m->dtype_bytes == 2 ? GPP_PREC_MIXED : GPP_PREC_FULL; /* unnamed */
}

const char *gpp_sharding_name(gpp_sharding s) {
  return (unsigned)s < 4 ? sharding_names[s] : "?";
}

const char *gpp_recompute_name(gpp_recompute r) {
  return (unsigned)r < 3 ? recompute_names[r] : "?";
}

const char *gpp_reduce_dtype_name(const gpp_plan *p) {
  return p->reduce_dtype >= 0 ? reduce_names[p->reduce_dtype] : NULL;
}

double gpp_plan_grad_scale(const gpp_plan *p, double param_count,
                           double param_bytes) {
  if (p->reduce_dtype < 0 || param_bytes <= 0) return 1;
  return reduce_sizes[p->reduce_dtype] * param_count / param_bytes;
}

typedef struct top_fields {
  const char *model;
  long long batch, micro_batch, chunks;
  int schedule, optimizer, precision, reduce_dtype;
  gpp_ynode stages;
} top_fields;

#define TF(key, type, field, req, lo, hi, names)                              \
  {key, type, offsetof(top_fields, field), req, GPP_Q_COUNT, lo, hi, names}

static int read_top(gpp_plan *p, gpp_ynode root, bool need_model,
                    top_fields *t, gpp_errctx *err) {
  const gpp_yfield fields[] = {
      TF("model", GPP_YF_STR, model, need_model, 0, 0, NULL),
      TF("batch", GPP_YF_INT, batch, true, 1, 1 << 30, NULL),
      TF("micro_batch", GPP_YF_INT, micro_batch, true, 1, 1 << 30, NULL),
      TF("schedule", GPP_YF_ENUM, schedule, true, 0, 0, gpp_sched_names()),
      TF("chunks", GPP_YF_INT, chunks, false, 1, 1024, NULL),
      TF("optimizer", GPP_YF_ENUM, optimizer, false, 0, 0, optimizer_names),
      TF("precision", GPP_YF_ENUM, precision, false, 0, 0, precision_names),
      TF("reduce_dtype", GPP_YF_ENUM, reduce_dtype, false, 0, 0,
         reduce_names),
      TF("stages", GPP_YF_NODE, stages, true, 0, 0, NULL),
  };
  memset(t, 0, sizeof *t);
  t->chunks = 1;
  t->optimizer = GPP_OPTIM_ADAM;
  t->precision = -1; /* absent: the model's */
  t->reduce_dtype = -1; /* absent: the weights' */
  GPP_TRY(gpp_yexpect(root, GPP_Y_MAP, "plan", err));
  GPP_TRY(gpp_yread_fields(root, fields, sizeof fields / sizeof fields[0], t,
                           err));
  p->schedule_mark = gpp_ynode_mark(gpp_ymap_find(root, "schedule"));
  p->batch_mark = gpp_ynode_mark(gpp_ymap_find(root, "batch"));
  gpp_ynode chunks = gpp_ymap_find(root, "chunks");
  if (gpp_ynode_ok(chunks) &&
      strcmp(gpp_sched_names()[t->schedule], "interleaved") != 0) {
    gpp_mark cm = gpp_ynode_mark(chunks);
    GPP_RAISE_AT(err, GPP_EINVAL, &cm, "chunks applies only to schedule "
                 "interleaved, not %s", gpp_sched_names()[t->schedule]);
  }
  p->batch = (uint32_t)t->batch;
  p->micro_batch = (uint32_t)t->micro_batch;
  p->chunks = (uint32_t)t->chunks;
  p->schedule = gpp_sched_find(gpp_sched_names()[t->schedule]);
  p->optimizer = (gpp_optimizer)t->optimizer;
  p->precision = (gpp_precision)t->precision;
  p->precision_given = t->precision >= 0;
  p->reduce_dtype = t->reduce_dtype;
  return gpp_yexpect(t->stages, GPP_Y_SEQ, "stages", err);
}

static int read_patterns(gpp_plan *p, gpp_plan_stage *s, gpp_ynode ops,
                         gpp_errctx *err) {
  GPP_TRY(gpp_yexpect(ops, GPP_Y_SEQ, "ops", err));
  s->n_patterns = (uint32_t)gpp_ynode_len(ops);
  if (s->n_patterns == 0) {
    gpp_mark at = gpp_ynode_mark(ops);
    GPP_RAISE_AT(err, GPP_EINVAL, &at, "stage '%s' lists no ops", s->name);
  }
  s->patterns = gpp_arena_array(p->arena, s->n_patterns, sizeof(char *), err);
  if (s->patterns == NULL) return err->code;
  for (uint32_t i = 0; i < s->n_patterns; i++)
    GPP_TRY(gpp_yscalar_str(gpp_yseq_at(ops, i), "op pattern",
                            &s->patterns[i], err));
  return 0;
}

static int check_device(const gpp_plan_stage *s, uint32_t i, uint32_t n_gpus,
                        gpp_ynode node, gpp_errctx *err) {
  gpp_mark at = gpp_ynode_mark(node);
  if (s->devices[i] >= n_gpus)
    GPP_RAISE_AT(err, GPP_ERANGE, &at, "stage '%s': device %u is out of "
                 "range; the cluster has %u GPUs (0..%u)", s->name,
                 s->devices[i], n_gpus, n_gpus - 1);
  for (uint32_t j = 0; j < i; j++)
    if (s->devices[j] == s->devices[i])
      GPP_RAISE_AT(err, GPP_EINVAL, &at, "stage '%s' lists device %u twice",
                   s->name, s->devices[i]);
  return 0;
}

static int read_devices(gpp_plan *p, gpp_plan_stage *s, gpp_ynode devs,
                        gpp_errctx *err) {
  GPP_TRY(gpp_yexpect(devs, GPP_Y_SEQ, "devices", err));
  s->devices_mark = gpp_ynode_mark(devs);
  s->n_devices = (uint32_t)gpp_ynode_len(devs);
  if (s->n_devices == 0)
    GPP_RAISE_AT(err, GPP_EINVAL, &s->devices_mark,
                 "stage '%s' lists no devices", s->name);
  s->devices = gpp_arena_array(p->arena, s->n_devices, sizeof(uint32_t), err);
  if (s->devices == NULL) return err->code;
  for (uint32_t i = 0; i < s->n_devices; i++) {
    long long d;
    gpp_ynode n = gpp_yseq_at(devs, i);
    GPP_TRY(gpp_yscalar_int(n, "device", 0, UINT32_MAX - 1, &d, err));
    s->devices[i] = (uint32_t)d;
    GPP_TRY(check_device(s, i, p->n_gpus, n, err));
  }
  return 0;
}

typedef struct stage_fields {
  const char *name;
  long long micro_batch, tensor;
  bool sequence_parallel;
  int sharding, recompute;
  gpp_ynode ops, devices;
} stage_fields;

#define SF(key, type, field, req, lo, hi)                                     \
  {key, type, offsetof(stage_fields, field), req, GPP_Q_COUNT, lo, hi, NULL}
#define SE(key, field, names)                                                 \
  {key, GPP_YF_ENUM, offsetof(stage_fields, field), false, GPP_Q_COUNT, 0, 0, \
   names}

/* tensor divides the device count; sequence parallelism needs t > 1. */
static int check_tensor(gpp_plan_stage *s, gpp_ynode n, gpp_errctx *err) {
  gpp_mark at = gpp_ynode_mark(gpp_ymap_find(n, "tensor"));
  if (s->n_devices % s->tensor != 0)
    GPP_RAISE_AT(err, GPP_EINVAL, &at, "stage '%s': tensor %u does not "
                 "divide its %u devices", s->name, s->tensor, s->n_devices);
  s->dp = s->n_devices / s->tensor;
  if (!s->sequence_parallel || s->tensor > 1) return 0;
  at = gpp_ynode_mark(gpp_ymap_find(n, "sequence_parallel"));
  GPP_RAISE_AT(err, GPP_EINVAL, &at, "stage '%s': sequence_parallel needs "
               "tensor > 1", s->name);
}

static int check_name(const gpp_plan *p, uint32_t i, gpp_errctx *err) {
  for (uint32_t j = 0; j < i; j++)
    if (strcmp(p->stages[j].name, p->stages[i].name) == 0)
      GPP_RAISE_AT(err, GPP_EINVAL, &p->stages[i].mark,
                   "stage name '%s' is used twice", p->stages[i].name);
  return 0;
}

static int read_stage(gpp_plan *p, uint32_t i, gpp_ynode n, gpp_errctx *err) {
  const gpp_yfield fields[] = {
      SF("name", GPP_YF_STR, name, true, 0, 0),
      SF("ops", GPP_YF_NODE, ops, true, 0, 0),
      SF("devices", GPP_YF_NODE, devices, true, 0, 0),
      SF("micro_batch", GPP_YF_INT, micro_batch, false, 1, 1 << 30),
      SF("tensor", GPP_YF_INT, tensor, false, 1, 1 << 16),
      SF("sequence_parallel", GPP_YF_BOOL, sequence_parallel, false, 0, 0),
      SE("sharding", sharding, sharding_names),
      SE("recompute", recompute, recompute_names),
  };
  gpp_plan_stage *s = &p->stages[i];
  stage_fields f = {.micro_batch = p->micro_batch, .tensor = 1};
  GPP_TRY(gpp_yexpect(n, GPP_Y_MAP, "stage", err));
  s->mark = gpp_ynode_mark(n);
  GPP_TRY(gpp_yread_fields(n, fields, sizeof fields / sizeof fields[0], &f,
                           err));
  s->name = f.name;
  GPP_TRY(check_name(p, i, err));
  s->micro_batch = (uint32_t)f.micro_batch;
  s->n_micro = (p->batch + s->micro_batch - 1) / s->micro_batch;
  s->last_micro = p->batch - (s->n_micro - 1) * s->micro_batch;
  s->tensor = (uint32_t)f.tensor;
  s->sequence_parallel = f.sequence_parallel;
  s->sharding = (gpp_sharding)f.sharding;
  s->recompute = (gpp_recompute)f.recompute;
  GPP_TRY(read_patterns(p, s, f.ops, err));
  GPP_TRY(read_devices(p, s, f.devices, err));
  return check_tensor(s, n, err);
}

static int read_stages(gpp_plan *p, gpp_ynode seq, gpp_errctx *err) {
  p->n_stages = (uint32_t)gpp_ynode_len(seq);
  if (p->n_stages == 0) {
    gpp_mark at = gpp_ynode_mark(seq);
    GPP_RAISE_AT(err, GPP_EINVAL, &at, "the plan has no stages");
  }
  p->stages = gpp_arena_array(p->arena, p->n_stages, sizeof *p->stages, err);
  if (p->stages == NULL) return err->code;
  for (uint32_t i = 0; i < p->n_stages; i++)
    GPP_TRY(read_stage(p, i, gpp_yseq_at(seq, i), err));
  return 0;
}

/* Device x at position q of stage j is the member q % t of the group led
 * by devices[q - q % t]. */
static bool same_member(const gpp_plan_stage *a, uint32_t qa,
                        const gpp_plan_stage *b, uint32_t qb) {
  return a->tensor == b->tensor && qa % a->tensor == qb % b->tensor &&
         a->devices[qa - qa % a->tensor] == b->devices[qb - qb % b->tensor];
}

/* A tensor group's devices other than its first run nothing of their own
 * (they mirror the first), so they appear in other stages only as the
 * same member of a group with the same first device. */
static int check_groups(const gpp_plan *p, gpp_errctx *err) {
  for (uint32_t i = 0; i < p->n_stages; i++) {
    const gpp_plan_stage *a = &p->stages[i];
    if (a->tensor == 1) continue;
    for (uint32_t qa = 0; qa < a->n_devices; qa++)
      for (uint32_t j = 0; j < p->n_stages; j++)
        for (uint32_t qb = 0; j != i && qb < p->stages[j].n_devices; qb++) {
          const gpp_plan_stage *b = &p->stages[j];
          if (b->devices[qb] != a->devices[qa] || (qa % a->tensor == 0 &&
              qb % b->tensor == 0) || same_member(a, qa, b, qb))
            continue;
          GPP_RAISE_AT(err, GPP_EINVAL, &a->devices_mark, "stage '%s': "
                       "device %u of its tensor group also serves stage "
                       "'%s' in another role; a tensor group's devices may "
                       "be shared only as the same group", a->name,
                       a->devices[qa], b->name);
        }
  }
  return 0;
}

static int resolve_model(gpp_plan *p, const char *rel, gpp_ynode at_node,
                         gpp_errctx *err) {
  char path[GPP_INPUT_PATH_MAX];
  gpp_mark at = gpp_ynode_mark(at_node);
  if (gpp_input_near(rel, p->path, path, sizeof path) != 0)
    GPP_RAISE_AT(err, GPP_ENOENT, &at, "model file '%s' not found (tried "
                 "the working directory, the plan's directory, %s and the "
                 "models built into gppsim)", rel, gpp_source_root());
  const char *found = gpp_arena_strdup(p->arena, path, err);
  if (found == NULL) return GPP_ENOMEM;
  p->model_path = found;
  const char *dt = p->precision_given ? gpp_precision_model_dtype(p->precision)
                                       : NULL;
  int rc = gpp_model_load_as(found, NULL, 0, dt, &p->own_model, err);
  if (rc != 0) gpp_error_prefix(err, "model of plan %s", p->path);
  p->model = p->own_model;
  return rc;
}

/* Without a `precision` key the plan trains in the model's; with one, a
 * model the caller loaded must already be in it (gpp_model_load_as). */
static int check_precision(gpp_plan *p, gpp_ynode key, gpp_errctx *err) {
  if (!p->precision_given) {
    p->precision = gpp_precision_of_model(p->model);
    return 0;
  }
  const char *want = gpp_precision_model_dtype(p->precision);
  const char *has = gpp_precision_name(gpp_precision_of_model(p->model));
  bool ok = want == NULL || (p->precision == GPP_PREC_MIXED
                                 ? p->model->dtype_bytes == 2
                                 : strcmp(want, has) == 0);
  if (ok) return 0;
  gpp_mark at = gpp_ynode_mark(key);
  GPP_RAISE_AT(err, GPP_EINVAL, &at, "precision %s: the model was loaded in "
               "%s; load it in the plan's precision (plan --precision, or "
               "no precision key to keep the model's)",
               gpp_precision_name(p->precision),
               p->model->precision ? p->model->precision : "its own dtype");
}

static int load_doc(gpp_plan *p, const gpp_model *model, gpp_errctx *err) {
  top_fields t;
  gpp_ynode root = gpp_ydoc_root(p->doc);
  p->path = gpp_ydoc_path(p->doc);
  GPP_TRY(read_top(p, root, model == NULL, &t, err));
  GPP_TRY(read_stages(p, t.stages, err));
  GPP_TRY(check_groups(p, err));
  if (model == NULL)
    GPP_TRY(resolve_model(p, t.model, gpp_ymap_find(root, "model"), err));
  else
    p->model = model;
  GPP_TRY(check_precision(p, gpp_ymap_find(root, "precision"), err));
  if (p->model_path == NULL)
    p->model_path = t.model ? t.model : (model->path ? model->path : "");
  GPP_TRY(gpp__plan_graph(p, gpp_ymap_find(root, "stages"), err));
  if (p->schedule->check == NULL) return 0;
  return p->schedule->check(p, err);
}

static int finish(gpp_plan *p, const gpp_model *model, gpp_plan **out,
                  int rc, gpp_errctx *err) {
  if (rc == 0) rc = load_doc(p, model, err);
  if (rc != 0) {
    gpp_plan_destroy(p);
    return rc;
  }
  *out = p;
  return 0;
}

static gpp_plan *plan_new(uint32_t n_gpus, gpp_errctx *err) {
  gpp_plan *p = gpp_calloc(err, 1, sizeof *p);
  if (p == NULL) return NULL;
  p->n_gpus = n_gpus;
  p->arena = gpp_arena_create(err);
  if (p->arena == NULL) {
    free(p);
    return NULL;
  }
  return p;
}

int gpp_plan_load(const char *path, uint32_t n_gpus, gpp_plan **out,
                  gpp_errctx *err) {
  *out = NULL;
  gpp_plan *p = plan_new(n_gpus, err);
  if (p == NULL) return err->code;
  return finish(p, NULL, out, gpp_ydoc_load_file(path, &p->doc, err), err);
}

int gpp_plan_load_string(const char *name, const char *text,
                         const gpp_model *model, uint32_t n_gpus,
                         gpp_plan **out, gpp_errctx *err) {
  *out = NULL;
  gpp_plan *p = plan_new(n_gpus, err);
  if (p == NULL) return err->code;
  int rc = gpp_ydoc_load_string(name, text, strlen(text), &p->doc, err);
  return finish(p, model, out, rc, err);
}

void gpp_plan_destroy(gpp_plan *p) {
  if (p == NULL) return;
  gpp_model_destroy(p->own_model);
  gpp_ydoc_destroy(p->doc);
  gpp_arena_destroy(p->arena);
  free(p);
}
