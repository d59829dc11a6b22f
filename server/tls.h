// TLS for the gRPC port (docs/operations.md, "Security").
//
// ServerCredentialsFor builds gRPC's TLS server credentials over a
// grpc::experimental::FileWatcherCertificateProvider: gRPC re-reads the
// certificate, key and client CA files every options.tls_refresh_interval
// and hands the new ones to new handshakes; connections already open keep
// the certificate they were made with. A rotation must replace the files
// so that key and certificate match at every moment gRPC may read them
// (write new files and rename them into place, or swap a directory
// symlink); gRPC keeps the previous pair while they do not match.
//
// ReadTlsFiles parses the same files for the metrics endpoint
// (metrics_tls.h), which has no file watcher of its own.
//
// Thread-safety: pure functions; a TlsFiles is immutable once read.

#ifndef HEALTHSCORE_SERVER_TLS_H_
#define HEALTHSCORE_SERVER_TLS_H_

#include <openssl/x509.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"
#include "server/options.h"

namespace healthscore::server {

// The TLS files, parsed; owns its OpenSSL objects.
struct TlsFiles {
  TlsFiles() = default;
  ~TlsFiles();
  TlsFiles(const TlsFiles&) = delete;
  TlsFiles& operator=(const TlsFiles&) = delete;

  X509* leaf = nullptr;             // the first certificate of the cert file
  STACK_OF(X509)* chain = nullptr;  // the others, in file order
  EVP_PKEY* key = nullptr;
  X509_STORE* client_cas = nullptr;  // nullptr without a client CA file
};

// Reads `cert`, `key` and (unless empty) `client_ca`, checking them as
// CheckTlsFiles describes; the messages name the flags --tls-cert,
// --tls-key and --tls-client-ca.
absl::StatusOr<std::shared_ptr<const TlsFiles>> ReadTlsFiles(
    const std::string& cert, const std::string& key,
    const std::string& client_ca);

// Reads the TLS files of `options` as gRPC will, so that the server refuses
// to start with a clear message rather than failing every handshake:
// InvalidArgument naming the flag and file when a file cannot be read, holds
// no PEM certificate (or key), or when the key does not belong to the
// certificate. OK when TLS is off.
absl::Status CheckTlsFiles(const ServerOptions& options);

// Insecure credentials when TLS is off; otherwise TLS credentials (mTLS with
// options.tls_client_ca: a client without a certificate signed by one of
// its CAs is refused in the handshake). Call CheckTlsFiles first.
std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(
    const ServerOptions& options);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_TLS_H_
