// The one place that includes cpp-httplib. Debian builds it as a shared library
// (libcpp-httplib.so) with OpenSSL, zlib and Brotli support; those macros change the layout of
// httplib::Request, so every user must see the same definitions as the library did
// (pkg-config --cflags cpp-httplib). Server code includes this header, never <httplib.h>.
#pragma once

#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#ifndef CPPHTTPLIB_ZLIB_SUPPORT
#define CPPHTTPLIB_ZLIB_SUPPORT
#endif
#ifndef CPPHTTPLIB_BROTLI_SUPPORT
#define CPPHTTPLIB_BROTLI_SUPPORT
#endif

#include <httplib.h>
