/* units.h -- quantities with units, as written in every input file.
 *
 * `300 GB/s`, `200 Gb/s`, `2 us`, `1.5 ms`, `16 GiB`, `125 TFLOP/s`, `1M`,
 * `1e9`.  Only counts may be bare numbers: a size, time, bandwidth or FLOP
 * rate without a unit is an error (`nic_bandwidth: 400` is not 400 B/s),
 * except 0, which needs none.  Decimal prefixes are powers of 1000, binary ones (KiB, MiB...) of 1024;
 * a lower-case `b` is a bit.  Values are returned in base units.
 */
#ifndef GPP_COMMON_UNITS_H
#define GPP_COMMON_UNITS_H

#include <stddef.h>

typedef enum {
  GPP_Q_COUNT,     /* dimensionless: 4, 1M, 2.5k */
  GPP_Q_BYTES,     /* B, KB, MB, GB, TB, KiB, MiB, GiB, TiB */
  GPP_Q_TIME,      /* ns, us, ms, s, min, h */
  GPP_Q_BANDWIDTH, /* B/s, GB/s, GiB/s, Gb/s, Gbps */
  GPP_Q_FLOPRATE,  /* FLOP/s, GFLOP/s, TFLOP/s, PFLOP/s, TFLOPS */
  GPP_Q__COUNT
} gpp_qkind;

/* Name of a quantity kind, for messages ("a time", "a bandwidth"). */
const char *gpp_qkind_name(gpp_qkind kind);
/* Example units accepted for a kind, for messages. */
const char *gpp_qkind_examples(gpp_qkind kind);

/* Parses text as a quantity of the given kind.  Returns 0, or -1 with a
 * short reason in why (e.g. "unknown unit 'GBs'; expected B/s, GB/s ...").
 * Rejects NaN, infinities and trailing garbage. */
int gpp_units_parse(const char *text, gpp_qkind kind, double *out, char *why,
                    size_t why_len);

/* Formats a base-unit value with a readable prefix: "1.5 ms", "300 GB/s",
 * "16 GiB".  Returns buf. */
char *gpp_units_format(double value, gpp_qkind kind, char *buf, size_t len);

#endif
