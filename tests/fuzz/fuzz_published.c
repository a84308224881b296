/* fuzz_published.c -- libFuzzer target: published-runs CSV through
 * `gppsim validate published --json` (validate/published.c); a row that
 * parses is simulated, so this target is slower per input. */
#include "sim/cli/cli.h"

#define GPP_FUZZ_CMD gpp__cmd_validate_published
#define GPP_FUZZ_ARGS "published", "--json"
#define GPP_FUZZ_SUFFIX ".csv"
#include "tests/fuzz/fuzz_cmd.h"
