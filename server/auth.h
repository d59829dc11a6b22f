// Authorizer: who may make which calls (docs/operations.md, "Security").
//
// Two scopes:
//   - kAdmin: calls that change or probe the server (ModelService.Reload,
//     ModelService.ValidateModel, and every admin call added later). With
//     --admin-token-file or --admin-allow-san set, such a call needs a
//     bearer token from the admin token file, or an mTLS client
//     certificate with a subject alternative name (SAN) in the allow-list.
//   - kScoring: the other healthscore.v1 calls (Score, ScoreStream,
//     ListModels, GetModel). With --auth-token-file set, they need a token
//     from that file, or any admin credential.
// With no admin credential configured, admin calls are refused
// (UNAUTHENTICATED, saying how to configure one) unless
// allow_unauthenticated_admin opens them (the server then logs a warning at
// start-up). The scoring scope with no token file is open. gRPC health and
// reflection stay open: probes and tooling need them.
//
// Answers: no credential presented (no `authorization` metadata and no
// client certificate that the scope would take): UNAUTHENTICATED; a
// credential presented that is not accepted: PERMISSION_DENIED. Both are
// counted per scope (failures()).
//
// A token file holds one token a line (several, so that a new token can be
// rolled out before the old one is removed); blank lines and lines starting
// with '#' are ignored, surrounding whitespace is trimmed. Clients send
// `authorization: Bearer TOKEN`. Tokens are compared in constant time
// (ConstantTimeEquals). Reload() re-reads the files: the server calls it on
// every model reload (SIGHUP, the Reload RPC, the directory watcher).
//
// Thread-safety: every method may be called from any thread.

#ifndef HEALTHSCORE_SERVER_AUTH_H_
#define HEALTHSCORE_SERVER_AUTH_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace grpc {
class ServerContextBase;
}  // namespace grpc

namespace healthscore::server {

enum class AuthScope { kAdmin, kScoring };

// What a call presented: its bearer token, if any, and the SANs of its
// verified client certificate (empty without one).
struct Credentials {
  bool has_token = false;
  std::string token;
  std::vector<std::string> sans;
  // The `authorization` metadata was there but is not "Bearer TOKEN".
  bool malformed_authorization = false;
};

// The credentials of a call: the `authorization` metadata and the SANs
// gRPC verified (its auth context's x509_subject_alternative_name).
Credentials CredentialsOf(const grpc::ServerContextBase& context);

// True when `a` equals `b`; the time taken depends on the lengths only,
// never on where they differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// Reads a token file (format above). NotFound when it cannot be read;
// InvalidArgument when it holds no token, naming the file.
absl::StatusOr<std::vector<std::string>> ReadTokenFile(const std::string& path);

class Authorizer {
 public:
  struct Options {
    std::string admin_token_file;           // empty: no admin token
    std::vector<std::string> admin_allow_san;  // empty: no SAN allow-list
    std::string auth_token_file;            // empty: scoring is open
    // Admin calls with no admin credential configured: refused (false) or
    // open to every client (true).
    bool allow_unauthenticated_admin = false;
  };

  explicit Authorizer(Options options);

  // Reads the token files. On error the tokens read before stay in force;
  // the message names the file.
  absl::Status Reload();

  // OK, or UNAUTHENTICATED / PERMISSION_DENIED with a message saying what
  // is missing or wrong (never the token). Counts failures.
  absl::Status Check(AuthScope scope, const Credentials& credentials);

  // Whether the scope's calls are checked (Check may refuse them).
  bool Required(AuthScope scope) const;
  // Whether an admin credential (token file or SAN allow-list) is
  // configured.
  bool AdminConfigured() const;

  struct Failures {
    uint64_t unauthenticated = 0;
    uint64_t permission_denied = 0;
  };
  Failures failures(AuthScope scope) const;

 private:
  bool AdminAccepts(const Credentials& c) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool TokenIn(const std::vector<std::string>& tokens,
               absl::string_view token) const;

  const Options options_;
  mutable absl::Mutex mu_;
  std::vector<std::string> admin_tokens_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> scoring_tokens_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> unauthenticated_[2] = {0, 0};
  std::atomic<uint64_t> permission_denied_[2] = {0, 0};
};

// Checks the call's credentials (CredentialsOf) for `scope` and logs a
// refusal (rate-limited) naming `rpc` and the peer. OK or the refusal.
absl::Status AuthorizeCall(Authorizer& auth, AuthScope scope,
                           absl::string_view rpc,
                           const grpc::ServerContextBase& context);

// Splits a comma list ("a.example, spiffe://x/y") into trimmed, non-empty
// entries.
std::vector<std::string> SplitSanList(absl::string_view list);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_AUTH_H_
