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
 * Transfers: each stage has a sending side (activations out, gradients
 * back) and a receiving side (activations in, gradients in), each with
 * its NIC ports and its intra-node ports.  A micro-batch's transfer takes
 * on each side, alone, that stage's own ports' time for all its edges
 * that way at once (transfer.c, less the latency), on the class of the
 * most loaded one, shared equally with the transfers under way there as
 * max-min sharing shares a link (processor sharing).  The sending side
 * starts when the task ends; the receiving side when the last neighbour
 * has made its part.  The inputs arrive a latency after both are done.
 *
 * A stage ends with its last backward, then its all-reduce and optimizer
 * step; the iteration with the last stage to end.  Uniform stages with
 * no transfers give the closed form (m + D - 1) x (f + b).  Unlike a
 * closed form, the replay sees a forward wait behind a backward the rule
 * runs first, and a micro-batch's transfer slowed by the others on its
 * ports.  Cost: O(tasks x neighbours x log) time, six doubles per task;
 * past REPLAY_STEADY x the largest cap micro-batches (setup), the middle
 * is carried on at its pace instead of replayed (within 1.6% of the whole
 * replay on MMT's 1,024-GPU candidates of micro-batch 1 to 8, measured). */
#include <math.h>
#include <stdlib.h>

#include "planner/internal.h"
#include "planner/replay.h"
#include "sim/engine/evq.h"

/* One direction's transfers on one side of a stage.  They all need the
 * same work alone, so they end in the order they entered: those under
 * way are [head, tail); each ends when the side's virtual time, which
 * grows at 1 / (transfers under way on the side) per second, reaches its
 * entry's plus the work.  done[i]: the entry's virtual time, then, once
 * i < head, when it ended. */
typedef struct queue {
  double work, lat;        /* seconds alone; latency after */
  uint32_t head, tail;     /* ended < head <= under way < tail */
  uint32_t sched;          /* entries scheduled (their time is known) */
  uint32_t cls;            /* the side's ports it crosses: NIC or intra */
  double *done;
} queue;

/* A stage's ports of one class on one side, shared by its queues there
 * of that class. */
typedef struct side {
  double v, t;             /* virtual time at time t */
  bool pending;            /* a completion event is queued (never later
                              than the first one under way ends) */
} side;

enum { RX, TX };
enum { NIC, INTRA };

typedef struct rstage {
  uint32_t m, nf, nb;      /* micro-batches; forwards, backwards started */
  double free_at;          /* when the running task ends */
  double wake_at;          /* the latest wake-up queued, until it runs */
  double *fend, *bend;     /* per micro-batch, once started */
  queue q[2][2];           /* [RX or TX][forward: activations; backward:
                              gradients] */
  side sd[2][2];           /* [RX or TX][NIC or INTRA] */
} rstage;

typedef struct replay {
  const gpp__replay_in *in;
  uint32_t batch;          /* the samples replayed (see setup) */
  rstage *st;
  gpp_evq q;
  gpp_errctx *err;
} replay;

enum { EV_WAKE, EV_ENTER, EV_DONE };

/* An event: kind; side io; direction fwd (an entry) or class (an end). */
static int push(replay *r, double t, uint32_t kind, uint32_t io, uint32_t x,
                uint32_t s) {
  uint64_t d = kind | (uint64_t)io << 2 | (uint64_t)x << 3 | (uint64_t)s << 4;
  return gpp_evq_push(&r->q, t, d, r->err);
}

/* Wakes stage s at t, unless it is busy then (it looks when its task
 * ends) or a wake-up at t is already queued. */
static int wake(replay *r, uint32_t s, double t) {
  rstage *st = &r->st[s];
  if (t < st->free_at || t == st->wake_at) return 0;
  st->wake_at = t;
  return push(r, t, EV_WAKE, RX, 0, s);
}

/* The last micro-batch of a neighbour of size nb_size that holds samples
 * of micro-batch i of a stage of size b. */
static uint32_t last_of(const replay *r, uint32_t b, uint32_t i,
                        uint32_t nb_size) {
  uint64_t end = (uint64_t)(i + 1) * b;
  if (end > r->batch) end = r->batch;
  return (uint32_t)((end - 1) / nb_size);
}

/* The neighbours stage s takes inputs from one way: predecessors for
 * forwards, successors for backwards. */
static const uint32_t *from(const gpp__replay_in *in, uint32_t s, bool fwd,
                            uint32_t *lo, uint32_t *hi) {
  *lo = (fwd ? in->pred_off : in->succ_off)[s];
  *hi = (fwd ? in->pred_off : in->succ_off)[s + 1];
  return fwd ? in->pred : in->succ;
}

/* When the parts of micro-batch i that stage s needs are all made
 * (forwards of its predecessors; backwards of its successors, or a sink's
 * own forward), or INFINITY while one has not started. */
static double made(const replay *r, uint32_t s, uint32_t i, bool fwd) {
  uint32_t lo, hi;
  const uint32_t *nb = from(r->in, s, fwd, &lo, &hi);
  const rstage *me = &r->st[s];
  if (!fwd && lo == hi) return me->nf > i ? me->fend[i] : INFINITY;
  double t = 0;
  for (uint32_t j = lo; j < hi; j++) {
    const rstage *p = &r->st[nb[j]];
    uint32_t k = last_of(r, r->in->mb[s], i, r->in->mb[nb[j]]);
    if ((fwd ? p->nf : p->nb) <= k) return INFINITY;
    double e = fwd ? p->fend[k] : p->bend[k];
    if (e > t) t = e;
  }
  return t;
}

/* When micro-batch i's inputs are in at stage s: its receiving side done
 * and each neighbour's sending side done, a latency later; INFINITY while
 * one is not. */
static double arrived(const replay *r, uint32_t s, uint32_t i, bool fwd) {
  const queue *rx = &r->st[s].q[RX][fwd];
  if (i >= rx->head) return INFINITY;
  double t = rx->done[i];
  uint32_t lo, hi;
  const uint32_t *nb = from(r->in, s, fwd, &lo, &hi);
  for (uint32_t j = lo; j < hi; j++) {
    const queue *tx = &r->st[nb[j]].q[TX][fwd];
    uint32_t k = last_of(r, r->in->mb[s], i, r->in->mb[nb[j]]);
    if (k >= tx->head) return INFINITY;
    if (tx->done[k] > t) t = tx->done[k];
  }
  return t + rx->lat;
}

static uint32_t under_way(const rstage *st, uint32_t io, uint32_t cls) {
  uint32_t n = 0;
  for (int d = 0; d < 2; d++)
    if (st->q[io][d].cls == cls) n += st->q[io][d].tail - st->q[io][d].head;
  return n;
}

static void advance(rstage *st, uint32_t io, uint32_t cls, double t) {
  side *sd = &st->sd[io][cls];
  uint32_t n = under_way(st, io, cls);
  if (n > 0) sd->v += (t - sd->t) / n;
  sd->t = t;
}

/* When the first transfer under way on the side's class ends at the
 * current sharing (later entries only delay it), and its direction. */
static double first_end(const rstage *st, uint32_t io, uint32_t cls,
                        bool *fwd) {
  const side *sd = &st->sd[io][cls];
  double best = INFINITY;
  for (int d = 0; d < 2; d++) {
    const queue *q = &st->q[io][d];
    if (q->cls != cls || q->head == q->tail) continue;
    double left = q->done[q->head] + q->work - sd->v;
    double t = sd->t + (left > 0 ? left : 0) * under_way(st, io, cls);
    if (t < best) {
      best = t;
      *fwd = d;
    }
  }
  return best;
}

/* A transfer ended on stage s's side io at t: wake whom it may let run
 * (s itself for its inputs; the receivers of what s sent). */
static int ended(replay *r, uint32_t s, uint32_t io, bool fwd, double t) {
  if (io == RX) return wake(r, s, t + r->st[s].q[RX][fwd].lat);
  uint32_t lo, hi;
  const uint32_t *nb = from(r->in, s, !fwd, &lo, &hi); /* s's receivers */
  for (uint32_t j = lo; j < hi; j++)
    GPP_TRY(wake(r, nb[j], t + r->st[nb[j]].q[RX][fwd].lat));
  return 0;
}

/* Schedules a transfer entering stage s's side io at t (one without work
 * or latency ends there and then). */
static int schedule(replay *r, uint32_t s, uint32_t io, bool fwd, double t) {
  queue *q = &r->st[s].q[io][fwd];
  q->sched++;
  if (q->work > 0 || q->lat > 0) return push(r, t, EV_ENTER, io, fwd, s);
  q->done[q->head++] = t;
  q->tail = q->head;
  return ended(r, s, io, fwd, t);
}

/* The receiving side's entries of stage s whose time is now known. */
static int schedule_rx(replay *r, uint32_t s, bool fwd) {
  rstage *st = &r->st[s];
  queue *q = &st->q[RX][fwd];
  for (double t; q->sched < st->m && (t = made(r, s, q->sched, fwd)) <
                                         INFINITY;)
    GPP_TRY(schedule(r, s, RX, fwd, t));
  return 0;
}

static int enter(replay *r, uint32_t s, uint32_t io, bool fwd, double t) {
  rstage *st = &r->st[s];
  queue *q = &st->q[io][fwd];
  side *sd = &st->sd[io][q->cls];
  advance(st, io, q->cls, t);
  q->done[q->tail++] = sd->v;
  if (sd->pending) return 0;
  sd->pending = true;
  return push(r, first_end(st, io, q->cls, &fwd), EV_DONE, io, q->cls, s);
}

/* The completion event of a side's class: the first transfer under way
 * there to end does, unless entries since have delayed it (then the event
 * is queued again for when it now ends). */
static int done(replay *r, uint32_t s, uint32_t io, uint32_t cls, double t) {
  rstage *st = &r->st[s];
  bool fwd = false;
  advance(st, io, cls, t);
  double end = first_end(st, io, cls, &fwd);
  if (end <= t) {
    queue *q = &st->q[io][fwd];
    q->done[q->head++] = t;
    GPP_TRY(ended(r, s, io, fwd, t));
    if (under_way(st, io, cls) == 0) {
      st->sd[io][cls].pending = false;
      return 0;
    }
    end = first_end(st, io, cls, &fwd);
  }
  return push(r, end, EV_DONE, io, cls, s);
}

/* Starts a task of stage s ending at e: its output's transfer out, and
 * the receivers' entries it makes known. */
static int start(replay *r, uint32_t s, double e, bool fwd) {
  r->st[s].free_at = e;
  GPP_TRY(wake(r, s, e));
  uint32_t lo, hi;
  const uint32_t *nb = from(r->in, s, !fwd, &lo, &hi);
  if (lo < hi) GPP_TRY(schedule(r, s, TX, fwd, e));
  for (uint32_t j = lo; j < hi; j++) GPP_TRY(schedule_rx(r, nb[j], fwd));
  return fwd ? schedule_rx(r, s, false) : 0; /* a sink's backward */
}

/* Stage s at t: if idle, it starts what the rule picks. */
static int step(replay *r, uint32_t s, double t) {
  const gpp__replay_in *in = r->in;
  rstage *st = &r->st[s];
  if (st->free_at > t) return 0;
  if (st->nb < st->nf && arrived(r, s, st->nb, false) <= t) {
    st->bend[st->nb] = t + in->b[s];
    return start(r, s, st->bend[st->nb++], false);
  }
  if (st->nf < st->m && st->nf - st->nb < in->cap[s] &&
      arrived(r, s, st->nf, true) <= t) {
    st->fend[st->nf] = t + in->f[s];
    return start(r, s, st->fend[st->nf++], true);
  }
  return 0;
}

static int run(replay *r, double *end) {
  const gpp__replay_in *in = r->in;
  for (uint32_t s = 0; s < in->n; s++) GPP_TRY(schedule_rx(r, s, true));
  gpp_event ev;
  while (gpp_evq_pop(&r->q, &ev)) {
    uint32_t kind = ev.data & 3, io = ev.data >> 2 & 1;
    uint32_t s = (uint32_t)(ev.data >> 4), x = ev.data >> 3 & 1;
    if (kind == EV_WAKE && ev.time == r->st[s].wake_at)
      r->st[s].wake_at = -INFINITY;
    int rc = kind == EV_WAKE    ? step(r, s, ev.time)
             : kind == EV_ENTER ? enter(r, s, io, x, ev.time)
                                : done(r, s, io, x, ev.time);
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

static queue make_queue(double x, double lat, bool intra, double *done) {
  return (queue){.work = x > lat ? x - lat : 0, .lat = lat,
                 .cls = intra ? INTRA : NIC, .done = done};
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

/* Per stage: its micro-batches, and six times per micro-batch (task
 * ends; per side and direction, the transfers' entries and ends). */
static int setup(replay *r, double **times) {
  const gpp__replay_in *in = r->in;
  size_t tasks = 0;
  r->batch = replayed(in);
  for (uint32_t s = 0; s < in->n; s++) {
    r->st[s].m = gpp__ceil_div(r->batch, in->mb[s]);
    r->st[s].wake_at = -INFINITY;
    tasks += r->st[s].m;
  }
  *times = gpp_calloc(r->err, 6 * tasks + 1, sizeof **times);
  if (*times == NULL) return r->err->code;
  double *at = *times;
  for (uint32_t s = 0; s < in->n; s++) {
    rstage *st = &r->st[s];
    uint32_t m = st->m;
    st->fend = at;
    st->bend = at + m;
    st->q[RX][1] = make_queue(in->xin[s], in->lat_in[s], in->intra_in[s],
                              at + 2 * m);
    st->q[RX][0] = make_queue(in->xout[s], in->lat_out[s], in->intra_out[s],
                              at + 3 * m);
    st->q[TX][1] = make_queue(in->xout[s], in->lat_out[s], in->intra_out[s],
                              at + 4 * m);
    st->q[TX][0] = make_queue(in->xin[s], in->lat_in[s], in->intra_in[s],
                              at + 5 * m);
    at += 6 * (size_t)m;
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
