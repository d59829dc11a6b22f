// The adapter civetweb loads as "libssl.so" (server/metrics_tls.h): its
// SONAME is that name and it depends on OpenSSL 3's libssl.so.3, through
// which civetweb finds every function it looks up, except the one OpenSSL
// 3 turned into a macro. Built only as the shared library
// <build>/lib/civetweb-openssl/libssl.so; nothing links it.

#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

extern "C" {

// OpenSSL 1.1's function, as 3.0 still offers it under another name: the
// peer's certificate with a reference the caller frees.
__attribute__((visibility("default"))) X509* SSL_get_peer_certificate(
    const SSL* ssl) {
  return SSL_get1_peer_certificate(ssl);
}

}  // extern "C"
