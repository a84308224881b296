/* python.h -- finding and running the Python scripts: the matplotlib
 * scripts of plots/ and the model importer of sim/importer/.
 * The interpreter is /usr/bin/python3 (the first python3 on PATH may lack
 * matplotlib and h5py), or $GPP_PYTHON when set. */
#ifndef GPP_SIM_PYTHON_H
#define GPP_SIM_PYTHON_H

#include "sim/common/err.h"

/* The path of plots/NAME (e.g. "timeline.py") into buf: under the source
 * tree when it is there, else the copy built into the binary, written with
 * the other plot scripts into a temporary folder removed at exit. */
int gpp_python_script(const char *name, char *buf, size_t len,
                      gpp_errctx *err);
/* The same for the model importer's sim/importer/NAME. */
int gpp_python_importer_script(const char *name, char *buf, size_t len,
                               gpp_errctx *err);
/* The interpreter's path. */
const char *gpp_python_path(void);
/* Checks that the interpreter runs and imports matplotlib and h5py;
 * GPP_EIO with a message saying what to install otherwise. */
int gpp_python_check(gpp_errctx *err);
/* Runs the interpreter on args (script first, NULL-terminated) with its
 * stdout on our stderr; GPP_EIO naming the script when it fails. */
int gpp_python_run(const char *const *args, gpp_errctx *err);
/* Runs it the same way and returns its exit status (-1: not started). */
int gpp_python_status(const char *const *args);

#endif
