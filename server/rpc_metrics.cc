#include "server/rpc_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"

namespace healthscore::server {
namespace {

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(grpc::experimental::ServerRpcInfo* info,
                     RpcMetrics* metrics)
      : path_(info->method() != nullptr ? info->method() : ""),
        metrics_(metrics),
        arrived_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods)
      override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_->Record(path_, methods->GetSendStatus().error_code(),
                       absl::Now() - arrived_);
    }
    methods->Proceed();
  }

 private:
  const std::string path_;
  RpcMetrics* const metrics_;
  const absl::Time arrived_;
};

class MetricsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(RpcMetrics* metrics)
      : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(info, metrics_);
  }

 private:
  RpcMetrics* const metrics_;
};

std::string ReadAll(const char* path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string RpcMetrics::MethodLabel(absl::string_view path) {
  // "/pkg.Service/Method"
  if (path.size() < 4 || path[0] != '/' || path.size() > 256) {
    return "unknown";
  }
  const absl::string_view rest = path.substr(1);
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos || slash == 0 ||
      slash + 1 == rest.size()) {
    return "unknown";
  }
  const std::string full = absl::StrCat(rest.substr(0, slash), ".",
                                        rest.substr(slash + 1));
  if (google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          full) == nullptr) {
    return "unknown";
  }
  return std::string(rest);
}

const char* RpcMetrics::CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK",           "CANCELLED",          "UNKNOWN",
      "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED",    "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",          "UNAVAILABLE",
      "DATA_LOSS",    "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  if (i < 0 || i >= static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))) {
    return "UNKNOWN";
  }
  return kNames[i];
}

void RpcMetrics::Record(absl::string_view path, grpc::StatusCode code,
                        absl::Duration elapsed) {
  // The descriptor pool is looked up once per method the server has (its
  // lookups take a process-wide lock); unknown paths are not remembered, so
  // the cache stays as small as the API.
  std::string method;
  {
    absl::MutexLock lock(&mu_);
    auto it = labels_.find(path);
    if (it != labels_.end()) method = it->second;
  }
  if (method.empty()) {
    method = MethodLabel(path);
    if (method != "unknown") {
      absl::MutexLock lock(&mu_);
      labels_.emplace(std::string(path), method);
    }
  }
  int c = static_cast<int>(code);
  if (c < 0 || c > static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)) {
    c = static_cast<int>(grpc::StatusCode::UNKNOWN);
  }
  LatencyHistogram* histogram;
  {
    absl::MutexLock lock(&mu_);
    std::unique_ptr<LatencyHistogram>& h = calls_[{std::move(method), c}];
    if (h == nullptr) h = std::make_unique<LatencyHistogram>();
    histogram = h.get();
  }
  histogram->Observe(elapsed);
}

std::vector<RpcMetrics::Entry> RpcMetrics::Snapshot() const {
  std::vector<Entry> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [key, histogram] : calls_) {
    out.push_back(Entry{key.first,
                        CodeName(static_cast<grpc::StatusCode>(key.second)),
                        histogram->Snapshot()});
  }
  return out;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
RpcMetrics::InterceptorFactory(RpcMetrics* metrics) {
  return std::make_unique<MetricsInterceptorFactory>(metrics);
}

void ModelAccounts::Add(const std::string& model, const std::string& version,
                        uint64_t accounts) {
  absl::MutexLock lock(&mu_);
  counts_[{model, version}] += accounts;
}

std::vector<std::pair<std::pair<std::string, std::string>, uint64_t>>
ModelAccounts::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return {counts_.begin(), counts_.end()};
}

ProcessStats ReadProcessStats() {
  ProcessStats p;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  // /proc/self/stat: "pid (comm) state ..." where comm may hold spaces and
  // parentheses; the fields after the last ')' start at field 3.
  const std::string stat = ReadAll("/proc/self/stat");
  const size_t close = stat.rfind(')');
  if (close != std::string::npos && ticks > 0) {
    std::vector<absl::string_view> f = absl::StrSplit(
        absl::string_view(stat).substr(close + 1), ' ', absl::SkipEmpty());
    // f[0] is field 3 (state): utime is field 14, stime 15, starttime 22,
    // vsize 23, rss 24 (pages).
    double utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
    if (f.size() > 21 && absl::SimpleAtod(f[11], &utime) &&
        absl::SimpleAtod(f[12], &stime) && absl::SimpleAtod(f[19], &start) &&
        absl::SimpleAtod(f[20], &vsize) && absl::SimpleAtod(f[21], &rss)) {
      p.cpu_seconds = (utime + stime) / ticks;
      p.virtual_memory_bytes = vsize;
      p.resident_memory_bytes = rss * page;
      // starttime counts ticks since boot; /proc/stat's btime is the boot.
      std::istringstream system(ReadAll("/proc/stat"));
      std::string line;
      while (std::getline(system, line)) {
        double btime = 0;
        if (absl::StartsWith(line, "btime ") &&
            absl::SimpleAtod(absl::string_view(line).substr(6), &btime)) {
          p.start_time_seconds = btime + start / ticks;
          break;
        }
      }
    }
  }
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    int n = 0;
    while (const dirent* e = ::readdir(dir)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(dir);
    p.open_fds = n - 1;  // not the one opendir holds
  }
  rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur != RLIM_INFINITY) {
    p.max_fds = static_cast<double>(limit.rlim_cur);
  }
  return p;
}

}  // namespace healthscore::server
