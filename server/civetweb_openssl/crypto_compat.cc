// The adapter civetweb loads as "libcrypto.so" (server/metrics_tls.h): its
// SONAME is that name and it depends on OpenSSL 3's libcrypto.so.3, which
// has every function civetweb looks up. It defines nothing civetweb uses;
// a library needs at least one symbol of its own to be built.

extern "C" {

__attribute__((visibility("default"))) int healthscore_civetweb_crypto = 3;

}  // extern "C"
