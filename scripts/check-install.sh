#!/usr/bin/env bash
# Checks that s3db installs as a C++ library and a command (docs/INSTALL.md), from outside:
#  1. installs BUILD_DIR (default build/default: a static libs3db) into a temporary prefix,
#     then builds examples/consumer against it with find_package and with pkg-config --static
#     and runs both on a file:// store;
#  2. builds the preset "package" (a shared libs3db), makes the .deb with CPack, checks its
#     Depends and contents, unpacks it into an empty prefix (dpkg -x) and runs `s3db --version`,
#     scripts/demo.sh, the bash completion and the consumer (both ways) from there. With CI=true as root, it also
#     installs the .deb with `apt-get install ./s3db_*.deb`, runs the same, and removes it.
#
#   scripts/check-install.sh [BUILD_DIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build/default}
[[ $build == /* ]] || build=$PWD/$build
cd "$repo"
jobs=$(nproc)
version=$(sed -n 's/^project(s3db VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)

work=$(mktemp -d "${TMPDIR:-/tmp}/s3db-check-install.XXXXXX")
apt_installed=0
cleanup() {
  if ((apt_installed)); then apt-get purge -y -qq s3db >/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "check-install: $*" >&2; exit 1; }
say() { echo "== check-install: $*" >&2; }

# Builds examples/consumer (copied, as a project of its own) against PREFIX both ways and runs
# each build on its own file:// store. Extra environment (LD_LIBRARY_PATH) comes from the caller.
build_consumer() {
  local prefix=$1 name=$2 static=$3
  local src=$work/$name-consumer
  cp -r examples/consumer "$src"
  say "$name: consumer with find_package"
  cmake -S "$src" -B "$src/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$src/build" >/dev/null
  "$src/build/consumer" "$work/$name-data-cmake"
  say "$name: consumer with pkg-config"
  local pc_dir=$prefix/lib/pkgconfig
  [[ -f $pc_dir/s3db.pc ]] || pc_dir=$prefix/lib/$(gcc -print-multiarch)/pkgconfig
  [[ $(PKG_CONFIG_PATH=$pc_dir pkg-config --modversion s3db) == "$version" ]] || fail "s3db.pc has the wrong version"
  PKG_CONFIG_PATH=$pc_dir make -s -C "$src" ${static:+STATIC=1} >/dev/null
  "$src/consumer" "$work/$name-data-pkgconfig"
}

# 1. The static library of BUILD_DIR.
say "static: install $build"
cmake --build "$build" -j "$jobs" --target s3db s3db_cli >/dev/null
cmake --install "$build" --prefix "$work/static" >/dev/null
[[ $("$work/static/bin/s3db" --version) == "s3db $version" ]] || fail "s3db --version does not print $version"
for path in share/man/man1/s3db.1 share/bash-completion/completions/s3db share/zsh/site-functions/_s3db; do
  [[ -s $work/static/$path ]] || fail "cmake --install put no $path"
done
build_consumer "$work/static" static 1

# 2. The Debian package of a shared libs3db.
say "package: configure, build, cpack"
# As scripts/test.sh configures the default build, so that ccache (when test.sh set it up)
# hands the same objects over.
cmake --preset package -DS3DB_WERROR=ON -DCMAKE_UNITY_BUILD=ON >/dev/null
cmake --build --preset package -j "$jobs" >/dev/null
(cd build/package && cpack -G DEB >/dev/null)
deb=build/package/s3db_${version}_amd64.deb
[[ -f $deb ]] || fail "cpack made no $deb"

depends=$(dpkg-deb -f "$deb" Depends)
say "package: Depends: $depends"
for lib in libc6 libstdc++6 libcurl4 libssl3 libfmt libpugixml libre2 libhiredis libtomlplusplus; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib (dpkg-shlibdeps did not run?)"
done
contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/s3db ./usr/include/s3db/database.h ./usr/include/s3db/version.h \
  "./usr/lib/x86_64-linux-gnu/libs3db.so.$version" ./usr/lib/x86_64-linux-gnu/cmake/s3db/s3dbConfig.cmake \
  ./usr/lib/x86_64-linux-gnu/pkgconfig/s3db.pc ./usr/share/doc/s3db/README.md ./usr/share/man/man1/s3db.1 \
  ./usr/share/bash-completion/completions/s3db ./usr/share/zsh/vendor-completions/_s3db; do
  grep -qF " $path" <<<"$contents" || fail "the package lacks $path"
done

# The shared library exports the public API and nothing of src/'s namespaces.
unpacked=$work/unpacked
dpkg-deb -x "$deb" "$unpacked"
lib=$unpacked/usr/lib/x86_64-linux-gnu/libs3db.so.$version
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $soname == libs3db.so.* ]] || fail "libs3db has no SONAME"
exported=$(nm -D --defined-only -C "$lib")
grep -q 's3db::Database::Connect' <<<"$exported" || fail "libs3db does not export s3db::Database::Connect"
# (A symbol named in an internal namespace, or a public class's Impl; std templates that
# merely mention an internal type are weak copies, not API.)
internal=$(grep -E ' ((typeinfo|typeinfo name|vtable|VTT|guard variable) for )?s3db::((util|store|exec|s3|plugins|format|core)::|[A-Za-z]+::Impl::)' <<<"$exported" || true)
[[ -z $internal ]] || fail "libs3db exports internal symbols:"$'\n'"$internal"
say "package: $soname exports $(wc -l <<<"$exported") symbols, none internal"

# Run it from the unpacked tree: nothing of the build tree is used (no RUNPATH into it).
! readelf -d "$unpacked/usr/bin/s3db" | grep -q "$repo" || fail "the packaged s3db has a RUNPATH into the build tree"
run_package() {
  local prefix=$1 name=$2
  [[ $("$prefix/bin/s3db" --version) == "s3db $version" ]] || fail "$name: s3db --version does not print $version"
  say "$name: demo"
  S3DB_URI="file://$work/$name-demo-data" scripts/demo.sh "$prefix/bin/s3db" >/dev/null
  say "$name: bash completion of a resource name, from the installed script and command"
  local names
  # shellcheck disable=SC2016
  names=$(PATH="$prefix/bin:$PATH" S3DB_URI="file://$work/$name-demo-data" bash -c 'source "$1"
    COMP_LINE="s3db get "; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(s3db get ""); COMP_CWORD=2; _s3db
    echo "${COMPREPLY[*]}"' _ "$prefix/share/bash-completion/completions/s3db")
  [[ $names == users ]] || fail "$name: 's3db get <TAB>' offers '$names', not the demo's resource users"
  build_consumer "$prefix" "$name" ""
}
LD_LIBRARY_PATH=$unpacked/usr/lib/x86_64-linux-gnu run_package "$unpacked/usr" unpacked

if [[ ${CI:-} == true && $(id -u) == 0 ]]; then
  say "apt-get install ./$deb"
  apt_installed=1
  apt-get install -y -qq "./$deb" >/dev/null
  run_package /usr apt
fi
say "ok"
