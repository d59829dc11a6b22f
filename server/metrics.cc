// The Prometheus text exposition format, version 0.0.4, as written here:
//
//   exposition := family*
//   family     := "# HELP " name " " help "\n"
//                 "# TYPE " name " " ("counter" | "gauge" | "histogram") "\n"
//                 sample*
//   sample     := name labels? " " value "\n"
//   labels     := "{" label ("," label)* "}"
//   label      := label_name "=\"" escaped_value "\""
//
// Help text escapes '\' and newline as \\ and \n; label values also escape
// '"' as \". Values are integers, or doubles in their shortest round-trip
// form (without an exponent between 1e-6 and 1e15), with NaN, +Inf and -Inf
// spelled so. A histogram `h` has cumulative samples h_bucket{le="..."}
// ending with le="+Inf", then h_sum and h_count (the +Inf bucket's value).
// Every sample of a family follows its TYPE line with no other family in
// between.

#include "server/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/types/span.h"
#include "civetweb.h"
#include "server/log.h"

#ifndef HEALTHSCORE_VERSION
#define HEALTHSCORE_VERSION "dev"
#endif

namespace healthscore::server {
namespace {

using Label = std::pair<absl::string_view, absl::string_view>;
// A braced list of labels, or a vector of them.
using Labels = absl::Span<const Label>;

std::string Escape(absl::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Plain decimals for the range metrics live in (seconds, counts, Unix
  // times: 0.00025, 1795468089.123456), exponents only outside it.
  const double magnitude = std::fabs(v);
  const std::chars_format format =
      v == 0 || (magnitude >= 1e-6 && magnitude < 1e15)
          ? std::chars_format::fixed
          : std::chars_format::general;
  char buffer[64];
  std::to_chars_result r =
      std::to_chars(buffer, buffer + sizeof(buffer), v, format);
  return std::string(buffer, r.ptr);
}

std::string Seconds(uint64_t micros) {
  return Number(static_cast<double>(micros) / 1e6);
}

// Unix seconds; 0 for a time that never happened (InfinitePast).
std::string UnixSeconds(absl::Time t) {
  if (t == absl::InfinitePast()) return "0";
  return Number(static_cast<double>(absl::ToUnixMicros(t)) / 1e6);
}

class Writer {
 public:
  void Family(absl::string_view name, absl::string_view type,
              absl::string_view help) {
    absl::StrAppend(&out_, "# HELP ", name, " ", Escape(help, false), "\n",
                    "# TYPE ", name, " ", type, "\n");
  }

  void Sample(absl::string_view name, Labels labels, absl::string_view value) {
    absl::StrAppend(&out_, name);
    if (labels.size() > 0) {
      const char* sep = "{";
      for (const auto& [label, text] : labels) {
        absl::StrAppend(&out_, sep, label, "=\"", Escape(text, true), "\"");
        sep = ",";
      }
      out_ += '}';
    }
    absl::StrAppend(&out_, " ", value, "\n");
  }

  // A family of one sample without labels.
  void Single(absl::string_view name, absl::string_view type,
              absl::string_view help, absl::string_view value) {
    Family(name, type, help);
    Sample(name, {}, value);
  }

  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// One histogram's samples (buckets, sum, count), with `labels` before
// `le`.
void HistogramSamples(absl::string_view name, Labels labels,
                      const HistogramSnapshot& h, Writer* w) {
  const std::string bucket = absl::StrCat(name, "_bucket");
  std::vector<Label> with_le(labels.begin(), labels.end());
  with_le.emplace_back("le", "");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    cumulative += h.counts[i];
    const std::string le =
        i < h.bounds_micros.size()
            ? Seconds(static_cast<uint64_t>(h.bounds_micros[i]))
            : "+Inf";
    with_le.back().second = le;
    w->Sample(bucket, with_le, absl::StrCat(cumulative));
  }
  w->Sample(absl::StrCat(name, "_sum"), labels, Seconds(h.sum_micros));
  w->Sample(absl::StrCat(name, "_count"), labels, absl::StrCat(cumulative));
}

void RenderServer(const MetricsSnapshot& s, Writer* w) {
  const ServerStats& st = s.server;
  w->Family("healthscore_build_info", "gauge",
            "Always 1; the version label is the server's version.");
  w->Sample("healthscore_build_info", {{"version", s.build_version}}, "1");
  w->Single("healthscore_start_time_seconds", "gauge",
            "When the server started, in Unix seconds.",
            UnixSeconds(s.started));
  w->Single("healthscore_requests_total", "counter", "Score calls admitted.",
            absl::StrCat(st.requests));
  w->Single("healthscore_streams_total", "counter", "ScoreStream calls opened.",
            absl::StrCat(st.streams));
  w->Single("healthscore_stream_batches_total", "counter",
            "ScoreStream batches admitted.", absl::StrCat(st.stream_batches));
  w->Single("healthscore_accounts_scored_total", "counter",
            "Accounts that got a result.", absl::StrCat(st.accounts_scored));
  w->Single("healthscore_accounts_failed_total", "counter",
            "Accounts answered with a per-account error.",
            absl::StrCat(st.accounts_failed));
  w->Single("healthscore_values_dropped_total", "counter",
            "Values used as missing because they did not fit their input "
            "(each a warning on its account).",
            absl::StrCat(st.values_dropped));
  w->Family("healthscore_rejected_total", "counter",
            "Calls and stream batches refused before admission: "
            "reason=capacity for RESOURCE_EXHAUSTED by the admission "
            "limits, reason=invalid for every other request-level error.");
  w->Sample("healthscore_rejected_total", {{"reason", "capacity"}},
            absl::StrCat(st.rejected_capacity));
  w->Sample("healthscore_rejected_total", {{"reason", "invalid"}},
            absl::StrCat(st.rejected_invalid));
  w->Family("healthscore_auth_failures_total", "counter",
            "Calls refused for their credential (docs/operations.md, "
            "Security): scope=admin (Reload, ValidateModel) or scoring, "
            "code=UNAUTHENTICATED (none presented) or PERMISSION_DENIED "
            "(not accepted).");
  for (const auto& [scope, f] :
       {std::pair<const char*, Authorizer::Failures>{"admin", st.auth_admin},
        {"scoring", st.auth_scoring}}) {
    w->Sample("healthscore_auth_failures_total",
              {{"scope", scope}, {"code", "UNAUTHENTICATED"}},
              absl::StrCat(f.unauthenticated));
    w->Sample("healthscore_auth_failures_total",
              {{"scope", scope}, {"code", "PERMISSION_DENIED"}},
              absl::StrCat(f.permission_denied));
  }
  w->Single("healthscore_cancelled_total", "counter",
            "Score and ScoreStream calls cancelled (by the client, a passed "
            "deadline or shutdown).",
            absl::StrCat(st.cancelled));
  w->Single("healthscore_dropped_total", "counter",
            "Admitted requests or stream batches whose work was dropped "
            "because the call was cancelled or its deadline passed.",
            absl::StrCat(st.dropped));
  w->Single("healthscore_refused_shutting_down_total", "counter",
            "Calls answered UNAVAILABLE because the server was shutting "
            "down.",
            absl::StrCat(st.refused_shutting_down));
  w->Single("healthscore_validations_running", "gauge",
            "ValidateModel compilations running, those past their time "
            "budget included.",
            absl::StrCat(st.validations_running));
  w->Single("healthscore_validations_timed_out_total", "counter",
            "ValidateModel calls answered DEADLINE_EXCEEDED at their time "
            "budget (validation_timeout).",
            absl::StrCat(st.validations_timed_out));
  w->Single("healthscore_requests_in_progress", "gauge",
            "Requests and stream batches admitted and not finished.",
            absl::StrCat(st.requests_in_progress));
  w->Single("healthscore_accounts_in_progress", "gauge",
            "Accounts admitted and not finished.",
            absl::StrCat(st.accounts_in_progress));
  w->Single("healthscore_request_bytes_in_progress", "gauge",
            "Serialised request bytes admitted and not finished.",
            absl::StrCat(st.request_bytes_in_progress));
  w->Single("healthscore_open_calls", "gauge",
            "Score, ScoreStream and ValidateModel calls not finished.",
            absl::StrCat(st.open_calls));

  const HistogramSnapshot& h = s.request_duration;
  constexpr absl::string_view kDuration =
      "healthscore_request_duration_seconds";
  w->Family(kDuration, "histogram",
            "Time from a Score call's or ScoreStream batch's arrival to its "
            "response, in seconds.");
  HistogramSamples(kDuration, {}, h, w);
}

void RenderRepository(const MetricsSnapshot& s, Writer* w) {
  const engine::repository::RepositoryStats& r = s.repository;
  w->Single("healthscore_reloads_total", "counter",
            "Loads of the model repository, the first one included.",
            absl::StrCat(r.reloads));
  w->Single("healthscore_reload_failures_total", "counter",
            "Loads of the model repository that found any problem (what "
            "served before keeps serving).",
            absl::StrCat(r.reload_failures));
  w->Single("healthscore_model_versions_loaded_total", "counter",
            "Model version loads (compile and tests) that succeeded.",
            absl::StrCat(r.versions_loaded));
  w->Single("healthscore_model_versions_failed_total", "counter",
            "Model version (and model config) loads that failed.",
            absl::StrCat(r.versions_failed));
  w->Single("healthscore_models_generation", "gauge",
            "Generation of the model snapshot serving; grows by one per "
            "published snapshot.",
            absl::StrCat(r.generation));
  w->Single("healthscore_last_reload_timestamp_seconds", "gauge",
            "When the repository last loaded, in Unix seconds (0: never).",
            UnixSeconds(r.last_reload));
  w->Single("healthscore_last_successful_reload_timestamp_seconds", "gauge",
            "When the repository last loaded without any problem, in Unix "
            "seconds (0: never).",
            UnixSeconds(r.last_success));

  w->Family("healthscore_model_info", "gauge",
            "Always 1, one per model version serving: version is the "
            "repository version, label the version written in the file, "
            "hash the content hash.");
  for (const MetricsSnapshot::ServingVersion& v : s.serving) {
    w->Sample("healthscore_model_info",
              {{"model", v.model},
               {"version", v.version},
               {"hash", v.hash},
               {"label", v.label}},
              "1");
  }
  w->Family("healthscore_model_serving_versions", "gauge",
            "Versions of the model serving requests.");
  for (const MetricsSnapshot::ModelHealth& m : s.models) {
    w->Sample("healthscore_model_serving_versions", {{"model", m.model}},
              absl::StrCat(m.serving_versions));
  }
  w->Family("healthscore_model_failed_versions", "gauge",
            "Versions of the model whose files failed to load at the last "
            "reload (such a version may still serve its previous content).");
  for (const MetricsSnapshot::ModelHealth& m : s.models) {
    w->Sample("healthscore_model_failed_versions", {{"model", m.model}},
              absl::StrCat(m.failed_versions));
  }
}

void RenderPlugins(const MetricsSnapshot& s, Writer* w) {
  w->Family("healthscore_plugin_info", "gauge",
            "Always 1, one per plugin library loaded since start.");
  for (const engine::plugin_host::PluginStats& p : s.plugins) {
    w->Sample("healthscore_plugin_info",
              {{"plugin", p.name},
               {"path", p.path},
               {"version", p.version},
               {"sha256", p.sha256}},
              "1");
  }
  w->Family("healthscore_plugin_loaded", "gauge",
            "1 while a model holds the plugin library, else 0.");
  for (const engine::plugin_host::PluginStats& p : s.plugins) {
    w->Sample("healthscore_plugin_loaded",
              {{"plugin", p.name}, {"path", p.path}}, p.loaded ? "1" : "0");
  }
  w->Family("healthscore_plugin_calls_total", "counter",
            "Batch evaluation calls into the plugin.");
  for (const engine::plugin_host::PluginStats& p : s.plugins) {
    w->Sample("healthscore_plugin_calls_total",
              {{"plugin", p.name}, {"path", p.path}}, absl::StrCat(p.calls));
  }
  w->Family("healthscore_plugin_errors_total", "counter",
            "Plugin errors: kind=failed_call for a call that returned an "
            "error, row_error for a row the plugin marked failed (or left "
            "invalid), nonfinite_row for a row returned OK with NaN or "
            "infinity.");
  for (const engine::plugin_host::PluginStats& p : s.plugins) {
    const std::pair<absl::string_view, uint64_t> kinds[] = {
        {"failed_call", p.failed_calls},
        {"row_error", p.row_errors},
        {"nonfinite_row", p.nonfinite_rows}};
    for (const auto& [kind, n] : kinds) {
      w->Sample("healthscore_plugin_errors_total",
                {{"plugin", p.name}, {"path", p.path}, {"kind", kind}},
                absl::StrCat(n));
    }
  }
  w->Family("healthscore_plugin_failed_rows_total", "counter",
            "Rows of the plugin's failed calls (each row got an error).");
  for (const engine::plugin_host::PluginStats& p : s.plugins) {
    w->Sample("healthscore_plugin_failed_rows_total",
              {{"plugin", p.name}, {"path", p.path}},
              absl::StrCat(p.failed_rows));
  }
}

void RenderCalls(const MetricsSnapshot& s, Writer* w) {
  w->Family("healthscore_grpc_requests_total", "counter",
            "gRPC calls answered, by method (pkg.Service/Method, or "
            "unknown for a method the server does not have) and status "
            "code.");
  for (const RpcMetrics::Entry& e : s.rpcs) {
    w->Sample("healthscore_grpc_requests_total",
              {{"method", e.method}, {"code", e.code}},
              absl::StrCat(e.duration.count()));
  }
  constexpr absl::string_view kCallDuration =
      "healthscore_grpc_request_duration_seconds";
  w->Family(kCallDuration, "histogram",
            "Time from a gRPC call's arrival to its status, in seconds, by "
            "method and status code (a stream: its whole life).");
  for (const RpcMetrics::Entry& e : s.rpcs) {
    HistogramSamples(kCallDuration, {{"method", e.method}, {"code", e.code}},
                     e.duration, w);
  }
  w->Family("healthscore_model_accounts_total", "counter",
            "Accounts each model version answered (scored or failed), "
            "routed ones counted for the model they were routed to.");
  for (const auto& [key, n] : s.model_accounts) {
    w->Sample("healthscore_model_accounts_total",
              {{"model", key.first}, {"version", key.second}},
              absl::StrCat(n));
  }
}

void RenderProcess(const MetricsSnapshot& s, Writer* w) {
  const ProcessStats& p = s.process;
  const struct {
    const char* name;
    const char* type;
    const char* help;
    double value;
  } metrics[] = {
      {"process_cpu_seconds_total", "counter",
       "Total user and system CPU time spent in seconds.", p.cpu_seconds},
      {"process_resident_memory_bytes", "gauge",
       "Resident memory size in bytes.", p.resident_memory_bytes},
      {"process_virtual_memory_bytes", "gauge",
       "Virtual memory size in bytes.", p.virtual_memory_bytes},
      {"process_open_fds", "gauge", "Number of open file descriptors.",
       p.open_fds},
      {"process_max_fds", "gauge",
       "Maximum number of open file descriptors.", p.max_fds},
      {"process_start_time_seconds", "gauge",
       "Start time of the process since unix epoch in seconds.",
       p.start_time_seconds},
  };
  for (const auto& m : metrics) {
    if (m.value < 0) continue;  // not readable here
    w->Single(m.name, m.type, m.help, Number(m.value));
  }
}

bool IsIpv4Literal(const std::string& address) {
  in_addr buffer;
  return ::inet_pton(AF_INET, address.c_str(), &buffer) == 1;
}

// `allow`, when not null, is the Allow header of a 405. With `head`, the
// headers only (Content-Length still that of `body`).
void SendText(mg_connection* conn, int status, const char* content_type,
              const std::string& body, const char* allow = nullptr,
              bool head = false) {
  mg_response_header_start(conn, status);
  mg_response_header_add(conn, "Content-Type", content_type, -1);
  const std::string length = absl::StrCat(body.size());
  mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
  mg_response_header_add(conn, "Cache-Control", "no-store", -1);
  if (allow != nullptr) mg_response_header_add(conn, "Allow", allow, -1);
  mg_response_header_send(conn);
  if (!head) mg_write(conn, body.data(), body.size());
}

// Opens a TCP connection to host:port and closes it; errors are ignored.
void Connect(const std::string& host, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return;
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1) {
    ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  }
  ::close(fd);
}

// While mg_start2 runs on this thread, civetweb's messages are kept here
// instead of logged: a failed start is reported as one error of ours that
// carries civetweb's reason, not as civetweb's lines before it.
thread_local std::vector<std::string>* start_messages = nullptr;

int LogCivetweb(const mg_connection*, const char* message) {
  if (start_messages != nullptr) {
    if (start_messages->size() < 16) start_messages->push_back(message);
    return 1;
  }
  // Rate-limited: every plain-HTTP probe of an HTTPS port is one message.
  LogEvery(LogLevel::kWarning, "metrics-civetweb",
           absl::StrCat("metrics endpoint: ", message));
  return 1;  // handled: civetweb prints nothing itself
}

}  // namespace

MetricsSnapshot CollectMetrics(const Runtime& runtime) {
  MetricsSnapshot s;
  s.build_version = HEALTHSCORE_VERSION;
  s.started = runtime.started;
  s.server = runtime.Stats();
  s.request_duration = runtime.latency.Snapshot();
  if (const engine::repository::ModelRepository* repository =
          runtime.models.repository()) {
    s.repository = repository->stats();
  }
  if (std::shared_ptr<const ModelSet> set = runtime.models.Current()) {
    for (const auto& [name, entry] : set->models()) {
      MetricsSnapshot::ModelHealth health;
      health.model = name;
      for (const ModelVersion& v : entry.versions) {
        if (!v.error.empty()) ++health.failed_versions;
        if (v.model == nullptr) continue;
        ++health.serving_versions;
        s.serving.push_back(
            {name, v.version, v.model->hash(), v.model->version()});
      }
      s.models.push_back(std::move(health));
    }
  }
  if (runtime.plugins != nullptr) s.plugins = runtime.plugins->Stats();
  s.rpcs = runtime.rpcs.Snapshot();
  s.model_accounts = runtime.model_accounts.Snapshot();
  s.process = ReadProcessStats();
  if (runtime.decision_log != nullptr) {
    s.decision_log = runtime.decision_log->stats();
  }
  return s;
}

namespace {

void RenderDecisionLog(const DecisionLogStats& d, Writer* w) {
  w->Single("healthscore_decision_log_written_total", "counter",
            "Decision records written to the decision log.",
            absl::StrCat(d.written));
  w->Family("healthscore_decision_log_dropped_total", "counter",
            "Decision records lost: reason=buffer_full when the buffer "
            "(decision_log_buffer) was full, which never slows scoring; "
            "reason=write_error when a write failed.");
  w->Sample("healthscore_decision_log_dropped_total",
            {{"reason", "buffer_full"}}, absl::StrCat(d.dropped_buffer_full));
  w->Sample("healthscore_decision_log_dropped_total",
            {{"reason", "write_error"}}, absl::StrCat(d.dropped_write_error));
  w->Single("healthscore_decision_log_write_errors_total", "counter",
            "Failed writes or reopenings of the decision log file.",
            absl::StrCat(d.write_errors));
  w->Single("healthscore_decision_log_rotations_total", "counter",
            "Decision log files rotated at decision_log_max_bytes.",
            absl::StrCat(d.rotations));
  w->Single("healthscore_decision_log_buffered_bytes", "gauge",
            "Decision records formatted and not yet written, in bytes.",
            absl::StrCat(d.queued_bytes));
}

}  // namespace

std::string RenderMetrics(const MetricsSnapshot& snapshot) {
  Writer w;
  RenderServer(snapshot, &w);
  if (snapshot.decision_log.has_value()) {
    RenderDecisionLog(*snapshot.decision_log, &w);
  }
  RenderRepository(snapshot, &w);
  RenderPlugins(snapshot, &w);
  RenderCalls(snapshot, &w);
  RenderProcess(snapshot, &w);
  return w.Take();
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const MetricsServerOptions& options, Render render) {
  if (!IsIpv4Literal(options.address)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics address must be an IPv4 address such as 127.0.0.1, got '",
        options.address, "'"));
  }
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics port must be between 0 and 65535, got ", options.port));
  }
  if (options.threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics threads must be at least 1, got ", options.threads));
  }
  const int64_t timeout_ms = absl::ToInt64Milliseconds(options.request_timeout);
  if (timeout_ms < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics request timeout must be at least 1ms, got ",
                     absl::FormatDuration(options.request_timeout)));
  }
  static std::once_flag init;
  std::call_once(init, [] { mg_init_library(0); });

  if (options.tls != nullptr) {
    if (absl::Status s = LoadCivetwebOpenSsl(options.tls_library_dir);
        !s.ok()) {
      return s;
    }
  }
  std::unique_ptr<MetricsServer> server(
      new MetricsServer(options.address, std::move(render)));
  server->tls_ = options.tls;
  const std::string listen = absl::StrCat(options.address, ":", options.port);
  // civetweb marks a TLS port with a trailing "s".
  const std::string ports =
      options.tls != nullptr ? absl::StrCat(listen, "s") : listen;
  const std::string threads = absl::StrCat(options.threads);
  const std::string timeout = absl::StrCat(timeout_ms);
  // No document_root: civetweb serves no files, only the handler below.
  // civetweb 1.15 queues accepted connections (connection_queue, 20) for
  // the threads; sizing is in MetricsServerOptions.
  // clang-format off
  const char* config[] = {"listening_ports", ports.c_str(),
                          "num_threads", threads.c_str(),
                          "request_timeout_ms", timeout.c_str(),
                          "enable_keep_alive", "no",
                          nullptr};
  // clang-format on
  mg_callbacks callbacks = {};
  callbacks.log_message = LogCivetweb;
  if (options.tls != nullptr) callbacks.init_ssl = &MetricsServer::InitTls;
  mg_init_data init_data = {&callbacks, server.get(), config};
  char error_text[256] = "";
  unsigned error_code = 0;
  mg_error_data error = {&error_code, error_text, sizeof(error_text)};
  std::vector<std::string> messages;
  start_messages = &messages;
  mg_context* context = mg_start2(&init_data, &error);
  start_messages = nullptr;
  if (context == nullptr) {
    // civetweb's first message says why ("cannot bind to ...: 98 (Address
    // already in use)"); error_text only that it failed.
    return absl::UnavailableError(absl::StrCat(
        "cannot serve metrics on ", listen, ": ",
        messages.empty() ? std::string(error_text) : messages.front(),
        messages.empty() ? " (address in use or not local?)" : ""));
  }
  for (const std::string& m : messages) {
    LogWarning(absl::StrCat("metrics endpoint: ", m));
  }
  // "/" is a prefix of every path; Handle answers 404 for the others.
  mg_set_request_handler(context, "/", &MetricsServer::Handle, server.get());
  mg_server_port port = {};
  if (mg_get_server_ports(context, 1, &port) != 1 || port.port <= 0) {
    mg_stop(context);
    return absl::InternalError(
        absl::StrCat("metrics endpoint on ", listen, " reports no port"));
  }
  server->port_ = port.port;
  absl::MutexLock lock(&server->mu_);
  server->context_ = context;
  return server;
}

MetricsServer::~MetricsServer() { Stop(); }

int MetricsServer::InitTls(void* ssl_ctx, void* self) {
  return static_cast<MetricsServer*>(self)->tls_->Configure(ssl_ctx);
}

void MetricsServer::Stop() {
  absl::MutexLock lock(&mu_);
  if (context_ == nullptr) return;
  // civetweb's listener thread looks at its stop flag only when its poll
  // returns, which without traffic takes two seconds; connections wake it.
  // One that is accepted before the flag is set is served as an empty
  // request and closed at once.
  std::atomic<bool> stopped{false};
  std::thread waker([this, &stopped] {
    while (!stopped.load()) {
      Connect(host_ == "0.0.0.0" ? "127.0.0.1" : host_, port_);
      absl::SleepFor(absl::Milliseconds(5));
    }
  });
  mg_stop(context_);
  stopped = true;
  waker.join();
  context_ = nullptr;
}

std::string MetricsServer::address() const {
  return absl::StrCat(host_, ":", port_);
}

int MetricsServer::Handle(mg_connection* conn, void* self) {
  const mg_request_info* info = mg_get_request_info(conn);
  const absl::string_view path =
      info->local_uri != nullptr ? info->local_uri : "";
  const absl::string_view method =
      info->request_method != nullptr ? info->request_method : "";
  if (path != "/metrics") {
    SendText(conn, 404, "text/plain; charset=utf-8",
             "not found: this endpoint serves /metrics only\n");
    return 404;
  }
  const bool head = method == "HEAD";
  if (method != "GET" && !head) {
    SendText(conn, 405, "text/plain; charset=utf-8",
             "method not allowed: use GET or HEAD\n", "GET, HEAD");
    return 405;
  }
  // Nothing may throw into civetweb's C code.
  std::string body, error;
  try {
    body = static_cast<MetricsServer*>(self)->render_();
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception";
  }
  if (!error.empty()) {
    LogError(absl::StrCat("metrics endpoint: rendering failed: ", error));
    SendText(conn, 500, "text/plain; charset=utf-8",
             "internal error rendering the metrics\n");
    return 500;
  }
  SendText(conn, 200, kMetricsContentType, body, nullptr, head);
  return 200;
}

}  // namespace healthscore::server
