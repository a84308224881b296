# GppCuda.cmake -- the one way a CUDA executable of gppsim is built
# (gppsim-profile, gppsim-exec): only where nvcc is found and not under the
# sanitizers, with nvcc's own warning flags, and with its C/C++ dependencies
# linked statically by default (GPP_STATIC_DEPS) so that it runs on GPU
# machines without the HDF5, GSL, yaml and jansson shared libraries.
include_guard(GLOBAL)
include(CheckLanguage)

option(GPP_STATIC_DEPS "Link the CUDA executables statically against HDF5, GSL, yaml, jansson" ON)
set(GPP_CUDA_ARCHITECTURES "80;90" CACHE STRING "CUDA architectures of the CUDA executables (e.g. 80;90)")

# gpp_cuda_enable(): sets GPP_HAVE_CUDA in the caller's scope and, when
# true, enables CUDA and finds the toolkit.
macro(gpp_cuda_enable)
  check_language(CUDA)
  set(GPP_HAVE_CUDA OFF)
  if(CMAKE_CUDA_COMPILER AND NOT GPP_SANITIZE)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(GPP_HAVE_CUDA ON)
  endif()
endmacro()

# The top level's warning flags are for C: keep them off nvcc's command line.
function(gpp__c_only_options target)
  get_target_property(opts ${target} COMPILE_OPTIONS)
  if(NOT opts)
    return()
  endif()
  set(c_opts)
  foreach(opt IN LISTS opts)
    list(APPEND c_opts "$<$<COMPILE_LANGUAGE:C>:${opt}>")
  endforeach()
  set_target_properties(${target} PROPERTIES COMPILE_OPTIONS "${c_opts}")
endfunction()

# gpp_cuda_target(TARGET): CUDA properties and warnings for a target
# (executable or library) with .cu sources.
function(gpp_cuda_target target)
  gpp__c_only_options(${target})
  set_target_properties(${target} PROPERTIES
    CUDA_ARCHITECTURES "${GPP_CUDA_ARCHITECTURES}"
    CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra,-Wshadow>)
  foreach(layer IN LISTS GPP_LAYERS)
    target_include_directories(${target} PRIVATE
      $<TARGET_PROPERTY:${layer},INTERFACE_INCLUDE_DIRECTORIES>)
    target_compile_definitions(${target} PRIVATE
      $<TARGET_PROPERTY:${layer},INTERFACE_COMPILE_DEFINITIONS>)
  endforeach()
endfunction()

# The static archives of the layers' external dependencies, or an empty list when one
# is missing (then the executable links the shared libraries).
function(gpp__static_deps out)
  set(names libhdf5.a libsz.a libaec.a libz.a libgsl.a libgslcblas.a
      libyaml.a libjansson.a)
  set(libs)
  if(GPP_STATIC_DEPS)
    get_filename_component(h5_dir "${HDF5_C_LIBRARY_hdf5}" DIRECTORY)
    foreach(name IN LISTS names)
      string(MAKE_C_IDENTIFIER "GPP_STATIC_${name}" var)
      find_library(${var} NAMES ${name} HINTS ${h5_dir}
                   /usr/lib/x86_64-linux-gnu/hdf5/serial)
      if(NOT ${var})
        message(STATUS "${name} not found: CUDA executables link shared libraries")
        set(libs)
        break()
      endif()
      list(APPEND libs ${${var}})
    endforeach()
  endif()
  set(${out} "${libs}" PARENT_SCOPE)
endfunction()

# gpp_cuda_executable(NAME SOURCES src... [LIBS lib...]): a CUDA executable
# in the build directory's root, linked with every layer and LIBS.
function(gpp_cuda_executable name)
  cmake_parse_arguments(X "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${X_SOURCES})
  gpp_cuda_target(${name})
  set_target_properties(${name} PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
  target_link_libraries(${name} PRIVATE ${X_LIBS})
  gpp__static_deps(static_libs)
  if(static_libs)
    # The layers' archives themselves, top down, not the targets, so that
    # their shared dependencies stay off the link line.
    set(archives)
    foreach(layer IN LISTS GPP_LAYERS)
      add_dependencies(${name} ${layer})
      list(APPEND archives $<TARGET_FILE:${layer}>)
    endforeach()
    find_package(Threads REQUIRED)
    target_link_libraries(${name} PRIVATE ${archives}
      ${static_libs} ${CMAKE_DL_LIBS} Threads::Threads m)
  else()
    target_link_libraries(${name} PRIVATE gpp_cli)
  endif()
endfunction()
