#include "server/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace healthscore::server {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no PEM data found";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

absl::StatusOr<std::unique_ptr<BIO, BioFree>> Open(const char* flag,
                                                   const std::string& path) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": cannot read ", path));
  }
  return bio;
}

absl::StatusOr<std::unique_ptr<X509, X509Free>> ReadCertificate(
    const char* flag, const std::string& path) {
  absl::StatusOr<std::unique_ptr<BIO, BioFree>> bio = Open(flag, path);
  if (!bio.ok()) return bio.status();
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(bio->get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", path, " holds no PEM certificate (",
                     OpenSslError(), ")"));
  }
  return cert;
}

}  // namespace

TlsFiles::~TlsFiles() {
  X509_free(leaf);
  sk_X509_pop_free(chain, X509_free);
  EVP_PKEY_free(key);
  X509_STORE_free(client_cas);
}

absl::StatusOr<std::shared_ptr<const TlsFiles>> ReadTlsFiles(
    const std::string& cert_path, const std::string& key_path,
    const std::string& client_ca_path) {
  auto files = std::make_shared<TlsFiles>();
  {
    absl::StatusOr<std::unique_ptr<BIO, BioFree>> bio =
        Open("--tls-cert", cert_path);
    if (!bio.ok()) return bio.status();
    files->leaf = PEM_read_bio_X509(bio->get(), nullptr, nullptr, nullptr);
    if (files->leaf == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls-cert: ", cert_path,
                       " holds no PEM certificate (", OpenSslError(), ")"));
    }
    files->chain = sk_X509_new_null();
    while (X509* next =
               PEM_read_bio_X509(bio->get(), nullptr, nullptr, nullptr)) {
      sk_X509_push(files->chain, next);
    }
    ERR_clear_error();  // the end of the file reads as an error
  }
  absl::StatusOr<std::unique_ptr<BIO, BioFree>> bio =
      Open("--tls-key", key_path);
  if (!bio.ok()) return bio.status();
  files->key = PEM_read_bio_PrivateKey(bio->get(), nullptr, nullptr, nullptr);
  if (files->key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls-key: ", key_path, " holds no unencrypted PEM private key (",
        OpenSslError(), ")"));
  }
  if (X509_check_private_key(files->leaf, files->key) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-key: ", key_path,
                     " is not the private key of the certificate in ",
                     cert_path));
  }
  if (!client_ca_path.empty()) {
    absl::StatusOr<std::unique_ptr<X509, X509Free>> ca =
        ReadCertificate("--tls-client-ca", client_ca_path);
    if (!ca.ok()) return ca.status();
    files->client_cas = X509_STORE_new();
    if (X509_STORE_load_file(files->client_cas, client_ca_path.c_str()) !=
        1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tls-client-ca: ", client_ca_path,
                       " holds no PEM certificate (", OpenSslError(), ")"));
    }
  }
  return std::shared_ptr<const TlsFiles>(std::move(files));
}

absl::Status CheckTlsFiles(const ServerOptions& options) {
  if (options.tls_cert.empty()) return absl::OkStatus();
  return ReadTlsFiles(options.tls_cert, options.tls_key, options.tls_client_ca)
      .status();
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(
    const ServerOptions& options) {
  if (options.tls_cert.empty()) return grpc::InsecureServerCredentials();
  const auto refresh = static_cast<unsigned int>(
      absl::ToInt64Seconds(options.tls_refresh_interval));
  auto provider =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          options.tls_key, options.tls_cert, options.tls_client_ca, refresh);
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  if (options.tls_client_ca.empty()) {
    tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    tls.watch_root_certs();
    tls.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(tls);
}

}  // namespace healthscore::server
