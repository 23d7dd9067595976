# `cmake --install`: the library (s3db::s3db for find_package, s3db.pc for pkg-config), its
# headers, the s3db command and the documentation. docs/INSTALL.md describes the result.

include(CMakePackageConfigHelpers)

get_target_property(s3db_type s3db TYPE)
if(s3db_type STREQUAL "SHARED_LIBRARY")
  set(S3DB_SHARED ON)
else()
  set(S3DB_SHARED OFF)
endif()

install(TARGETS s3db EXPORT s3dbTargets INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS s3db_cli)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/s3db ${S3DB_GENERATED_INCLUDE_DIR}/s3db
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")

# find_package(s3db): s3dbConfig.cmake finds the dependencies, then loads s3dbTargets.cmake.
set(S3DB_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/s3db)
install(EXPORT s3dbTargets NAMESPACE s3db:: DESTINATION ${S3DB_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/s3dbConfig.cmake.in ${PROJECT_BINARY_DIR}/s3dbConfig.cmake
                              INSTALL_DESTINATION ${S3DB_CMAKE_DIR})
# Before 1.0 a minor release may break the API; after it, a major one.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(s3db_compatibility SameMinorVersion)
else()
  set(s3db_compatibility SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/s3dbConfigVersion.cmake
                                 COMPATIBILITY ${s3db_compatibility})
install(FILES ${PROJECT_BINARY_DIR}/s3dbConfig.cmake ${PROJECT_BINARY_DIR}/s3dbConfigVersion.cmake
        DESTINATION ${S3DB_CMAKE_DIR})

# s3db.pc, relocatable: its prefix is found from where the file is (${pcfiledir}). A static
# libs3db also needs the libraries it links (pkg-config --static); they are named as -l flags,
# not as Requires.private, which would also pull in libcurl's own private libraries.
set(pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH S3DB_PC_TO_PREFIX ${CMAKE_INSTALL_PREFIX}/${pc_dir} ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" S3DB_PC_TO_PREFIX "${S3DB_PC_TO_PREFIX}")
if(S3DB_SHARED)
  set(S3DB_PC_LIBS_PRIVATE "")
else()
  set(S3DB_PC_LIBS_PRIVATE "-lcurl -lssl -lcrypto -lfmt -lpugixml -lre2 -lhiredis -lz -pthread")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/s3db.pc.in ${PROJECT_BINARY_DIR}/s3db.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/s3db.pc DESTINATION ${pc_dir})

# The man page (made when s3db_cli is linked) and the shell completions, where man, bash-completion
# and zsh look for them. Debian's zsh reads vendor-completions under /usr, site-functions elsewhere.
install(FILES ${PROJECT_BINARY_DIR}/s3db.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/tools/s3db/completions/s3db.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME s3db)
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(zsh_completions ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
else()
  set(zsh_completions ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)
endif()
install(FILES ${PROJECT_SOURCE_DIR}/tools/s3db/completions/_s3db DESTINATION ${zsh_completions})

install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/CHANGELOG.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs FILES_MATCHING PATTERN "*.md")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
include(${CMAKE_CURRENT_LIST_DIR}/Package.cmake)
