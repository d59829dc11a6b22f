#include "server/server.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "engine/common/install_layout.h"
#include "grpc/grpc.h"
#include "grpc/support/time.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "grpcpp/server_builder.h"
#include "server/connection_drain.h"
#include "server/decision_log.h"
#include "server/listener.h"
#include "server/log.h"
#include "server/tls.h"

namespace healthscore::server {
namespace {

std::string FormatDurationText(absl::Duration d) {
  return d == absl::ZeroDuration() ? std::string("0s")
                                   : absl::FormatDuration(d);
}

// How long gRPC gets to stop once every connection was closed: its calls
// are all finished or cancelled by then, so it only has to tear down.
constexpr absl::Duration kGrpcStopLimit = absl::Seconds(5);
// How long cancelled validations get to return at shutdown.
constexpr absl::Duration kValidationStopLimit = absl::Seconds(1);
// How far apart two looks that find a connection's send queue empty must
// be before it is closed (connection_drain.h): longer than gRPC's poller
// takes to refill the queue on a busy machine, short enough not to matter
// to a stop.
constexpr absl::Duration kDrainSettle = absl::Milliseconds(20);

// The first load, on the reload thread: opens the repository and logs what
// loaded. Touches only the Runtime, which outlives an abandoned load.
absl::Status LoadRepository(Runtime* runtime, const WorkBudget& budget) {
  const ServerOptions& o = runtime->options;
  absl::Time start = absl::Now();
  engine::repository::RepositoryOptions repo;
  repo.root = o.models_dir;
  repo.default_model = o.default_model;
  repo.compile.plugins = runtime->plugins.get();
  repo.compile.yaml.max_bytes = o.max_model_bytes;
  repo.compile.yaml.max_nodes = o.max_yaml_nodes;
  repo.cancelled = &runtime->loads_cancelled;
  repo.warm_up = true;
  absl::Status opened = runtime->models.Open(std::move(repo));
  if (budget.cancelled.load()) {
    return absl::CancelledError("the model load was cancelled");
  }
  if (!opened.ok()) {
    LogError(absl::StrCat("model load failed: ", opened.message()));
    return opened;
  }
  // The repository logged one line per model version loaded or failed
  // (RepositoryOptions::log).
  std::shared_ptr<const ModelSet> set = runtime->models.Current();
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
    LogInfo(absl::StrCat("watching ", o.models_dir, " for changes every ",
                         FormatDurationText(o.watch_interval)));
  }
  return absl::OkStatus();
}

Reloader::Hooks ReloadHooks(Runtime* runtime) {
  // The engine's repository loads take no budget: a load runs to its end
  // and is abandoned when its time is up (reloader.h).
  Reloader::Hooks hooks;
  hooks.load = [runtime](const WorkBudget& budget) {
    return LoadRepository(runtime, budget);
  };
  hooks.reload = [runtime](const WorkBudget&) {
    // Token files rotate with the models (auth.h); a file that cannot be
    // read keeps the tokens in force, so a botched edit locks nobody out.
    if (absl::Status tokens = runtime->auth.Reload(); !tokens.ok()) {
      LogError(absl::StrCat("token files not reloaded, the previous tokens "
                            "stay in force: ",
                            tokens.message()));
    }
    return runtime->models.Reload();
  };
  hooks.poll = [runtime](const WorkBudget&) {
    if (engine::repository::ModelRepository* repository =
            runtime->models.repository()) {
      repository->PollOnce();
    }
  };
  return hooks;
}

// Leaves one builder exactly one of gRPC's reflection plugins
// (grpc.reflection.v1alpha), or none when reflection is off.
class ReflectionOption : public grpc::ServerBuilderOption {
 public:
  explicit ReflectionOption(bool enabled) : enabled_(enabled) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(
      std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins)
      override {
    const std::string name =
        grpc::reflection::ProtoServerReflectionPlugin().name();
    plugins->erase(
        std::remove_if(plugins->begin(), plugins->end(),
                       [&name](const auto& p) { return p->name() == name; }),
        plugins->end());
    if (enabled_) {
      plugins->push_back(
          std::make_unique<grpc::reflection::ProtoServerReflectionPlugin>());
    }
  }

 private:
  const bool enabled_;
};

absl::StatusOr<std::unique_ptr<MetricsServer>> StartMetrics(
    const ServerOptions& options, const Runtime* runtime) {
  MetricsServerOptions metrics_options;
  metrics_options.address = options.metrics_address;
  metrics_options.port = options.metrics_port;
  metrics_options.threads = options.metrics_threads;
  metrics_options.request_timeout = options.metrics_request_timeout;
  if (options.metrics_tls) {
    absl::StatusOr<std::unique_ptr<MetricsTls>> tls = MetricsTls::Create(
        {options.tls_cert, options.tls_key, options.tls_client_ca,
         options.tls_refresh_interval});
    if (!tls.ok()) return tls.status();
    metrics_options.tls = std::move(tls).value();
    metrics_options.tls_library_dir =
        engine::common::DefaultDataDirs().libraries;
  }
  return MetricsServer::Start(metrics_options, [runtime] {
    return RenderMetrics(CollectMetrics(*runtime));
  });
}

}  // namespace

namespace {

// The decision log's settings among the server's.
DecisionLogOptions DecisionLogOptionsFrom(const ServerOptions& options) {
  DecisionLogOptions d;
  d.path = options.decision_log;
  d.sample = options.decision_log_sample;
  for (absl::string_view name :
       absl::StrSplit(options.decision_log_mask, ',', absl::SkipWhitespace())) {
    d.mask.emplace_back(absl::StripAsciiWhitespace(name));
  }
  d.buffer_bytes = options.decision_log_buffer;
  d.max_bytes = options.decision_log_max_bytes;
  d.max_files = options.decision_log_max_files;
  return d;
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
  // Linking libgrpc++_reflection registers its plugin for every builder
  // already; ReflectionOption below keeps it or takes it out per server.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<Server> server(new Server);
  server->runtime_ = std::make_unique<Runtime>(options);
  std::error_code ec;
  if (std::filesystem::is_directory(options.plugins_dir, ec)) {
    engine::plugin_host::PluginHostOptions plugin_options;
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
    absl::StatusOr<std::unique_ptr<engine::plugin_host::PluginHost>> host =
        engine::plugin_host::PluginHost::Create(std::move(plugin_options));
    if (!host.ok()) return host.status();
    server->runtime_->plugins = std::move(host).value();
  } else if (options.plugins_dir_explicit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--plugins: ", options.plugins_dir, " is not a directory"));
  }
  if (absl::Status tls = CheckTlsFiles(options); !tls.ok()) return tls;
  if (!options.decision_log.empty()) {
    absl::StatusOr<std::unique_ptr<DecisionLog>> log =
        DecisionLog::Open(DecisionLogOptionsFrom(options));
    if (!log.ok()) return log.status();
    const DecisionLogOptions& d = (*log)->options();
    LogInfo(absl::StrCat(
        "decision log to ", d.path == "-" ? "standard output" : d.path,
        ": sample ", d.sample, ", ",
        d.mask.empty() ? std::string("no masked fields")
                       : absl::StrCat("masked ", absl::StrJoin(d.mask, ",")),
        ", buffer ", d.buffer_bytes, " bytes, ",
        d.max_bytes == 0
            ? std::string("no rotation")
            : absl::StrCat("rotation at ", d.max_bytes, " bytes keeping ",
                           d.max_files, " files")));
    server->runtime_->decision_log = std::move(log).value();
  }
  if (absl::Status tokens = server->runtime_->auth.Reload(); !tokens.ok()) {
    return absl::InvalidArgumentError(tokens.message());
  }
  if (!options.tls_cert.empty() && options.metrics_port >= 0 &&
      !options.metrics_tls &&
      !absl::StartsWith(options.metrics_address, "127.")) {
    LogWarning(absl::StrCat(
        "gRPC is served over TLS but metrics in plain HTTP on ",
        options.metrics_address,
        "; set --metrics-tls=true, or keep metrics on loopback"));
  }
  if (!server->runtime_->auth.AdminConfigured()) {
    if (server->runtime_->auth.Required(AuthScope::kAdmin)) {
      LogInfo(
          "admin calls (Reload, ValidateModel) are refused: no admin "
          "credential is configured (--admin-token-file, --admin-allow-san); "
          "models reload on SIGHUP and with --watch-interval");
    } else {
      LogWarning(
          "admin calls (Reload, ValidateModel) need no credential "
          "(--allow-unauthenticated-admin): any client that reaches the port "
          "may make them; set --admin-token-file or --admin-allow-san");
    }
  }
  server->scoring_ = std::make_unique<ScoringService>(server->runtime_.get());
  server->models_ = std::make_unique<ModelService>(server->runtime_.get());

  grpc::ServerBuilder builder;
  // Per server, over gRPC's process-wide plugin registration, so that
  // --reflection=false holds for this server whatever others do.
  builder.SetOption(std::make_unique<ReflectionOption>(options.reflection));
  if (options.reflection) {
    // v1 answers through v1alpha (reflection_v1.h).
    server->reflection_v1_ = std::make_unique<ReflectionV1Service>();
    builder.RegisterService(server->reflection_v1_.get());
  }
  {
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(
        RpcMetrics::InterceptorFactory(&server->runtime_->rpcs));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  const bool tls = !options.tls_cert.empty();
  // The server listens itself (listener.h), so that shutdown can stop
  // taking connections while gRPC still serves. With TLS the socket is only
  // a probe: a bad or busy address gets our message, not gRPC's log line.
  absl::StatusOr<std::unique_ptr<Listener>> listener =
      Listener::Bind(options.listen);
  if (!listener.ok()) {
    return absl::Status(listener.status().code(),
                        absl::StrCat("cannot listen on ", options.listen, ": ",
                                     listener.status().message()));
  }
  if (!tls) {
    server->listener_ = std::move(listener).value();
    server->port_ = server->listener_->port();
  } else {
    listener->reset();
    // gRPC 1.51 adds a connection from a socket with insecure credentials
    // only (grpc_server_add_channel_from_fd), so with TLS gRPC listens
    // itself; shutdown then closes the connections as it does without TLS
    // (server.h). Should the address be taken between the probe and here,
    // gRPC logs why before the error below.
    builder.AddListeningPort(options.listen, ServerCredentialsFor(options),
                             &server->port_);
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  }
  builder.RegisterService(server->scoring_.get());
  builder.RegisterService(server->models_.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(options.max_message_bytes));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_concurrent_streams);
  if (options.max_connection_age > absl::ZeroDuration()) {
    // gRPC's max_age filter sends the GOAWAY on its own connections and on
    // those the Listener hands it alike (they get the server's arguments).
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_MS,
        static_cast<int>(absl::ToInt64Milliseconds(options.max_connection_age)));
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
        static_cast<int>(
            absl::ToInt64Milliseconds(options.max_connection_age_grace)));
  }
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || (tls && server->port_ == 0)) {
    if (tls) {
      // gRPC logged why (the log says, e.g. "Address already in use").
      return absl::UnavailableError(absl::StrCat(
          "cannot listen on ", options.listen,
          " with TLS: gRPC could not bind it (see the log above)"));
    }
    return absl::InternalError("gRPC could not start the server");
  }
  if (server->reflection_v1_ != nullptr) {
    server->reflection_v1_->SetBackend(
        server->server_->InProcessChannel(grpc::ChannelArguments()));
  }
  if (server->listener_ != nullptr) {
    server->listener_->Start(server->server_.get());
  }
  // gRPC's health service starts with "" SERVING; nothing is served before
  // the models load.
  server->SetServing(false);
  if (options.metrics_port >= 0) {
    absl::StatusOr<std::unique_ptr<MetricsServer>> metrics =
        StartMetrics(options, server->runtime_.get());
    if (!metrics.ok()) {
      if (server->listener_ != nullptr) server->listener_->Stop();
      server->server_->Shutdown();
      server->server_.reset();
      return metrics.status();
    }
    server->metrics_ = std::move(metrics).value();
  }
  server->runtime_->reloader.Start(ReloadHooks(server->runtime_.get()),
                                   options.watch_interval);
  return server;
}

Server::~Server() {
  if (server_ != nullptr) {
    Shutdown(absl::ZeroDuration(), absl::ZeroDuration());
  }
  if (abandoned_work()) {
    // Abandoned threads still use these (the file comment of server.h):
    // never free them.
    static_cast<void>(runtime_.release());
    static_cast<void>(scoring_.release());
    static_cast<void>(models_.release());
    static_cast<void>(reflection_v1_.release());
    static_cast<void>(server_.release());
  }
}

bool Server::abandoned_work() const {
  absl::MutexLock lock(&mu_);
  return abandoned_;
}

std::string Server::address() const {
  const std::string& listen = runtime_->options.listen;
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
  struct Outcome {
    absl::Notification done;
    absl::Status status;
  };
  auto outcome = std::make_shared<Outcome>();
  runtime_->reloader.Load([outcome](const absl::Status& status) {
    outcome->status = status;
    outcome->done.Notify();
  });
  outcome->done.WaitForNotification();
  if (!outcome->status.ok()) return outcome->status;
  absl::MutexLock lock(&mu_);
  if (!shutting_down_) SetServing(true);
  return absl::OkStatus();
}

engine::repository::ReloadResult Server::ReloadModels() {
  struct Outcome {
    absl::Notification done;
    engine::repository::ReloadResult result;
  };
  auto outcome = std::make_shared<Outcome>();
  runtime_->reloader.RequestReload(
      [outcome](const engine::repository::ReloadResult& result) {
        outcome->result = result;
        outcome->done.Notify();
      });
  outcome->done.WaitForNotification();
  return outcome->result;
}

bool Server::RequestReload() {
  return runtime_->reloader.RequestReload(nullptr);
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
  const absl::Time start = absl::Now();
  const bool first_load = runtime_->reloader.loading_first();
  ServerStats before = runtime_->Stats();
  LogInfo(absl::StrFormat(
      "shutting down: health NOT_SERVING; still accepting calls for %s, then "
      "refusing new calls; calls in flight get %s to finish (%d requests in "
      "progress)",
      FormatDurationText(wait), FormatDurationText(grace),
      before.requests_in_progress));
  if (wait > absl::ZeroDuration()) absl::SleepFor(wait);
  const absl::Time deadline = absl::Now() + grace;
  runtime_->calls.Close();

  // A load in progress is asked to stop. Nothing serves during the first
  // load, so it is abandoned at once; a reload gets the grace period, as
  // calls do (a Reload call may be waiting for it).
  runtime_->loads_cancelled.store(true);
  const bool loads_stopped =
      runtime_->reloader.Stop(first_load ? absl::Now() : deadline);
  if (!loads_stopped) {
    LogWarning(first_load
                   ? "the first model load is abandoned"
                   : absl::StrCat("the reload in progress did not stop "
                                  "within the grace period of ",
                                  FormatDurationText(grace),
                                  "; abandoned"));
  }
  const int64_t open = runtime_->calls.AwaitIdle(deadline);
  if (open > 0) {
    LogWarning(absl::StrCat(open, " calls still open at the end of the grace "
                                  "period of ",
                            FormatDurationText(grace), " are cancelled"));
  }
  // A validation still running now has answered its call (at its budget),
  // or its call is cancelled below with the others: nobody waits for its
  // answer. Its compilation is cancelled and stops at its next budget
  // check, and one that has just answered is on its way out: they get
  // kValidationStopLimit to return before they count as abandoned (which
  // keeps the server's memory for good), so that a server stopped right
  // after a ValidateModel answered does not abandon work that was done.
  const int validations =
      runtime_->validations.Stop(absl::Now() + kValidationStopLimit);
  if (validations > 0) {
    LogWarning(absl::StrCat(validations, " ValidateModel compilations past "
                                         "their time budget are abandoned"));
  }

  // No new connection, then every connection closed, before gRPC's
  // shutdown begins: see the file comment of server.h. gRPC documents
  // grpc_server_cancel_all_calls for after shutdown; in 1.51 it closes the
  // server's connections at any time.
  if (listener_ != nullptr) listener_->Stop();
  // Every call is done or out of time, but what the calls sent may still
  // be on its way to clients that read slowly: closing their connections
  // now would reset them and lose it (connection_drain.h).
  const DrainResult drain = AwaitConnectionsSent(port_, kDrainSettle, deadline);
  if (drain.still_sending > 0) {
    LogWarning(absl::StrCat(
        drain.still_sending, " of ", drain.connections,
        " connections still held responses their clients had not read at "
        "the end of the grace period of ",
        FormatDurationText(grace), "; closed"));
  }
  grpc_server_cancel_all_calls(server_->c_server());
  grpc_completion_queue* shutdown_cq =
      grpc_completion_queue_create_for_pluck(nullptr);
  grpc_server_shutdown_and_notify(server_->c_server(), shutdown_cq,
                                  shutdown_cq);
  auto stopped = std::make_shared<absl::Notification>();
  grpc::Server* grpc_server = server_.get();
  std::thread stopper([grpc_server, shutdown_cq, stopped] {
    grpc_server->Shutdown(std::chrono::system_clock::now());
    grpc_server->Wait();
    grpc_completion_queue_pluck(shutdown_cq, shutdown_cq,
                                gpr_inf_future(GPR_CLOCK_REALTIME), nullptr);
    grpc_completion_queue_shutdown(shutdown_cq);
    grpc_completion_queue_destroy(shutdown_cq);
    stopped->Notify();
  });
  const bool grpc_stopped =
      stopped->WaitForNotificationWithTimeout(kGrpcStopLimit);
  if (grpc_stopped) {
    stopper.join();
  } else {
    stopper.detach();
    LogWarning(absl::StrCat("gRPC did not stop within ",
                            FormatDurationText(kGrpcStopLimit),
                            " of closing its connections (a call that "
                            "never finishes?); abandoned"));
  }
  const bool abandoned = !loads_stopped || validations > 0 || !grpc_stopped;
  ServerStats after = runtime_->Stats();
  LogInfo(absl::StrFormat(
      "shutdown complete in %.1f ms: %d Score calls, %d streams (%d "
      "batches), %d accounts scored, %d accounts failed, %d rejected at "
      "capacity, %d invalid, %d dropped on cancel or deadline, %d calls "
      "refused while shutting down%s",
      absl::ToDoubleMilliseconds(absl::Now() - start), after.requests,
      after.streams, after.stream_batches, after.accounts_scored,
      after.accounts_failed, after.rejected_capacity, after.rejected_invalid,
      after.dropped, after.refused_shutting_down,
      abandoned ? "; work still running was abandoned" : ""));
  // Last, so that scrapes see the drain.
  if (metrics_ != nullptr) metrics_->Stop();
  absl::MutexLock lock(&mu_);
  abandoned_ = abandoned;
  stopped_ = true;
}

}  // namespace healthscore::server
