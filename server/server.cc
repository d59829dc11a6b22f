#include "server/server.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "grpc/grpc.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/log.h"

namespace healthscore::server {
namespace {

std::string FormatDurationText(absl::Duration d) {
  return d == absl::ZeroDuration() ? std::string("0s")
                                   : absl::FormatDuration(d);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options) {
  absl::Status valid = options.Validate();
  if (!valid.ok()) return valid;

  // Debian's Abseil checks every Mutex acquisition for lock-order cycles
  // (its debug default), which costs more than the scoring of a small
  // request; the server's locking is simple and tested, so turn it off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // libprotobuf's and gRPC's own messages in our log format.
  RouteLibraryLogs();
  // Both are process-wide switches that must precede the builder.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<Server> server(new Server);
  server->runtime_ = std::make_unique<Runtime>(options);
  std::error_code ec;
  if (std::filesystem::is_directory(options.plugins_dir, ec)) {
    engine::PluginHostOptions plugin_options;
    plugin_options.directories.push_back(options.plugins_dir);
    plugin_options.log = [](std::string_view plugin, int level,
                            std::string_view message) {
      // HS_LOG_DEBUG 0, INFO 1, WARNING 2, ERROR 3 (plugins/sdk).
      Log(level >= 3   ? LogLevel::kError
          : level == 2 ? LogLevel::kWarning
                       : LogLevel::kInfo,
          absl::StrCat("plugin ", std::string(plugin), ": ",
                       std::string(message)));
    };
    absl::StatusOr<std::unique_ptr<engine::PluginHost>> host =
        engine::PluginHost::Create(std::move(plugin_options));
    if (!host.ok()) return host.status();
    server->runtime_->plugins = std::move(host).value();
  } else if (options.plugins_dir_explicit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--plugins: ", options.plugins_dir, " is not a directory"));
  }
  server->scoring_ = std::make_unique<ScoringService>(server->runtime_.get());
  server->models_ = std::make_unique<ModelService>(server->runtime_.get());

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                           &server->port_);
  builder.RegisterService(server->scoring_.get());
  builder.RegisterService(server->models_.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(options.max_message_bytes));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_concurrent_streams);
  // gRPC sets SO_REUSEPORT by default, which lets a second server start on
  // a port already in use and silently share its traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    if (server->server_ != nullptr) server->server_->Shutdown();
    server->server_.reset();
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen,
        " (address in use, not local, or malformed?)"));
  }
  // gRPC's health service starts with "" SERVING; nothing is served before
  // the models load.
  server->SetServing(false);
  if (options.metrics_port >= 0) {
    MetricsServerOptions metrics_options;
    metrics_options.address = options.metrics_address;
    metrics_options.port = options.metrics_port;
    metrics_options.threads = options.metrics_threads;
    metrics_options.request_timeout = options.metrics_request_timeout;
    const Runtime* runtime = server->runtime_.get();
    absl::StatusOr<std::unique_ptr<MetricsServer>> metrics =
        MetricsServer::Start(metrics_options, [runtime] {
          return RenderMetrics(CollectMetrics(*runtime));
        });
    if (!metrics.ok()) {
      server->server_->Shutdown();
      server->server_.reset();
      return metrics.status();
    }
    server->metrics_ = std::move(metrics).value();
  }
  return server;
}

Server::~Server() {
  if (server_ != nullptr) {
    Shutdown(absl::ZeroDuration(), absl::ZeroDuration());
  }
}

std::string Server::address() const {
  const std::string& listen = runtime_->options.listen;
  if (absl::StartsWith(listen, "unix:")) return listen;
  size_t colon = listen.rfind(':');
  std::string host =
      colon == std::string::npos ? listen : listen.substr(0, colon);
  return absl::StrCat(host, ":", port_);
}

int Server::metrics_port() const {
  return metrics_ == nullptr ? 0 : metrics_->port();
}

std::string Server::metrics_address() const {
  return metrics_ == nullptr ? std::string() : metrics_->address();
}

void Server::SetServing(bool serving) {
  if (server_ == nullptr) return;
  grpc::HealthCheckServiceInterface* health =
      server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus("", serving);
  health->SetServingStatus(kScoringServiceName, serving);
  health->SetServingStatus(kModelServiceName, serving);
}

absl::Status Server::LoadModels() {
  const ServerOptions& o = runtime_->options;
  absl::Time start = absl::Now();
  engine::RepositoryOptions repo;
  repo.root = o.models_dir;
  repo.default_model = o.default_model;
  repo.compile.plugins = runtime_->plugins.get();
  repo.warm_up = true;
  absl::Status opened = runtime_->models.Open(std::move(repo));
  if (!opened.ok()) {
    LogError(absl::StrCat("model load failed: ", opened.message()));
    return opened;
  }
  std::shared_ptr<const ModelSet> set = runtime_->models.Current();
  for (const auto& [name, entry] : set->models()) {
    for (const ModelVersion& v : entry.versions) {
      if (v.model != nullptr) {
        LogInfo(absl::StrFormat(
            "loaded model %s version %s (label %s, hash %.12s, %d warnings) "
            "from %s in %.1f ms",
            name, v.version, v.model->version(), v.model->hash(),
            v.model->warnings().warning_count(), v.file,
            absl::ToDoubleMilliseconds(v.load_duration)));
      } else if (!v.error.empty()) {
        LogError(absl::StrFormat("failed to load model %s version %s: %s",
                                 name, v.version, v.error));
      }
    }
  }
  if (set->loaded_count() == 0) {
    absl::Status s = absl::FailedPreconditionError(absl::StrCat(
        "no model under ", o.models_dir, " compiled (", set->failed_count(),
        " failed); nothing to serve"));
    LogError(std::string(s.message()));
    return s;
  }
  absl::StatusOr<ModelRef> def = set->Find("", "");
  if (!def.ok()) {
    LogWarning(absl::StrCat("requests without a model name will fail: ",
                            def.status().message()));
  }
  LogInfo(absl::StrFormat(
      "models ready from %s in %.1f ms: %d versions loaded, %d failed; "
      "default model %s%s",
      o.models_dir, absl::ToDoubleMilliseconds(absl::Now() - start),
      set->loaded_count(), set->failed_count(), set->default_model(),
      def.ok() ? absl::StrCat(" version ", def->version) : " (unavailable)"));
  if (o.watch_interval > absl::ZeroDuration()) {
    absl::Status watching =
        runtime_->models.repository()->StartWatching(o.watch_interval);
    if (!watching.ok()) return watching;
    LogInfo(absl::StrCat("watching ", o.models_dir, " for changes every ",
                         FormatDurationText(o.watch_interval)));
  }
  absl::MutexLock lock(&mu_);
  if (!shutting_down_) SetServing(true);
  return absl::OkStatus();
}

engine::ReloadResult Server::ReloadModels() {
  return runtime_->models.Reload();
}

void Server::Shutdown() {
  Shutdown(runtime_->options.shutdown_wait, runtime_->options.shutdown_grace);
}

void Server::Shutdown(absl::Duration wait, absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) {
      // Another caller is shutting down: wait for it to finish.
      mu_.Await(absl::Condition(&stopped_));
      return;
    }
    shutting_down_ = true;
    SetServing(false);
  }
  absl::Time start = absl::Now();
  ServerStats before = runtime_->Stats();
  LogInfo(absl::StrFormat(
      "shutting down: health NOT_SERVING; still accepting calls for %s, then "
      "refusing new calls; calls in flight get %s to finish (%d requests in "
      "progress)",
      FormatDurationText(wait), FormatDurationText(grace),
      before.requests_in_progress));
  if (wait > absl::ZeroDuration()) absl::SleepFor(wait);
  // gRPC's Shutdown refuses new calls (GOAWAY), waits for the calls in
  // flight until the deadline, then cancels what is left. It also waits for
  // every client connection to close, which an idle client may never do;
  // so once our own calls have finished, the remaining connections (and
  // calls such as health watches) are cut at once rather than at the
  // deadline.
  const absl::Time deadline = absl::Now() + grace;
  std::atomic<bool> entered{false}, stopped{false};
  std::thread stopper([&] {
    entered = true;
    server_->Shutdown(absl::ToChronoTime(deadline));
    stopped = true;
  });
  while (!entered.load()) absl::SleepFor(absl::Microseconds(100));
  while (!stopped.load() && absl::Now() < deadline &&
         runtime_->counters.open_calls.load() > 0) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  if (!stopped.load()) grpc_server_cancel_all_calls(server_->c_server());
  stopper.join();
  server_->Wait();
  ServerStats after = runtime_->Stats();
  LogInfo(absl::StrFormat(
      "shutdown complete in %.1f ms: %d Score calls, %d streams (%d "
      "batches), %d accounts scored, %d accounts failed, %d rejected at "
      "capacity, %d invalid, %d dropped on cancel or deadline",
      absl::ToDoubleMilliseconds(absl::Now() - start), after.requests,
      after.streams, after.stream_batches, after.accounts_scored,
      after.accounts_failed, after.rejected_capacity, after.rejected_invalid,
      after.dropped));
  // Last, so that scrapes see the drain.
  if (metrics_ != nullptr) metrics_->Stop();
  absl::MutexLock lock(&mu_);
  stopped_ = true;
}

}  // namespace healthscore::server
