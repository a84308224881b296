/* sweep_mpi.c -- a sweep over MPI ranks with dynamic load balancing.  Every
 * rank, rank 0 included, takes the next unfinished point from a shared
 * counter (an atomic fetch-and-add on a one-sided window that rank 0
 * exposes, passive target), so a slow point holds up only the rank that
 * runs it.  Workers send each finished row to rank 0 without waiting; rank
 * 0 takes them between and after its own points, appends them to
 * OUT.partial as they come and writes OUT in point order at the end
 * (sweep_run.c).  MPI is initialised only when a launcher (mpirun, srun)
 * started the process, so the plain binary never touches it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/sweep/sweep_internal.h"

#ifdef GPP_MPI
#include <mpi.h>

enum { TAG_ROW = 1, TAG_DONE };

static int inited, rank, size = 1;

static bool launched(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE",
                                     "PMIX_RANK", "PMI_RANK"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
    if (getenv(vars[i]) != NULL) return true;
  return false;
}

int gpp_sweep_mpi_begin(int *argc, char ***argv) {
  if (inited || !launched()) return rank;
  MPI_Init(argc, argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  inited = 1;
  return rank;
}

void gpp_sweep_mpi_end(void) {
  if (inited) MPI_Finalize();
  inited = 0;
}

int gpp__sweep_mpi_size(void) { return size; }
int gpp__sweep_mpi_rank(void) { return rank; }

/* One rank's part of the sweep. */
typedef struct mpi_sweep {
  gpp_sweep *s;
  gpp__sw_state st;     /* rank 0: the working and final files */
  uint32_t *todo;       /* the unfinished points, in point order */
  int64_t n_todo;
  MPI_Win win;
  int64_t *counter;     /* rank 0's window: the next index into todo */
  int rc;               /* this rank's first failure */
  gpp_errctx *err;
  MPI_Request *reqs;    /* worker: rows posted to rank 0 ... */
  char **bufs;          /* ... and their buffers, NULL once delivered */
  uint32_t n_sent, n_delivered;
  gpp_errctx status;    /* worker: its last message, sent to rank 0 */
  int live;             /* rank 0: workers that have not said done */
} mpi_sweep;

/* Ranks that wait poll with short sleeps: a blocking MPI wait spins, and
 * a rank with nothing left to do would take a core from those computing. */
static void nap(void) {
  const struct timespec t = {0, 500000};
  nanosleep(&t, NULL);
}

static void await(int n, MPI_Request *r) {
  for (int flag = 0;;) {
    MPI_Testall(n, r, &flag, MPI_STATUSES_IGNORE);
    if (flag) return;
    nap();
  }
}

/* ---- the shared counter ---- */

/* The window's creation fails on every rank alike when the MPI library has
 * no one-sided transport for these processes. */
static int counter_open(mpi_sweep *m) {
  MPI_Aint bytes = rank == 0 ? (MPI_Aint)sizeof *m->counter : 0;
  char why[MPI_MAX_ERROR_STRING];
  int len;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rc = MPI_Win_allocate(bytes, (int)sizeof *m->counter, MPI_INFO_NULL,
                            MPI_COMM_WORLD, &m->counter, &m->win);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
  if (rc != MPI_SUCCESS) {
    MPI_Error_string(rc, why, &len);
    GPP_RAISE(m->err, GPP_EINTERNAL,
              "MPI cannot create the sweep's shared counter (%s): no "
              "one-sided transport between these ranks?", why);
  }
  if (rank == 0) *m->counter = 0;
  MPI_Win_lock_all(MPI_MODE_NOCHECK, m->win);
  MPI_Win_sync(m->win);
  MPI_Barrier(MPI_COMM_WORLD);
  return 0;
}

static void counter_close(mpi_sweep *m) {
  MPI_Win_unlock_all(m->win);
  MPI_Win_free(&m->win);
}

/* Atomically adds n to the counter and returns its earlier value. */
static int64_t counter_add(mpi_sweep *m, int64_t n) {
  int64_t old;
  MPI_Fetch_and_op(&n, &old, MPI_INT64_T, 0, 0, MPI_SUM, m->win);
  MPI_Win_flush(0, m->win);
  return old;
}

/* The first failure on a rank stops every rank from taking new points:
 * the counter moves past the end of the list. */
static void fail(mpi_sweep *m, int rc) {
  if (m->rc != 0) return;
  m->rc = rc;
  counter_add(m, m->n_todo);
}

/* ---- setting up: the list of unfinished points ---- */

static void list_todo(mpi_sweep *m) {
  for (uint32_t i = 0; i < m->s->n_points; i++)
    if (m->st.done[i].plan == NULL) m->todo[m->n_todo++] = i;
}

static int alloc_lists(mpi_sweep *m) {
  uint32_t n = m->s->n_points + 1;
  m->todo = gpp_calloc(m->err, n, sizeof *m->todo);
  m->reqs = gpp_calloc(m->err, n, sizeof *m->reqs);
  m->bufs = gpp_calloc(m->err, n, sizeof *m->bufs);
  return m->todo && m->reqs && m->bufs ? 0 : GPP_ENOMEM;
}

/* Rank 0 opens the files (reading earlier rows with --resume) and lists
 * the unfinished points; every rank gets the list, or the failure. */
static int prepare(mpi_sweep *m, const char *out, const gpp_sweep_opts *o) {
  MPI_Request r;
  m->rc = alloc_lists(m);
  if (m->rc == 0 && rank == 0)
    m->rc = gpp__sweep_begin(&m->st, m->s, out, o, m->err);
  if (m->rc == 0 && rank == 0) list_todo(m);
  MPI_Iallreduce(MPI_IN_PLACE, &m->rc, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD,
                 &r);
  await(1, &r);
  if (m->rc != 0) return m->rc;
  MPI_Ibcast(&m->n_todo, 1, MPI_INT64_T, 0, MPI_COMM_WORLD, &r);
  await(1, &r);
  MPI_Ibcast(m->todo, (int)m->n_todo, MPI_UINT32_T, 0, MPI_COMM_WORLD, &r);
  await(1, &r);
  return 0;
}

/* ---- rows: packed as the row, search_s, wall_s, then the plan text ---- */

static char *pack(const gpp__sw_result *r, int *n) {
  size_t plan = strlen(r->plan) + 1;
  size_t len = sizeof r->row + 2 * sizeof(double) + plan;
  char *buf = malloc(len);
  if (buf == NULL) return NULL;
  memcpy(buf, &r->row, sizeof r->row);
  memcpy(buf + sizeof r->row, &r->search_s, sizeof(double));
  memcpy(buf + sizeof r->row + sizeof(double), &r->wall_s, sizeof(double));
  memcpy(buf + sizeof r->row + 2 * sizeof(double), r->plan, plan);
  *n = (int)len;
  return buf;
}

static void unpack(const char *buf, int n, gpp__sw_result *r) {
  memcpy(&r->row, buf, sizeof r->row);
  memcpy(&r->search_s, buf + sizeof r->row, sizeof(double));
  memcpy(&r->wall_s, buf + sizeof r->row + sizeof(double), sizeof(double));
  size_t off = sizeof r->row + 2 * sizeof(double);
  r->plan = strndup(buf + off, (size_t)n - off);
}

/* ---- workers: rows go to rank 0 without waiting ---- */

/* Frees the buffers of the rows rank 0 has taken. */
static void reap(mpi_sweep *m) {
  for (uint32_t i = m->n_delivered; i < m->n_sent; i++) {
    int flag = 1;
    if (m->bufs[i] != NULL) MPI_Test(&m->reqs[i], &flag, MPI_STATUS_IGNORE);
    if (!flag) continue;
    free(m->bufs[i]);
    m->bufs[i] = NULL;
    if (i == m->n_delivered) m->n_delivered++;
  }
}

static int post_row(mpi_sweep *m, const gpp__sw_result *r) {
  int n;
  char *buf = pack(r, &n);
  if (buf == NULL) GPP_RAISE(m->err, GPP_ENOMEM, "out of memory");
  reap(m);
  m->bufs[m->n_sent] = buf;
  MPI_Isend(buf, n, MPI_BYTE, 0, TAG_ROW, MPI_COMM_WORLD,
            &m->reqs[m->n_sent++]);
  return 0;
}

/* Tells rank 0 this rank is done, with its failure if any (after its rows:
 * messages from one rank arrive in order), and waits until all are taken. */
static void worker_end(mpi_sweep *m) {
  MPI_Request r;
  if (m->rc == 0) memset(&m->status, 0, sizeof m->status);
  else m->status = *m->err;
  m->status.code = m->rc;
  m->status.c_file = NULL; /* an address in this process only */
  MPI_Isend(&m->status, (int)sizeof m->status, MPI_BYTE, 0, TAG_DONE,
            MPI_COMM_WORLD, &r);
  await((int)(m->n_sent - m->n_delivered), m->reqs + m->n_delivered);
  await(1, &r);
  reap(m);
}

/* ---- rank 0: rows are appended to OUT.partial as they come ---- */

/* Every finished row is kept, even after a failure (best effort then), so
 * that --resume loses nothing. */
static void record(mpi_sweep *m, gpp__sw_result *r) {
  gpp_errctx later = {0};
  int rc = gpp__sweep_record(&m->st, r, m->rc == 0 ? m->err : &later);
  if (rc != 0) fail(m, rc);
}

static void take_row(mpi_sweep *m, const char *buf, int n) {
  gpp__sw_result r;
  unpack(buf, n, &r);
  if (r.plan != NULL) record(m, &r);
  else if (m->rc == 0) fail(m, GPP_ERR(m->err, GPP_ENOMEM, "out of memory"));
}

static void take_done(mpi_sweep *m, const char *buf) {
  gpp_errctx e;
  memcpy(&e, buf, sizeof e);
  m->live--;
  if (e.code == 0 || m->rc != 0) return;
  *m->err = e;
  fail(m, e.code);
}

static void take(mpi_sweep *m, const MPI_Status *st) {
  int n;
  MPI_Get_count(st, MPI_BYTE, &n);
  char *buf = malloc(n > 0 ? (size_t)n : 1);
  if (buf == NULL) {
    fprintf(stderr, "gppsim: out of memory receiving a sweep row\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Recv(buf, n, MPI_BYTE, st->MPI_SOURCE, st->MPI_TAG, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  if (st->MPI_TAG == TAG_DONE) take_done(m, buf);
  else take_row(m, buf, n);
  free(buf);
}

/* Takes the messages that have arrived; with `all`, waits (polling) until
 * every worker has said done. */
static void drain(mpi_sweep *m, bool all) {
  while (m->live > 0) {
    MPI_Status st;
    int flag;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (flag) take(m, &st);
    else if (all) nap();
    else return;
  }
}

/* ---- every rank: take the next point until none is left ---- */

static void run_point(mpi_sweep *m, uint32_t i) {
  gpp__sw_result r;
  int rc = gpp__sweep_point_run(m->s, i, &r, m->err);
  if (rc == 0 && rank == 0) {
    record(m, &r);
    return;
  }
  if (rc == 0) rc = post_row(m, &r);
  gpp__sweep_result_free(&r);
  if (rc != 0) fail(m, rc);
}

static void work(mpi_sweep *m) {
  for (;;) {
    if (rank == 0) drain(m, false);
    if (m->rc != 0) return;
    int64_t k = counter_add(m, 1);
    if (k >= m->n_todo) return;
    run_point(m, m->todo[k]);
  }
}

/* Every rank returns rank 0's status and message. */
static int share_status(int rc, gpp_errctx *err) {
  MPI_Request r[2];
  MPI_Ibcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD, &r[0]);
  MPI_Ibcast(err->msg, (int)sizeof err->msg, MPI_CHAR, 0, MPI_COMM_WORLD,
             &r[1]);
  await(2, r);
  err->code = rc;
  return rc;
}

/* True when the ranks ran (and the counter must be closed). */
static bool run_ranks(mpi_sweep *m) {
  m->rc = counter_open(m);
  if (m->rc != 0) return false;
  work(m);
  if (rank == 0) drain(m, true);
  else worker_end(m);
  return true;
}

static void mpi_sweep_free(mpi_sweep *m) {
  if (rank == 0) gpp__sweep_state_free(&m->st);
  free(m->todo);
  free(m->reqs);
  free(m->bufs);
}

int gpp__sweep_mpi_run(gpp_sweep *s, const char *out,
                       const gpp_sweep_opts *o, gpp_errctx *err) {
  mpi_sweep m = {.s = s, .err = err, .live = size - 1};
  bool ran = prepare(&m, out, o) == 0 && run_ranks(&m);
  if (rank == 0 && m.rc == 0) m.rc = gpp__sweep_finish(&m.st, err);
  int rc = share_status(m.rc, err);
  if (ran) counter_close(&m);
  mpi_sweep_free(&m);
  return rc;
}

#else /* without MPI: one process */

int gpp_sweep_mpi_begin(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}
void gpp_sweep_mpi_end(void) {}
int gpp__sweep_mpi_size(void) { return 1; }
int gpp__sweep_mpi_rank(void) { return 0; }
int gpp__sweep_mpi_run(gpp_sweep *s, const char *out,
                       const gpp_sweep_opts *o, gpp_errctx *err) {
  (void)s, (void)out, (void)o;
  GPP_RAISE(err, GPP_EINTERNAL, "built without MPI");
}

#endif
