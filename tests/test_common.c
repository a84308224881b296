/* test_common.c -- errors, units, the typed YAML layer and the lookup of
 * input files (as given, source tree, embedded copy). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/common/bundle.h"
#include "sim/common/err.h"
#include "sim/common/units.h"
#include "sim/common/yaml.h"

static double parse_ok(const char *text, gpp_qkind kind) {
  double v = -1;
  char why[256];
  cr_assert_eq(gpp_units_parse(text, kind, &v, why, sizeof why), 0,
               "'%s': %s", text, why);
  return v;
}

static void parse_bad(const char *text, gpp_qkind kind) {
  double v;
  char why[256] = "";
  cr_assert_eq(gpp_units_parse(text, kind, &v, why, sizeof why), -1,
               "'%s' was accepted", text);
  cr_assert_neq(why[0], '\0');
}

Test(units, bandwidth_bytes_and_bits) {
  cr_assert_float_eq(parse_ok("300 GB/s", GPP_Q_BANDWIDTH), 3e11, 1);
  cr_assert_float_eq(parse_ok("200 Gb/s", GPP_Q_BANDWIDTH), 2.5e10, 1);
  cr_assert_float_eq(parse_ok("25GiB/s", GPP_Q_BANDWIDTH), 25 * 1073741824.0, 1);
  cr_assert_float_eq(parse_ok("100 Gbps", GPP_Q_BANDWIDTH), 1.25e10, 1);
  cr_assert_float_eq(parse_ok("1e9 B/s", GPP_Q_BANDWIDTH), 1e9, 1e-3);
}

/* A bare number is a count only: `nic_bandwidth: 400` once read as 400 B/s
 * (issue 22).  Zero needs no unit. */
Test(units, bare_numbers_need_a_unit_except_counts_and_zero) {
  char why[256] = "";
  double v;
  cr_assert_eq(gpp_units_parse("400", GPP_Q_BANDWIDTH, &v, why, sizeof why),
               -1);
  cr_assert(strstr(why, "has no unit") != NULL, "%s", why);
  parse_bad("1e9", GPP_Q_BANDWIDTH);
  parse_bad("16", GPP_Q_BYTES);
  parse_bad("3.25", GPP_Q_TIME);
  parse_bad("312e12", GPP_Q_FLOPRATE);
  cr_assert_float_eq(parse_ok("0", GPP_Q_TIME), 0, 0);
  cr_assert_float_eq(parse_ok("0", GPP_Q_FLOPRATE), 0, 0);
  cr_assert_float_eq(parse_ok("4096", GPP_Q_COUNT), 4096, 0);
}

Test(units, time_bytes_counts_flops) {
  cr_assert_float_eq(parse_ok("2 us", GPP_Q_TIME), 2e-6, 1e-18);
  cr_assert_float_eq(parse_ok("1.5 ms", GPP_Q_TIME), 1.5e-3, 1e-15);
  cr_assert_float_eq(parse_ok("3.25 s", GPP_Q_TIME), 3.25, 1e-15);
  cr_assert_float_eq(parse_ok("16 GiB", GPP_Q_BYTES), 17179869184.0, 0.5);
  cr_assert_float_eq(parse_ok("1.5 GB", GPP_Q_BYTES), 1.5e9, 0.5);
  cr_assert_float_eq(parse_ok("1M", GPP_Q_COUNT), 1e6, 1e-6);
  cr_assert_float_eq(parse_ok("-2.75", GPP_Q_COUNT), -2.75, 1e-12);
  cr_assert_float_eq(parse_ok("125 TFLOP/s", GPP_Q_FLOPRATE), 1.25e14, 1);
}

Test(units, rejects_wrong_units_and_garbage) {
  parse_bad("300 GBs", GPP_Q_BANDWIDTH);
  parse_bad("2 us", GPP_Q_BYTES);
  parse_bad("16 GiB", GPP_Q_TIME);
  parse_bad("abc", GPP_Q_COUNT);
  parse_bad("", GPP_Q_COUNT);
  parse_bad("nan", GPP_Q_COUNT);
  parse_bad("inf", GPP_Q_TIME);
  parse_bad("0x10", GPP_Q_COUNT);
  parse_bad("1e999", GPP_Q_COUNT);
}

Test(units, format_round_trips_readably) {
  char buf[64];
  cr_assert_str_eq(gpp_units_format(1.5e-3, GPP_Q_TIME, buf, sizeof buf),
                   "1.5 ms");
  cr_assert_str_eq(gpp_units_format(3e11, GPP_Q_BANDWIDTH, buf, sizeof buf),
                   "300 GB/s");
  cr_assert_str_eq(gpp_units_format(17179869184.0, GPP_Q_BYTES, buf,
                                    sizeof buf), "16 GiB");
}

Test(err, names_statuses_and_raise) {
  gpp_errctx e = {0};
  gpp_mark at = {"x.yaml", 3, 7};
  int rc = GPP_ERR_AT(&e, GPP_ERANGE, &at, "bad %d", 42);
  cr_assert_eq(rc, GPP_ERANGE);
  cr_assert_str_eq(e.msg, "x.yaml:3:7: bad 42");
  cr_assert_str_eq(gpp_err_name(GPP_ENOPLAN), "GPP_ENOPLAN");
  cr_assert_eq(gpp_err_exit_status(GPP_EPARSE), 2);
  cr_assert_eq(gpp_err_exit_status(GPP_ENOMEM), 1);
  cr_assert_eq(gpp_err_exit_status(GPP_ENOPLAN), 3);
  cr_assert_eq(gpp_err_exit_status(0), 0);
  gpp_error_prefix(&e, "loading %s", "plan");
  cr_assert_str_eq(e.msg, "loading plan: x.yaml:3:7: bad 42");
}

Test(err, suggest_close_names_only) {
  const char *const names[] = {"bandwidth", "latency", "kind", NULL};
  cr_assert_str_eq(gpp_suggest("bandwith", names, 4), "bandwidth");
  cr_assert_str_eq(gpp_suggest("latncy", names, 4), "latency");
  cr_assert_null(gpp_suggest("zzzzzzzz", names, 4));
  /* A non-scalar YAML key has no text (fuzz_model found the NULL). */
  cr_assert_null(gpp_suggest(NULL, names, 4));
  /* A name given short: the one candidate it starts, none when several. */
  const char *const gpus[] = {"a100-sxm-40gb", "a100-sxm-80gb",
                              "h100-sxm-80gb", "h200"};
  cr_assert_str_eq(gpp_suggest("h100", gpus, 4), "h100-sxm-80gb");
  cr_assert_null(gpp_suggest("a100", gpus, 4));
  cr_assert_str_eq(gpp_suggest("h201", gpus, 4), "h200");
}

static gpp_ydoc *load(const char *text, gpp_errctx *e) {
  gpp_ydoc *d = NULL;
  int rc = gpp_ydoc_load_string("t.yaml", text, strlen(text), &d, e);
  cr_assert_eq(rc, 0, "%s", e->msg);
  return d;
}

static void load_fails(const char *text, const char *expect) {
  gpp_errctx e = {0};
  gpp_ydoc *d = NULL;
  cr_assert_neq(gpp_ydoc_load_string("t.yaml", text, strlen(text), &d, &e), 0);
  cr_assert_null(d);
  cr_assert(strstr(e.msg, expect) != NULL, "message '%s' lacks '%s'", e.msg,
            expect);
}

Test(yaml, syntax_errors_have_positions) {
  load_fails("a: [1, 2\n", "t.yaml:2:1:");
  load_fails("", "t.yaml:1:1: the file is empty");
  load_fails("a: 1\n---\nb: 2\n", "second YAML document");
  load_fails("a: \"\x01\"\n", "t.yaml:1:");
}

typedef struct link_spec {
  const char *kind;
  double bandwidth, latency;
  long long count;
  bool duplex;
  int mode;
} link_spec;

static const char *const modes[] = {"ring", "tree", "auto", NULL};
static const gpp_yfield link_fields[] = {
    {"kind", GPP_YF_STR, offsetof(link_spec, kind), true, 0, 0, 0, NULL},
    {"bandwidth", GPP_YF_QTY, offsetof(link_spec, bandwidth), true,
     GPP_Q_BANDWIDTH, 1, INFINITY, NULL},
    {"latency", GPP_YF_QTY, offsetof(link_spec, latency), false, GPP_Q_TIME,
     0, 1, NULL},
    {"count", GPP_YF_INT, offsetof(link_spec, count), false, 0, 1, 64, NULL},
    {"duplex", GPP_YF_BOOL, offsetof(link_spec, duplex), false, 0, 0, 0, NULL},
    {"mode", GPP_YF_ENUM, offsetof(link_spec, mode), false, 0, 0, 0, modes},
};
#define N_LINK_FIELDS (sizeof link_fields / sizeof link_fields[0])

static int read_link(const char *text, link_spec *s, gpp_errctx *e) {
  gpp_ydoc *d = load(text, e);
  int rc = gpp_yread_fields(gpp_ydoc_root(d), link_fields, N_LINK_FIELDS, s, e);
  gpp_ydoc_destroy(d);
  return rc;
}

Test(yaml, field_table_reads_typed_values) {
  gpp_errctx e = {0};
  link_spec s = {.latency = 7e-6, .count = 3};
  cr_assert_eq(read_link("kind: nvlink\nbandwidth: 300 GB/s\nduplex: yes\n"
                         "mode: tree\n", &s, &e), 0, "%s", e.msg);
  cr_assert_float_eq(s.bandwidth, 3e11, 1);
  cr_assert_float_eq(s.latency, 7e-6, 1e-18); /* default kept */
  cr_assert_eq(s.count, 3);
  cr_assert(s.duplex);
  cr_assert_eq(s.mode, 1);
}

static void read_link_fails(const char *text, int code, const char *expect) {
  gpp_errctx e = {0};
  link_spec s = {0};
  cr_assert_eq(read_link(text, &s, &e), code, "%s", e.msg);
  cr_assert(strstr(e.msg, expect) != NULL, "message '%s' lacks '%s'", e.msg,
            expect);
}

Test(yaml, field_table_errors) {
  read_link_fails("kind: x\nbandwith: 1 GB/s\n", GPP_EPARSE,
                  "t.yaml:2:1: unknown key 'bandwith'; did you mean "
                  "'bandwidth'?");
  read_link_fails("kind: x\n", GPP_EPARSE, "missing required key 'bandwidth'");
  read_link_fails("kind: x\nbandwidth: 3 us\n", GPP_EUNIT, "t.yaml:2:12:");
  read_link_fails("kind: x\nbandwidth: -5 GB/s\n", GPP_ERANGE, "out of range");
  read_link_fails("kind: x\nbandwidth: 1 GB/s\ncount: 2.5\n", GPP_EUNIT,
                  "whole number");
  read_link_fails("kind: x\nbandwidth: 1 GB/s\ncount: 65\n", GPP_ERANGE,
                  "expected 1 to 64");
  read_link_fails("kind: x\nbandwidth: 1 GB/s\nmode: rign\n", GPP_EINVAL,
                  "did you mean 'ring'?");
  read_link_fails("kind: x\nbandwidth: 1 GB/s\nkind: y\n", GPP_EPARSE,
                  "duplicate key 'kind'");
  read_link_fails("kind: [a]\nbandwidth: 1 GB/s\n", GPP_EPARSE,
                  "kind: expected a scalar, found a list");
  read_link_fails("- 1\n- 2\n", GPP_EPARSE, "expected a mapping");
}

Test(yaml, sequences_and_lookup) {
  gpp_errctx e = {0};
  gpp_ydoc *d = load("xs: [1, 2, 3]\nname: abc\n", &e);
  gpp_ynode root = gpp_ydoc_root(d);
  gpp_ynode xs = gpp_ymap_find(root, "xs");
  cr_assert_eq(gpp_ynode_len(xs), 3);
  cr_assert_str_eq(gpp_ynode_scalar(gpp_yseq_at(xs, 2)), "3");
  cr_assert(!gpp_ynode_ok(gpp_yseq_at(xs, 3)));
  cr_assert(!gpp_ynode_ok(gpp_ymap_find(root, "nope")));
  gpp_mark m = gpp_ynode_mark(gpp_ymap_find(root, "name"));
  cr_assert_eq(m.line, 2);
  cr_assert_eq(m.column, 7);
  gpp_ynode out;
  cr_assert_eq(gpp_ymap_require(root, "missing", &out, &e), GPP_EPARSE);
  gpp_ydoc_destroy(d);
  gpp_ydoc_destroy(NULL);
}

Test(yaml, file_errors) {
  gpp_errctx e = {0};
  gpp_ydoc *d = NULL;
  cr_assert_eq(gpp_ydoc_load_file("/nonexistent/x.yaml", &d, &e), GPP_ENOENT);
  cr_assert(strstr(e.msg, "/nonexistent/x.yaml:1:1:") != NULL);
  cr_assert_eq(gpp_ydoc_load_file("/tmp", &d, &e), GPP_EINVAL);
}

/* ---- bundle: embedded files and the resolver ---- */

Test(bundle, embedded_copies_match_the_tree) {
  const gpp_bundled_file *f, *prev = NULL;
  size_t n = 0, yaml = 0, py = 0;
  for (; (f = gpp_bundle_at(n)) != NULL; prev = f, n++) {
    cr_assert(prev == NULL || strcmp(prev->path, f->path) < 0, "%s", f->path);
    cr_assert_eq(gpp_bundle_find(f->path), f);
    cr_assert_eq(strlen(f->text), f->len, "%s has a NUL", f->path);
    char path[4096], *text = NULL;
    size_t len = 0;
    gpp_errctx e = {0};
    snprintf(path, sizeof path, "%s/%s", GPP_SOURCE_DIR, f->path);
    cr_assert_eq(gpp_read_input_file(path, &text, &len, &e), 0, "%s", e.msg);
    cr_assert_eq(len, f->len, "%s", f->path);
    cr_assert_eq(memcmp(text, f->text, len), 0, "%s differs", f->path);
    free(text);
    yaml += strstr(f->path, "configs/") == f->path;
    py += strstr(f->path, "plots/") == f->path ||
          strstr(f->path, "sim/importer/") == f->path;
  }
  cr_assert_eq(n, gpp__bundle_count);
  cr_assert_eq(yaml + py, n);
  cr_assert_geq(yaml, 20);
  cr_assert_geq(py, 5);
  cr_assert_not_null(gpp_bundle_find("configs/hardware/v100-sxm2-16gb.yaml"));
  cr_assert_not_null(gpp_bundle_find("configs/experiments/sweeps/tiny.yaml"));
  cr_assert_not_null(gpp_bundle_find("plots/timeline.py"));
  cr_assert_not_null(gpp_bundle_find("sim/importer/onnx_import.py"));
  cr_assert_null(gpp_bundle_find("configs/models/README.md"));
  cr_assert_null(gpp_bundle_find("configs/experiments/paper/results/a3.h5"));
  cr_assert_null(gpp_bundle_find("configs/models/mmt"));
  cr_assert_null(gpp_bundle_at(n));
}

static char tmp_root[256];

/* tmp_root/rel with the given text, parents created. */
static void put_file(const char *rel, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", tmp_root, rel);
  for (char *p = path + strlen(tmp_root) + 1; (p = strchr(p, '/')); p++) {
    *p = '\0';
    mkdir(path, 0777);
    *p = '/';
  }
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f, "%s", path);
  fputs(text, f);
  fclose(f);
}

static void enter(const char *dir) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", tmp_root, dir);
  mkdir(path, 0777);
  cr_assert_eq(chdir(path), 0, "%s", path);
}

static void set_root(const char *dir) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", tmp_root, dir);
  setenv("GPP_SOURCE_DIR", path, 1);
}

/* The `name:` of the document gpp_ydoc_load_file reads for path; *where
 * is the name its messages use. */
static const char *loaded_name(const char *path, char *where) {
  static char name[64];
  gpp_errctx e = {0};
  gpp_ydoc *d = NULL;
  cr_assert_eq(gpp_ydoc_load_file(path, &d, &e), 0, "%s", e.msg);
  const char *v = gpp_ynode_scalar(gpp_ymap_find(gpp_ydoc_root(d), "name"));
  snprintf(name, sizeof name, "%s", v ? v : "");
  strcpy(where, gpp_ydoc_path(d));
  gpp_ydoc_destroy(d);
  return name;
}

static void bundle_setup(void) {
  snprintf(tmp_root, sizeof tmp_root, "/tmp/gpp_bundle_XXXXXX");
  cr_assert_not_null(mkdtemp(tmp_root));
  put_file("cwd/configs/models/mmt.yaml", "name: cwd-copy\n");
  put_file("tree/configs/models/mmt.yaml", "name: tree-copy\n");
  put_file("cwd/plans/near.yaml", "name: near\n");
  put_file("cwd/plans/configs/models/mmt.yaml", "name: near-copy\n");
}

static void bundle_teardown(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_root);
  cr_assert_eq(system(cmd), 0);
}

static const char *const mmt = "configs/models/mmt.yaml";

Test(bundle, resolver_order_given_tree_embedded, .init = bundle_setup,
     .fini = bundle_teardown) {
  gpp_input_loc loc;
  char where[4096], tree[512];
  set_root("tree");
  enter("cwd"); /* (1) as given, relative to the working directory */
  cr_assert_eq(gpp_input_locate(mmt, &loc), GPP_INPUT_AS_GIVEN);
  cr_assert_str_eq(loc.path, mmt);
  cr_assert_str_eq(loaded_name(mmt, where), "cwd-copy");
  enter("empty"); /* (2) under $GPP_SOURCE_DIR */
  snprintf(tree, sizeof tree, "%s/tree/%s", tmp_root, mmt);
  cr_assert_eq(gpp_input_locate(mmt, &loc), GPP_INPUT_TREE);
  cr_assert_str_eq(loc.path, tree);
  cr_assert_str_eq(loaded_name(mmt, where), "tree-copy");
  cr_assert_str_eq(where, tree);
  set_root("empty"); /* (3) the embedded copy, named by its key */
  cr_assert_eq(gpp_input_locate(mmt, &loc), GPP_INPUT_BUNDLED);
  cr_assert_eq(loc.bundled, gpp_bundle_find(mmt));
  cr_assert_str_eq(loaded_name(mmt, where), "mmt");
  cr_assert_str_eq(where, mmt);
  cr_assert_eq(gpp_input_locate("./configs/models/mmt.yaml", &loc),
               GPP_INPUT_BUNDLED);
  cr_assert_str_eq(loc.path, mmt);
  snprintf(tree, sizeof tree, "%s/empty//%s", tmp_root, mmt);
  cr_assert_eq(gpp_input_locate(tree, &loc), GPP_INPUT_BUNDLED);
  cr_assert_str_eq(loc.path, mmt);
}

Test(bundle, resolver_misses_and_errors, .init = bundle_setup,
     .fini = bundle_teardown) {
  gpp_input_loc loc;
  set_root("empty");
  enter("empty");
  cr_assert_eq(gpp_input_locate("configs/models/nosuch.yaml", &loc),
               GPP_INPUT_NONE);
  cr_assert_str_eq(loc.path, "configs/models/nosuch.yaml");
  cr_assert_eq(gpp_input_locate("", &loc), GPP_INPUT_NONE);
  cr_assert_eq(gpp_input_locate("/elsewhere/configs/models/mmt.yaml", &loc),
               GPP_INPUT_NONE);
  gpp_errctx e = {0};
  gpp_ydoc *d = NULL;
  cr_assert_eq(gpp_ydoc_load_file("configs/models/nosuch.yaml", &d, &e),
               GPP_ENOENT);
  cr_assert(strstr(e.msg, "configs/models/nosuch.yaml:1:1: cannot open") ==
            e.msg, "%s", e.msg);
  /* An error in an embedded file names it by its repo-relative path. */
  cr_assert_eq(gpp_ydoc_load_file(mmt, &d, &e), 0, "%s", e.msg);
  static const char *const keys[] = {"name"};
  cr_assert_eq(gpp_ymap_check_keys(gpp_ydoc_root(d), keys, 1, &e),
               GPP_EPARSE);
  cr_assert(strstr(e.msg, "configs/models/mmt.yaml:") == e.msg, "%s", e.msg);
  gpp_ydoc_destroy(d);
}

Test(bundle, near_a_referring_file, .init = bundle_setup,
     .fini = bundle_teardown) {
  char buf[4096], from[512], want[512];
  set_root("empty");
  enter("cwd");
  snprintf(from, sizeof from, "%s/cwd/plans/near.yaml", tmp_root);
  cr_assert_eq(gpp_input_near(mmt, from, buf, sizeof buf), 0);
  cr_assert_str_eq(buf, mmt); /* the working directory comes first */
  enter("empty");
  snprintf(want, sizeof want, "%s/cwd/plans/%s", tmp_root, mmt);
  cr_assert_eq(gpp_input_near(mmt, from, buf, sizeof buf), 0);
  cr_assert_str_eq(buf, want); /* then next to the referring file */
  cr_assert_eq(gpp_input_near(mmt, NULL, buf, sizeof buf), 0);
  cr_assert_str_eq(buf, mmt); /* then the embedded copy */
  cr_assert_eq(gpp_input_near("nosuch.yaml", from, buf, sizeof buf), -1);
  cr_assert_eq(gpp_input_near(mmt, NULL, buf, 8), -1);
}

Test(bundle, named_configs, .init = bundle_setup, .fini = bundle_teardown) {
  char buf[4096], want[512];
  gpp_errctx e = {0};
  set_root("tree");
  enter("empty");
  /* A bare name (with or without .yaml): the source tree's copy... */
  snprintf(want, sizeof want, "%s/tree/%s", tmp_root, mmt);
  cr_assert_eq(gpp_input_named("models", "mmt", buf, sizeof buf, &e), 0);
  cr_assert_str_eq(buf, want);
  cr_assert_eq(gpp_input_named("models", "mmt.yaml", buf, sizeof buf, &e), 0);
  cr_assert_str_eq(buf, want);
  set_root("empty"); /* ...else the embedded one, by its key */
  cr_assert_eq(gpp_input_named("models", "mmt", buf, sizeof buf, &e), 0);
  cr_assert_str_eq(buf, mmt);
  cr_assert_eq(gpp_input_named("clusters", "summit", buf, sizeof buf, &e), 0);
  cr_assert_str_eq(buf, "configs/clusters/summit.yaml");
  cr_assert_eq(gpp_input_named("experiments/plans", "mmt-gpp-8", buf,
                               sizeof buf, &e), 0);
  cr_assert_str_eq(buf, "configs/experiments/plans/mmt-gpp-8.yaml");
  /* A file in the working directory wins over a bundled name. */
  enter("cwd");
  put_file("cwd/mmt", "name: file\n");
  cr_assert_eq(gpp_input_named("models", "mmt", buf, sizeof buf, &e), 0);
  cr_assert_str_eq(buf, "mmt");
  /* A path is handed on as given, for the loader to report. */
  cr_assert_eq(gpp_input_named("models", "x/nosuch.yaml", buf, sizeof buf,
                               &e), 0);
  cr_assert_str_eq(buf, "x/nosuch.yaml");
  /* Neither: the bundled names, with a suggestion. */
  cr_assert_eq(gpp_input_named("models", "mmtx", buf, sizeof buf, &e),
               GPP_ENOENT);
  cr_assert(strstr(e.msg, "'mmtx' is neither a file nor a bundled name; "
                   "did you mean 'mmt'?") != NULL, "%s", e.msg);
  cr_assert(strstr(e.msg, "gpt, mmt") != NULL, "%s", e.msg);
}
