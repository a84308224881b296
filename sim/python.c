/* python.c -- spawns the plot scripts (see python.h). */
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

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
