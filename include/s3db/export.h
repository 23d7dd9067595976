// S3DB_EXPORT marks the public API. The library is compiled with -fvisibility=hidden, so a
// shared libs3db exports what carries this mark (every class and function of include/s3db/)
// and nothing of src/; a static libs3db is unaffected.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define S3DB_EXPORT [[gnu::visibility("default")]]
#else
#define S3DB_EXPORT
#endif
