/* sweep_mpi.c -- a sweep over MPI ranks with dynamic load balancing: rank
 * 0 hands out the next unfinished point to whichever worker asks, records
 * the rows it gets back (sweep_run.c) and writes the file; workers plan and
 * simulate.  MPI is initialised only when a launcher (mpirun, srun) started
 * the process, so the plain binary never touches it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/sweep_internal.h"

#ifdef GPP_MPI
#include <mpi.h>

enum { TAG_READY = 1, TAG_RESULT, TAG_FAIL, TAG_WORK };

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

/* ---- worker ---- */

static int send_result(const gpp__sw_result *r) {
  size_t plan = strlen(r->plan) + 1;
  size_t n = sizeof r->row + 2 * sizeof(double) + plan;
  char *buf = malloc(n);
  if (buf == NULL) return -1;
  memcpy(buf, &r->row, sizeof r->row);
  memcpy(buf + sizeof r->row, &r->search_s, sizeof(double));
  memcpy(buf + sizeof r->row + sizeof(double), &r->wall_s, sizeof(double));
  memcpy(buf + sizeof r->row + 2 * sizeof(double), r->plan, plan);
  MPI_Send(buf, (int)n, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
  free(buf);
  return 0;
}

static void send_fail(const gpp_errctx *err) {
  MPI_Send(err, (int)sizeof *err, MPI_BYTE, 0, TAG_FAIL, MPI_COMM_WORLD);
}

static void worker(gpp_sweep *s) {
  int idx;
  MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_READY, MPI_COMM_WORLD);
  for (;;) {
    MPI_Recv(&idx, 1, MPI_INT, 0, TAG_WORK, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
    if (idx < 0) return;
    gpp__sw_result r;
    gpp_errctx err = {0};
    if (gpp__sweep_point_run(s, (uint32_t)idx, &r, &err) != 0) send_fail(&err);
    else if (send_result(&r) != 0) send_fail(&err);
    gpp__sweep_result_free(&r);
  }
}

/* ---- master ---- */

typedef struct master {
  gpp__sw_state st;
  uint32_t next;
  int rc;
  gpp_errctx *err;
} master;

static void unpack(const char *buf, int n, gpp__sw_result *r) {
  memcpy(&r->row, buf, sizeof r->row);
  memcpy(&r->search_s, buf + sizeof r->row, sizeof(double));
  memcpy(&r->wall_s, buf + sizeof r->row + sizeof(double), sizeof(double));
  size_t off = sizeof r->row + 2 * sizeof(double);
  r->plan = strndup(buf + off, (size_t)n - off);
}

static void take(master *m, int tag, char *buf, int n) {
  if (tag == TAG_FAIL && m->rc == 0) {
    memcpy(m->err, buf, sizeof *m->err);
    m->rc = m->err->code ? m->err->code : GPP_EINTERNAL;
  }
  if (tag != TAG_RESULT || m->rc != 0) return;
  gpp__sw_result r;
  unpack(buf, n, &r);
  if (r.plan == NULL) m->rc = GPP_ERR(m->err, GPP_ENOMEM, "out of memory");
  else m->rc = gpp__sweep_record(&m->st, &r, m->err);
}

/* The next point to hand out, or -1 when none is left (or on failure). */
static int next_point(master *m) {
  while (m->rc == 0 && m->next < m->st.s->n_points &&
         m->st.done[m->next].plan != NULL)
    m->next++;
  return m->rc == 0 && m->next < m->st.s->n_points ? (int)m->next++ : -1;
}

/* Polls with short sleeps: a blocking probe spins, and rank 0 would take
 * a core from the workers. */
static void wait_message(MPI_Status *st) {
  const struct timespec nap = {0, 500000};
  for (int flag = 0;;) {
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, st);
    if (flag) return;
    nanosleep(&nap, NULL);
  }
}

static void serve(master *m) {
  for (int active = size - 1; active > 0;) {
    MPI_Status stt;
    int n;
    wait_message(&stt);
    MPI_Get_count(&stt, MPI_BYTE, &n);
    char *buf = malloc(n > 0 ? (size_t)n : 1);
    MPI_Recv(buf, n, MPI_BYTE, stt.MPI_SOURCE, stt.MPI_TAG, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
    take(m, stt.MPI_TAG, buf, n);
    free(buf);
    int idx = next_point(m);
    MPI_Send(&idx, 1, MPI_INT, stt.MPI_SOURCE, TAG_WORK, MPI_COMM_WORLD);
    if (idx < 0) active--;
  }
}

/* Every rank returns rank 0's status and message. */
static int share_status(int rc, gpp_errctx *err) {
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Bcast(err->msg, (int)sizeof err->msg, MPI_CHAR, 0, MPI_COMM_WORLD);
  err->code = rc;
  return rc;
}

int gpp__sweep_mpi_run(gpp_sweep *s, const char *out,
                       const gpp_sweep_opts *o, gpp_errctx *err) {
  if (rank != 0) {
    worker(s);
    return share_status(0, err);
  }
  master m = {.err = err};
  m.rc = gpp__sweep_begin(&m.st, s, out, o, err);
  serve(&m);
  if (m.rc == 0) m.rc = gpp__sweep_finish(&m.st, err);
  gpp__sweep_state_free(&m.st);
  return share_status(m.rc, err);
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
