# SPDX-License-Identifier: Apache-2.0
# Optional CUDA backend, MMFREE_CUDA = ON | OFF | AUTO (built when the CUDA Toolkit is found).
# nvcc compiles the .cu files into objects that join `mmfree`, so no CUDA language support is
# needed in the directories that link it. The CUDA runtime is linked statically: it opens the
# driver (libcuda.so.1) only when first used, so the same binary runs where no NVIDIA driver is
# installed, and `mmfree info --devices` then lists CUDA as unavailable with the reason.
string(TOUPPER "${MMFREE_CUDA}" _mmfree_cuda_mode)
if(_mmfree_cuda_mode STREQUAL "OFF" OR _mmfree_cuda_mode STREQUAL "FALSE" OR _mmfree_cuda_mode STREQUAL "0")
  message(STATUS "CUDA backend: off (MMFREE_CUDA=${MMFREE_CUDA})")
  return()
endif()

find_package(CUDAToolkit QUIET)
if(NOT CUDAToolkit_FOUND OR NOT CUDAToolkit_NVCC_EXECUTABLE OR NOT TARGET CUDA::cudart_static)
  if(_mmfree_cuda_mode STREQUAL "ON")
    message(FATAL_ERROR "MMFREE_CUDA=ON but the CUDA Toolkit (nvcc + static runtime) was not found; install it or use MMFREE_CUDA=AUTO")
  endif()
  message(STATUS "CUDA backend: not built (CUDA Toolkit not found)")
  return()
endif()

# One architecture keeps CI's compile short: sm_90 machine code plus compute_90 PTX (the driver
# JIT-compiles the PTX for newer GPUs). The kernels need sm_80+ (int8 mma.sync) and use the
# sm_90 bulk L2 prefetch; list other targets with -DCMAKE_CUDA_ARCHITECTURES="80;90".
if(NOT CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 90)
endif()
set(_mmfree_gencode "")
foreach(_arch IN LISTS CMAKE_CUDA_ARCHITECTURES)
  string(REGEX MATCH "^[0-9]+[a-z]?" _num "${_arch}")
  if(_arch MATCHES "-virtual$")
    list(APPEND _mmfree_gencode "-gencode=arch=compute_${_num},code=compute_${_num}")
  elseif(_arch MATCHES "-real$")
    list(APPEND _mmfree_gencode "-gencode=arch=compute_${_num},code=sm_${_num}")
  else()
    list(APPEND _mmfree_gencode "-gencode=arch=compute_${_num},code=[sm_${_num},compute_${_num}]")
  endif()
endforeach()

set(_mmfree_cuda_dir ${CMAKE_CURRENT_SOURCE_DIR}/src/cuda)
file(GLOB _mmfree_cuda_headers ${_mmfree_cuda_dir}/*.h ${CMAKE_CURRENT_SOURCE_DIR}/include/mmfree/*.h
     ${CMAKE_CURRENT_SOURCE_DIR}/src/runtime/backends.h)
set(_mmfree_cuda_objects "")
foreach(_name kernels sample cuda_executor testing)
  set(_src ${_mmfree_cuda_dir}/${_name}.cu)
  set(_obj ${CMAKE_CURRENT_BINARY_DIR}/cuda/${_name}.o)
  add_custom_command(
    OUTPUT ${_obj}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/cuda
    COMMAND ${CUDAToolkit_NVCC_EXECUTABLE} -ccbin ${CMAKE_CXX_COMPILER} -std=c++20 -O3 -lineinfo ${_mmfree_gencode}
            -Xcompiler=-fPIC,-Wall -I${CMAKE_CURRENT_SOURCE_DIR}/include -I${CMAKE_CURRENT_SOURCE_DIR}/src -c ${_src} -o ${_obj}
    DEPENDS ${_src} ${_mmfree_cuda_headers}
    COMMENT "nvcc ${_name}.cu (${CMAKE_CUDA_ARCHITECTURES})"
    VERBATIM)
  list(APPEND _mmfree_cuda_objects ${_obj})
endforeach()
set_source_files_properties(${_mmfree_cuda_objects} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
target_sources(mmfree PRIVATE ${_mmfree_cuda_objects})
target_link_libraries(mmfree PRIVATE CUDA::cudart_static)
target_compile_definitions(mmfree PRIVATE MMFREE_HAVE_CUDA)
set_property(GLOBAL PROPERTY MMFREE_CUDA_BUILT ON)
message(STATUS "CUDA backend: built with nvcc ${CUDAToolkit_VERSION} for ${CMAKE_CUDA_ARCHITECTURES}")
