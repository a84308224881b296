/* python.c -- finds and spawns the plot scripts (see python.h). */
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/common/bundle.h"
#include "sim/common/outfile.h"
#include "sim/cli/python.h"

extern char **environ;

#define MAX_ARGS 32

const char *gpp_python_path(void) {
  const char *p = getenv("GPP_PYTHON");
  return p && *p ? p : "/usr/bin/python3";
}

/* Exit status of python with args, or -1 when it cannot be started. */
static int spawn(const char *const *args, int quiet) {
  const char *argv[MAX_ARGS + 2] = {gpp_python_path()};
  int n = 1;
  for (; args[n - 1] != NULL && n <= MAX_ARGS; n++) argv[n] = args[n - 1];
  argv[n] = NULL;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, 2, 1);
  if (quiet) posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
  pid_t pid;
  int status = 0;
  int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0 || waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int gpp_python_check(gpp_errctx *err) {
  const char *args[] = {"-c", "import matplotlib, h5py", NULL};
  if (spawn(args, 1) != 0)
    GPP_RAISE(err, GPP_EIO, "%s cannot import matplotlib and h5py, which "
              "the plots need (install python3-matplotlib and python3-h5py, "
              "or point GPP_PYTHON at an interpreter that has them)",
              gpp_python_path());
  return 0;
}

int gpp_python_run(const char *const *args, gpp_errctx *err) {
  int rc = spawn(args, 0);
  if (rc != 0)
    GPP_RAISE(err, GPP_EIO, "%s %s failed (exit status %d)",
              gpp_python_path(), args[0], rc);
  return 0;
}

int gpp_python_status(const char *const *args) { return spawn(args, 0); }

/* A folder of embedded scripts: its prefix in the bundle and where its
 * files were written (empty: not yet), removed when the process exits. */
typedef struct script_dir {
  const char *prefix;
  char extracted[GPP_INPUT_PATH_MAX];
} script_dir;

static script_dir dirs[] = {{"plots/", ""}, {"sim/importer/", ""}};
#define N_DIRS (sizeof dirs / sizeof dirs[0])

/* The first embedded file of d at or after *i (moving *i to it), or NULL
 * past the end. */
static const gpp_bundled_file *bundled_script(const script_dir *d,
                                              size_t *i) {
  const gpp_bundled_file *f;
  size_t n = strlen(d->prefix);
  while ((f = gpp_bundle_at(*i)) != NULL && strncmp(f->path, d->prefix, n) != 0)
    (*i)++;
  return f;
}

static void remove_extracted(void) {
  char path[GPP_INPUT_PATH_MAX + 64];
  const gpp_bundled_file *f;
  for (size_t k = 0; k < N_DIRS; k++) {
    script_dir *d = &dirs[k];
    if (d->extracted[0] == '\0') continue;
    for (size_t i = 0; (f = bundled_script(d, &i)) != NULL; i++) {
      snprintf(path, sizeof path, "%s/%s", d->extracted,
               f->path + strlen(d->prefix));
      remove(path);
    }
    rmdir(d->extracted);
  }
}

/* Writes every embedded script of d into a new temporary folder, once
 * (the scripts import each other, so they go together). */
static int extract_scripts(script_dir *d, gpp_errctx *err) {
  static bool registered;
  if (d->extracted[0] != '\0') return 0;
  const char *tmp = getenv("TMPDIR");
  snprintf(d->extracted, sizeof d->extracted, "%s/gppsim-scripts-XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  if (mkdtemp(d->extracted) == NULL) {
    d->extracted[0] = '\0';
    GPP_RAISE(err, GPP_EIO, "cannot create a folder for the built-in "
              "scripts under %s", tmp != NULL && tmp[0] ? tmp : "/tmp");
  }
  if (!registered) atexit(remove_extracted);
  registered = true;
  char path[GPP_INPUT_PATH_MAX + 64];
  const gpp_bundled_file *f;
  for (size_t i = 0; (f = bundled_script(d, &i)) != NULL; i++) {
    snprintf(path, sizeof path, "%s/%s", d->extracted,
             f->path + strlen(d->prefix));
    GPP_TRY(gpp_outfile_write_text(path, f->text, f->len, err));
  }
  return 0;
}

static int find_script(script_dir *d, const char *name, char *buf, size_t len,
                       gpp_errctx *err) {
  gpp_input_loc loc;
  snprintf(buf, len, "%s/%s%s", gpp_source_root(), d->prefix, name);
  gpp_input_where where = gpp_input_locate(buf, &loc);
  if (where == GPP_INPUT_NONE)
    GPP_RAISE(err, GPP_ENOENT, "no script %s%s (neither under %s nor built "
              "in)", d->prefix, name, gpp_source_root());
  if (where != GPP_INPUT_BUNDLED) return 0;
  GPP_TRY(extract_scripts(d, err));
  snprintf(buf, len, "%s/%s", d->extracted, name);
  return 0;
}

int gpp_python_script(const char *name, char *buf, size_t len,
                      gpp_errctx *err) {
  return find_script(&dirs[0], name, buf, len, err);
}

int gpp_python_importer_script(const char *name, char *buf, size_t len,
                               gpp_errctx *err) {
  return find_script(&dirs[1], name, buf, len, err);
}
