# FindCriterion.cmake -- locate the Criterion unit-test framework.
#
# Defines Criterion_FOUND, CRITERION_INCLUDE_DIRS, CRITERION_LIBRARIES and the
# imported target Criterion::Criterion.  Debian ships a pkg-config file; we use
# it when present and fall back to a plain header/library search.

find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_CRITERION QUIET criterion)
endif()

find_path(CRITERION_INCLUDE_DIR criterion/criterion.h
          HINTS ${PC_CRITERION_INCLUDE_DIRS})
find_library(CRITERION_LIBRARY NAMES criterion libcriterion
             HINTS ${PC_CRITERION_LIBRARY_DIRS})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Criterion
  REQUIRED_VARS CRITERION_LIBRARY CRITERION_INCLUDE_DIR)

if(Criterion_FOUND AND NOT TARGET Criterion::Criterion)
  add_library(Criterion::Criterion UNKNOWN IMPORTED)
  set_target_properties(Criterion::Criterion PROPERTIES
    IMPORTED_LOCATION "${CRITERION_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CRITERION_INCLUDE_DIR}")
  set(CRITERION_INCLUDE_DIRS ${CRITERION_INCLUDE_DIR})
  set(CRITERION_LIBRARIES ${CRITERION_LIBRARY})
endif()
mark_as_advanced(CRITERION_INCLUDE_DIR CRITERION_LIBRARY)
