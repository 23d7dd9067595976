#include "s3db/version.h"

namespace s3db {

const char* LibraryVersion() { return S3DB_VERSION; }

}  // namespace s3db
