# libs3db: the one library a program links (s3db::s3db), installed by cmake/Install.cmake.
# It is made of the objects of the layer libraries (CMakeLists.txt), compiled once for both:
# position-independent, so they can make a shared libs3db (-DBUILD_SHARED_LIBS=ON) as well as
# a static one, and with hidden visibility, so a shared one exports only the public API
# (what include/s3db/ marks S3DB_EXPORT). Static by default.

include(GNUInstallDirs)

# s3db/version.h, generated from project()'s version.
set(S3DB_GENERATED_INCLUDE_DIR ${PROJECT_BINARY_DIR}/include)
configure_file(${PROJECT_SOURCE_DIR}/cmake/version.h.in ${S3DB_GENERATED_INCLUDE_DIR}/s3db/version.h @ONLY)

set_property(GLOBAL PROPERTY S3DB_LAYERS "")

# Called by s3db_layer() for each layer library.
function(s3db_layer_objects layer)
  set_target_properties(${layer} PROPERTIES POSITION_INDEPENDENT_CODE ON CXX_VISIBILITY_PRESET hidden
                                            VISIBILITY_INLINES_HIDDEN ON)
  target_include_directories(${layer} PUBLIC ${S3DB_GENERATED_INCLUDE_DIR})
  set_property(GLOBAL APPEND PROPERTY S3DB_LAYERS ${layer})
endfunction()

# Defines the target s3db (alias s3db::s3db) from every layer declared so far.
function(s3db_library)
  get_property(layers GLOBAL PROPERTY S3DB_LAYERS)
  add_library(s3db)
  add_library(s3db::s3db ALIAS s3db)
  set(dependencies "")
  foreach(layer IN LISTS layers)
    target_sources(s3db PRIVATE $<TARGET_OBJECTS:${layer}>)
    get_target_property(linked ${layer} LINK_LIBRARIES)
    list(APPEND dependencies ${linked})
  endforeach()
  # What the layers link outside themselves (OpenSSL, libcurl, fmt, RE2, ...) is private to
  # libs3db, except nlohmann_json: the public headers include it (s3db::Json).
  list(REMOVE_DUPLICATES dependencies)
  list(REMOVE_ITEM dependencies ${layers} nlohmann_json::nlohmann_json)
  target_link_libraries(s3db PUBLIC nlohmann_json::nlohmann_json PRIVATE ${dependencies})
  target_include_directories(s3db PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                         $<BUILD_INTERFACE:${S3DB_GENERATED_INCLUDE_DIR}>
                                         $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(s3db PUBLIC cxx_std_20)
  # The ABI may change with every 0.x release, so before 1.0 the SONAME carries the minor
  # version too (libs3db.so.0.1), after it the major alone.
  if(PROJECT_VERSION_MAJOR EQUAL 0)
    set(soversion 0.${PROJECT_VERSION_MINOR})
  else()
    set(soversion ${PROJECT_VERSION_MAJOR})
  endif()
  set_target_properties(s3db PROPERTIES LINKER_LANGUAGE CXX VERSION ${PROJECT_VERSION} SOVERSION ${soversion})
endfunction()
