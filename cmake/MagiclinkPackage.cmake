# Installs the CMake package (find_package(magiclink CONFIG) -> magiclink::client,
# magiclink::proto) and the pkg-config file magiclink.pc. Included once, after
# every target in the magiclinkTargets export set is defined.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MAGICLINK_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/magiclink")
install(EXPORT magiclinkTargets
  NAMESPACE magiclink::
  FILE magiclinkTargets.cmake
  DESTINATION "${MAGICLINK_CMAKE_INSTALL_DIR}")
configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/magiclinkConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/magiclinkConfig.cmake"
  INSTALL_DESTINATION "${MAGICLINK_CMAKE_INSTALL_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/magiclinkConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/magiclinkConfig.cmake"
              "${PROJECT_BINARY_DIR}/magiclinkConfigVersion.cmake"
  DESTINATION "${MAGICLINK_CMAKE_INSTALL_DIR}")

# The .pc file finds its prefix relative to itself (${pcfiledir}), so it stays
# right when `cmake --install --prefix` differs from CMAKE_INSTALL_PREFIX.
set(_magiclink_pc_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
if(IS_ABSOLUTE "${_magiclink_pc_dir}")
  set(MAGICLINK_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  string(REGEX REPLACE "[^/]+" ".." _magiclink_pc_up "${_magiclink_pc_dir}")
  set(MAGICLINK_PC_PREFIX "\${pcfiledir}/${_magiclink_pc_up}")
endif()
configure_file("${CMAKE_CURRENT_LIST_DIR}/magiclink.pc.in" "${PROJECT_BINARY_DIR}/magiclink.pc"
  @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/magiclink.pc" DESTINATION "${_magiclink_pc_dir}")
