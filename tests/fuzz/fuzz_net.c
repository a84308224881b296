/* fuzz_net.c -- libFuzzer target: network scenario YAML through
 * `gppsim net --json` (the scenario loader is static to the command). */
#include "sim/cli/cli.h"

#define GPP_FUZZ_CMD gpp_cmd_net
#define GPP_FUZZ_ARGS "net", "--json"
#define GPP_FUZZ_SUFFIX ".yaml"
#include "tests/fuzz/fuzz_cmd.h"
