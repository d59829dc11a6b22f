// TLS for the metrics endpoint (--metrics-tls; docs/operations.md,
// "Security").
//
// The metrics endpoint is civetweb, and Debian 12's civetweb 1.15 loads
// OpenSSL at run time: it dlopen()s "libssl.so" and "libcrypto.so" and looks
// up the OpenSSL 1.1 API by name. OpenSSL 3 lacks one of those names
// (SSL_get_peer_certificate, a macro for SSL_get1_peer_certificate since
// 3.0), so civetweb's TLS never starts; without libssl-dev's unversioned
// symbolic links it finds no library at all. The build ships two small
// adapter libraries, <libraries>/civetweb-openssl/libssl.so and libcrypto.so
// (server/civetweb_openssl/), whose SONAMEs are the names civetweb asks for
// and which depend on libssl.so.3 and libcrypto.so.3. LoadCivetwebOpenSsl
// loads them; from then on the dynamic linker answers civetweb's dlopen()
// with them (it matches loaded objects by SONAME), and civetweb's look-ups
// find OpenSSL 3's functions through their dependencies, plus the one
// missing name, which the adapter defines.
//
// civetweb never reads the certificate files: its init_ssl callback hands
// the SSL_CTX to MetricsTls::Configure, which sets it up with OpenSSL 3
// directly. The certificate chain and key are chosen at each handshake from
// the files as last read, and the files are re-read at most every
// `refresh_interval` (on a handshake after it has passed), as gRPC's file
// watcher does for the gRPC port: new connections get a rotated
// certificate. A re-read that fails (unreadable, no PEM, a key that is not
// the certificate's) keeps the previous files in force and logs why.
//
// Thread-safety: LoadCivetwebOpenSsl may be called from any thread (it loads
// once). A MetricsTls is used by civetweb's threads concurrently; all its
// methods are thread-safe.

#ifndef HEALTHSCORE_SERVER_METRICS_TLS_H_
#define HEALTHSCORE_SERVER_METRICS_TLS_H_

#include <openssl/types.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace healthscore::server {

// Loads the adapter libraries from `library_dir` (the program's private
// library directory, engine/common/install_layout.h, which holds
// civetweb-openssl/). FailedPrecondition naming the file when they cannot be
// loaded. Once loaded, later calls return OK.
absl::Status LoadCivetwebOpenSsl(const std::string& library_dir);

class MetricsTls {
 public:
  struct Options {
    std::string cert;       // PEM certificate chain, the leaf first
    std::string key;        // PEM private key of the leaf
    std::string client_ca;  // empty: no client certificate asked for
    absl::Duration refresh_interval = absl::Seconds(60);
  };

  // Reads the files once. InvalidArgument naming the file when one cannot
  // be read or holds no PEM certificate / key / CA, or when the key is not
  // the certificate's.
  static absl::StatusOr<std::unique_ptr<MetricsTls>> Create(Options options);

  ~MetricsTls();
  MetricsTls(const MetricsTls&) = delete;
  MetricsTls& operator=(const MetricsTls&) = delete;

  // civetweb's init_ssl callback: sets up `ssl_ctx` (an SSL_CTX*): TLS 1.2
  // or later, the per-handshake certificate choice, and with a client CA,
  // client certificates required and verified. 1 on success (civetweb then
  // configures nothing itself), -1 on failure.
  int Configure(void* ssl_ctx);

 private:
  struct Files;  // the parsed PEM files (OpenSSL objects), metrics_tls.cc

  explicit MetricsTls(Options options, std::unique_ptr<Files> files);
  // The files to use for a handshake now, re-read when due.
  std::shared_ptr<const Files> Current();
  static int SelectCertificate(SSL* ssl, void* self);

  const Options options_;
  absl::Mutex mu_;
  std::shared_ptr<const Files> files_ ABSL_GUARDED_BY(mu_);
  absl::Time next_read_ ABSL_GUARDED_BY(mu_);
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_METRICS_TLS_H_
