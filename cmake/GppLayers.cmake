# gpp_layer(NAME SOURCES src... [USES lower-layer...]): one folder, one layer.
#
# Each layer is a static library.  Its folder is visible to includes only
# through a directory of its own, ${PROJECT_BINARY_DIR}/layers/NAME, that
# holds one link to it (for sim/model: layers/gpp_model/sim/model), so
# `#include "sim/model/model.h"` resolves in the layer itself and in every
# layer that USES it, directly or through another layer, and nowhere else: an
# include of a layer above fails to compile, and a call into one has no
# library to link.  The allowed directions are the USES lists; ARCHITECTURE.md
# draws them.
function(gpp_layer name)
  cmake_parse_arguments(L "" "" "SOURCES;USES" ${ARGN})
  file(RELATIVE_PATH dir ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  set(inc ${PROJECT_BINARY_DIR}/layers/${name})
  get_filename_component(parent ${inc}/${dir} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${inc}/${dir} SYMBOLIC)
  add_library(${name} STATIC ${L_SOURCES})
  target_include_directories(${name} PUBLIC ${inc})
  target_link_libraries(${name} PUBLIC ${L_USES})
endfunction()

# The layers from the top down: the order the CUDA executables link their
# archives in (cmake/GppCuda.cmake), each archive before those it uses.
set(GPP_LAYERS gpp_cli gpp_sweep gpp_validate gpp_planner gpp_engine gpp_plan
    gpp_kernels gpp_model gpp_topology gpp_common)
