// Prometheus metrics for the server: a snapshot of every counter the
// server, the model repository and the plugin host keep (MetricsSnapshot),
// its rendering in the Prometheus text exposition format 0.0.4
// (RenderMetrics), and a small HTTP server that serves it as
// `GET /metrics` (MetricsServer). docs/operations.md lists every metric.
//
//   MetricsServerOptions options;  // 127.0.0.1, port 0: a free port
//   absl::StatusOr<std::unique_ptr<MetricsServer>> metrics =
//       MetricsServer::Start(options, [runtime] {
//         return RenderMetrics(CollectMetrics(*runtime));
//       });
//   (*metrics)->port();  // the bound port
//   (*metrics)->Stop();  // or destroy it
//
// Metrics are collected at scrape time: nothing here is on the scoring
// path. The HTTP side is civetweb (civetweb.h stays out of this header).

#ifndef HEALTHSCORE_SERVER_METRICS_H_
#define HEALTHSCORE_SERVER_METRICS_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/plugin_host/plugin_library.h"
#include "engine/repository/model_repository.h"
#include "server/decision_log.h"
#include "server/histogram.h"
#include "server/metrics_tls.h"
#include "server/rpc_metrics.h"
#include "server/runtime.h"

struct mg_connection;
struct mg_context;

namespace healthscore::server {

// The Content-Type of the text exposition format.
inline constexpr char kMetricsContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

// Everything /metrics reports, copied at one moment. A plain value.
struct MetricsSnapshot {
  std::string build_version;  // HEALTHSCORE_VERSION
  absl::Time started = absl::UnixEpoch();
  ServerStats server;
  // Score calls and ScoreStream batches, arrival to response.
  HistogramSnapshot request_duration;
  // Zero (and last_* at InfinitePast) without a repository.
  engine::repository::RepositoryStats repository;

  // One per version serving requests.
  struct ServingVersion {
    std::string model;
    std::string version;  // the repository version, e.g. "2"
    std::string hash;     // the compiled model's content hash
    std::string label;    // the `version:` written in the model file
  };
  std::vector<ServingVersion> serving;

  // One per model the snapshot knows.
  struct ModelHealth {
    std::string model;
    int serving_versions = 0;
    // Versions whose files, as they are now, failed to load (a version
    // may still serve its previous content).
    int failed_versions = 0;
  };
  std::vector<ModelHealth> models;

  // Every plugin file loaded since start (empty without a plugin host).
  std::vector<engine::plugin_host::PluginStats> plugins;

  // Every call answered, by method and code (rpc_metrics.h).
  std::vector<RpcMetrics::Entry> rpcs;
  // Accounts answered per (model, version).
  std::vector<std::pair<std::pair<std::string, std::string>, uint64_t>>
      model_accounts;
  ProcessStats process;
  // Set when the decision log is on (--decision-log): its families are
  // rendered only then.
  std::optional<DecisionLogStats> decision_log;
};

// Reads the runtime's counters, its latency histogram, the repository's
// stats, the current model snapshot and the plugin host's stats. Safe to
// call from any thread while the server runs.
MetricsSnapshot CollectMetrics(const Runtime& runtime);

// The snapshot as Prometheus text format 0.0.4: for each metric family a
// `# HELP` and a `# TYPE` line, then its samples, families in a fixed
// order, label values escaped (\\, \", \n). Pure.
std::string RenderMetrics(const MetricsSnapshot& snapshot);

struct MetricsServerOptions {
  // An IPv4 literal (Debian's civetweb is built without IPv6). The
  // endpoint has no authentication, so the default keeps it on loopback.
  std::string address = "127.0.0.1";
  // 0 picks a free port (see MetricsServer::port()).
  int port = 0;
  // civetweb serves one connection per thread, and a connection holds its
  // thread until its request has arrived or `request_timeout` has passed:
  // so up to threads - 1 slow or idle connections (a port scanner, a
  // client sending a byte a second) cannot delay a scrape, and more delay
  // it by about request_timeout per `threads` of them. A legitimate
  // scraper sends its request at once. The timeout also bounds writing
  // the reply to a client that does not read. Keep-alive is off: each
  // scrape is one request on its own connection.
  int threads = 16;
  absl::Duration request_timeout = absl::Seconds(3);
  // HTTPS only, with these files (metrics_tls.h); null: plain HTTP.
  // `tls_library_dir` is the program's private library directory, which
  // holds the OpenSSL 3 adapter civetweb needs (LoadCivetwebOpenSsl).
  std::shared_ptr<MetricsTls> tls;
  std::string tls_library_dir;
};

// Serves `GET /metrics` with the text `render` returns, as
// kMetricsContentType, and `HEAD /metrics` with the same headers (the
// Content-Length of that text) and no body. Any other path is 404; another
// method on /metrics is 405 (with `Allow: GET, HEAD`); a render that throws
// is 500.
//
// Thread-safety: `render` is called on the server's own threads, possibly
// concurrently; it must stay valid until Stop returns. The methods may be
// called from any thread.
class MetricsServer {
 public:
  using Render = std::function<std::string()>;

  // Listens and serves. Errors: InvalidArgument for an address that is not
  // an IPv4 literal, a port outside 0..65535, fewer than one thread or a
  // request timeout under a millisecond; Unavailable when the address
  // cannot be bound (in use, not local).
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const MetricsServerOptions& options, Render render);

  // Stops.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Closes the listener and waits for requests being answered. Idempotent.
  void Stop();

  // The bound port (also after Stop), and "host:port" with it.
  int port() const { return port_; }
  std::string address() const;

 private:
  MetricsServer(std::string host, Render render)
      : host_(std::move(host)), render_(std::move(render)) {}
  static int Handle(mg_connection* conn, void* self);
  static int InitTls(void* ssl_ctx, void* self);

  const std::string host_;
  const Render render_;
  std::shared_ptr<MetricsTls> tls_;
  int port_ = 0;
  absl::Mutex mu_;
  mg_context* context_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_METRICS_H_
