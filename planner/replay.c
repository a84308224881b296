/* replay.c -- the iteration estimate: the engine's schedule replayed on
 * the stages, one server per stage (its replicas run the same tasks at
 * the same times), with the transfers between stages on shared ports.
 *
 * The rule is the engine's (sim/engine/sched_pick.c): an idle stage runs
 * its next backward when that backward's gradients have arrived, else its
 * next forward when that forward's inputs have arrived and fewer than its
 * cap of micro-batches are in flight, else it waits.  Forwards and
 * backwards run in micro-batch order; a stage of micro-batch size b_s
 * reads, of a neighbour of size b_p, the micro-batches that hold its
 * samples.
 *
 * Transfers: a micro-batch's inputs leave when the last neighbour has
 * made its part and cross the stage's port for that direction
 * (activations in; gradients back), which the micro-batches under way
 * share equally, as max-min sharing does flows on one link (processor
 * sharing): alone, one takes the slower side of the edge less its
 * latency (the stage's transfer time, transfer.c, or the neighbour's,
 * which sends all its edges at once), and arrives a latency later.
 *
 * A stage ends with its last backward, then its all-reduce and optimizer
 * step; the iteration with the last stage to end.  Uniform stages with
 * no transfers give the closed form (m + D - 1) x (f + b).  Unlike a
 * closed form, the replay sees a forward wait behind a backward the rule
 * runs first, and a micro-batch's transfer slowed by the next ones on its
 * port.  Cost: O(tasks x neighbours x log) time, four doubles per task;
 * past REPLAY_STEADY x the largest cap micro-batches (setup), the middle
 * is carried on at its pace instead of replayed (within 1.6% of the whole
 * replay on MMT's 1,024-GPU candidates of micro-batch 1 to 8, measured). */
#include <math.h>
#include <stdlib.h>

#include "planner/internal.h"
#include "planner/replay.h"
#include "sim/engine/evq.h"

/* A stage's port for one direction.  Every micro-batch needs the same
 * work alone, so they finish in the order they entered: those under way
 * are [head, tail); each finishes when the virtual time v, which grows at
 * 1 / (jobs under way) per second, reaches its entry's v plus work. */
typedef struct port {
  double work, lat;        /* seconds alone on the port; then latency */
  double v, t;             /* virtual time at time t */
  uint32_t head, tail;     /* arrived < head <= under way < tail */
  uint32_t sched;          /* entries scheduled (their time is known) */
  bool pending;            /* a completion event is queued (never later
                              than the first one under way ends) */
} port;

typedef struct rstage {
  uint32_t m, nf, nb;      /* micro-batches; forwards, backwards started */
  double free_at;          /* when the running task ends */
  double wake_at;          /* the latest wake-up queued, until it runs */
  double *fend, *bend;     /* per micro-batch, once started */
  double *farr, *barr;     /* inputs' arrival once < head; before, the
                              entry's virtual time on the port */
  port pf, pb;
} rstage;

typedef struct replay {
  const gpp__replay_in *in;
  uint32_t batch;          /* the samples replayed (see setup) */
  rstage *st;
  gpp_evq q;
  gpp_errctx *err;
} replay;

enum { EV_WAKE, EV_ENTER, EV_DONE };

static int push(replay *r, double t, uint32_t kind, bool fwd, uint32_t s) {
  return gpp_evq_push(&r->q, t, kind | (uint64_t)fwd << 2 | (uint64_t)s << 3,
                      r->err);
}

/* Wakes stage s at t, unless it is busy then (it looks when its task
 * ends) or a wake-up at t is already queued. */
static int wake(replay *r, uint32_t s, double t) {
  rstage *st = &r->st[s];
  if (t < st->free_at || t == st->wake_at) return 0;
  st->wake_at = t;
  return push(r, t, EV_WAKE, false, s);
}

/* The last micro-batch of a neighbour of size nb_size that holds samples
 * of micro-batch i of a stage of size b. */
static uint32_t last_of(const replay *r, uint32_t b, uint32_t i,
                        uint32_t nb_size) {
  uint64_t end = (uint64_t)(i + 1) * b;
  if (end > r->batch) end = r->batch;
  return (uint32_t)((end - 1) / nb_size);
}

/* When the parts of micro-batch i that stage s needs are all made
 * (forwards of its predecessors; backwards of its successors, or a sink's
 * own forward), or INFINITY while one has not started. */
static double made(const replay *r, uint32_t s, uint32_t i, bool fwd) {
  const gpp__replay_in *in = r->in;
  const uint32_t *off = fwd ? in->pred_off : in->succ_off;
  const uint32_t *nb = fwd ? in->pred : in->succ;
  const rstage *me = &r->st[s];
  if (!fwd && off[s] == off[s + 1])
    return me->nf > i ? me->fend[i] : INFINITY;
  double t = 0;
  for (uint32_t j = off[s]; j < off[s + 1]; j++) {
    const rstage *p = &r->st[nb[j]];
    uint32_t k = last_of(r, in->mb[s], i, in->mb[nb[j]]);
    if ((fwd ? p->nf : p->nb) <= k) return INFINITY;
    double e = fwd ? p->fend[k] : p->bend[k];
    if (e > t) t = e;
  }
  return t;
}

static void advance(port *p, double t) {
  if (p->tail > p->head) p->v += (t - p->t) / (p->tail - p->head);
  p->t = t;
}

/* When the port's first micro-batch under way ends at the current
 * sharing (later entries only delay it). */
static double first_end(const port *p, const double *arr) {
  double left = arr[p->head] + p->work - p->v;
  return p->t + (left > 0 ? left : 0) * (p->tail - p->head);
}

/* Schedules the entries onto stage s's port whose time is now known (a
 * port without work passes them straight through). */
static int schedule_entries(replay *r, uint32_t s, bool fwd) {
  rstage *st = &r->st[s];
  port *p = fwd ? &st->pf : &st->pb;
  double *arr = fwd ? st->farr : st->barr;
  for (double t; p->sched < st->m && (t = made(r, s, p->sched, fwd)) <
                                         INFINITY;) {
    if (p->work > 0 || p->lat > 0) {
      GPP_TRY(push(r, t, EV_ENTER, fwd, s));
    } else {
      arr[p->sched] = t;
      p->head = p->tail = p->sched + 1;
      GPP_TRY(wake(r, s, t));
    }
    p->sched++;
  }
  return 0;
}

static int enter(replay *r, uint32_t s, bool fwd, double t) {
  port *p = fwd ? &r->st[s].pf : &r->st[s].pb;
  double *arr = fwd ? r->st[s].farr : r->st[s].barr;
  advance(p, t);
  arr[p->tail++] = p->v;
  if (p->pending) return 0;
  p->pending = true;
  return push(r, first_end(p, arr), EV_DONE, fwd, s);
}

/* The port's completion event: the first micro-batch under way arrives a
 * latency later, unless entries since have delayed it (then the event is
 * queued again for when it now ends). */
static int done(replay *r, uint32_t s, bool fwd, double t) {
  port *p = fwd ? &r->st[s].pf : &r->st[s].pb;
  double *arr = fwd ? r->st[s].farr : r->st[s].barr;
  advance(p, t);
  double end = first_end(p, arr);
  if (end <= t) {
    arr[p->head++] = t + p->lat;
    GPP_TRY(wake(r, s, t + p->lat));
    if (p->head == p->tail) {
      p->pending = false;
      return 0;
    }
    end = first_end(p, arr);
  }
  return push(r, end, EV_DONE, fwd, s);
}

/* Starts a task of stage s ending at e, and schedules the entries it
 * makes known. */
static int start(replay *r, uint32_t s, double e, bool fwd) {
  const gpp__replay_in *in = r->in;
  r->st[s].free_at = e;
  GPP_TRY(wake(r, s, e));
  const uint32_t *off = fwd ? in->succ_off : in->pred_off;
  const uint32_t *nb = fwd ? in->succ : in->pred;
  for (uint32_t j = off[s]; j < off[s + 1]; j++)
    GPP_TRY(schedule_entries(r, nb[j], fwd));
  return fwd ? schedule_entries(r, s, false) : 0; /* a sink's backward */
}

/* Stage s at t: if idle, it starts what the rule picks. */
static int step(replay *r, uint32_t s, double t) {
  const gpp__replay_in *in = r->in;
  rstage *st = &r->st[s];
  if (st->free_at > t) return 0;
  if (st->nb < st->pb.head && st->barr[st->nb] <= t) {
    st->bend[st->nb] = t + in->b[s];
    return start(r, s, st->bend[st->nb++], false);
  }
  if (st->nf < st->pf.head && st->farr[st->nf] <= t &&
      st->nf - st->nb < in->cap[s]) {
    st->fend[st->nf] = t + in->f[s];
    return start(r, s, st->fend[st->nf++], true);
  }
  return 0;
}

static int run(replay *r, double *end) {
  const gpp__replay_in *in = r->in;
  for (uint32_t s = 0; s < in->n; s++) GPP_TRY(schedule_entries(r, s, true));
  gpp_event ev;
  while (gpp_evq_pop(&r->q, &ev)) {
    uint32_t kind = ev.data & 3, s = (uint32_t)(ev.data >> 3);
    bool fwd = ev.data >> 2 & 1;
    if (kind == EV_WAKE && ev.time == r->st[s].wake_at)
      r->st[s].wake_at = -INFINITY;
    int rc = kind == EV_WAKE    ? step(r, s, ev.time)
             : kind == EV_ENTER ? enter(r, s, fwd, ev.time)
                                : done(r, s, fwd, ev.time);
    GPP_TRY(rc);
  }
  *end = 0;
  for (uint32_t s = 0; s < in->n; s++) {
    const rstage *st = &r->st[s];
    if (st->nb < st->m)
      GPP_RAISE(r->err, GPP_EINTERNAL, "the replay of the schedule stalled "
                "at stage %u (%u of %u backwards)", s, st->nb, st->m);
    uint32_t m = st->m, lo = m / 4, hi = 3 * m / 4;
    double more = gpp__ceil_div(in->batch, in->mb[s]) - (double)m;
    double pace = more > 0 ? (st->bend[hi] - st->bend[lo]) / (hi - lo) : 0;
    double e = st->bend[m - 1] + more * pace + in->sync[s];
    if (e > *end) *end = e;
  }
  return 0;
}

/* The port of stage s one way: the slower of its side and its
 * neighbours' (xs: s's transfer time that way, xo the neighbours' the
 * other way), with that side's latency. */
static port make_port(const uint32_t *off, const uint32_t *nb, uint32_t s,
                      double xs, double ls, const double *xo,
                      const double *lo) {
  port p = {0};
  double x = xs, lat = ls;
  for (uint32_t j = off[s]; j < off[s + 1]; j++)
    if (xo[nb[j]] > x) {
      x = xo[nb[j]];
      lat = lo[nb[j]];
    }
  p.lat = lat;
  p.work = x > lat ? x - lat : 0;
  return p;
}

/* The samples to replay: the batch, or when its micro-batches outnumber
 * REPLAY_STEADY x the most a stage lets in flight (at least
 * REPLAY_MIN_MICRO), that many of the largest micro-batch: the warm-up
 * and the drain are replayed whole, and run() carries each stage on at
 * the pace its middle half kept for the micro-batches left out. */
#define REPLAY_STEADY 4
#define REPLAY_MIN_MICRO 256
static uint32_t replayed(const gpp__replay_in *in) {
  uint32_t bmax = 1, cap = 0;
  for (uint32_t s = 0; s < in->n; s++) {
    if (in->mb[s] > bmax) bmax = in->mb[s];
    if (in->cap[s] > cap) cap = in->cap[s];
  }
  uint64_t keep = (uint64_t)REPLAY_STEADY * cap;
  if (keep < REPLAY_MIN_MICRO) keep = REPLAY_MIN_MICRO;
  if (in->batch % bmax != 0 || in->batch / bmax <= keep) return in->batch;
  return (uint32_t)(keep * bmax);
}

static int setup(replay *r, double **times) {
  const gpp__replay_in *in = r->in;
  size_t tasks = 0;
  r->batch = replayed(in);
  for (uint32_t s = 0; s < in->n; s++) {
    rstage *st = &r->st[s];
    st->m = gpp__ceil_div(r->batch, in->mb[s]);
    st->wake_at = -INFINITY;
    tasks += st->m;
    st->pf = make_port(in->pred_off, in->pred, s, in->xin[s], in->lat_in[s],
                       in->xout, in->lat_out);
    st->pb = make_port(in->succ_off, in->succ, s, in->xout[s],
                       in->lat_out[s], in->xin, in->lat_in);
  }
  *times = gpp_calloc(r->err, 4 * tasks + 1, sizeof **times);
  if (*times == NULL) return r->err->code;
  size_t at = 0;
  for (uint32_t s = 0; s < in->n; s++) {
    rstage *st = &r->st[s];
    st->fend = *times + at;
    st->bend = st->fend + st->m;
    st->farr = st->bend + st->m;
    st->barr = st->farr + st->m;
    at += 4 * st->m;
  }
  return gpp_evq_init(&r->q, 8 * (size_t)in->n + 16, r->err);
}

int gpp__replay(const gpp__replay_in *in, double *end, gpp_errctx *err) {
  replay r = {.in = in, .err = err};
  double *times = NULL;
  r.st = gpp_calloc(err, in->n ? in->n : 1, sizeof *r.st);
  int rc = r.st ? setup(&r, &times) : err->code;
  if (rc == 0) rc = run(&r, end);
  if (r.q.heap) gpp_evq_fini(&r.q);
  free(times);
  free(r.st);
  return rc;
}
