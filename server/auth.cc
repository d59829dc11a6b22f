#include "server/auth.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/server_context.h"
#include "grpcpp/security/auth_context.h"
#include "server/log.h"

namespace healthscore::server {
namespace {

// A token file larger than this is not a token file: refuse it rather than
// hold it in memory.
constexpr std::streamsize kMaxTokenFileBytes = 64 << 10;

int Index(AuthScope scope) { return scope == AuthScope::kAdmin ? 0 : 1; }

const char* ScopeCalls(AuthScope scope) {
  return scope == AuthScope::kAdmin ? "admin calls (Reload, ValidateModel)"
                                    : "scoring calls (Score, ScoreStream, ListModels, GetModel)";
}

}  // namespace

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  // Walks all of `b` whatever `a` holds; reads `a` cyclically so that a
  // shorter `a` costs the same.
  size_t diff = a.size() ^ b.size();
  if (a.empty()) return b.empty();
  for (size_t i = 0; i < b.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i % a.size()]) ^
            static_cast<unsigned char>(b[i]);
  }
  return diff == 0;
}

std::vector<std::string> SplitSanList(absl::string_view list) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(list, ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (!part.empty()) out.emplace_back(part);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ReadTokenFile(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read token file ", path));
  }
  std::string text(kMaxTokenFileBytes + 1, '\0');
  in.read(text.data(), kMaxTokenFileBytes + 1);
  text.resize(static_cast<size_t>(in.gcount()));
  if (static_cast<std::streamsize>(text.size()) > kMaxTokenFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "token file ", path, " is larger than ", kMaxTokenFileBytes,
        " bytes; it should hold one token a line"));
  }
  std::vector<std::string> tokens;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    tokens.emplace_back(line);
  }
  if (tokens.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "token file ", path,
        " holds no token (one a line; '#' starts a comment)"));
  }
  return tokens;
}

Credentials CredentialsOf(const grpc::ServerContextBase& context) {
  Credentials c;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it != metadata.end()) {
    absl::string_view value(it->second.data(), it->second.size());
    constexpr absl::string_view kBearer = "bearer ";
    if (value.size() > kBearer.size() &&
        absl::StartsWithIgnoreCase(value, kBearer)) {
      c.has_token = true;
      c.token = std::string(
          absl::StripAsciiWhitespace(value.substr(kBearer.size())));
    } else {
      c.malformed_authorization = true;
    }
  }
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    for (const grpc::string_ref& san :
         auth->FindPropertyValues(GRPC_X509_SAN_PROPERTY_NAME)) {
      c.sans.emplace_back(san.data(), san.size());
    }
  }
  return c;
}

Authorizer::Authorizer(Options options) : options_(std::move(options)) {}

absl::Status Authorizer::Reload() {
  std::vector<std::string> admin, scoring;
  if (!options_.admin_token_file.empty()) {
    absl::StatusOr<std::vector<std::string>> t =
        ReadTokenFile(options_.admin_token_file);
    if (!t.ok()) {
      return absl::Status(t.status().code(),
                          absl::StrCat("--admin-token-file: ",
                                       t.status().message()));
    }
    admin = *std::move(t);
  }
  if (!options_.auth_token_file.empty()) {
    absl::StatusOr<std::vector<std::string>> t =
        ReadTokenFile(options_.auth_token_file);
    if (!t.ok()) {
      return absl::Status(t.status().code(),
                          absl::StrCat("--auth-token-file: ",
                                       t.status().message()));
    }
    scoring = *std::move(t);
  }
  absl::MutexLock lock(&mu_);
  admin_tokens_ = std::move(admin);
  scoring_tokens_ = std::move(scoring);
  return absl::OkStatus();
}

bool Authorizer::AdminConfigured() const {
  return !options_.admin_token_file.empty() ||
         !options_.admin_allow_san.empty();
}

bool Authorizer::Required(AuthScope scope) const {
  if (scope == AuthScope::kAdmin) {
    return AdminConfigured() || !options_.allow_unauthenticated_admin;
  }
  return !options_.auth_token_file.empty();
}

bool Authorizer::TokenIn(const std::vector<std::string>& tokens,
                         absl::string_view token) const {
  // No early exit: every token is compared.
  bool found = false;
  for (const std::string& t : tokens) {
    found |= ConstantTimeEquals(token, t);
  }
  return found;
}

bool Authorizer::AdminAccepts(const Credentials& c) const {
  if (c.has_token && TokenIn(admin_tokens_, c.token)) return true;
  for (const std::string& san : c.sans) {
    for (const std::string& allowed : options_.admin_allow_san) {
      if (san == allowed) return true;
    }
  }
  return false;
}

absl::Status Authorizer::Check(AuthScope scope, const Credentials& c) {
  if (!Required(scope)) return absl::OkStatus();
  const int i = Index(scope);
  bool accepted = false;
  {
    absl::ReaderMutexLock lock(&mu_);
    accepted = AdminConfigured() && AdminAccepts(c);
    if (!accepted && scope == AuthScope::kScoring && c.has_token) {
      accepted = TokenIn(scoring_tokens_, c.token);
    }
  }
  if (accepted) return absl::OkStatus();
  // A client certificate counts as presented only where it could have been
  // accepted: on an admin call, with a SAN allow-list. On a scoring call an
  // mTLS certificate is no credential (every client has one), so a call
  // without a token is unauthenticated.
  const bool cert_presented = scope == AuthScope::kAdmin &&
                              !c.sans.empty() &&
                              !options_.admin_allow_san.empty();
  if (scope == AuthScope::kAdmin && !AdminConfigured()) {
    // Nothing a client sends can be accepted: say what the operator must
    // configure, to whoever asks.
    (c.has_token || c.malformed_authorization ? permission_denied_[i]
                                              : unauthenticated_[i])
        .fetch_add(1, std::memory_order_relaxed);
    const std::string why = absl::StrCat(
        ScopeCalls(scope),
        " are refused: this server has no admin credential configured; "
        "start it with --admin-token-file or --admin-allow-san (or "
        "--allow-unauthenticated-admin=true on a trusted network). Models "
        "still reload on SIGHUP and with --watch-interval");
    return c.has_token || c.malformed_authorization
               ? absl::PermissionDeniedError(why)
               : absl::UnauthenticatedError(why);
  }
  if (!c.has_token && !c.malformed_authorization && !cert_presented) {
    unauthenticated_[i].fetch_add(1, std::memory_order_relaxed);
    std::string how;
    if (scope == AuthScope::kAdmin) {
      std::vector<std::string> ways;
      if (!options_.admin_token_file.empty()) {
        ways.push_back("metadata 'authorization: Bearer TOKEN' with a token "
                       "of the admin token file");
      }
      if (!options_.admin_allow_san.empty()) {
        ways.push_back("a client certificate whose subject alternative name "
                       "is in --admin-allow-san");
      }
      how = absl::StrJoin(ways, ", or ");
    } else {
      how = "metadata 'authorization: Bearer TOKEN'";
    }
    return absl::UnauthenticatedError(absl::StrCat(
        ScopeCalls(scope), " need a credential: send ", how));
  }
  permission_denied_[i].fetch_add(1, std::memory_order_relaxed);
  if (c.malformed_authorization) {
    return absl::PermissionDeniedError(
        "the 'authorization' metadata is not 'Bearer TOKEN'");
  }
  if (c.has_token) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the bearer token is not accepted for ", ScopeCalls(scope)));
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "the client certificate (subject alternative names: ",
      absl::StrJoin(c.sans, ", "), ") is not in --admin-allow-san"));
}

absl::Status AuthorizeCall(Authorizer& auth, AuthScope scope,
                           absl::string_view rpc,
                           const grpc::ServerContextBase& context) {
  if (!auth.Required(scope)) return absl::OkStatus();
  absl::Status s = auth.Check(scope, CredentialsOf(context));
  if (!s.ok()) {
    LogEvery(LogLevel::kWarning,
             absl::StrCat(rpc, ":", absl::StatusCodeToString(s.code())),
             absl::StrCat(rpc, " from ", context.peer(), " refused: ",
                          absl::StatusCodeToString(s.code()), ": ",
                          s.message()));
  }
  return s;
}

Authorizer::Failures Authorizer::failures(AuthScope scope) const {
  const int i = Index(scope);
  return Failures{unauthenticated_[i].load(), permission_denied_[i].load()};
}

}  // namespace healthscore::server
