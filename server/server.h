// Server: the Healthscore gRPC server.
//
// Serves healthscore.v1.ScoringService and healthscore.v1.ModelService,
// grpc.health.v1.Health (gRPC's built-in implementation) and, unless
// options.reflection is off, server reflection (grpc.reflection.v1alpha
// from gRPC's plugin, grpc.reflection.v1 through it, reflection_v1.h) on
// one listening address; with options.metrics_port >= 0,
// also Prometheus metrics over HTTP on a second one (metrics.h).
//
// Lifecycle:
//   auto server = Server::Start(options);   // listening, NOT_SERVING
//   server->LoadModels();                   // models published, SERVING
//   ...
//   server->Shutdown();                     // NOT_SERVING, drain, stop
//
// Until models are loaded, scoring and model calls fail with UNAVAILABLE
// and health reports NOT_SERVING for "" and both services. Models load and
// reload on one reload thread (reloader.h); ValidateModel runs on threads
// of its own (validation_lane.h).
//
// Shutdown, in order:
//   1. health turns NOT_SERVING; calls are still accepted for
//      options.shutdown_wait (for load balancers to notice);
//   2. the server stops accepting calls: every new call is answered
//      UNAVAILABLE by the server itself (CallGate); a load or reload in
//      progress is cancelled (the first load is abandoned at once: nothing
//      serves yet), queued reloads are dropped;
//   3. the calls accepted before that get until options.shutdown_grace
//      ends to finish, and a reload in progress as long;
//   4. a validation still compiling past its budget is abandoned; the
//      listener stops (new connections are refused); each connection gets
//      the rest of the grace period to deliver what its calls sent
//      (connection_drain.h: a call is done before its last bytes have
//      reached a client that reads slowly, and closing the connection
//      then would lose them); every open connection is closed, which
//      cancels what is left (clients see UNAVAILABLE), and gRPC stops
//      (within 5 s, or it is abandoned too); then the scoring threads.
// Step 4 stops connections before gRPC's own shutdown begins because gRPC
// 1.51 answers calls that reach it after its shutdown began with CANCELLED
// (grpc/grpc#41785): a client could not tell that from its own
// cancellation, and would not retry it. That is why the server listens
// itself (listener.h): with no connection left and none accepted, no call
// can reach gRPC once its shutdown began. A client sees its calls refused
// with UNAVAILABLE or, when the connection closes under them or cannot be
// made, UNAVAILABLE.
//
// With TLS (options.tls_cert, tls.h) gRPC listens itself instead: gRPC
// 1.51 adds a connection from a socket with insecure credentials only. Step
// 4 then closes every connection just before gRPC's shutdown begins, which
// also stops gRPC's listener; a client that reconnects in between may see
// CANCELLED.
//
// Every call is authorised (auth.h) after the CallGate and before any work:
// admin calls with options.admin_token_file / admin_allow_san, scoring
// calls with options.auth_token_file. The token files are re-read on every
// reload.
//
// Work that does not end when asked (a reload or validation stuck where
// the engine cannot interrupt it, e.g. in a plugin's init, or a call whose
// reactor never finishes) is abandoned once its time is up: Shutdown
// returns anyway, reports it (abandoned_work()), and the Server then never
// frees what that work still uses. A process should exit soon after (the
// binary calls _exit).
//
// The metrics endpoint starts with the gRPC server (so it answers while
// the models load) and stops last, once the gRPC server has stopped.
//
// Thread-safety: all methods may be called from any thread. Signal handling
// is the caller's business (serve_main.h).

#ifndef HEALTHSCORE_SERVER_SERVER_H_
#define HEALTHSCORE_SERVER_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "server/listener.h"
#include "server/metrics.h"
#include "server/model_service.h"
#include "server/model_set.h"
#include "server/options.h"
#include "server/reflection_v1.h"
#include "server/runtime.h"
#include "server/scoring_service.h"

namespace healthscore::server {

// The service names health is reported for, besides "".
inline constexpr char kScoringServiceName[] = "healthscore.v1.ScoringService";
inline constexpr char kModelServiceName[] = "healthscore.v1.ModelService";

class Server {
 public:
  // Validates `options`, builds and starts the server. Errors:
  // InvalidArgument for invalid options, a listen address that is not
  // HOST:PORT, TLS files that do not load or match (CheckTlsFiles) or a
  // token file that cannot be read or holds no token; Unavailable when the
  // address, or the metrics address, cannot be bound ("cannot listen on
  // ADDRESS: ..." says why).
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options);

  // Shuts down at once (no wait, no grace) if Shutdown was not called.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port, and "host:port" with it.
  int port() const { return port_; }
  std::string address() const;
  // The metrics endpoint's bound port and "host:port"; 0 and "" when
  // options.metrics_port is off.
  int metrics_port() const;
  std::string metrics_address() const;

  // Opens the engine model repository over options.models_dir (compiled,
  // warmed up by the models' tests) on the reload thread, serves it and
  // turns health SERVING; the reload thread then polls the directory when
  // options.watch_interval > 0. Blocks until the load is done. Call once.
  // Errors: those of engine::ModelRepository::Create, FailedPrecondition
  // when no model version loaded (health then stays NOT_SERVING), and
  // Unavailable when Shutdown abandoned the load.
  absl::Status LoadModels();

  // Reloads the repository on the reload thread and waits for the result
  // (Reloader::RequestReload; the Reload RPC does the same). Requests keep
  // being served from the previous snapshot meanwhile. A reload that fails
  // keeps the old models serving and health SERVING; the errors are in the
  // result, ListModels and the log. Unavailable in the result's status
  // during shutdown.
  engine::repository::ReloadResult ReloadModels();
  // The same without waiting (SIGHUP). True when this request queued a
  // new reload, false when it joined one already queued.
  bool RequestReload();

  // Graceful shutdown (see the file comment) with the options' durations,
  // or explicit ones. Idempotent; blocks until the server has stopped or
  // what did not stop was abandoned.
  void Shutdown();
  void Shutdown(absl::Duration wait, absl::Duration grace);
  // After Shutdown: true when work was abandoned (see the file comment).
  bool abandoned_work() const;

  ServerStats stats() const { return runtime_->Stats(); }
  Reloader::Stats reloader_stats() const { return runtime_->reloader.stats(); }
  const ServerOptions& options() const { return runtime_->options; }
  // The model set serving now; null before LoadModels.
  std::shared_ptr<const ModelSet> models() const {
    return runtime_->models.Current();
  }

  // Holds scoring tasks back (they queue but do not run) so that tests can
  // create work in flight deterministically; Release lets them run.
  void HoldWorkForTest() { runtime_->executor.HoldForTest(); }
  void ReleaseWorkForTest() { runtime_->executor.ReleaseForTest(); }
  size_t HeldTasksForTest() const {
    return runtime_->executor.HeldTasksForTest();
  }

 private:
  Server() = default;
  void SetServing(bool serving);

  // Declared before server_, so they outlive it.
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<ScoringService> scoring_;
  std::unique_ptr<ModelService> models_;
  std::unique_ptr<ReflectionV1Service> reflection_v1_;  // null when off
  std::unique_ptr<grpc::Server> server_;
  // Hands connections to server_: declared after it, so stopped first.
  std::unique_ptr<Listener> listener_;
  int port_ = 0;
  // Renders from runtime_, so declared after it (destroyed first).
  std::unique_ptr<MetricsServer> metrics_;

  mutable absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool abandoned_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_SERVER_H_
