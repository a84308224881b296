/* cmd_reproduce.c -- `gppsim reproduce`: runs the GraphPipe paper's
 * experiments (configs/experiments/paper/NAME.yaml, each a sweep experiment)
 * into DIR/NAME.h5, replays the chosen plans of the timeline experiments
 * with a trace, and draws DIR/NAME.png and .pdf with plots/paper_NAME.py.
 * After `all`, plots/reproduction_md.py writes DIR/REPRODUCTION.md. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/cli/cli.h"
#include "sim/common/outfile.h"
#include "sim/cli/python.h"
#include "sim/sweep/sweep.h"
#include "sim/sweep/sweep_internal.h"

#define REP_PATH 4096
#define REP_MAX 64

/* Experiments whose chosen plans are also replayed with a trace (the
 * paper's Fig. 8 timelines). */
static const char *const traced[] = {"s75"};

typedef struct rep_args {
  const char *name, *out, *dir;
  int list, json, resume, no_plots;
} rep_args;

typedef struct rep_exp {
  char path[REP_PATH];
  gpp_sweep *sweep;
} rep_exp;

typedef struct rep_run {
  rep_args a;
  rep_exp exps[REP_MAX];
  uint32_t n_exps;
  json_t *done;  /* array of finished experiments */
  gpp_errctx err;
} rep_run;

static void usage(FILE *f) {
  fprintf(f,
      "usage: gppsim reproduce NAME|all [--out DIR] [--json] [--resume]\n"
      "                        [--no-plots] [--experiments DIR]\n"
      "       gppsim reproduce --list [--json]\n\n"
      "Runs the GraphPipe (ASPLOS'25) paper experiments: each experiment\n"
      "file in configs/experiments/paper/ is a sweep (see `gppsim sweep`)\n"
      "whose results go to DIR/NAME.h5 (progress per point on stderr);\n"
      "plots/paper_NAME.py then draws DIR/NAME.png and DIR/NAME.pdf with\n"
      "/usr/bin/python3 (or $GPP_PYTHON; needs matplotlib and h5py).  The\n"
      "s75 plans are also replayed with a trace (DIR/s75-pN-PLANNER.*) and\n"
      "drawn by plots/timeline.py when it exists.  `all` runs every\n"
      "experiment and writes DIR/REPRODUCTION.md (plots/reproduction_md.py).\n\n"
      "  --out DIR          output folder (default: reproduction)\n"
      "  --list             the experiments and their descriptions\n"
      "  --json             a JSON summary on stdout\n"
      "  --resume           keep the finished points of earlier results\n"
      "  --no-plots         results only, no Python\n"
      "  --experiments DIR  experiment files (default: the bundled ones)\n");
}

static int parse_args(int argc, char **argv, rep_args *a) {
  static const struct option opts[] = {
      {"out", required_argument, NULL, 'o'},
      {"list", no_argument, NULL, 'l'},
      {"json", no_argument, NULL, 'j'},
      {"resume", no_argument, NULL, 'r'},
      {"no-plots", no_argument, NULL, 'n'},
      {"experiments", required_argument, NULL, 'e'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  a->out = "reproduction";
  a->dir = GPP_SOURCE_DIR "/configs/experiments/paper";
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': a->out = optarg; break;
    case 'l': a->list = 1; break;
    case 'j': a->json = 1; break;
    case 'r': a->resume = 1; break;
    case 'n': a->no_plots = 1; break;
    case 'e': a->dir = optarg; break;
    case 'h': usage(stdout); return -1;
    default: return gpp_cli_usage_error("reproduce", "bad option");
    }
  }
  if (optind < argc) a->name = argv[optind++];
  if (optind < argc)
    return gpp_cli_usage_error("reproduce", "unexpected argument '%s'",
                               argv[optind]);
  if (!a->list && a->name == NULL)
    return gpp_cli_usage_error("reproduce", "name an experiment, `all`, or "
                               "give --list");
  return 0;
}

static int is_yaml(const struct dirent *d) {
  size_t n = strlen(d->d_name);
  return n > 5 && strcmp(d->d_name + n - 5, ".yaml") == 0;
}

/* Loads every DIR/NAME.yaml, in name order. */
static int load_experiments(rep_run *r) {
  struct dirent **ents;
  int n = scandir(r->a.dir, &ents, is_yaml, alphasort);
  if (n < 0)
    GPP_RAISE(&r->err, GPP_ENOENT, "cannot read the experiments folder %s",
              r->a.dir);
  int rc = n > REP_MAX ? GPP_ERR(&r->err, GPP_ERANGE, "%s holds more than "
                                 "%d experiments", r->a.dir, REP_MAX) : 0;
  for (int i = 0; rc == 0 && i < n; i++) {
    rep_exp *e = &r->exps[r->n_exps++];
    snprintf(e->path, sizeof e->path, "%s/%s", r->a.dir, ents[i]->d_name);
    rc = gpp_sweep_load(e->path, &e->sweep, &r->err);
  }
  for (int i = 0; i < n; i++) free(ents[i]);
  free(ents);
  if (rc == 0 && r->n_exps == 0)
    GPP_RAISE(&r->err, GPP_ENOENT, "no experiment files (*.yaml) in %s",
              r->a.dir);
  return rc;
}

static void print_list(const rep_run *r) {
  json_t *arr = json_array();
  for (uint32_t i = 0; i < r->n_exps; i++) {
    const gpp_sweep *s = r->exps[i].sweep;
    if (r->a.json)
      json_array_append_new(arr, json_pack(
          "{s:s, s:s, s:i, s:s}", "name", gpp_sweep_name(s), "description",
          gpp_sweep_description(s), "points", (int)gpp_sweep_n_points(s),
          "file", r->exps[i].path));
    else
      printf("%-12s %4u points  %s\n", gpp_sweep_name(s),
             gpp_sweep_n_points(s), gpp_sweep_description(s));
  }
  if (r->a.json) {
    json_dumpf(arr, stdout, JSON_INDENT(2));
    putchar('\n');
  }
  json_decref(arr);
}

static void progress(void *ctx, uint32_t done, uint32_t total,
                     const char *label) {
  fprintf(stderr, "reproduce %s: %u/%u %s\n", (const char *)ctx, done, total,
          label);
}

static int write_text(const char *path, const char *text, gpp_errctx *err) {
  return gpp_outfile_write_text(path, text, strlen(text), err);
}

/* DIR/NAME<suffix>. */
static void out_path(const rep_run *r, const char *name, const char *suffix,
                     char *buf) {
  snprintf(buf, REP_PATH, "%s/%s%s", r->a.out, name, suffix);
}

static int run_plot(const char *script, const char *in, const char *out,
                    gpp_errctx *err) {
  char py[REP_PATH];
  GPP_TRY(gpp_python_script(script, py, sizeof py, err));
  const char *args[] = {py, in, "--out", out, NULL};
  fprintf(stderr, "reproduce: drawing %s\n", out);
  return gpp_python_run(args, err);
}

/* Replays point res's plan on its cluster: BASE.plan.yaml,
 * BASE.cluster.yaml, BASE.h5, BASE.trace.json, and the timeline. */
static int trace_point(const rep_run *r, const gpp_sweep *s,
                       const gpp__sw_result *res, gpp_errctx *err) {
  char base[256], plan[REP_PATH], cl[REP_PATH], h5[REP_PATH], tr[REP_PATH];
  snprintf(base, sizeof base, "%s-p%u-%s", gpp_sweep_name(s),
           res->row.point, res->row.planner);
  out_path(r, base, ".plan.yaml", plan);
  out_path(r, base, ".cluster.yaml", cl);
  out_path(r, base, ".h5", h5);
  out_path(r, base, ".trace.json", tr);
  char *cluster_text = NULL;
  GPP_TRY(gpp__sweep_cluster_text(s, res->row.point, &cluster_text, err));
  int rc = write_text(cl, cluster_text, err);
  free(cluster_text);
  if (rc == 0) rc = write_text(plan, res->plan, err);
  if (rc == 0) rc = gpp_simulate_files(plan, cl, h5, tr, err);
  char png[REP_PATH];
  out_path(r, base, "-timeline.png", png);
  if (rc == 0 && !r->a.no_plots) rc = run_plot("timeline.py", h5, png, err);
  return rc;
}

static bool is_traced(const char *name) {
  for (size_t i = 0; i < sizeof traced / sizeof traced[0]; i++)
    if (strcmp(traced[i], name) == 0) return true;
  return false;
}

static int trace_all(const rep_run *r, const gpp_sweep *s, const char *h5,
                     gpp_errctx *err) {
  gpp__sw_result *rows = NULL;
  uint32_t n = 0;
  int rc = gpp__sweep_h5_read(s, h5, &rows, &n, err);
  for (uint32_t i = 0; rc == 0 && i < n; i++)
    if (strcmp(rows[i].row.status, "ok") == 0)
      rc = trace_point(r, s, &rows[i], err);
  for (uint32_t i = 0; i < n; i++) gpp__sweep_result_free(&rows[i]);
  free(rows);
  return rc;
}

static int run_one(rep_run *r, gpp_sweep *s) {
  const char *name = gpp_sweep_name(s);
  char h5[REP_PATH], fig[REP_PATH], script[256];
  out_path(r, name, ".h5", h5);
  out_path(r, name, "", fig);
  gpp_sweep_opts o = {.resume = r->a.resume, .progress = progress,
                      .progress_ctx = (void *)name};
  GPP_TRY(gpp_sweep_run(s, h5, &o, &r->err));
  if (is_traced(name)) GPP_TRY(trace_all(r, s, h5, &r->err));
  snprintf(script, sizeof script, "paper_%s.py", name);
  if (!r->a.no_plots) GPP_TRY(run_plot(script, h5, fig, &r->err));
  json_array_append_new(r->done, json_pack(
      "{s:s, s:i, s:s, s:s+, s:s+}", "name", name, "points",
      (int)gpp_sweep_n_points(s), "results", h5, "png", fig, ".png", "pdf",
      fig, ".pdf"));
  if (!r->a.json)
    printf("%-12s %4u points  %s%s\n", name, gpp_sweep_n_points(s), h5,
           r->a.no_plots ? "" : " (+ .png, .pdf)");
  return 0;
}

static int find_named(rep_run *r, uint32_t *out) {
  const char *names[REP_MAX];
  for (uint32_t i = 0; i < r->n_exps; i++) {
    names[i] = gpp_sweep_name(r->exps[i].sweep);
    if (strcmp(names[i], r->a.name) == 0) return *out = i, 0;
  }
  const char *hint = gpp_suggest(r->a.name, names, r->n_exps);
  char list[1024] = "";
  for (uint32_t i = 0; i < r->n_exps; i++)
    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
             i ? ", " : "", names[i]);
  GPP_RAISE(&r->err, GPP_ENOENT, "no experiment '%s'%s%s%s "
            "(experiments: %s, or all)", r->a.name,
            hint ? "; did you mean '" : "", hint ? hint : "",
            hint ? "'?" : "", list);
}

static int write_markdown(rep_run *r) {
  char md[REP_PATH];
  out_path(r, "REPRODUCTION", ".md", md);
  return run_plot("reproduction_md.py", r->a.out, md, &r->err);
}

static int run_all(rep_run *r) {
  bool all = strcmp(r->a.name, "all") == 0;
  uint32_t one = 0;
  if (!all) GPP_TRY(find_named(r, &one));
  GPP_TRY(gpp_outdir_make(r->a.out, &r->err));
  if (!r->a.no_plots) GPP_TRY(gpp_python_check(&r->err));
  for (uint32_t i = all ? 0 : one; i < (all ? r->n_exps : one + 1); i++)
    GPP_TRY(run_one(r, r->exps[i].sweep));
  if (all && !r->a.no_plots) GPP_TRY(write_markdown(r));
  if (r->a.json) {
    json_t *doc = json_pack("{s:s, s:O}", "out", r->a.out, "experiments",
                            r->done);
    json_dumpf(doc, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(doc);
  }
  return 0;
}

int gpp_cmd_reproduce(int argc, char **argv) {
  rep_run *r = calloc(1, sizeof *r);
  if (r == NULL) return 1;
  int rc = parse_args(argc, argv, &r->a);
  if (rc != 0) {
    free(r);
    return rc < 0 ? 0 : rc;
  }
  r->done = json_array();
  rc = load_experiments(r);
  if (rc == 0 && r->a.list) print_list(r);
  else if (rc == 0) rc = run_all(r);
  int status = rc == 0 ? 0 : gpp_cli_fail(&r->err);
  for (uint32_t i = 0; i < r->n_exps; i++)
    gpp_sweep_destroy(r->exps[i].sweep);
  json_decref(r->done);
  free(r);
  return status;
}
