/* python.h -- running the matplotlib scripts under plots/ from the CLI.
 * The interpreter is /usr/bin/python3 (the first python3 on PATH may lack
 * matplotlib and h5py), or $GPP_PYTHON when set. */
#ifndef GPP_SIM_PYTHON_H
#define GPP_SIM_PYTHON_H

#include "sim/common/err.h"

/* The interpreter's path. */
const char *gpp_python_path(void);
/* Checks that the interpreter runs and imports matplotlib and h5py;
 * GPP_EIO with a message saying what to install otherwise. */
int gpp_python_check(gpp_errctx *err);
/* Runs the interpreter on args (script first, NULL-terminated) with its
 * stdout on our stderr; GPP_EIO naming the script when it fails. */
int gpp_python_run(const char *const *args, gpp_errctx *err);

#endif
