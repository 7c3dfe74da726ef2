# SPDX-License-Identifier: Apache-2.0
# The Vulkan compute backend: GLSL in shaders/ → SPIR-V (glslc, at build time) → C arrays
# compiled into `mmfree`. The Vulkan loader is opened at run time (dlopen), so the library starts
# and falls back to the CPU on machines without one.
if(DEFINED MMFREE_VULKAN AND NOT MMFREE_VULKAN)
  return()
endif()
find_program(MMFREE_GLSLC glslc)
find_path(MMFREE_VULKAN_INCLUDE vulkan/vulkan_core.h)
if(NOT MMFREE_GLSLC OR NOT MMFREE_VULKAN_INCLUDE)
  message(WARNING "Vulkan backend left out: needs glslc and the Vulkan headers (Debian: glslc libvulkan-dev)")
  return()
endif()

set(_vk_shader_dir ${CMAKE_SOURCE_DIR}/shaders)
set(_vk_spv_dir ${CMAKE_CURRENT_BINARY_DIR}/spv)
file(MAKE_DIRECTORY ${_vk_spv_dir})
file(GLOB _vk_shader_headers ${_vk_shader_dir}/*.glsl ${_vk_shader_dir}/*.h)
# name:variants — "dot" variants use OpSDot, "portable" ones shifts and multiplies.
set(_vk_shaders gemv:dot,portable gemm:dot,portable gemm_cm:portable prep:portable scan:portable argmax:portable sample:portable bandwidth:portable chain:portable)
set(_vk_incs)
foreach(entry ${_vk_shaders})
  string(REPLACE ":" ";" parts ${entry})
  list(GET parts 0 name)
  list(GET parts 1 variants)
  string(REPLACE "," ";" variants ${variants})
  foreach(variant ${variants})
    if(variant STREQUAL "dot")
      set(def -DUSE_DOT=1)
    else()
      set(def -DUSE_DOT=0)
    endif()
    set(out ${_vk_spv_dir}/${name}_${variant}.inc)
    # glslc's optimizer leaves a buffer-reference variable undecorated under the Vulkan memory
    # model (spirv-val rejects it), so gemm_cm is left to the driver's compiler to optimize.
    set(opt -O)
    if(name STREQUAL "gemm_cm")
      set(opt)
    endif()
    add_custom_command(OUTPUT ${out}
      COMMAND ${MMFREE_GLSLC} --target-env=vulkan1.2 ${opt} ${def} -I ${_vk_shader_dir} -mfmt=c -o ${out} ${_vk_shader_dir}/${name}.comp
      DEPENDS ${_vk_shader_dir}/${name}.comp ${_vk_shader_headers}
      COMMENT "glslc ${name}.comp (${variant})" VERBATIM)
    list(APPEND _vk_incs ${out})
  endforeach()
endforeach()

target_sources(mmfree PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/vk_loader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/vk_device.cpp
  ${CMAKE_CURRENT_LIST_DIR}/vk_executor.cpp
  ${CMAKE_CURRENT_LIST_DIR}/vk_entry.cpp
  ${CMAKE_CURRENT_LIST_DIR}/vk_shaders.cpp
  ${_vk_incs})
target_include_directories(mmfree PRIVATE ${_vk_shader_dir} ${_vk_spv_dir} ${MMFREE_VULKAN_INCLUDE})
target_compile_definitions(mmfree PRIVATE MMFREE_HAVE_VULKAN VK_NO_PROTOTYPES)
set_property(GLOBAL PROPERTY MMFREE_HAVE_VULKAN ON)
