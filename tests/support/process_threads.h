// How many threads this process runs now (/proc/self/task), for tests that bound a
// component's threads.
#pragma once

#include <dirent.h>

namespace s3db::testing {

inline int ThreadsOfThisProcess() {
  int count = 0;
  if (DIR* dir = ::opendir("/proc/self/task")) {
    while (dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    ::closedir(dir);
  }
  return count;
}

}  // namespace s3db::testing
