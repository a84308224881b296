/* sweep_internal.h -- the expanded experiment, the row of /points and the
 * parts of a sweep shared by sweep_load.c (experiment file), sweep_point.c
 * (one point: plan and simulate), sweep_h5.c (results file), sweep_run.c
 * (the serial driver) and sweep_mpi.c (the same over MPI ranks). */
#ifndef GPP_SIM_SWEEP_INTERNAL_H
#define GPP_SIM_SWEEP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "kernels_profile/profile_db.h"
#include "sim/common/yaml.h"
#include "sim/sweep/sweep.h"

struct gpp_cluster;
struct gpp_costs;
struct gpp_model;

#define GPP__SW_NAME 64
#define GPP__SW_PARAMS 256
#define GPP__SW_MSG 256

/* One row of /points.  Strings are fixed-length and NUL-padded; rows are
 * zeroed before filling so that their bytes are deterministic. */
typedef struct gpp__sw_row {
  uint32_t point;
  char model[GPP__SW_NAME], cluster[GPP__SW_NAME], gpu[GPP__SW_NAME];
  char planner[GPP__SW_NAME];
  uint32_t gpus, batch, micro_batch;
  char params[GPP__SW_PARAMS];
  char status[16];
  char message[GPP__SW_MSG];
  double throughput, iteration_s, bubble, peak_mem_bytes;
  uint32_t n_stages, depth;
  double planner_estimate_s, cost_per_million_samples, time_to_train_s;
  double throughput_ci_lo, throughput_ci_hi;
  uint32_t replications;
  char precision[16];  /* the dtype the model trained in */
  double tokens_per_s, mfu, hfu, time_to_train_tokens_s, cost_to_train_tokens;
} gpp__sw_row;

/* A finished point: its row, its plan and its wall-clock figures. */
typedef struct gpp__sw_result {
  gpp__sw_row row;
  char *plan;       /* malloc'd; "" when there is none */
  double search_s, wall_s;
} gpp__sw_result;

/* key = value of one point (a grid or listed-point value). */
typedef struct gpp__sw_assign {
  const char *key;
  gpp_ynode value;
} gpp__sw_assign;

typedef struct gpp__sw_model {
  const char *path;   /* resolved */
  const char *given;  /* as written, recorded in plans */
  const char *label;
  gpp__sw_assign *set; /* `set:` parameters */
  uint32_t n_set;
  const char *precision; /* `precision:`, or NULL: the model file's */
} gpp__sw_model;

typedef struct gpp__sw_point {
  uint32_t model, cluster;
  uint32_t gpus, batch, micro_batch; /* gpus 0: the whole base cluster */
  uint32_t max_stage_devices;        /* 0: no limit */
  uint32_t planners;                 /* bit i: gpp_planner_names()[i] */
  uint32_t first, n;                 /* its assignments in s->assigns */
} gpp__sw_point;

enum { GPP__SW_EACH, GPP__SW_BEST };
enum { GPP__SW_JITTER_NONE, GPP__SW_JITTER_PROFILE };

struct gpp_sweep {
  gpp_ydoc *doc;
  struct gpp_arena *arena;
  const char *name, *text;  /* text: the experiment file's bytes */
  const char *description;  /* "" when not given */
  gpp__sw_model *models;
  uint32_t n_models;
  gpp_ynode *clusters;      /* base clusters: a mapping, or a path scalar */
  gpp_ydoc **cluster_docs;  /* the documents of path clusters (or NULL) */
  uint32_t n_clusters;
  gpp__sw_point *points;
  uint32_t n_points, cap_points;
  gpp__sw_assign *assigns;
  uint32_t n_assigns, cap_assigns;
  int compare, jitter;
  uint32_t refine, replications;
  double samples_to_train;  /* NaN when not given */
  double train_tokens;      /* NaN when not given */
  unsigned long seed;
  gpp_profile_db *profile;  /* NULL without `profile:` */
};

/* Resolves a path relative to the experiment file, then to the repository
 * root, then (sub not NULL) as a bundled configs/<sub> name; the result is
 * an arena copy. */
int gpp__sweep_path(gpp_sweep *s, gpp_ynode at, const char *sub,
                    const char *given, const char **out, gpp_errctx *err);
/* Adds points: a mapping of key -> value or list, cartesian product. */
int gpp__sweep_expand(gpp_sweep *s, gpp_ynode block, uint32_t model,
                      uint32_t cluster, gpp_errctx *err);

/* "k=v,..." of the point's assignments. */
void gpp__sweep_params(const gpp_sweep *s, uint32_t point, char *buf,
                       size_t len);
/* Plans and simulates point i.  Failures of the point itself (no plan, a
 * plan that does not replay) become the row's status; a bad input (an
 * override the cluster rejects, a model parameter out of range) fails the
 * call, prefixed with the point. */
int gpp__sweep_point_run(const gpp_sweep *s, uint32_t i, gpp__sw_result *out,
                         gpp_errctx *err);
void gpp__sweep_result_free(gpp__sw_result *r);

/* The cluster of point i: the base cluster's YAML with the point's
 * cluster.<key> overrides and, when the point asks for more GPUs than that
 * has, `nodes` raised to ceil(gpus / gpus_per_node) (sweep_cluster.c). */
int gpp__sweep_cluster(const gpp_sweep *s, uint32_t i,
                       struct gpp_cluster **out, gpp_errctx *err);
/* The same cluster's YAML text (malloc'd), loadable as a cluster file. */
int gpp__sweep_cluster_text(const gpp_sweep *s, uint32_t i, char **out,
                            gpp_errctx *err);

/* Point i's cluster with only its assignment number `only` applied (a
 * cluster.<key> override) and no resizing: which override a bad point's
 * cluster fails on. */
int gpp__sweep_cluster_one(const gpp_sweep *s, uint32_t i, int only,
                           struct gpp_cluster **out, gpp_errctx *err);
/* Point's model: the model's `set:` then the point's model.<param> values
 * (later wins); only >= 0 applies just that assignment (sweep_point.c). */
int gpp__sweep_model(const gpp_sweep *s, uint32_t point, int only,
                     struct gpp_model **out, gpp_errctx *err);
/* Builds every distinct model and cluster the points use, so that a bad
 * value fails at load, before any point runs, at its line in the
 * experiment file (sweep_check.c). */
int gpp__sweep_check_points(const gpp_sweep *s, gpp_errctx *err);

/* One replication's factors: scale[2i], scale[2i+1] for op i's forward
 * and backward (1 for ops without a measured spread). */
void gpp__sweep_jitter_draw(const struct gpp_costs *c, gsl_rng *rng,
                            double *scale);

/* Replications with kernel-time jitter (sweep_jitter.c): the chosen plan
 * simulated s->replications times, each op's forward and backward times
 * scaled by a draw matching its profile's p10 / median / p90; sets the
 * row's throughput (mean), iteration_s (mean), CI and replications. */
int gpp__sweep_replicate(const gpp_sweep *s, uint32_t i, const char *plan,
                         const struct gpp_model *model,
                         struct gpp_cluster *cluster, struct gpp_costs *costs,
                         gpp__sw_row *row, gpp_errctx *err);

/* The results file (sweep_h5.c). */
typedef struct gpp__sw_h5 gpp__sw_h5;
/* A new results file built in memory, to be written whole to path by
 * gpp__sweep_h5_save (so it is complete from its first byte on disk). */
int gpp__sweep_h5_create(const gpp_sweep *s, const char *path,
                         gpp__sw_h5 **out, gpp_errctx *err);
/* Writes the file built in memory to its path (a temporary renamed into
 * place) and frees w, on success and on failure. */
int gpp__sweep_h5_save(gpp__sw_h5 *w, gpp_errctx *err);
/* Opens a results file on disk to append rows to. */
int gpp__sweep_h5_open(const char *path, gpp__sw_h5 **out, gpp_errctx *err);
/* Appends one row, its plan and its timing, then flushes the file. */
int gpp__sweep_h5_append(gpp__sw_h5 *w, const gpp__sw_result *r,
                         gpp_errctx *err);
/* Closes and frees w (every HDF5 object, on every path). */
int gpp__sweep_h5_close(gpp__sw_h5 *w, gpp_errctx *err);
/* Reads the finished points of an earlier run of the same experiment
 * (results malloc'd; the experiment text must match). */
int gpp__sweep_h5_read(const gpp_sweep *s, const char *path,
                       gpp__sw_result **out, uint32_t *n, gpp_errctx *err);

/* The run state shared by the serial and MPI loops (sweep_state.c). */
typedef struct gpp__sw_state {
  gpp_sweep *s;
  const gpp_sweep_opts *o;
  const char *out;
  char work[4200];          /* the working file: OUT.partial */
  gpp__sw_result *done;     /* indexed by point; done[i].plan != NULL */
  uint32_t n_done;
  gpp__sw_h5 *w;
} gpp__sw_state;

/* sweep_state.c: opens the working file, loading earlier rows (--resume). */
int gpp__sweep_begin(gpp__sw_state *st, gpp_sweep *s, const char *out,
                     const gpp_sweep_opts *o, gpp_errctx *err);
/* Records a finished point: appended to the working file, then progress. */
int gpp__sweep_record(gpp__sw_state *st, gpp__sw_result *r, gpp_errctx *err);
/* Writes OUT (rows in point order) and removes the working file. */
int gpp__sweep_finish(gpp__sw_state *st, gpp_errctx *err);
void gpp__sweep_state_free(gpp__sw_state *st);

/* MPI (sweep_mpi.c): the number of ranks (1 without MPI) and this rank. */
int gpp__sweep_mpi_size(void);
int gpp__sweep_mpi_rank(void);
int gpp__sweep_mpi_run(gpp_sweep *s, const char *out,
                       const gpp_sweep_opts *o, gpp_errctx *err);

#endif
