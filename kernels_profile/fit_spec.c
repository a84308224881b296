/* fit_spec.c -- the roofline's view of a GPU spec; apart from fit.c so that
 * fitting against synthetic hardware needs no topology code. */
#include "kernels_profile/fit.h"

void gpp_roofline_hw_from_spec(const gpp_gpu_spec *g, gpp_roofline_hw *hw) {
  for (int dt = 0; dt <= GPP_DTYPE_MAX; dt++)
    hw->peak[dt] = dt > 0 ? gpp_gpu_peak_for_dtype(g, dt) : 0;
  hw->mem_bandwidth = g->mem_bandwidth;
  hw->launch_overhead = g->launch_overhead;
}

int gpp_fit_efficiencies(const gpp_profile_db *db, const gpp_gpu_spec *gpu,
                         gpp_fit_result *out, gpp_errctx *err) {
  gpp_roofline_hw hw;
  gpp_roofline_hw_from_spec(gpu, &hw);
  return gpp_fit_efficiencies_hw(db, &hw, out, err);
}
