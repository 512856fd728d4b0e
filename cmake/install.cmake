# `cmake --install` puts the library, its headers and a CMake package config under the prefix,
# so another project can `find_package(Quarry)` and link `Quarry::quarry` (the search core) and
# `Quarry::quarry_automl` (tabular AutoML).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS quarry quarry_automl EXPORT QuarryTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS quarry_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(QUARRY_TORCH)
  install(TARGETS quarry_nn_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/quarry/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/quarry
        FILES_MATCHING PATTERN "*.hpp" PATTERN "cli" EXCLUDE)
# quarry_automl links XGBoost privately; as a static library its users link XGBoost too, through
# the target xgboost::xgboost that QuarryConfig.cmake defines, looking first where the build found
# the library (XGBOOST_LIBRARY, CMakeLists.txt).
get_filename_component(QUARRY_XGBOOST_LIBRARY_DIR ${XGBOOST_LIBRARY} DIRECTORY)
install(EXPORT QuarryTargets NAMESPACE Quarry:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Quarry)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/QuarryConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/QuarryConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Quarry)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/QuarryConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/QuarryConfig.cmake ${PROJECT_BINARY_DIR}/QuarryConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Quarry)
