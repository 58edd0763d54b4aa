# Finds single-precision FFTW (libfftw3f) and defines FFTW3F::fftw3f.
find_path(FFTW3F_INCLUDE_DIR fftw3.h)
find_library(FFTW3F_LIBRARY NAMES fftw3f)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(FFTW3F REQUIRED_VARS FFTW3F_LIBRARY FFTW3F_INCLUDE_DIR)
if(FFTW3F_FOUND AND NOT TARGET FFTW3F::fftw3f)
  add_library(FFTW3F::fftw3f INTERFACE IMPORTED)
  set_target_properties(FFTW3F::fftw3f PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${FFTW3F_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${FFTW3F_LIBRARY}")
endif()
