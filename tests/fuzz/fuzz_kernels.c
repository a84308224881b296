/* fuzz_kernels.c -- libFuzzer target: kernel-table CSV through
 * `gppsim validate kernels --json` (validate/kernels.c). */
#include "sim/cli/cli.h"

#define GPP_FUZZ_CMD gpp__cmd_validate_kernels
#define GPP_FUZZ_ARGS "kernels", "--json"
#define GPP_FUZZ_SUFFIX ".csv"
#include "tests/fuzz/fuzz_cmd.h"
