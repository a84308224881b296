/* clock.h -- wall-clock readings for progress and timing reports (never
 * for results: outputs stay bit-identical whatever the clock says). */
#ifndef GPP_COMMON_CLOCK_H
#define GPP_COMMON_CLOCK_H

/* Seconds on the monotonic clock, from an arbitrary origin: subtract two
 * readings for an elapsed time. */
double gpp_clock_seconds(void);

#endif
