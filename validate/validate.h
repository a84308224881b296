/* validate.h -- checking the simulator against a real GPU run.
 *
 * Three parts: the issue program of gppsim-exec (the engine's per-task
 * records turned into an order of issue and the cross-stream waits), the
 * measured results file (the engine's result with the measured task times
 * put in, written by the results writer plus a /measured group), and the
 * comparison of a measured with a simulated results file.
 */
#ifndef GPP_VALIDATE_VALIDATE_H
#define GPP_VALIDATE_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "sim/common/err.h"
#include "sim/engine/engine.h"
#include "sim/plan/plan.h"
#include "sim/engine/results.h"

/* ---- the issue program ------------------------------------------------ */

/* The engine's records in issue order (start time, then record order, which
 * puts every task after the tasks it depends on) and, for each, the tasks
 * on other streams it waits for: a compute task waits for the transfers
 * into it, a transfer for the compute task that produced it. */
typedef struct gpp_exec_prog {
  uint32_t n;           /* tasks (= the result's records) */
  uint32_t *order;      /* issue position -> record index */
  uint32_t *dep_first;  /* n + 1 offsets into deps, by issue position */
  uint32_t *deps;       /* issue positions waited for */
} gpp_exec_prog;

/* Fails with GPP_EINVAL for plans the executor cannot run: data-parallel
 * stages (their all-reduce has no executor) and ops whose kind has no
 * kernels (custom; input ops are free and skipped). */
int gpp_exec_check_plan(const gpp_plan *plan, gpp_errctx *err);
/* Builds the program from a result recorded with opts.record. */
int gpp_exec_prog_build(const gpp_result *res, gpp_exec_prog *prog,
                        gpp_errctx *err);
void gpp_exec_prog_free(gpp_exec_prog *prog);

/* ---- the measured results file ----------------------------------------- */

/* What one executor run measured: per measured iteration i, its time and
 * every record's start and end (seconds from the iteration's start), at
 * [i * n_tasks + record]; the device memory in use per device. */
typedef struct gpp_measurement {
  uint32_t iterations, warmup;
  double *iteration_time;   /* iterations */
  double *start, *end;      /* iterations * n_tasks */
  double *mem_in_use;       /* per device of the result, bytes */
  char gpu_name[128];
} gpp_measurement;

/* Allocates m's arrays for iterations x n_tasks and n_devices. */
int gpp_measurement_alloc(gpp_measurement *m, uint32_t iterations,
                          size_t n_tasks, uint32_t n_devices,
                          gpp_errctx *err);
void gpp_measurement_free(gpp_measurement *m);
/* Index of the iteration of median time (the lower median). */
uint32_t gpp_measurement_median(const gpp_measurement *m);
/* Rewrites res with iteration `it` of m: task times, iteration time,
 * samples/s, busy and bubble fractions, stage F/B/optimizer times (means
 * over the stage's tasks), device memory in use; what was not measured
 * (static memory, stash, cost sources) becomes NaN or 0. */
void gpp_measurement_apply(const gpp_measurement *m, uint32_t it,
                           const gpp_plan *plan, gpp_result *res);
/* The results file of `gppsim simulate --out` plus /measured: the dataset
 * iteration_times and the attributes iterations, warmup, iteration (the
 * one in /tasks), gpu_name and source = "gppsim-exec". */
int gpp_measured_write_h5(const char *path, const gpp_plan *plan,
                          const gpp_result *res, const gpp_results_inputs *in,
                          const gpp_measurement *m, uint32_t it,
                          gpp_errctx *err);

/* ---- comparison -------------------------------------------------------- */

/* What the comparison reads of a results file. */
typedef struct gpp_vfile {
  char path[4096];
  double iteration_time;
  uint32_t n_stages;
  gpp_task_rec *tasks;     /* /tasks (task and src_task are not stored) */
  size_t n_tasks;
  int measured;             /* has a /measured group */
} gpp_vfile;

/* Reads path; a missing, damaged or foreign file is GPP_EPARSE (or
 * GPP_ENOENT / GPP_EIO) naming the file and what is wrong. */
int gpp_vfile_read(const char *path, gpp_vfile *out, gpp_errctx *err);
void gpp_vfile_free(gpp_vfile *f);

/* Median, 90th percentile and maximum of |relative error|, over n values. */
typedef struct gpp_errstats {
  size_t n;
  double median, p90, max;
} gpp_errstats;

/* The statistics of |v| over the finite values of v. */
int gpp_errstats_of(const double *v, size_t n, gpp_errstats *s,
                    gpp_errctx *err);

/* Relative errors are (predicted - measured) / measured. */
typedef struct gpp_comparison {
  double iter_measured, iter_predicted, iter_error;
  gpp_errstats task;        /* matched tasks of non-zero measured duration */
  gpp_errstats stage;       /* per stage: its summed F+B+optimizer time */
  size_t n_matched, n_skipped; /* skipped: zero measured duration */
  double *task_err;         /* per matched measured task (NaN if skipped) */
  double *stage_err;        /* per stage */
  uint32_t n_stages;
  int measured_is_run;      /* the measured file has /measured */
} gpp_comparison;

/* Matches the tasks of measured and predicted by (device, peer, stage,
 * micro-batch, replica, kind); a task on one side only, or differing stage
 * counts, is GPP_EINVAL naming the task and the file it is missing from. */
int gpp_compare(const gpp_vfile *measured, const gpp_vfile *predicted,
                gpp_comparison *out, gpp_errctx *err);
void gpp_comparison_free(gpp_comparison *c);

/* Prints doc (indented, keys in order) to stdout and frees it; doc NULL:
 * GPP_ENOMEM (a failed json_pack).  In compare.c. */
int gpp__validate_print_json(json_t *doc, gpp_errctx *err);

/* kernels.c: the kernel model against the published GEMM measurements of
 * the n_paths tables (at least one); prints per row and per GPU and dtype,
 * as text or JSON, or with do_fit fits the efficiency parameters to the rows
 * and prints them (`gppsim validate kernels`). */
int gpp_validate_kernels(char *const *paths, size_t n_paths, bool json,
                         bool do_fit, gpp_errctx *err);
/* published.c: predicts each published measured training run of the table
 * at path and prints the rows and the error figures, as text, JSON or
 * Markdown (`gppsim validate published`). */
int gpp_validate_published(const char *path, bool json, bool md,
                           gpp_errctx *err);

#endif
