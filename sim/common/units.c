/* units.c -- parsing and printing quantities with units. */
#include "sim/common/units.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct unit_def {
  const char *name;
  double scale;
} unit_def;

static const unit_def count_units[] = {
    {"", 1}, {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12},
    {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {NULL, 0}};

static const unit_def byte_units[] = {
    {"", 1}, {"B", 1}, {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
    {"TB", 1e12}, {"PB", 1e15}, {"KiB", 1024.0}, {"MiB", 1048576.0},
    {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}, {NULL, 0}};

static const unit_def time_units[] = {
    {"", 1}, {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6},
    {"ns", 1e-9}, {"min", 60}, {"h", 3600}, {NULL, 0}};

static const unit_def bw_units[] = {
    {"", 1}, {"B/s", 1}, {"kB/s", 1e3}, {"KB/s", 1e3}, {"MB/s", 1e6},
    {"GB/s", 1e9}, {"TB/s", 1e12}, {"KiB/s", 1024.0}, {"MiB/s", 1048576.0},
    {"GiB/s", 1073741824.0}, {"TiB/s", 1099511627776.0},
    {"b/s", 0.125}, {"kb/s", 125.0}, {"Kb/s", 125.0}, {"Mb/s", 1.25e5},
    {"Gb/s", 1.25e8}, {"Tb/s", 1.25e11}, {"bps", 0.125}, {"Kbps", 125.0},
    {"Mbps", 1.25e5}, {"Gbps", 1.25e8}, {"Tbps", 1.25e11}, {NULL, 0}};

static const unit_def flop_units[] = {
    {"", 1}, {"FLOP/s", 1}, {"FLOPS", 1}, {"GFLOP/s", 1e9}, {"GFLOPS", 1e9},
    {"TFLOP/s", 1e12}, {"TFLOPS", 1e12}, {"PFLOP/s", 1e15}, {"PFLOPS", 1e15},
    {NULL, 0}};

static const unit_def *const tables[GPP_Q__COUNT] = {
    count_units, byte_units, time_units, bw_units, flop_units};

static const char *const kind_names[GPP_Q__COUNT] = {
    "a number", "a size in bytes", "a time", "a bandwidth", "a FLOP rate"};

static const char *const kind_examples[GPP_Q__COUNT] = {
    "4, 2.5k, 1M, 1e9", "512 B, 64 KiB, 16 GiB, 1.5 GB", "2 us, 1.5 ms, 3 s",
    "300 GB/s, 200 Gb/s, 25 GiB/s", "125 TFLOP/s, 989 TFLOPS"};

const char *gpp_qkind_name(gpp_qkind kind) {
  return kind < GPP_Q__COUNT ? kind_names[kind] : "a quantity";
}

const char *gpp_qkind_examples(gpp_qkind kind) {
  return kind < GPP_Q__COUNT ? kind_examples[kind] : "";
}

static const unit_def *find_unit(const unit_def *table, const char *name) {
  for (const unit_def *u = table; u->name != NULL; u++)
    if (strcmp(u->name, name) == 0) return u;
  return NULL;
}

int gpp_units_parse(const char *text, gpp_qkind kind, double *out, char *why,
                    size_t why_len) {
  if (kind >= GPP_Q__COUNT) {
    snprintf(why, why_len, "unknown quantity kind");
    return -1;
  }
  while (isspace((unsigned char)*text)) text++;
  char *end = NULL;
  double v = strtod(text, &end);
  if (end == text || !isfinite(v)) {
    snprintf(why, why_len, "'%s' is not %s (e.g. %s)", text, kind_names[kind],
             kind_examples[kind]);
    return -1;
  }
  /* strtod accepts "inf", "nan" and hex floats; only plain decimals pass. */
  for (const char *p = text; p < end; p++)
    if (!(isdigit((unsigned char)*p) || strchr("+-.eE", *p))) {
      snprintf(why, why_len, "'%s' is not a decimal number", text);
      return -1;
    }
  while (isspace((unsigned char)*end)) end++;
  char unit[32];
  size_t n = strlen(end);
  while (n > 0 && isspace((unsigned char)end[n - 1])) n--;
  if (n >= sizeof unit) n = sizeof unit - 1;
  memcpy(unit, end, n);
  unit[n] = '\0';
  if (unit[0] == '\0' && kind != GPP_Q_COUNT && v != 0) {
    snprintf(why, why_len, "'%s' has no unit; write %s with one (e.g. %s)",
             text, kind_names[kind], kind_examples[kind]);
    return -1;
  }
  const unit_def *u = find_unit(tables[kind], unit);
  if (u == NULL) {
    snprintf(why, why_len, "unknown unit '%s' for %s (e.g. %s)", unit,
             kind_names[kind], kind_examples[kind]);
    return -1;
  }
  *out = v * u->scale;
  return 0;
}

typedef struct fmt_step {
  double scale;
  const char *suffix;
} fmt_step;

static char *format_steps(double v, const fmt_step *steps, char *buf,
                          size_t len) {
  const fmt_step *s = steps;
  while (s[1].suffix != NULL && fabs(v) >= s[1].scale) s++;
  double x = v / s->scale;
  const char *sep = s->suffix[0] ? " " : "";
  if (x == floor(x) && fabs(x) < 1e6)
    snprintf(buf, len, "%.0f%s%s", x, sep, s->suffix);
  else
    snprintf(buf, len, "%.3g%s%s", x, sep, s->suffix);
  return buf;
}

char *gpp_units_format(double value, gpp_qkind kind, char *buf, size_t len) {
  static const fmt_step bytes[] = {{1, "B"}, {1024.0, "KiB"},
      {1048576.0, "MiB"}, {1073741824.0, "GiB"}, {1099511627776.0, "TiB"},
      {0, NULL}};
  static const fmt_step secs[] = {{1e-9, "ns"}, {1e-6, "us"}, {1e-3, "ms"},
      {1, "s"}, {0, NULL}};
  static const fmt_step bw[] = {{1, "B/s"}, {1e3, "kB/s"}, {1e6, "MB/s"},
      {1e9, "GB/s"}, {1e12, "TB/s"}, {0, NULL}};
  static const fmt_step flops[] = {{1, "FLOP/s"}, {1e9, "GFLOP/s"},
      {1e12, "TFLOP/s"}, {1e15, "PFLOP/s"}, {0, NULL}};
  static const fmt_step count[] = {{1, ""}, {1e3, "k"}, {1e6, "M"},
      {1e9, "G"}, {1e12, "T"}, {0, NULL}};
  static const fmt_step *const all[GPP_Q__COUNT] = {count, bytes, secs, bw,
                                                     flops};
  if (value == 0 || kind >= GPP_Q__COUNT) {
    snprintf(buf, len, "0");
    return buf;
  }
  return format_steps(value, all[kind], buf, len);
}
