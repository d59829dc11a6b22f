#include "server/metrics_tls.h"

#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/log.h"
#include "server/tls.h"

namespace healthscore::server {

absl::Status LoadCivetwebOpenSsl(const std::string& library_dir) {
  static std::mutex mu;
  static bool loaded = false;
  std::lock_guard<std::mutex> lock(mu);
  if (loaded) return absl::OkStatus();
  // libcrypto first: libssl's adapter resolves through it too. The handles
  // are never closed: civetweb keeps the function pointers it looked up.
  for (const char* name : {"libcrypto.so", "libssl.so"}) {
    const std::string path =
        absl::StrCat(library_dir, "/civetweb-openssl/", name);
    if (dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr) {
      const char* why = dlerror();
      return absl::FailedPreconditionError(absl::StrCat(
          "--metrics-tls: cannot load ", path, " (",
          why != nullptr ? why : "unknown error",
          "), the OpenSSL 3 adapter civetweb needs; reinstall healthscore or "
          "rebuild it"));
    }
  }
  loaded = true;
  return absl::OkStatus();
}

struct MetricsTls::Files {
  std::shared_ptr<const TlsFiles> tls;
};

absl::StatusOr<std::unique_ptr<MetricsTls>> MetricsTls::Create(
    Options options) {
  absl::StatusOr<std::shared_ptr<const TlsFiles>> tls =
      ReadTlsFiles(options.cert, options.key, options.client_ca);
  if (!tls.ok()) return tls.status();
  auto files = std::make_unique<Files>();
  files->tls = *std::move(tls);
  return std::unique_ptr<MetricsTls>(
      new MetricsTls(std::move(options), std::move(files)));
}

MetricsTls::MetricsTls(Options options, std::unique_ptr<Files> files)
    : options_(std::move(options)),
      files_(std::move(files)),
      next_read_(absl::Now() + options_.refresh_interval) {}

MetricsTls::~MetricsTls() = default;

std::shared_ptr<const MetricsTls::Files> MetricsTls::Current() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  if (now < next_read_) return files_;
  next_read_ = now + options_.refresh_interval;
  absl::StatusOr<std::shared_ptr<const TlsFiles>> tls =
      ReadTlsFiles(options_.cert, options_.key, options_.client_ca);
  if (!tls.ok()) {
    // Mid-rotation files that do not match yet, or a broken deploy: the
    // previous ones keep serving, as gRPC's watcher does.
    LogEvery(LogLevel::kWarning, "metrics-tls-reread",
             absl::StrCat("metrics endpoint: keeping the previous TLS files: ",
                          tls.status().message()));
    return files_;
  }
  auto files = std::make_shared<Files>();
  files->tls = *std::move(tls);
  files_ = std::move(files);
  return files_;
}

int MetricsTls::SelectCertificate(SSL* ssl, void* self) {
  const std::shared_ptr<const Files> files =
      static_cast<MetricsTls*>(self)->Current();
  const TlsFiles& tls = *files->tls;
  // SSL_use_cert_and_key takes its own references (override = 1 replaces
  // what the context had), so the files may be replaced while this
  // connection lives.
  if (SSL_use_cert_and_key(ssl, tls.leaf, tls.key, tls.chain, 1) != 1) {
    ERR_clear_error();
    return 0;  // the handshake fails
  }
  if (tls.client_cas != nullptr &&
      SSL_set1_verify_cert_store(ssl, tls.client_cas) != 1) {
    ERR_clear_error();
    return 0;
  }
  return 1;
}

int MetricsTls::Configure(void* ssl_ctx) {
  SSL_CTX* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) return -1;
  SSL_CTX_set_cert_cb(ctx, &MetricsTls::SelectCertificate, this);
  const std::shared_ptr<const Files> files = Current();
  if (files->tls->client_cas != nullptr) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       nullptr);
    if (SSL_CTX_set1_verify_cert_store(ctx, files->tls->client_cas) != 1) {
      ERR_clear_error();
      return -1;
    }
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  return 1;
}

}  // namespace healthscore::server
