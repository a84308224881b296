/* engine_internal.h -- the engine's run state, shared by engine*.c,
 * sched_*.c and memory.c.
 *
 * A slot is one replica of one stage.  Its tasks are numbered
 * task_base + 2k (F of micro-batch k), task_base + 2k + 1 (B), and
 * task_base + 2m (the optimizer step).  Events and network tags pack a kind
 * in the top 4 bits and an index below.
 */
#ifndef GPP_SIM_ENGINE_INTERNAL_H
#define GPP_SIM_ENGINE_INTERNAL_H

#include "sim/engine/engine.h"
#include "sim/engine/evq.h"
#include "topology/network.h"

#define GPP__NONE UINT32_MAX

enum {
  EV_TASK_END = 1, EV_DISPATCH = 2, TAG_XFER = 3, TAG_ALLREDUCE = 4,
  EV_COMPUTE_END = 5, TAG_SHARD = 6, TAG_TP = 7, /* engine_comm.c */
  TAG_SHARD_JOINED = 8
};
#define GPP__PACK(kind, idx) (((uint64_t)(kind) << 60) | (uint64_t)(idx))
#define GPP__KIND(data) ((unsigned)((data) >> 60))
#define GPP__INDEX(data) ((uint32_t)((data) & 0xffffffffu))

typedef struct gpp__slot {
  uint32_t stage, replica, device;
  uint32_t task_base;
  uint32_t slice;          /* samples of each micro-batch held here */
  uint32_t slice_last;     /* ... of the last micro-batch */
  uint32_t nf, nb;         /* forwards started, backwards started */
  uint32_t peak_inflight;
  bool opt_started;
  double t_fwd, t_bwd, t_opt;
  double t_fwd_last, t_bwd_last;
  double stash_bytes;      /* saved activations per micro-batch */
  double stash_last;       /* ... of the last micro-batch */
  double workspace;        /* transient buffer of a running task */
  double post_work;        /* after a backward: the loss evaluations' */
  double busy;
} gpp__slot;

/* A layer of a stage (engine_layers.c): a run of its ops. */
typedef struct gpp__layer {
  uint32_t first, n;       /* the stage's ops[first .. first+n) */
  double in_bytes;         /* per sample: the layer's input from outside */
  double saved;            /* per sample, stashed without recompute */
  double param_bytes, param_count;
} gpp__layer;

/* One collective of a task's chain (engine_comm.c). */
typedef struct gpp__cstep {
  uint32_t op;             /* gpp_coll_op */
  bool per_sample;         /* bytes scale with the micro-batch's slice */
  double bytes;
} gpp__cstep;
enum { CH_TP_FWD, CH_TP_BWD, CH_SH_FWD, CH_SH_BWD, CH__N };

/* d replicas of t devices (t = tensor degree); grad_bytes and the param
 * sums are the whole stage's (grad_bytes / t: one tensor rank's). */
typedef struct gpp__stage {
  uint32_t slot_base, d, b, m;
  uint32_t bl;             /* size of the last micro-batch */
  uint32_t t;              /* tensor-parallel degree */
  gpp__layer *layers;
  uint32_t n_layers;
  uint32_t *player, n_player; /* layers with parameters */
  double max_layer_params; /* bytes, of one layer */
  uint32_t *dp_ranks;      /* the replicas' first GPUs */
  gpp__cstep *chain[CH__N];
  uint32_t n_chain[CH__N];
  uint32_t sync_left;      /* end-of-iteration collectives still to run */
  uint32_t cap;            /* in-flight micro-batches allowed */
  uint32_t replicas_done;  /* replicas past their last backward */
  double grad_bytes, param_count, param_bytes;
  double xfer_start;       /* all-reduce start time */
  uint32_t arrived;        /* replicas waiting at the joined collective */
} gpp__stage;

typedef struct gpp__dev {
  uint32_t first, n;       /* its slots in e->dev_slots[first..first+n) */
  uint32_t running;        /* task id, or GPP__NONE */
  bool dispatch_pending;
  double run_start, busy;
  double stash, peak_mem, peak_stash, static_mem;
  uint32_t *order, order_len, order_pos; /* static schedules */
  /* The running task's collectives (engine_comm.c). */
  uint32_t tp_i, tp_n, sh_i, sh_n, parts;
  bool gated;
  double compute, tail, end, tp_start, sh_start;
} gpp__dev;

/* A transfer in flight through the network. */
typedef struct gpp__xfer {
  uint32_t src_task, dst_task, src, dst;
  double bytes, start;
  uint32_t next_free;
} gpp__xfer;

typedef struct gpp__eng {
  const gpp_plan *plan;
  const gpp_costs *costs;
  gpp_cluster *cluster;
  gpp_engine_opts opts;
  gpp_net *net;
  gpp_evq q;
  double now;
  gpp__stage *stages;
  gpp__slot *slots;
  uint32_t n_slots;
  gpp__dev *devs;
  uint32_t n_devs;
  uint32_t *dev_slots;     /* slot ids grouped by device */
  uint32_t *deps_left;     /* per task */
  uint32_t *task_slot;     /* per task */
  uint32_t n_tasks, tasks_done;
  gpp__xfer *xfers;
  uint32_t n_xfers, xfer_free;
  gpp_task_rec *recs;
  size_t n_recs, cap_recs;
  uint64_t events, n_transfers;
  gpp_errctx *err;         /* for errors raised inside callbacks */
  int cb_rc;
} gpp__eng;

/* engine_setup.c */
int gpp__eng_setup(gpp__eng *e, gpp_errctx *err);
void gpp__eng_free(gpp__eng *e);
/* Samples [*lo, *hi) of slot's share of micro-batch k. */
void gpp__slot_interval(const gpp__eng *e, uint32_t slot, uint32_t k,
                        uint64_t *lo, uint64_t *hi);

/* Iterates the (micro-batch, replica, samples) pieces of stage st's
 * partition that overlap the samples [lo, hi). */
typedef struct gpp__piece_it {
  uint64_t x, hi;
  uint32_t b, d;
  uint32_t bl, m;          /* the last micro-batch's size, their count */
} gpp__piece_it;
bool gpp__piece_next(gpp__piece_it *it, uint32_t *k, uint32_t *r,
                     uint32_t *n);

/* engine_layers.c: the stage's layers and a replica's per-micro-batch
 * work for a slice of samples. */
int gpp__stage_layers(gpp__eng *e, uint32_t si, gpp_errctx *err);
typedef struct gpp__work {
  double fwd, bwd, stash, workspace;
  double post; /* working memory after the backward (op eval_bytes) */
} gpp__work;
gpp__work gpp__slot_work(const gpp__eng *e, uint32_t si, uint32_t slice);
/* Forward FLOPs per sample that stage si's recomputation runs again. */
double gpp__stage_rerun_flops(const gpp__eng *e, uint32_t si);

/* engine_comm.c: a compute task's per-layer collectives and the stage's
 * end-of-iteration gradient synchronisation. */
int gpp__stage_chains(gpp__eng *e, uint32_t si, gpp_errctx *err);
int gpp__comm_start(gpp__eng *e, uint32_t dev, uint32_t task, double secs);
int gpp__comm_event(gpp__eng *e, uint32_t kind, uint32_t dev, double t);
int gpp__stage_sync(gpp__eng *e, uint32_t si);
int gpp__allreduce_done(gpp__eng *e, uint32_t stage);

/* engine_run.c */
int gpp__eng_loop(gpp__eng *e, gpp_errctx *err);

/* engine_events.c: a task's span into the records (when recording); a
 * dispatch of an idle device at the current time (once); one of a task's
 * dependencies done, dispatching its device when it was the last. */
int gpp__eng_record(gpp__eng *e, const gpp_task_rec *r);
int gpp__request_dispatch(gpp__eng *e, uint32_t dev);
int gpp__dep_done(gpp__eng *e, uint32_t task);

/* engine_task.c */
int gpp__task_start(gpp__eng *e, uint32_t dev, uint32_t task);
int gpp__task_end(gpp__eng *e, uint32_t task);
int gpp__xfer_done(gpp__eng *e, uint32_t xfer, double t);

/* sched_pick.c: each stage's cap or each device's order, once per run; the
 * next task for an idle device, or GPP__NONE. */
int gpp__sched_prepare(gpp__eng *e, gpp_errctx *err);
uint32_t gpp__sched_pick(gpp__eng *e, uint32_t dev);

/* memory.c */
void gpp__memory_static(gpp__eng *e);
double gpp__optimizer_seconds(const gpp__eng *e, const gpp__stage *st);
void gpp__memory_on_start(gpp__eng *e, uint32_t dev, uint32_t task);
/* After a backward released its stash: the loss evaluations' memory. */
void gpp__memory_after_bwd(gpp__eng *e, uint32_t dev, const gpp__slot *s);
int gpp__memory_check(const gpp__eng *e, gpp_result *r, gpp_errctx *err);

static inline uint32_t gpp__task_k(const gpp__eng *e, uint32_t task) {
  return (task - e->slots[e->task_slot[task]].task_base) / 2;
}
static inline bool gpp__task_is_bwd(const gpp__eng *e, uint32_t task) {
  return ((task - e->slots[e->task_slot[task]].task_base) & 1) != 0;
}
static inline bool gpp__task_is_opt(const gpp__eng *e, uint32_t task) {
  const gpp__slot *s = &e->slots[e->task_slot[task]];
  return task - s->task_base == 2 * e->stages[s->stage].m;
}

/* Whether micro-batch k is the stage's last, and its stash on a slot. */
static inline bool gpp__is_last(const gpp__eng *e, const gpp__slot *s,
                                uint32_t k) {
  return k + 1 == e->stages[s->stage].m;
}
static inline double gpp__slot_stash(const gpp__eng *e, const gpp__slot *s,
                                     uint32_t k) {
  return gpp__is_last(e, s, k) ? s->stash_last : s->stash_bytes;
}

#endif
