#include "server/options.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/common/yaml_reader.h"
#include "engine/common/display.h"
#include "engine/model/diagnostic.h"
#include "yaml-cpp/yaml.h"

namespace healthscore::server {
namespace {

using Apply = std::function<absl::Status(absl::string_view value,
                                         const std::string& base_dir,
                                         ServerOptions* options)>;
using Show = std::function<std::string(const ServerOptions&)>;

struct Setting {
  std::string flag;  // without "--"; the config key is this with '_'
  std::string metavar;
  std::string help;
  Apply apply;
  Show show;
};

absl::StatusOr<size_t> ParseCount(absl::string_view text, bool allow_zero) {
  uint64_t v = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &v) ||
      (!allow_zero && v == 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a ", allow_zero ? "non-negative" : "positive",
                     " integer, got '", text, "'"));
  }
  return static_cast<size_t>(v);
}

// "67108864", "64MiB", "64M", "512KiB", "1GiB" (binary multiples).
absl::StatusOr<size_t> ParseBytes(absl::string_view text) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  size_t digits = 0;
  while (digits < t.size() && absl::ascii_isdigit(t[digits])) ++digits;
  uint64_t v = 0;
  std::string suffix = absl::AsciiStrToLower(t.substr(digits));
  if (digits == 0 || !absl::SimpleAtoi(t.substr(0, digits), &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a size such as 67108864 or 64MiB, got '", text,
                     "'"));
  }
  uint64_t mult = 1;
  if (suffix.empty() || suffix == "b") {
    mult = 1;
  } else if (suffix == "k" || suffix == "kb" || suffix == "kib") {
    mult = 1ull << 10;
  } else if (suffix == "m" || suffix == "mb" || suffix == "mib") {
    mult = 1ull << 20;
  } else if (suffix == "g" || suffix == "gb" || suffix == "gib") {
    mult = 1ull << 30;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown size unit '", t.substr(digits), "' in '", text,
        "' (use B, KiB, MiB or GiB)"));
  }
  if (v == 0 || v > (uint64_t{1} << 31) / mult) {
    return absl::InvalidArgumentError(absl::StrCat(
        "size '", text, "' must be between 1 byte and 2GiB"));
  }
  return static_cast<size_t>(v * mult);
}

// "30s", "500ms", "1m", or a plain number of seconds.
absl::StatusOr<absl::Duration> ParseDurationText(absl::string_view text) {
  std::string t(absl::StripAsciiWhitespace(text));
  absl::Duration d;
  double seconds = 0;
  if (absl::SimpleAtod(t, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(t, &d)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected a duration such as 30s, 500ms or 2m, got '", text, "'"));
  }
  if (d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("duration '", text, "' must not be negative"));
  }
  return d;
}

std::string ResolvePath(absl::string_view value, const std::string& base_dir) {
  std::string path(value);
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return absl::StrCat(base_dir, "/", path);
}

Setting StringSetting(std::string flag, std::string metavar, std::string help,
                      std::string ServerOptions::*member, bool is_path,
                      bool ServerOptions::*explicit_flag = nullptr) {
  Setting s;
  s.flag = std::move(flag);
  s.metavar = std::move(metavar);
  s.help = std::move(help);
  s.apply = [member, is_path, explicit_flag](absl::string_view v,
                                             const std::string& base,
                                             ServerOptions* o) {
    if (v.empty()) return absl::InvalidArgumentError("empty value");
    o->*member = is_path ? ResolvePath(v, base) : std::string(v);
    if (explicit_flag != nullptr) o->*explicit_flag = true;
    return absl::OkStatus();
  };
  s.show = [member](const ServerOptions& o) { return o.*member; };
  return s;
}

// A setting whose value `parse` reads from text and `show` prints for
// --help.
template <typename T>
Setting ParsedSetting(std::string flag, std::string metavar, std::string help,
                      T ServerOptions::*member,
                      std::function<absl::StatusOr<T>(absl::string_view)> parse,
                      std::function<std::string(const T&)> show) {
  Setting s;
  s.flag = std::move(flag);
  s.metavar = std::move(metavar);
  s.help = std::move(help);
  s.apply = [member, parse = std::move(parse)](
                absl::string_view v, const std::string&,
                ServerOptions* o) -> absl::Status {
    absl::StatusOr<T> value = parse(v);
    if (!value.ok()) return value.status();
    o->*member = *std::move(value);
    return absl::OkStatus();
  };
  s.show = [member, show = std::move(show)](const ServerOptions& o) {
    return show(o.*member);
  };
  return s;
}

template <typename T>
Setting CountSetting(std::string flag, std::string help,
                     T ServerOptions::*member, bool allow_zero) {
  return ParsedSetting<T>(
      std::move(flag), "N", std::move(help), member,
      [allow_zero](absl::string_view v) -> absl::StatusOr<T> {
        absl::StatusOr<size_t> n = ParseCount(v, allow_zero);
        if (!n.ok()) return n.status();
        if (*n > static_cast<size_t>(1) << 31) {
          return absl::InvalidArgumentError(
              absl::StrCat("'", v, "' is too large"));
        }
        return static_cast<T>(*n);
      },
      [](const T& v) { return absl::StrCat(v); });
}

std::string ShowBytes(const size_t& v) {
  if (v == 0) return "0";
  if (v % (1u << 20) == 0) return absl::StrCat(v >> 20, "MiB");
  if (v % (1u << 10) == 0) return absl::StrCat(v >> 10, "KiB");
  return absl::StrCat(v);
}

Setting BytesSetting(std::string flag, std::string help,
                     size_t ServerOptions::*member) {
  return ParsedSetting<size_t>(std::move(flag), "BYTES", std::move(help),
                               member, ParseBytes, ShowBytes);
}

// --decision-log-sample: a rate in (0, 1].
absl::StatusOr<double> ParseSampleRate(absl::string_view v) {
  double rate = 0;
  if (!absl::SimpleAtod(absl::StripAsciiWhitespace(v), &rate) ||
      !(rate > 0 && rate <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected a rate above 0 and at most 1 (such as 0.01), got '", v,
        "'"));
  }
  return rate;
}

// --decision-log: a path, or "-" for standard output (which a config
// file's directory does not prefix).
Setting DecisionLogPathSetting() {
  Setting s;
  s.flag = "decision-log";
  s.metavar = "FILE|-";
  s.help =
      "Write one JSON line per scored account (request id, time, model, "
      "inputs, score, tier, playbooks) to FILE, or to standard output for "
      "-; off by default. Relative to the current directory.";
  s.apply = [](absl::string_view v, const std::string& base,
               ServerOptions* o) {
    if (v.empty()) return absl::InvalidArgumentError("empty value");
    o->decision_log = v == "-" ? std::string("-") : ResolvePath(v, base);
    return absl::OkStatus();
  };
  s.show = [](const ServerOptions& o) {
    return o.decision_log.empty() ? std::string("off") : o.decision_log;
  };
  return s;
}

Setting DurationSetting(std::string flag, std::string help,
                        absl::Duration ServerOptions::*member) {
  return ParsedSetting<absl::Duration>(
      std::move(flag), "DURATION", std::move(help), member, ParseDurationText,
      [](const absl::Duration& d) {
        return d == absl::ZeroDuration() ? std::string("0s")
                                         : absl::FormatDuration(d);
      });
}

// A TCP port, or "off" (stored as -1). 0 picks a free port.
Setting PortSetting(std::string flag, std::string help,
                    int ServerOptions::*member) {
  return ParsedSetting<int>(
      std::move(flag), "PORT", std::move(help), member,
      [](absl::string_view v) -> absl::StatusOr<int> {
        absl::string_view t = absl::StripAsciiWhitespace(v);
        int port = 0;
        if (t == "off") return -1;
        if (!absl::SimpleAtoi(t, &port) || port < -1 || port > 65535) {
          return absl::InvalidArgumentError(absl::StrCat(
              "expected a port between 0 and 65535, or -1 or 'off', got '", v,
              "'"));
        }
        return port;
      },
      [](const int& port) {
        return port < 0 ? std::string("off") : absl::StrCat(port);
      });
}

// The security switches (--validate-allow-plugins, --metrics-tls).
absl::StatusOr<bool> ParseTrueFalse(absl::string_view v) {
  std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(v));
  if (t == "true" || t == "1" || t == "yes") return true;
  if (t == "false" || t == "0" || t == "no") return false;
  return absl::InvalidArgumentError(
      absl::StrCat("expected true or false, got '", v, "'"));
}

std::string ShowTrueFalse(const bool& b) { return b ? "true" : "false"; }

const std::vector<Setting>& Settings() {
  static const auto* settings = new std::vector<Setting>{
      ParsedSetting<std::string>(
          "listen", "HOST:PORT",
          "Address to listen on: HOST:PORT with an IPv4 address, an IPv6 "
          "address in brackets ([::]:50051) or a host name; port 0 picks a "
          "free port (see --port-file).",
          &ServerOptions::listen,
          [](absl::string_view v) -> absl::StatusOr<std::string> {
            absl::StatusOr<ListenAddress> address = ParseListenAddress(v);
            if (!address.ok()) return address.status();
            return std::string(v);
          },
          [](const std::string& v) { return v; }),
      StringSetting("models", "DIR",
                    "Model directory: DIR/<name>/<version>/model.yaml with "
                    "numeric versions; requests without a version get the "
                    "highest version that loaded. Relative to the current "
                    "directory. An installed healthscore defaults to its "
                    "bundled models (PREFIX/share/healthscore/models).",
                    &ServerOptions::models_dir, true),
      StringSetting("default-model", "NAME",
                    "The model requests without a model name get.",
                    &ServerOptions::default_model, false),
      StringSetting("plugins", "DIR",
                    "Directory of plugin libraries (libhs_NAME.so) that "
                    "models' `plugins:` entries load. The default is the "
                    "installation's PREFIX/lib/healthscore/plugins, or the "
                    "build tree's BUILD/plugins/lib, used only when it "
                    "exists; a directory given explicitly must exist. "
                    "Relative to the current directory.",
                    &ServerOptions::plugins_dir, true,
                    &ServerOptions::plugins_dir_explicit),
      CountSetting("threads", "Scoring threads; 0 means one per core.",
                   &ServerOptions::threads, true),
      CountSetting("max-accounts-per-request",
                   "Accounts per request or stream batch; more fails with "
                   "INVALID_ARGUMENT.",
                   &ServerOptions::max_accounts_per_request, false),
      BytesSetting("max-message-bytes",
                   "Largest request or response message (e.g. 64MiB); gRPC "
                   "rejects a larger request with RESOURCE_EXHAUSTED.",
                   &ServerOptions::max_message_bytes),
      CountSetting("max-concurrent-requests",
                   "Requests and stream batches admitted but not finished; "
                   "beyond it new work fails fast with RESOURCE_EXHAUSTED.",
                   &ServerOptions::max_concurrent_requests, false),
      CountSetting("max-pending-accounts",
                   "Accounts admitted but not finished, over all requests; "
                   "beyond it new work fails fast with RESOURCE_EXHAUSTED.",
                   &ServerOptions::max_pending_accounts, false),
      BytesSetting("max-bytes-in-flight",
                   "Serialised request bytes admitted but not finished, over "
                   "all requests (e.g. 256MiB); beyond it new work fails "
                   "fast with RESOURCE_EXHAUSTED. At least "
                   "--max-message-bytes.",
                   &ServerOptions::max_bytes_in_flight),
      CountSetting("max-stream-batches-in-flight",
                   "Per ScoreStream: batches read ahead of the responses "
                   "written; the server stops reading at this depth.",
                   &ServerOptions::max_stream_batches_in_flight, false),
      CountSetting("max-concurrent-streams",
                   "Concurrent calls (HTTP/2 streams) per client connection.",
                   &ServerOptions::max_concurrent_streams, false),
      CountSetting("rows-per-task",
                   "Rows per scoring task; larger batches are split across "
                   "the threads.",
                   &ServerOptions::rows_per_task, false),
      CountSetting("inline-accounts",
                   "Score calls of at most this many accounts (without "
                   "shadow) are scored on the thread that received them, "
                   "without the hand-off to a scoring thread; 0 turns it "
                   "off.",
                   &ServerOptions::inline_accounts, true),
      CountSetting("max-concurrent-validations",
                   "ValidateModel calls compiling at once, on threads of "
                   "their own (never the scoring threads); more fail fast "
                   "with RESOURCE_EXHAUSTED.",
                   &ServerOptions::max_concurrent_validations, false),
      DurationSetting("validation-timeout",
                      "Time budget of one ValidateModel call; past it the "
                      "call answers DEADLINE_EXCEEDED and its work is "
                      "abandoned.",
                      &ServerOptions::validation_timeout),
      BytesSetting("max-model-bytes",
                   "Largest model file, in the model directory or sent to "
                   "ValidateModel (e.g. 4MiB); larger is refused before any "
                   "parsing.",
                   &ServerOptions::max_model_bytes),
      CountSetting("max-yaml-nodes",
                   "Most YAML nodes a model file may hold once aliases are "
                   "expanded; more is refused as an alias bomb.",
                   &ServerOptions::max_yaml_nodes, false),
      DurationSetting("shutdown-wait",
                      "On SIGTERM/SIGINT health turns NOT_SERVING at once and "
                      "requests are still accepted for this long (for load "
                      "balancers to notice).",
                      &ServerOptions::shutdown_wait),
      DurationSetting("shutdown-grace",
                      "Then new calls are refused and in-flight calls get "
                      "this long to finish before they are cancelled.",
                      &ServerOptions::shutdown_grace),
      DurationSetting("watch-interval",
                      "Poll the models directory this often and reload when "
                      "it changed and then stayed unchanged for one interval "
                      "(0 = off; SIGHUP and the ModelService.Reload RPC "
                      "reload on demand).",
                      &ServerOptions::watch_interval),
      StringSetting("port-file", "FILE",
                    "Write the bound port to FILE once serving (for "
                    "supervisors and tests using port 0).",
                    &ServerOptions::port_file, true),
      PortSetting("metrics-port",
                  "Serve Prometheus metrics (GET /metrics, plain HTTP) on "
                  "this port; 0 picks a free port (see --metrics-port-file), "
                  "off or -1 turns the endpoint off.",
                  &ServerOptions::metrics_port),
      StringSetting("metrics-address", "IP",
                    "IPv4 address the metrics endpoint listens on (0.0.0.0 "
                    "for every interface). It has no authentication; keep "
                    "it off public networks.",
                    &ServerOptions::metrics_address, false),
      StringSetting("metrics-port-file", "FILE",
                    "Write the bound metrics port to FILE once serving (as "
                    "--port-file; needs --metrics-port).",
                    &ServerOptions::metrics_port_file, true),
      CountSetting("metrics-threads",
                   "Threads answering metrics requests, one connection each "
                   "at a time (1-256): with fewer slow or idle connections "
                   "than threads, a scrape is answered at once.",
                   &ServerOptions::metrics_threads, false),
      DurationSetting("metrics-request-timeout",
                      "How long a metrics connection may take to send its "
                      "request, or to take the reply, before it is closed "
                      "(100ms-1m).",
                      &ServerOptions::metrics_request_timeout),
      // Conventions (issue 14).
      ParsedSetting<bool>(
          "reflection", "true|false",
          "Serve gRPC server reflection (grpc.reflection.v1 and v1alpha), "
          "so tools such as grpcurl and buf curl can list and describe the "
          "services without the .proto files; false turns it off.",
          &ServerOptions::reflection,
          [](absl::string_view v) -> absl::StatusOr<bool> {
            const absl::string_view t = absl::StripAsciiWhitespace(v);
            if (t == "true") return true;
            if (t == "false") return false;
            return absl::InvalidArgumentError(
                absl::StrCat("expected true or false, got '", v, "'"));
          },
          [](const bool& v) { return std::string(v ? "true" : "false"); }),
      // Security (docs/operations.md, "Security").
      StringSetting("tls-cert", "FILE",
                    "Serve gRPC over TLS with this PEM certificate chain "
                    "(needs --tls-key). Re-read every --tls-refresh-interval: "
                    "new connections get a rotated certificate.",
                    &ServerOptions::tls_cert, true),
      StringSetting("tls-key", "FILE",
                    "The PEM private key of --tls-cert.",
                    &ServerOptions::tls_key, true),
      StringSetting("tls-client-ca", "FILE",
                    "mTLS: require a client certificate signed by a CA of "
                    "this PEM bundle; others are refused in the handshake.",
                    &ServerOptions::tls_client_ca, true),
      DurationSetting("tls-refresh-interval",
                      "How often the TLS files are re-read (at least 1s).",
                      &ServerOptions::tls_refresh_interval),
      StringSetting("admin-token-file", "FILE",
                    "Admin calls (Reload, ValidateModel) need 'authorization: "
                    "Bearer TOKEN' with a token of FILE (one a line), or a "
                    "client certificate allowed by --admin-allow-san. Re-read "
                    "on every reload (SIGHUP, Reload).",
                    &ServerOptions::admin_token_file, true),
      StringSetting("admin-allow-san", "NAMES",
                    "Comma list of client certificate subject alternative "
                    "names (DNS names, URIs, e-mail addresses, IPs) that may "
                    "make admin calls; needs --tls-client-ca.",
                    &ServerOptions::admin_allow_san, false),
      StringSetting("auth-token-file", "FILE",
                    "Scoring calls (Score, ScoreStream, ListModels, "
                    "GetModel) need 'authorization: Bearer TOKEN' with a "
                    "token of FILE, or an admin credential. Re-read on every "
                    "reload.",
                    &ServerOptions::auth_token_file, true),
      ParsedSetting<bool>(
          "allow-unauthenticated-admin", "true|false",
          "Without --admin-token-file or --admin-allow-san, admin calls are "
          "refused; true lets any client that reaches the port make them "
          "(development, trusted networks). Ignored when an admin credential "
          "is configured.",
          &ServerOptions::allow_unauthenticated_admin, ParseTrueFalse,
          ShowTrueFalse),
      ParsedSetting<bool>(
          "validate-allow-plugins", "true|false",
          "Let ValidateModel load the plugins a client's model names, with "
          "the client's configuration; plugins run in the server with full "
          "trust. Off: such a model is refused.",
          &ServerOptions::validate_allow_plugins, ParseTrueFalse,
          ShowTrueFalse),
      ParsedSetting<bool>(
          "metrics-tls", "true|false",
          "Serve metrics over HTTPS only, with --tls-cert and --tls-key "
          "(rotated as on the gRPC port); with --tls-client-ca, scrapers "
          "need a client certificate of those CAs.",
          &ServerOptions::metrics_tls, ParseTrueFalse, ShowTrueFalse),
      // Scale-out (issue 15; docs/scaling.md).
      DurationSetting("max-connection-age",
                      "Send a GOAWAY to client connections older than this "
                      "(+-10% jitter), so long-lived clients reconnect and "
                      "spread over replicas started after them (1s-24d; 0 = "
                      "off).",
                      &ServerOptions::max_connection_age),
      DurationSetting("max-connection-age-grace",
                      "Calls still open on a connection sent a GOAWAY by "
                      "--max-connection-age get this long to finish before "
                      "it is closed (at most 24d).",
                      &ServerOptions::max_connection_age_grace),
      // Decision log (issue 15; docs/operations.md, "Decision log").
      DecisionLogPathSetting(),
      ParsedSetting<double>(
          "decision-log-sample", "RATE",
          "Share of accounts the decision log records, above 0 and at most "
          "1 (0.01 logs 1 in 100), chosen by a hash of the account id: the "
          "same accounts on every run and replica.",
          &ServerOptions::decision_log_sample, ParseSampleRate,
          [](const double& v) { return absl::StrCat(v); }),
      StringSetting("decision-log-mask", "IDS",
                    "Comma list of input ids (and as_of, previous_score, "
                    "previous_tier) whose values the decision log writes as "
                    "\"[masked]\"; the values are never written.",
                    &ServerOptions::decision_log_mask, false),
      BytesSetting("decision-log-buffer",
                   "Decision records formatted and not yet written (e.g. "
                   "8MiB); past it records are dropped and counted, scoring "
                   "never waits for the log.",
                   &ServerOptions::decision_log_buffer),
      ParsedSetting<size_t>(
          "decision-log-max-bytes", "BYTES",
          "Rotate the decision log before it passes this size (FILE "
          "becomes FILE.1, FILE.1 FILE.2, ...); 0 never rotates.",
          &ServerOptions::decision_log_max_bytes,
          [](absl::string_view v) -> absl::StatusOr<size_t> {
            if (absl::StripAsciiWhitespace(v) == "0") return size_t{0};
            return ParseBytes(v);
          },
          ShowBytes),
      CountSetting("decision-log-max-files",
                   "Rotated decision log files kept (FILE.1 ... FILE.N, "
                   "1-1000); older ones are removed.",
                   &ServerOptions::decision_log_max_files, false),
  };
  return *settings;
}

const Setting* FindSetting(absl::string_view flag) {
  for (const Setting& s : Settings()) {
    if (s.flag == flag) return &s;
  }
  return nullptr;
}

std::vector<std::string> FlagNames() {
  std::vector<std::string> names;
  for (const Setting& s : Settings()) names.push_back(s.flag);
  names.push_back("config");
  names.push_back("help");
  return names;
}

bool IsIpv4Literal(const std::string& address) {
  in_addr buffer;
  return ::inet_pton(AF_INET, address.c_str(), &buffer) == 1;
}

std::string Directory(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// An IPv6 literal, with an optional zone ("fe80::1%eth0").
bool IsIpv6Literal(absl::string_view address) {
  const size_t percent = address.find('%');
  if (percent != absl::string_view::npos) {
    absl::string_view zone = address.substr(percent + 1);
    if (zone.empty() || !std::all_of(zone.begin(), zone.end(), [](char c) {
          return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.';
        })) {
      return false;
    }
    address = address.substr(0, percent);
  }
  in6_addr buffer;
  return ::inet_pton(AF_INET6, std::string(address).c_str(), &buffer) == 1;
}

// RFC 1123 host names (and '_', which internal names use): dot-separated
// labels of letters, digits, '-' and '_', at most 63 bytes each and 253 in
// all.
bool IsHostName(absl::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  bool all_digits = true;
  for (absl::string_view label : absl::StrSplit(host, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' ||
        label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
      all_digits = all_digits && absl::ascii_isdigit(c);
    }
  }
  // "999.1.1.1" is no name; IPv4 literals are checked before.
  return !all_digits;
}

std::string Shown(absl::string_view text) {
  return engine::common::TruncateForDisplay(
      std::string_view(text.data(), text.size()));
}

}  // namespace

absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text) {
  const std::string shown = Shown(text);
  ListenAddress address;
  if (absl::StartsWith(text, "unix:")) {
    return absl::InvalidArgumentError(
        "Unix domain sockets are not supported; listen on a TCP address "
        "such as 127.0.0.1:50051");
  }
  const std::string expected = absl::StrCat(
      "expected HOST:PORT (such as 127.0.0.1:50051, 0.0.0.0:50051, "
      "[::]:50051 or localhost:0), got '",
      shown, "'");
  absl::string_view host, port;
  if (absl::StartsWith(text, "[")) {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("unclosed '[' in '", shown,
                       "'; an IPv6 address is written [ADDRESS]:PORT"));
    }
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return absl::InvalidArgumentError(expected);
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (!IsIpv6Literal(host)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", Shown(host), "' in '", shown, "' is not an IPv6 address"));
    }
  } else {
    const size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(expected);
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "an IPv6 address is written in brackets, as [::1]:50051; got '",
          shown, "'"));
    }
    if (host.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "no host in '", shown,
          "' (0.0.0.0 listens on every IPv4 interface, [::] on every one)"));
    }
    if (!IsIpv4Literal(std::string(host)) && !IsHostName(host)) {
      return absl::InvalidArgumentError(
          absl::StrCat("host '", Shown(host), "' in '", shown,
                       "' is neither an IP address nor a host name"));
    }
  }
  if (port.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no port in '", shown, "'; ", expected));
  }
  if (!std::all_of(port.begin(), port.end(),
                   [](char c) { return absl::ascii_isdigit(c); })) {
    return absl::InvalidArgumentError(absl::StrCat(
        "port '", Shown(port), "' in '", shown, "' is not a number"));
  }
  int number = 0;
  if (port.size() > 5 || !absl::SimpleAtoi(port, &number) || number > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("port ", Shown(port), " in '", shown,
                     "' is out of range (0-65535; 0 picks a free port)"));
  }
  address.host = std::string(host);
  address.port = number;
  return address;
}

absl::Status ServerOptions::Validate() const {
  absl::StatusOr<ListenAddress> address = ParseListenAddress(listen);
  if (!address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen: ", address.status().message()));
  }
  if (models_dir.empty()) {
    return absl::InvalidArgumentError("--models is empty");
  }
  if (default_model.empty()) {
    return absl::InvalidArgumentError("--default-model is empty");
  }
  if (threads < 0 || threads > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("--threads must be between 0 and 1024, got ", threads));
  }
  if (max_accounts_per_request > max_pending_accounts) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max-accounts-per-request (", max_accounts_per_request,
        ") must not exceed --max-pending-accounts (", max_pending_accounts,
        "): such a request could never be admitted"));
  }
  if (max_bytes_in_flight != 0 && max_message_bytes > max_bytes_in_flight) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max-message-bytes (", max_message_bytes,
        ") must not exceed --max-bytes-in-flight (", max_bytes_in_flight,
        "): such a request could never be admitted"));
  }
  if (metrics_port < -1 || metrics_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics-port must be between 0 and 65535, or -1 (off), got ",
        metrics_port));
  }
  if (metrics_port >= 0 && !IsIpv4Literal(metrics_address)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics-address must be an IPv4 address such as 127.0.0.1 or "
        "0.0.0.0, got '",
        metrics_address, "'"));
  }
  if (metrics_threads < 1 || metrics_threads > kMaxMetricsThreads) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics-threads must be between 1 and ",
                     kMaxMetricsThreads, ", got ", metrics_threads));
  }
  if (metrics_request_timeout < absl::Milliseconds(100) ||
      metrics_request_timeout > absl::Minutes(1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--metrics-request-timeout must be between 100ms and 1m, got ",
        absl::FormatDuration(metrics_request_timeout)));
  }
  if (!metrics_port_file.empty() && metrics_port < 0) {
    return absl::InvalidArgumentError(
        "--metrics-port-file needs --metrics-port (the metrics endpoint is "
        "off)");
  }
  if (max_concurrent_validations < 1 || max_concurrent_validations > 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max-concurrent-validations must be between 1 and 64, got ",
        max_concurrent_validations));
  }
  if (validation_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--validation-timeout must be positive");
  }
  if (max_model_bytes == 0) {
    return absl::InvalidArgumentError("--max-model-bytes must be positive");
  }
  if (max_accounts_per_request == 0 || max_concurrent_requests == 0 ||
      max_pending_accounts == 0 || max_stream_batches_in_flight <= 0 ||
      max_concurrent_streams <= 0 || rows_per_task == 0 ||
      max_message_bytes == 0 || max_bytes_in_flight == 0) {
    return absl::InvalidArgumentError("limits must be positive");
  }
  if (tls_cert.empty() != tls_key.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key go together: give both, or neither for "
        "plaintext");
  }
  if (!tls_client_ca.empty() && tls_cert.empty()) {
    return absl::InvalidArgumentError(
        "--tls-client-ca needs --tls-cert and --tls-key (mTLS is TLS with "
        "client certificates)");
  }
  if (tls_refresh_interval < absl::Seconds(1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls-refresh-interval must be at least 1s, got ",
        absl::FormatDuration(tls_refresh_interval)));
  }
  if (metrics_tls && tls_cert.empty()) {
    return absl::InvalidArgumentError(
        "--metrics-tls needs --tls-cert and --tls-key: the metrics endpoint "
        "serves the gRPC port's certificate");
  }
  // gRPC takes both as int milliseconds.
  constexpr absl::Duration kMaxConnectionAgeLimit = absl::Hours(24 * 24);
  if (max_connection_age != absl::ZeroDuration() &&
      (max_connection_age < absl::Seconds(1) ||
       max_connection_age > kMaxConnectionAgeLimit)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max-connection-age must be 0 (off) or between 1s and 24d, got ",
        absl::FormatDuration(max_connection_age)));
  }
  if (max_connection_age_grace > kMaxConnectionAgeLimit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max-connection-age-grace must be at most 24d, got ",
        absl::FormatDuration(max_connection_age_grace)));
  }
  if (!(decision_log_sample > 0 && decision_log_sample <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--decision-log-sample must be above 0 and at most 1, got ",
        decision_log_sample));
  }
  if (decision_log_max_files < 1 || decision_log_max_files > 1000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--decision-log-max-files must be between 1 and 1000, got ",
        decision_log_max_files));
  }
  if (decision_log_buffer == 0) {
    return absl::InvalidArgumentError(
        "--decision-log-buffer must be positive");
  }
  for (absl::string_view name : absl::StrSplit(decision_log_mask, ',')) {
    if (!decision_log_mask.empty() && absl::StripAsciiWhitespace(name).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--decision-log-mask: empty name in '", decision_log_mask,
          "' (a comma list of input ids, such as nps,arr)"));
    }
  }
  if (!admin_allow_san.empty() && tls_client_ca.empty()) {
    return absl::InvalidArgumentError(
        "--admin-allow-san needs --tls-client-ca: client certificates are "
        "only verified with mTLS");
  }
  return absl::OkStatus();
}

absl::Status ApplyConfigYaml(absl::string_view text, const std::string& file,
                             const std::string& base_dir,
                             ServerOptions* options) {
  // Bounded like model files (engine/common/yaml_reader.h): size, alias
  // expansion, recursive aliases and nesting.
  absl::StatusOr<YAML::Node> loaded = engine::common::LoadYaml(
      std::string_view(text.data(), text.size()), file);
  if (!loaded.ok()) {
    return absl::InvalidArgumentError(loaded.status().message());
  }
  const YAML::Node& root = *loaded;
  if (root.IsNull()) return absl::OkStatus();  // an empty file
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": expected a mapping of setting: value"));
  }
  std::vector<std::string> keys;
  for (const Setting& s : Settings()) {
    keys.push_back(absl::StrReplaceAll(s.flag, {{"-", "_"}}));
  }
  for (const auto& entry : root) {
    const YAML::Mark mark = entry.first.Mark();
    std::string where = absl::StrFormat("%s:%d:%d", file, mark.line + 1,
                                        mark.column + 1);
    std::string key;
    try {
      key = entry.first.as<std::string>();
    } catch (const YAML::Exception&) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": setting names must be strings"));
    }
    const Setting* setting =
        FindSetting(absl::StrReplaceAll(key, {{"_", "-"}}));
    if (setting == nullptr || key.find('-') != std::string::npos) {
      std::string hint = engine::model::DidYouMean(key, keys);
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": unknown setting '", key, "'",
          hint.empty() ? "" : absl::StrCat(" (", hint, ")")));
    }
    if (!entry.second.IsScalar()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": '", key, "' needs a single value"));
    }
    std::string value = entry.second.Scalar();
    absl::Status s = setting->apply(value, base_dir, options);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", key, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ServeArgs> ParseServeArgs(const std::vector<std::string>& args) {
  ServeArgs out;
  // (flag, value) pairs in order; --config is applied first.
  std::vector<std::pair<const Setting*, std::string>> flags;
  for (size_t i = 1; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "-h" || arg == "--help" || arg == "help") {
      out.help = true;
      continue;
    }
    if (arg == "--version") {
      out.version = true;
      continue;
    }
    if (!absl::ConsumePrefix(&arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unexpected argument '", arg, "' (settings are flags: --name value)"));
    }
    std::string name(arg), value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Setting* setting = FindSetting(name);
    if (setting == nullptr && name != "config") {
      std::string hint = engine::model::DidYouMean(name, FlagNames());
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown flag --", name,
          hint.empty() ? "" : absl::StrCat(" (", hint, ")"),
          "; see --help"));
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " needs a value"));
      }
      value = args[++i];
    }
    if (name == "config") {
      out.config_file = value;
    } else {
      flags.emplace_back(setting, value);
    }
  }
  if (out.help || out.version) return out;
  if (!out.config_file.empty()) {
    absl::StatusOr<std::string> text =
        engine::common::ReadYamlFile(out.config_file);
    if (absl::IsResourceExhausted(text.status())) {
      return absl::InvalidArgumentError(text.status().message());
    }
    if (!text.ok()) {
      return absl::NotFoundError(
          absl::StrCat("cannot read config file ", out.config_file));
    }
    absl::Status s = ApplyConfigYaml(*text, out.config_file,
                                     Directory(out.config_file), &out.options);
    if (!s.ok()) return s;
  }
  for (const auto& [setting, value] : flags) {
    absl::Status s = setting->apply(value, "", &out.options);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", setting->flag, ": ", s.message()));
    }
  }
  absl::Status s = out.options.Validate();
  if (!s.ok()) return s;
  return out;
}

bool IsLoopbackHost(absl::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  return IsIpv4Literal(std::string(host)) && absl::StartsWith(host, "127.");
}

std::string PlaintextListenWarning(const ServerOptions& options) {
  if (!options.tls_cert.empty()) return "";
  absl::StatusOr<ListenAddress> address = ParseListenAddress(options.listen);
  if (!address.ok() || IsLoopbackHost(address->host)) return "";
  return absl::StrCat(
      "listening on ", options.listen,
      " without TLS: any host that reaches this address can call every "
      "RPC, including Reload and ValidateModel, and read the traffic; "
      "serve TLS (--tls-cert and --tls-key), or listen on 127.0.0.1 behind "
      "a proxy that does");
}

std::string ServeUsage(absl::string_view program) {
  ServerOptions defaults;
  std::string out = absl::StrCat(
      "Usage: ", program, " [flags]\n\n",
      "Serves the gRPC scoring API: healthscore.v1.ScoringService,\n"
      "healthscore.v1.ModelService, grpc.health.v1.Health and server\n"
      "reflection (reference: docs/api.md). Health is SERVING once the models\n"
      "have loaded. SIGTERM or SIGINT: health turns NOT_SERVING, in-flight\n"
      "requests finish within the grace period, and the process exits 0.\n"
      "With --metrics-port it also serves Prometheus metrics over HTTP\n"
      "(reference: docs/operations.md).\n\n"
      "Flags (each is also a key of the --config file, with '_' for '-'):\n");
  // Flag on its own line, then the help wrapped at 78 columns.
  auto line = [&out](const std::string& left, const std::string& help,
                     const std::string& def) {
    absl::StrAppend(&out, "  ", left, "\n");
    std::vector<std::string> words = absl::StrSplit(help, ' ');
    if (!def.empty()) words.push_back(absl::StrCat("[default: ", def, "]"));
    std::string current = "      ";
    for (const std::string& word : words) {
      if (current.size() > 6 && current.size() + 1 + word.size() > 76) {
        absl::StrAppend(&out, current, "\n");
        current = "      ";
      }
      if (current.size() > 6) current += ' ';
      absl::StrAppend(&current, word);
    }
    absl::StrAppend(&out, current, "\n");
  };
  line("--config FILE",
       "YAML file with any of the settings below (relative paths in it are "
       "relative to the file); flags override it.",
       "");
  for (const Setting& s : Settings()) {
    line(absl::StrCat("--", s.flag, " ", s.metavar), s.help,
         s.show(defaults));
  }
  line("--help", "Print this help.", "");
  line("--version",
       "Print the version, git commit, plugin ABI and the gRPC and protobuf "
       "versions, and exit.",
       "");
  absl::StrAppend(
      &out, "\nExample:\n  ", program,
      " --listen 0.0.0.0:50051 --models rules --threads 2\n"
      "\nA config file:\n"
      "  listen: 0.0.0.0:50051\n"
      "  models: /srv/healthscore/rules\n"
      "  max_accounts_per_request: 50000\n"
      "  shutdown_grace: 20s\n"
      "  watch_interval: 5s\n"
      "  metrics_port: 9464\n"
      "\nSignals: SIGTERM or SIGINT shut down gracefully, at any moment: a\n"
      "model load in progress is abandoned (during the first load the\n"
      "process exits 0 at once). SIGHUP reloads the models (as the\n"
      "ModelService.Reload RPC does) on the one reload thread; requests that\n"
      "arrive during a reload make exactly one more run after it. New and\n"
      "changed versions are compiled and tested first, and a version that\n"
      "fails never replaces the one serving.\n");
  return out;
}

}  // namespace healthscore::server
