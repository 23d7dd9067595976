# Turns every file of the web console (src/serve/console/) into a C++ byte array, so that
# `s3db serve` carries its console inside the binary and needs no file, CDN or tool at run
# time. Run at build time by the s3db_serve target:
#   cmake -DSOURCE_DIR=<dir> -DOUTPUT=<file.cc> -P EmbedConsole.cmake
# Each file also gets its SHA-256, which the server sends as the file's ETag.
if(NOT SOURCE_DIR OR NOT OUTPUT)
  message(FATAL_ERROR "EmbedConsole.cmake needs -DSOURCE_DIR and -DOUTPUT")
endif()
file(GLOB files RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/*)
list(SORT files)
set(arrays "")
set(entries "")
set(index 0)
foreach(name ${files})
  if(IS_DIRECTORY ${SOURCE_DIR}/${name})
    continue()
  endif()
  file(READ ${SOURCE_DIR}/${name} hex HEX)
  file(SHA256 ${SOURCE_DIR}/${name} digest)
  string(LENGTH "${hex}" hex_length)
  if(hex_length EQUAL 0)
    message(FATAL_ERROR "EmbedConsole.cmake: ${SOURCE_DIR}/${name} is empty")
  endif()
  # 0x.., sixteen bytes a line.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REPEAT "0x[0-9a-f][0-9a-f]," 16 line_of_bytes)  # CMake's regex has no {16}
  string(REGEX REPLACE "(${line_of_bytes})" "\\1\n    " bytes "${bytes}")
  string(APPEND arrays "const unsigned char kConsoleFile${index}[] = {\n    ${bytes}};\n")
  string(APPEND entries
         "      {\"${name}\", {reinterpret_cast<const char*>(kConsoleFile${index}), sizeof kConsoleFile${index}}, \"${digest}\"},\n")
  math(EXPR index "${index} + 1")
endforeach()
set(text "// Generated at build time by cmake/EmbedConsole.cmake from src/serve/console/: do not edit.
#include \"serve/console_assets.h\"

namespace s3db::serve {
namespace {
${arrays}}  // namespace

const std::vector<ConsoleAsset>& ConsoleAssets() {
  static const std::vector<ConsoleAsset> assets = {
${entries}  };
  return assets;
}

}  // namespace s3db::serve
")
# Written only when it changed, so an unchanged console does not recompile.
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE ${OUTPUT} "${text}")
