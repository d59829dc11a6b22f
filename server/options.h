// ServerOptions: every setting of `healthscore serve`, from flags and an
// optional YAML file.
//
// Each setting has a flag (`--max-accounts-per-request 5000`, or
// `--max-accounts-per-request=5000`) and the same key with underscores in the
// YAML file given by `--config` (`max_accounts_per_request: 5000`). Flags win
// over the file. Relative paths given as flags are resolved against the
// current directory; relative paths in the file against the file's
// directory. `ServeUsage()` is the `--help` text and documents every
// setting; docs/api.md repeats it.
//
// Thread-safety: plain values and pure functions.

#ifndef HEALTHSCORE_SERVER_OPTIONS_H_
#define HEALTHSCORE_SERVER_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/common/install_layout.h"

namespace healthscore::server {

inline constexpr int kMaxMetricsThreads = 256;

struct ServerOptions {
  // HOST:PORT to listen on (see ParseListenAddress); port 0
  // picks a free port (see port_file).
  std::string listen = "127.0.0.1:50051";
  // Model directory: <models_dir>/<name>/<version>/model.yaml, numeric
  // versions. Requests without a version get the highest version that
  // loaded. Default: an installed program's bundled models
  // (<prefix>/share/healthscore/models), else `rules` (relative to the
  // current directory); engine/common/install_layout.h.
  std::string models_dir = engine::common::DefaultDataDirs().models;
  // The model requests without a model name get.
  std::string default_model = "default";
  // Directory of plugin libraries (libhs_NAME.so) that models' `plugins:`
  // entries load. A directory given explicitly must exist; the default (an
  // installed program's <prefix>/lib/healthscore/plugins, or the build
  // tree's BUILD/plugins/lib; empty when neither) is used only when it
  // exists.
  std::string plugins_dir = engine::common::DefaultDataDirs().plugins;
  bool plugins_dir_explicit = false;

  // Scoring threads; 0 means one per core.
  int threads = 0;
  // A request (or stream batch) with more accounts fails with
  // INVALID_ARGUMENT. An empty batch is valid.
  size_t max_accounts_per_request = 100000;
  // Largest request or response message in bytes; gRPC itself rejects a
  // larger request with RESOURCE_EXHAUSTED.
  size_t max_message_bytes = 64u << 20;
  // Admission: requests and stream batches admitted but not finished (queued
  // or scoring). Beyond either limit new work fails fast with
  // RESOURCE_EXHAUSTED instead of queueing without bound.
  size_t max_concurrent_requests = 1024;
  size_t max_pending_accounts = 1000000;
  // Admission: serialised request bytes admitted but not finished, over all
  // requests and stream batches (a call peaks at a few times its request's
  // bytes). Must be at least max_message_bytes.
  size_t max_bytes_in_flight = 256u << 20;
  // Per stream: batches read ahead of the response being written. The
  // server stops reading the stream at this depth, so HTTP/2 flow control
  // holds the client back.
  int max_stream_batches_in_flight = 4;
  // HTTP/2 streams (concurrent calls) per client connection.
  int max_concurrent_streams = 1000;
  // Rows per scoring task: larger batches are split across the threads.
  size_t rows_per_task = 2048;
  // A Score call of at most this many accounts (and no shadow) is scored
  // on the gRPC thread that received it: handing a few accounts to a
  // scoring thread costs more than scoring them (a thread wake-up, tens to
  // hundreds of microseconds on a busy machine). 0 sends every call to the
  // scoring threads.
  size_t inline_accounts = 32;

  // ModelService.ValidateModel compiles whatever a client sends, on threads
  // of its own (never the scoring threads): at most this many at once;
  // more fail fast with RESOURCE_EXHAUSTED. A validation past its budget
  // holds its place until its work has stopped.
  int max_concurrent_validations = 2;
  // Each validation's time budget: past it the call answers
  // DEADLINE_EXCEEDED and the work is abandoned.
  absl::Duration validation_timeout = absl::Seconds(10);
  // Largest model text ValidateModel accepts, in bytes: a larger one is
  // refused with RESOURCE_EXHAUSTED before any parsing. Model files of the
  // model directory larger than this are refused unread.
  size_t max_model_bytes = size_t{4} << 20;
  // Most YAML nodes a model file (repository or ValidateModel) may hold
  // once aliases are expanded; more is refused as an alias bomb
  // (engine/common/yaml_reader.h).
  size_t max_yaml_nodes = 1000000;

  // On SIGTERM/SIGINT: health turns NOT_SERVING at once; requests are still
  // accepted for shutdown_wait (time for load balancers to notice); then new
  // calls are refused and in-flight ones get shutdown_grace to finish before
  // they are cancelled.
  absl::Duration shutdown_wait = absl::ZeroDuration();
  absl::Duration shutdown_grace = absl::Seconds(30);

  // Poll the models directory this often and reload when it changed (and
  // stayed unchanged for one interval); zero turns the watcher off.
  absl::Duration watch_interval = absl::ZeroDuration();

  // When set, the bound port is written to this file (then renamed into
  // place) once the server is SERVING: for supervisors and tests that start
  // it on port 0.
  std::string port_file;

  // Prometheus metrics: `GET /metrics` over plain HTTP on
  // metrics_address:metrics_port (docs/operations.md lists the metrics).
  // -1, the default, turns the endpoint off; 0 picks a free port (see
  // metrics_port_file). The address must be an IPv4 literal (Debian's
  // civetweb has no IPv6); the default keeps the endpoint on loopback,
  // since it has no authentication.
  int metrics_port = -1;
  std::string metrics_address = "127.0.0.1";
  // As port_file, for the metrics port; needs metrics_port >= 0. Written
  // before port_file, so waiting for port_file is enough.
  std::string metrics_port_file;
  // Threads answering metrics requests, each serving one connection at a
  // time, and how long a connection may take to send its request before it
  // is closed. Together they bound how long slow or idle clients can hold
  // the endpoint: with fewer slow connections than threads a scrape is
  // answered at once.
  int metrics_threads = 16;  // 1 to kMaxMetricsThreads
  absl::Duration metrics_request_timeout = absl::Seconds(3);

  // Conventions (issue 14).
  // Serve gRPC server reflection (grpc.reflection.v1 and v1alpha); off, a
  // client needs the .proto files to call the server.
  bool reflection = true;

  // Security (docs/operations.md, "Security"; server/tls.h, server/auth.h).
  // TLS on the gRPC port: the server's certificate chain and private key
  // (PEM files, both or neither). With tls_client_ca, clients must present
  // a certificate signed by one of its CAs (mTLS). The three files are
  // re-read every tls_refresh_interval (gRPC's file watcher): a rotated
  // certificate is served to new connections, open ones keep theirs.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  absl::Duration tls_refresh_interval = absl::Seconds(60);
  // Admin calls (Reload, ValidateModel) need a bearer token from this file
  // or an mTLS client certificate with a SAN in admin_allow_san (a comma
  // list; needs tls_client_ca). Scoring calls need a token from
  // auth_token_file when it is set. Token files are re-read on every
  // reload (SIGHUP, the Reload RPC).
  std::string admin_token_file;
  std::string admin_allow_san;
  std::string auth_token_file;
  // With neither admin_token_file nor admin_allow_san, admin calls are
  // refused (UNAUTHENTICATED) unless this is set: then anyone who reaches
  // the port may make them (development, a trusted network). Ignored when
  // an admin credential is configured.
  bool allow_unauthenticated_admin = false;
  // ValidateModel compiles client-supplied YAML; its `plugins:` entries
  // would load plugin libraries with client-supplied configuration, which
  // run in-process with full trust. Off: such a model is refused.
  bool validate_allow_plugins = false;
  // The metrics endpoint over HTTPS only, with tls_cert and tls_key (and,
  // with tls_client_ca, client certificates required), re-read every
  // tls_refresh_interval as on the gRPC port (metrics_tls.h).
  bool metrics_tls = false;

  // Scale-out (issue 15; docs/scaling.md).
  // A client connection older than max_connection_age (gRPC adds up to
  // +-10% jitter) gets a GOAWAY: its client opens a new connection for new
  // calls, so long-lived clients rebalance onto replicas started after
  // them. Calls open on the old connection get max_connection_age_grace to
  // finish before it is closed. Zero turns the age limit off (connections
  // live as long as their clients keep them).
  absl::Duration max_connection_age = absl::ZeroDuration();
  absl::Duration max_connection_age_grace = absl::Seconds(30);
  // Decision log (issue 15; docs/operations.md, "Decision log";
  // server/decision_log.h). One JSON line per scored account, off unless
  // decision_log names a file or "-" (standard output).
  std::string decision_log;
  // Share of accounts logged, in (0, 1], chosen by a hash of the account
  // id (the same accounts on every run and replica).
  double decision_log_sample = 1;
  // Comma list of input ids (and as_of, previous_score, previous_tier)
  // whose values are written as "[masked]".
  std::string decision_log_mask;
  // Records formatted and not yet written; past it they are dropped and
  // counted (healthscore_decision_log_dropped_total), never waited for.
  size_t decision_log_buffer = size_t{8} << 20;
  // Rotate the file before it passes this size (0: never), keeping this
  // many rotated files (FILE.1 ... FILE.N).
  size_t decision_log_max_bytes = size_t{100} << 20;
  int decision_log_max_files = 5;

  // Checks ranges and consistency. InvalidArgument naming the setting.
  absl::Status Validate() const;
};

// A listening address, as ParseListenAddress reads it.
struct ListenAddress {
  // An IPv4 literal, an IPv6 literal (given in brackets, held without) or
  // a host name, and a port (0 picks a free one).
  std::string host;
  int port = 0;
};

// Reads "HOST:PORT" (127.0.0.1:50051, 0.0.0.0:0, [::]:50051,
// localhost:50051); "unix:PATH" is refused (not supported). InvalidArgument
// naming what is wrong: no port, a port that is not a number or outside
// 0-65535, an invalid host, an empty or over-long socket path. gRPC itself
// would take "127.0.0.1:99999" as another port, so every address goes
// through this first.
absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text);

// Conventions (issue 14).
// True for an address only this host can reach: 127.0.0.0/8, [::1] and
// "localhost".
bool IsLoopbackHost(absl::string_view host);
// The warning to log at start-up when `options` listen beyond loopback in
// plaintext (naming the flag that turns TLS on); empty otherwise.
std::string PlaintextListenWarning(const ServerOptions& options);

// What ParseServeArgs found.
struct ServeArgs {
  ServerOptions options;
  bool help = false;
  bool version = false;     // --version: print build_info.h's VersionText
  std::string config_file;  // empty without --config
};

// Parses the arguments of `healthscore serve` (argv[0] is "serve" or the
// program name and is skipped): reads --config first, then applies the flags
// over it. InvalidArgument for an unknown flag (with a suggestion), a
// missing or malformed value, or an invalid file; NotFound for an unreadable
// config file.
absl::StatusOr<ServeArgs> ParseServeArgs(const std::vector<std::string>& args);

// Applies the settings of a YAML config file's text to `options`;
// `base_dir` resolves relative paths. InvalidArgument with file:line for an
// unknown key or a bad value.
absl::Status ApplyConfigYaml(absl::string_view text, const std::string& file,
                             const std::string& base_dir,
                             ServerOptions* options);

// The --help text.
std::string ServeUsage(absl::string_view program);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_OPTIONS_H_
