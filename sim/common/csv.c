/* csv.c -- comma-separated tables with cell locations (csv.h). */
#include "sim/common/csv.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/yaml.h"

/* Trims blanks (and a trailing '\r') around [s, e) in place; returns the
 * start, NUL-terminated. */
static char *trim(char *s, char *e) {
  while (s < e && isspace((unsigned char)*s)) s++;
  while (e > s && isspace((unsigned char)e[-1])) e--;
  *e = '\0';
  return s;
}

static bool skipped(const char *line) {
  while (*line == ' ' || *line == '\t' || *line == '\r') line++;
  return *line == '\0' || *line == '#';
}

static size_t count_cells(const char *line) {
  size_t n = 1;
  for (; *line; line++) n += *line == ',';
  return n;
}

/* Splits one line (NUL-terminated, modified) into its cells at slot
 * *at.. of c; the caller checked the count. */
static int split(gpp_csv *c, char *line, int lineno, size_t at,
                 gpp_errctx *err) {
  char *q = strchr(line, '"');
  if (q != NULL) {
    gpp_mark m = {c->path, lineno, (int)(q - line) + 1};
    GPP_RAISE_AT(err, GPP_EPARSE, &m, "quoted cells are not supported");
  }
  char *s = line;
  for (size_t j = 0;; j++) {
    char *e = strchr(s, ',');
    char *end = e ? e : s + strlen(s);
    c->line[at + j] = lineno;
    c->column[at + j] = (int)(s - line) + 1;
    c->cells[at + j] = trim(s, end);
    if (e == NULL) break;
    s = e + 1;
  }
  return 0;
}

static int check_header(gpp_csv *c, gpp_errctx *err) {
  for (size_t j = 0; j < c->n_cols; j++) {
    gpp_mark m = {c->path, c->line[j], c->column[j]};
    if (c->header[j][0] == '\0')
      GPP_RAISE_AT(err, GPP_EPARSE, &m, "empty column name");
    for (size_t k = 0; k < j; k++)
      if (strcmp(c->header[k], c->header[j]) == 0)
        GPP_RAISE_AT(err, GPP_EPARSE, &m, "column '%s' appears twice",
                     c->header[j]);
  }
  return 0;
}

/* Counts the data lines and sizes the arrays (header included). */
static int alloc_cells(gpp_csv *c, size_t n_lines, gpp_errctx *err) {
  size_t n = (n_lines + 1) * c->n_cols;
  c->cells = gpp_calloc(err, n, sizeof *c->cells);
  c->line = gpp_calloc(err, n, sizeof *c->line);
  c->column = gpp_calloc(err, n, sizeof *c->column);
  return c->cells && c->line && c->column ? 0 : err->code;
}

static int parse(gpp_csv *c, gpp_errctx *err) {
  size_t n_lines = 0;
  for (const char *p = c->buf; *p; p++) n_lines += *p == '\n';
  char *line = c->buf;
  int lineno = 0;
  bool header = true;
  while (*line) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    lineno++;
    if (!skipped(line)) {
      size_t n = count_cells(line);
      if (header) {
        c->n_cols = n;
        GPP_TRY(alloc_cells(c, n_lines + 1, err));
      } else if (n != c->n_cols) {
        gpp_mark m = {c->path, lineno, 1};
        GPP_RAISE_AT(err, GPP_EPARSE, &m, "%zu cells, the header has %zu",
                     n, c->n_cols);
      }
      size_t at = header ? 0 : (c->n_rows + 1) * c->n_cols;
      GPP_TRY(split(c, line, lineno, at, err));
      c->n_rows += header ? 0 : 1;
      header = false;
    }
    if (!nl) break;
    line = nl + 1;
  }
  if (header) {
    gpp_mark m = {c->path, lineno > 0 ? lineno : 1, 1};
    GPP_RAISE_AT(err, GPP_EPARSE, &m, "no header line");
  }
  c->header = c->cells;
  c->cells += c->n_cols;
  return check_header(c, err);
}

int gpp_csv_load(const char *path, gpp_csv **out, gpp_errctx *err) {
  *out = NULL;
  gpp_csv *c = gpp_calloc(err, 1, sizeof *c);
  if (c == NULL) return err->code;
  size_t len;
  int rc = gpp_read_input_file(path, &c->buf, &len, err);
  if (rc == 0) {
    c->path_buf = strdup(path);
    c->path = c->path_buf ? c->path_buf : path;
    rc = parse(c, err);
  }
  if (rc != 0) {
    gpp_csv_free(c);
    return rc;
  }
  *out = c;
  return 0;
}

void gpp_csv_free(gpp_csv *c) {
  if (c == NULL) return;
  free(c->header ? (void *)c->header : (void *)c->cells);
  free(c->line);
  free(c->column);
  free(c->buf);
  free(c->path_buf);
  free(c);
}

int gpp_csv_column(const gpp_csv *c, const char *name, bool required,
                   gpp_errctx *err) {
  for (size_t j = 0; j < c->n_cols; j++)
    if (strcmp(c->header[j], name) == 0) return (int)j;
  if (!required) return -1;
  gpp_mark m = {c->path, c->line[0], 1};
  return gpp_error_raise(err, GPP_EPARSE, &m, __FILE__, __LINE__,
                         "missing column '%s'", name);
}

const char *gpp_csv_cell(const gpp_csv *c, size_t r, int col) {
  return c->cells[r * c->n_cols + (size_t)col];
}

gpp_mark gpp_csv_mark(const gpp_csv *c, size_t r, int col) {
  size_t i = (r + 1) * c->n_cols + (size_t)col;
  return (gpp_mark){c->path, c->line[i], c->column[i]};
}

int gpp_csv_number(const gpp_csv *c, size_t r, int col, double lo, double hi,
                   double *out, gpp_errctx *err) {
  const char *s = gpp_csv_cell(c, r, col);
  char *end;
  double v = strtod(s, &end);
  gpp_mark m = gpp_csv_mark(c, r, col);
  if (*s == '\0' || *end != '\0' || !isfinite(v))
    GPP_RAISE_AT(err, GPP_EPARSE, &m, "%s: '%s' is not a number",
                 c->header[col], s);
  if (v < lo || v > hi)
    GPP_RAISE_AT(err, GPP_ERANGE, &m, "%s: %g is outside %g..%g",
                 c->header[col], v, lo, hi);
  *out = v;
  return 0;
}
