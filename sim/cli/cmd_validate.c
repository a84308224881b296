/* cmd_validate.c -- `gppsim validate`: measured (gppsim-exec) against
 * simulated (`gppsim simulate --out`) results, one pair (`compare`, with an
 * optional predicted-vs-measured scatter plot) or a directory of pairs
 * (`suite`, the error table of validate/results/README.md). */
#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli/cli.h"
#include "sim/common/outfile.h"
#include "sim/common/units.h"
#include "sim/cli/python.h"
#include "validate/validate.h"

#define MEASURED_SUFFIX ".measured.h5"
#define SIMULATED_SUFFIX ".simulated.h5"

typedef struct val_args {
  const char *a, *b, *scatter;
  bool json, markdown;
} val_args;

static void usage(FILE *f) {
  fprintf(f,
      "usage: gppsim validate compare MEASURED.h5 SIMULATED.h5 [--json] "
      "[--scatter OUT.png]\n"
      "       gppsim validate suite DIR [--json] [--markdown]\n"
      "       gppsim validate kernels TABLE.csv... [--json] [--fit]\n"
      "       gppsim validate published TABLE.csv [--json] [--markdown]\n\n"
      "compare: matches the tasks of a measured run (gppsim-exec --out) and "
      "a simulation\n(gppsim simulate --out) of the same plan by (device, "
      "peer, stage, micro-batch,\nreplica, kind) and prints the iteration-"
      "time error and the distributions (median,\np90, max) of |relative "
      "error| per task and per stage; relative error is\n(predicted - "
      "measured) / measured.  --scatter draws predicted against measured\n"
      "task times with plots/validate_scatter.py (/usr/bin/python3 or $GPP_PYTHON).\n\n"
      "suite: compares every NAME" MEASURED_SUFFIX " in DIR with its NAME"
      SIMULATED_SUFFIX " and\nprints one row per plan and the suite's median "
      "and max |iteration error|;\n--markdown prints the table as Markdown "
      "(validate/run_suite.sh writes it to\nvalidate/results/README.md).\n\n"
      "kernels: the kernel model's GEMM times against published measurements "
      "(see\n`gppsim validate kernels --help`).\n"
      "published: predictions against published measured training runs "
      "(see\n`gppsim validate published --help`).\n\n"
      "Exit status 2 for missing, damaged, foreign or mismatched files.\n");
}

static int parse(int argc, char **argv, val_args *a, int need) {
  static const struct option opts[] = {
      {"json", no_argument, NULL, 'j'},
      {"markdown", no_argument, NULL, 'm'},
      {"scatter", required_argument, NULL, 's'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "jms:h", opts, NULL)) != -1) {
    switch (ch) {
    case 'j': a->json = true; break;
    case 'm': a->markdown = true; break;
    case 's': a->scatter = optarg; break;
    case 'h': usage(stdout); return -1;
    default: return gpp_cli_usage_error("validate", "bad option");
    }
  }
  if (argc - optind != need)
    return gpp_cli_usage_error("validate", "%s takes %d file argument%s",
                               argv[0], need, need > 1 ? "s" : "");
  a->a = argv[optind];
  a->b = need > 1 ? argv[optind + 1] : NULL;
  return 0;
}

static json_t *stats_json(const gpp_errstats *s) {
  return json_pack("{s:I, s:f, s:f, s:f}", "n", (json_int_t)s->n,
                   "median_abs_error", s->median, "p90_abs_error", s->p90,
                   "max_abs_error", s->max);
}

static json_t *comparison_json(const gpp_comparison *c) {
  json_t *per_stage = json_array();
  for (uint32_t s = 0; per_stage && s < c->n_stages; s++)
    json_array_append_new(per_stage, isfinite(c->stage_err[s])
                                         ? json_real(c->stage_err[s])
                                         : json_null());
  return json_pack("{s:b, s:{s:f, s:f, s:f}, s:o, s:I, s:I, s:o, s:o}",
                   "measured_by_gppsim_exec", c->measured_is_run, "iteration", "measured", c->iter_measured, "predicted",
                   c->iter_predicted, "error",
                   isfinite(c->iter_error) ? c->iter_error : 0.0,
                   "tasks", stats_json(&c->task), "matched",
                   (json_int_t)c->n_matched, "skipped_zero_time",
                   (json_int_t)c->n_skipped, "stages", stats_json(&c->stage),
                   "stage_errors", per_stage);
}

static void print_stats(const char *what, const gpp_errstats *s) {
  printf("%-10s %6zu  median %7.2f%%  p90 %7.2f%%  max %7.2f%%\n", what, s->n,
         100 * s->median, 100 * s->p90, 100 * s->max);
}

static void print_text(const val_args *a, const gpp_comparison *c) {
  char m[32], p[32];
  printf("measured   %s%s\npredicted  %s\n", a->a,
         c->measured_is_run ? "" : " (no /measured group: not a gppsim-exec "
                                   "run)", a->b);
  printf("iteration  measured %s, predicted %s, error %+.2f%%\n",
         gpp_units_format(c->iter_measured, GPP_Q_TIME, m, sizeof m),
         gpp_units_format(c->iter_predicted, GPP_Q_TIME, p, sizeof p),
         100 * c->iter_error);
  printf("\n|relative error| of (predicted - measured) / measured:\n");
  print_stats("tasks", &c->task);
  print_stats("stages", &c->stage);
  if (c->n_skipped)
    printf("(%zu of %zu tasks have zero measured time and no relative "
           "error)\n", c->n_skipped, c->n_matched);
  printf("\n%-6s %9s\n", "stage", "error");
  for (uint32_t s = 0; s < c->n_stages; s++)
    printf("%-6u %+8.2f%%\n", s, 100 * c->stage_err[s]);
}

static int compare_files(const char *mpath, const char *spath,
                         gpp_comparison *c, gpp_errctx *err) {
  gpp_vfile m, s;
  GPP_TRY(gpp_vfile_read(mpath, &m, err));
  int rc = gpp_vfile_read(spath, &s, err);
  if (rc == 0) {
    rc = gpp_compare(&m, &s, c, err);
    gpp_vfile_free(&s);
  }
  gpp_vfile_free(&m);
  return rc;
}

static int run_scatter(const val_args *a, gpp_errctx *err) {
  char script[4200];
  GPP_TRY(gpp_python_script("validate_scatter.py", script, sizeof script,
                            err));
  const char *args[] = {script, a->a, a->b, "--out", a->scatter, NULL};
  return gpp_python_run(args, err);
}

static int cmd_compare(const val_args *a, gpp_errctx *err) {
  gpp_comparison c;
  GPP_TRY(gpp_outfile_check(a->scatter, err)); /* before any work */
  GPP_TRY(compare_files(a->a, a->b, &c, err));
  int rc = 0;
  if (a->json)
    rc = gpp__validate_print_json(comparison_json(&c), err);
  else
    print_text(a, &c);
  gpp_comparison_free(&c);
  if (rc == 0 && a->scatter) rc = run_scatter(a, err);
  return rc;
}

/* ---- suite ------------------------------------------------------------- */

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The NAMEs of DIR/NAME.measured.h5, sorted (malloc'd). */
static int list_pairs(const char *dir, char ***names, size_t *n,
                      gpp_errctx *err) {
  DIR *d = opendir(dir);
  if (d == NULL) GPP_RAISE(err, GPP_ENOENT, "%s: cannot open directory", dir);
  struct dirent *e;
  size_t len_suffix = strlen(MEASURED_SUFFIX);
  *names = NULL;
  *n = 0;
  int rc = 0;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len <= len_suffix ||
        strcmp(e->d_name + len - len_suffix, MEASURED_SUFFIX) != 0)
      continue;
    char **grown = gpp_realloc_array(err, *names, *n + 1, sizeof *grown);
    if (grown == NULL) { rc = err->code; break; }
    *names = grown;
    (*names)[(*n)++] = strndup(e->d_name, len - len_suffix);
  }
  closedir(d);
  if (rc == 0 && *n == 0)
    rc = GPP_ERR(err, GPP_ENOENT, "%s: no *" MEASURED_SUFFIX " files", dir);
  if (rc == 0) qsort(*names, *n, sizeof **names, name_cmp);
  return rc;
}

typedef struct suite_row {
  const char *name;
  gpp_comparison c;
} suite_row;

static void print_row(const val_args *a, const suite_row *r) {
  const gpp_comparison *c = &r->c;
  const char *f = a->markdown
      ? "| %s | %.4g | %.4g | %+.2f%% | %.2f%% | %.2f%% | %.2f%% | %.2f%% |\n"
      : "%-28s %10.4g %10.4g %+9.2f%% %8.2f%% %8.2f%% %8.2f%% %8.2f%%\n";
  printf(f, r->name, c->iter_measured * 1e3, c->iter_predicted * 1e3,
         100 * c->iter_error, 100 * c->task.median, 100 * c->task.p90,
         100 * c->task.max, 100 * c->stage.median);
}

static void print_header(const val_args *a) {
  if (a->markdown) {
    printf("| plan | measured (ms) | predicted (ms) | iteration error | "
           "task median \\|err\\| | task p90 | task max | stage median |\n"
           "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    return;
  }
  printf("%-28s %10s %10s %10s %9s %9s %9s %9s\n", "plan", "meas (ms)",
         "pred (ms)", "iter err", "task med", "task p90", "task max",
         "stage med");
}

static int suite_summary(const suite_row *rows, size_t n, gpp_errstats *it,
                         gpp_errstats *task, gpp_errctx *err) {
  double *v = gpp_calloc(err, 2 * n, sizeof *v);
  if (v == NULL) return err->code;
  for (size_t i = 0; i < n; i++) {
    v[i] = rows[i].c.iter_error;
    v[n + i] = rows[i].c.task.median;
  }
  int rc = gpp_errstats_of(v, n, it, err);
  if (rc == 0) rc = gpp_errstats_of(v + n, n, task, err);
  free(v);
  return rc;
}

static int print_suite(const val_args *a, const suite_row *rows, size_t n,
                       gpp_errctx *err) {
  gpp_errstats it, task;
  GPP_TRY(suite_summary(rows, n, &it, &task, err));
  if (a->json) {
    json_t *plans = json_object();
    for (size_t i = 0; plans && i < n; i++)
      json_object_set_new(plans, rows[i].name, comparison_json(&rows[i].c));
    return gpp__validate_print_json(json_pack("{s:o, s:o, s:o}", "plans", plans,
                                "iteration", stats_json(&it),
                                "task_median", stats_json(&task)), err);
  }
  print_header(a);
  for (size_t i = 0; i < n; i++) print_row(a, &rows[i]);
  printf("\n%zu plans: |iteration error| median %.2f%%, max %.2f%%; "
         "per-plan task median |error| median %.2f%%, max %.2f%%\n", n, 100 * it.median, 100 * it.max,
         100 * task.median, 100 * task.max);
  return 0;
}

static int compare_pair(const char *dir, const char *name, gpp_comparison *c,
                        gpp_errctx *err) {
  char m[4096], s[4096];
  snprintf(m, sizeof m, "%s/%s" MEASURED_SUFFIX, dir, name);
  snprintf(s, sizeof s, "%s/%s" SIMULATED_SUFFIX, dir, name);
  return compare_files(m, s, c, err);
}

static int cmd_suite(const val_args *a, gpp_errctx *err) {
  char **names = NULL;
  size_t n = 0;
  int rc = list_pairs(a->a, &names, &n, err);
  suite_row *rows = rc == 0 ? gpp_calloc(err, n, sizeof *rows) : NULL;
  if (rc == 0 && rows == NULL) rc = err->code;
  size_t done = 0;
  for (; rc == 0 && done < n; done++) {
    rows[done].name = names[done];
    rc = compare_pair(a->a, names[done], &rows[done].c, err);
  }
  if (rc == 0) rc = print_suite(a, rows, n, err);
  for (size_t i = 0; rows && i < done; i++) gpp_comparison_free(&rows[i].c);
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  free(rows);
  return rc;
}

int gpp_cmd_validate(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "kernels") == 0)
    return gpp__cmd_validate_kernels(argc - 1, argv + 1);
  if (strcmp(argv[1], "published") == 0)
    return gpp__cmd_validate_published(argc - 1, argv + 1);
  bool compare = strcmp(argv[1], "compare") == 0;
  if (!compare && strcmp(argv[1], "suite") != 0)
    return gpp_cli_usage_error("validate", "unknown subcommand '%s' (compare, "
                               "suite, kernels or published)", argv[1]);
  val_args a = {0};
  int rc = parse(argc - 1, argv + 1, &a, compare ? 2 : 1);
  if (rc != 0) return rc < 0 ? 0 : rc;
  gpp_errctx err = {0};
  rc = compare ? cmd_compare(&a, &err) : cmd_suite(&a, &err);
  return rc == 0 ? 0 : gpp_cli_fail(&err);
}
