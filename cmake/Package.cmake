# `cpack` in a build of the preset "package" (a shared libs3db installed under /usr) makes
# s3db_<version>_amd64.deb: the command, the library, its headers, CMake and pkg-config files,
# man page, completions and docs. Depends: is computed by dpkg-shlibdeps from the ELF files.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME s3db)
set(CPACK_PACKAGE_CONTACT "s3db developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "document database whose only storage is an S3 bucket")
set(CPACK_PACKAGE_DESCRIPTION
    "s3db stores each record as one object of a bucket (S3, MinIO, Ceph RGW) or of a local\n"
    "directory. This package holds the s3db command and the C++20 library libs3db, with its\n"
    "headers and find_package/pkg-config files.")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # s3db_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# dpkg-shlibdeps looks for libs3db, which the s3db command links, in the package itself.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_INSTALL_FULL_LIBDIR})
# Not needed to run anything, but a program compiled against the headers needs it.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "nlohmann-json3-dev (>= 3.10)")
include(CPack)
