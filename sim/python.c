/* python.c -- finds and spawns the plot scripts (see python.h). */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/common/bundle.h"
#include "sim/common/outfile.h"
#include "sim/python.h"

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

/* The folder the embedded plots/ scripts were written into (empty: none
 * yet); removed with them when the process exits. */
static char extracted[GPP_INPUT_PATH_MAX];

/* The first embedded plots/ file at or after *i (moving *i to it), or
 * NULL past the end. */
static const gpp_bundled_file *bundled_script(size_t *i) {
  const gpp_bundled_file *f;
  while ((f = gpp_bundle_at(*i)) != NULL &&
         strncmp(f->path, "plots/", 6) != 0)
    (*i)++;
  return f;
}

static void remove_extracted(void) {
  char path[GPP_INPUT_PATH_MAX + 64];
  const gpp_bundled_file *f;
  for (size_t i = 0; (f = bundled_script(&i)) != NULL; i++) {
    snprintf(path, sizeof path, "%s/%s", extracted, f->path + 6);
    remove(path);
  }
  rmdir(extracted);
}

/* Writes every embedded plots/ script into a new temporary folder, once
 * (the scripts import each other, so they go together). */
static int extract_scripts(gpp_errctx *err) {
  if (extracted[0] != '\0') return 0;
  const char *tmp = getenv("TMPDIR");
  snprintf(extracted, sizeof extracted, "%s/gppsim-plots-XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  if (mkdtemp(extracted) == NULL) {
    extracted[0] = '\0';
    GPP_RAISE(err, GPP_EIO, "cannot create a folder for the built-in plot "
              "scripts under %s", tmp != NULL && tmp[0] ? tmp : "/tmp");
  }
  atexit(remove_extracted);
  char path[GPP_INPUT_PATH_MAX + 64];
  const gpp_bundled_file *f;
  for (size_t i = 0; (f = bundled_script(&i)) != NULL; i++) {
    snprintf(path, sizeof path, "%s/%s", extracted, f->path + 6);
    GPP_TRY(gpp_outfile_write_text(path, f->text, f->len, err));
  }
  return 0;
}

int gpp_python_script(const char *name, char *buf, size_t len,
                      gpp_errctx *err) {
  gpp_input_loc loc;
  snprintf(buf, len, "%s/plots/%s", gpp_source_root(), name);
  gpp_input_where where = gpp_input_locate(buf, &loc);
  if (where == GPP_INPUT_NONE)
    GPP_RAISE(err, GPP_ENOENT, "no plot script plots/%s (neither under %s "
              "nor built in)", name, gpp_source_root());
  if (where != GPP_INPUT_BUNDLED) return 0;
  GPP_TRY(extract_scripts(err));
  snprintf(buf, len, "%s/%s", extracted, name);
  return 0;
}
