# SPDX-License-Identifier: Apache-2.0
# Accelerator plugins (the MMFA FPGA plugin): dlopen'ed at run time, so the engine has no
# build-time dependency on fpga/ — only on its C ABI header.
target_sources(mmfree PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src/plugin/plugin_executor.cpp)
target_include_directories(mmfree PRIVATE ${CMAKE_SOURCE_DIR}/fpga/plugin)
target_compile_definitions(mmfree PRIVATE MMFREE_HAVE_PLUGIN
  MMFREE_FPGA_PLUGIN_BUILD_PATH="${CMAKE_BINARY_DIR}/lib/libmmfree-fpga.so")
target_link_libraries(mmfree PRIVATE ${CMAKE_DL_LIBS})
