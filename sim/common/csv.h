/* csv.h -- tables of comma-separated values, as the published-measurement
 * files (validate/published/) are written.
 *
 * The format: lines starting with '#' are comments; blank lines are
 * skipped; the first other line is the header (column names); every later
 * line is a row with exactly as many cells as the header.  Cells are taken
 * as written, surrounding blanks trimmed; quoting is not supported (a '"'
 * is an error).  Every cell keeps its line and column for messages.
 */
#ifndef GPP_COMMON_CSV_H
#define GPP_COMMON_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/common/err.h"

typedef struct gpp_csv {
  const char *path;   /* as found by the input locator */
  size_t n_cols, n_rows;
  char **header;      /* n_cols names */
  char **cells;       /* n_rows x n_cols, row-major */
  int *line, *column; /* where each cell (and header name: row -1) starts */
  /* Owned. */
  char *buf;
  char *path_buf;
} gpp_csv;

/* Reads path (found through gpp_read_input_file: as given, under the source
 * tree or embedded).  A row with the wrong number of cells, a duplicated
 * column name or a quote is an error at its file:line:column. */
int gpp_csv_load(const char *path, gpp_csv **out, gpp_errctx *err);
void gpp_csv_free(gpp_csv *c);

/* The column named name, or -1; required: an error naming the header line
 * when it is absent. */
int gpp_csv_column(const gpp_csv *c, const char *name, bool required,
                   gpp_errctx *err);
/* The cell of row r (0-based data row) in column col. */
const char *gpp_csv_cell(const gpp_csv *c, size_t r, int col);
gpp_mark gpp_csv_mark(const gpp_csv *c, size_t r, int col);
/* The cell as a finite number in [lo, hi]; an error at the cell when it
 * is not one. */
int gpp_csv_number(const gpp_csv *c, size_t r, int col, double lo, double hi,
                   double *out, gpp_errctx *err);

#endif
