// What /metrics reports about calls, models and the process, beyond the
// server's own counters (metrics.h renders them):
//
//   RpcMetrics     every gRPC call the server answered, by method and
//                  status code: a count and a latency histogram, recorded
//                  by a server interceptor (InterceptorFactory), so health,
//                  reflection and calls refused before any handler ran are
//                  counted too.
//   ModelAccounts  accounts answered per model version.
//   ReadProcessStats  the standard process_* metrics, from /proc.
//
// Label values are bounded: a method is reported by name only when the
// server's descriptor pool knows it (any other path, e.g. a client probing
// "/x.Y/Z", is method="unknown"), codes are the 17 gRPC codes, and models
// and versions are those of the repository.
//
// Thread-safety: Record, Add and the snapshots may run concurrently from
// any thread.

#ifndef HEALTHSCORE_SERVER_RPC_METRICS_H_
#define HEALTHSCORE_SERVER_RPC_METRICS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_interceptor.h"
#include "grpcpp/support/status.h"
#include "server/histogram.h"

namespace healthscore::server {

class RpcMetrics {
 public:
  // One (method, code) pair's calls.
  struct Entry {
    std::string method;  // "healthscore.v1.ScoringService/Score"
    std::string code;    // "OK", "INVALID_ARGUMENT", ...
    HistogramSnapshot duration;
  };

  // `path` is the call's ":path" ("/pkg.Service/Method"); `elapsed` runs
  // from the call's arrival to its status being sent.
  void Record(absl::string_view path, grpc::StatusCode code,
              absl::Duration elapsed);
  // Sorted by method, then code.
  std::vector<Entry> Snapshot() const;

  // An interceptor factory for ServerBuilder that records every call into
  // `metrics`, which must outlive the server.
  static std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  InterceptorFactory(RpcMetrics* metrics);

  // "pkg.Service/Method" for a method the generated descriptor pool
  // knows, else "unknown".
  static std::string MethodLabel(absl::string_view path);
  // "OK", "CANCELLED", ... ; "UNKNOWN" for a value outside the 17 codes.
  static const char* CodeName(grpc::StatusCode code);

 private:
  mutable absl::Mutex mu_;
  // Histograms never move once created (Record observes outside the lock).
  std::map<std::pair<std::string, int>, std::unique_ptr<LatencyHistogram>>
      calls_ ABSL_GUARDED_BY(mu_);
  // Path -> label, for the methods the pool knows.
  std::map<std::string, std::string, std::less<>> labels_ ABSL_GUARDED_BY(mu_);
};

class ModelAccounts {
 public:
  void Add(const std::string& model, const std::string& version,
           uint64_t accounts);
  // ((model, version), accounts), sorted.
  std::vector<std::pair<std::pair<std::string, std::string>, uint64_t>>
  Snapshot() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> counts_
      ABSL_GUARDED_BY(mu_);
};

// The process_* metrics Prometheus client libraries export, read from
// /proc/self. A field that cannot be read is -1 (and not rendered).
struct ProcessStats {
  double cpu_seconds = -1;           // user + system
  double resident_memory_bytes = -1;
  double virtual_memory_bytes = -1;
  double open_fds = -1;
  double max_fds = -1;               // the soft RLIMIT_NOFILE
  double start_time_seconds = -1;    // Unix seconds
};
ProcessStats ReadProcessStats();

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_RPC_METRICS_H_
