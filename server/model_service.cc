#include "server/model_service.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/common/display.h"
#include "engine/model/compiler.h"
#include "server/log.h"
#include "server/status.h"

namespace healthscore::server {
namespace {

// A unary call that entered the CallGate (or was refused by it, then
// answered UNAVAILABLE); it leaves the gate once the call is over.
class GatedReactor : public grpc::ServerUnaryReactor {
 public:
  explicit GatedReactor(Runtime* runtime)
      : runtime_(runtime), accepted_(runtime->calls.TryEnter()) {}
  // False: refused; the caller answers ShuttingDownStatus().
  bool accepted() const { return accepted_; }
  void OnDone() override {
    if (accepted_) runtime_->calls.Exit();
    delete this;
  }

 private:
  Runtime* const runtime_;
  const bool accepted_;
};

// One ValidateModel call, shared by its reactor, its job on the
// ValidationLane and the lane's timer: whichever comes first answers it
// (the compile's result, DEADLINE_EXCEEDED at the budget, CANCELLED when
// the client went away); the others then leave it alone. A job that
// outlives its call (abandoned at the deadline) keeps only this object and
// its copy of the text alive.
class ValidationCall {
 public:
  ValidationCall(grpc::ServerUnaryReactor* reactor,
                 v1::ValidateModelResponse* response, std::string yaml,
                 std::string file, absl::Duration timeout,
                 std::shared_ptr<WorkBudget> budget)
      : yaml(std::move(yaml)),
        file(std::move(file)),
        timeout(timeout),
        budget(std::move(budget)),
        reactor_(reactor),
        response_(response) {}

  // Takes the right to answer: the reactor, or null when the call was
  // answered already. The claimer may write response() until it calls
  // Finish on the reactor.
  grpc::ServerUnaryReactor* Claim() {
    absl::MutexLock lock(&mu_);
    grpc::ServerUnaryReactor* reactor = reactor_;
    reactor_ = nullptr;
    return reactor;
  }
  void Answer(const grpc::Status& status) {
    if (grpc::ServerUnaryReactor* reactor = Claim()) reactor->Finish(status);
  }
  v1::ValidateModelResponse* response() const { return response_; }

  std::string yaml;  // only the job reads it
  const std::string file;
  const absl::Duration timeout;
  const std::shared_ptr<WorkBudget> budget;

 private:
  absl::Mutex mu_;
  grpc::ServerUnaryReactor* reactor_ ABSL_GUARDED_BY(mu_);
  v1::ValidateModelResponse* const response_;
};

class ValidateReactor : public GatedReactor {
 public:
  using GatedReactor::GatedReactor;
  // Before the reactor is returned to gRPC.
  void set_call(std::shared_ptr<ValidationCall> call) {
    absl::MutexLock lock(&mu_);
    call_ = std::move(call);
  }
  void OnCancel() override {
    std::shared_ptr<ValidationCall> call;
    {
      absl::MutexLock lock(&mu_);
      call = call_;
    }
    if (call == nullptr) return;
    call->budget->cancelled.store(true);
    call->Answer(grpc::Status::CANCELLED);
  }

 private:
  absl::Mutex mu_;
  std::shared_ptr<ValidationCall> call_ ABSL_GUARDED_BY(mu_);
};

v1::InputType ToProto(engine::model::InputType type) {
  switch (type) {
    case engine::model::InputType::kNumber:
      return v1::INPUT_TYPE_NUMBER;
    case engine::model::InputType::kString:
      return v1::INPUT_TYPE_STRING;
    case engine::model::InputType::kDate:
      return v1::INPUT_TYPE_DATE;
    case engine::model::InputType::kSeries:
      return v1::INPUT_TYPE_SERIES;
  }
  return v1::INPUT_TYPE_UNSPECIFIED;
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  timespec ts = absl::ToTimespec(t);
  out->set_seconds(ts.tv_sec);
  out->set_nanos(static_cast<int32_t>(ts.tv_nsec));
}

void Reject(Runtime* runtime, absl::string_view rpc,
            grpc::CallbackServerContext* context, const absl::Status& status,
            grpc::ServerUnaryReactor* reactor) {
  if (status.code() == absl::StatusCode::kResourceExhausted) {
    runtime->counters.rejected_capacity.fetch_add(1, std::memory_order_relaxed);
  } else {
    runtime->counters.rejected_invalid.fetch_add(1, std::memory_order_relaxed);
  }
  LogEvery(LogLevel::kWarning,
           absl::StrCat(rpc, ":", absl::StatusCodeToString(status.code())),
           absl::StrCat(rpc, " from ", context->peer(), " failed: ",
                        absl::StatusCodeToString(status.code()), ": ",
                        status.message()));
  reactor->Finish(ToGrpcStatus(runtime->ForClient(status)));
}

}  // namespace

void ToProto(const engine::model::Diagnostic& d, v1::Diagnostic* out) {
  out->set_severity(d.severity == engine::model::Severity::kError
                        ? v1::Diagnostic::SEVERITY_ERROR
                        : v1::Diagnostic::SEVERITY_WARNING);
  out->set_file(d.location.file);
  out->set_line(d.location.line);
  out->set_column(d.location.column);
  out->set_message(d.message);
  out->set_hint(d.hint);
  out->set_text(d.ToString());
}

void DescribeModel(const engine::model::CompiledModel& model,
                   const std::string& version, v1::GetModelResponse* out) {
  out->set_name(model.name());
  out->set_version(version);
  out->set_label(model.version());
  out->set_hash(model.hash());
  out->set_description(model.description());
  out->set_owner(model.owner());
  if (model.segment_input() >= 0) {
    out->set_segment_by(model.inputs()[model.segment_input()].id);
  }
  out->set_min_coverage(model.min_coverage());
  out->set_hysteresis(model.hysteresis());
  for (const engine::model::InputInfo& in : model.inputs()) {
    v1::InputDescription* d = out->add_inputs();
    d->set_id(in.id);
    d->set_type(ToProto(in.type));
    d->set_description(in.description);
    d->set_unit(in.unit);
    if (in.range_min) d->set_range_min(*in.range_min);
    if (in.range_max) d->set_range_max(*in.range_max);
    for (const std::string& v : in.values) d->add_values(v);
  }
  for (const engine::model::DerivedInfo& dv : model.derived()) {
    v1::DerivedDescription* d = out->add_derived();
    d->set_id(dv.id);
    d->set_description(dv.description);
    d->set_expr(dv.expr);
    d->set_is_condition(dv.is_bool);
  }
  for (const engine::model::GroupInfo& g : model.groups()) {
    v1::GroupDescription* d = out->add_groups();
    d->set_id(g.id);
    d->set_name(g.name);
    d->set_description(g.description);
    d->set_weight(g.weight);
    d->set_share(g.share);
    for (int s : g.signals) d->add_signals(model.signals()[s].id);
  }
  for (const engine::model::SignalInfo& s : model.signals()) {
    v1::SignalDescription* d = out->add_signals();
    d->set_id(s.id);
    d->set_name(s.name);
    d->set_description(s.description);
    d->set_source(s.source);
    if (s.group >= 0) d->set_group(model.groups()[s.group].id);
    d->set_weight(s.weight);
    d->set_share(s.share);
    d->set_normalize(s.normalize);
  }
  for (const engine::model::TierInfo& t : model.tiers()) {
    v1::TierDescription* d = out->add_tiers();
    d->set_id(t.id);
    d->set_name(t.name);
    d->set_color(t.color);
    d->set_description(t.description);
    d->set_min(t.min);
    d->set_max(t.max);
  }
  for (const engine::model::PlaybookInfo& p : model.playbooks()) {
    v1::PlaybookDescription* d = out->add_playbooks();
    d->set_id(p.id);
    d->set_name(p.name);
    d->set_owner(p.owner);
    d->set_description(p.description);
    d->set_priority(p.priority);
    d->set_when(p.when);
    d->set_success(p.success);
    for (const std::string& step : p.steps) d->add_steps(step);
  }
  for (const engine::model::Diagnostic& w : model.warnings().items()) {
    ToProto(w, out->add_warnings());
  }
}

grpc::ServerUnaryReactor* ModelService::ListModels(
    grpc::CallbackServerContext* context, const v1::ListModelsRequest*,
    v1::ListModelsResponse* response) {
  auto* reactor = new GatedReactor(runtime_);
  if (!reactor->accepted()) {
    reactor->Finish(ShuttingDownStatus());
    return reactor;
  }
  if (absl::Status denied = AuthorizeCall(runtime_->auth, AuthScope::kScoring,
                                          "ListModels", *context);
      !denied.ok()) {
    reactor->Finish(ToGrpcStatus(denied));
    return reactor;
  }
  std::shared_ptr<const ModelSet> set = runtime_->models.Current();
  if (set == nullptr) {
    Reject(runtime_, "ListModels", context,
           absl::UnavailableError("the server is still loading its models"),
           reactor);
    return reactor;
  }
  response->set_default_model(set->default_model());
  const engine::repository::ModelSet& snapshot = set->snapshot();
  const PathDisplay& paths = runtime_->paths;
  for (const std::string& e : snapshot.errors()) {
    response->add_errors(paths.Apply(e));
  }
  for (const engine::repository::ModelStatus& status : snapshot.models()) {
    v1::ModelStatus* m = response->add_models();
    m->set_name(status.name);
    m->set_is_default(status.name == snapshot.default_model());
    if (status.default_version > 0) {
      m->set_serving_version(absl::StrCat(status.default_version));
    }
    m->set_last_error(paths.Apply(status.last_error()));
    m->set_version_policy(status.version_policy);
    for (const std::string& r : status.routes) m->add_routes(paths.Apply(r));
    for (const std::string& e : status.errors) m->add_errors(paths.Apply(e));
    for (const engine::repository::VersionStatus& v : status.versions) {
      v1::ModelVersionStatus* s = m->add_versions();
      s->set_version(absl::StrCat(v.version));
      s->set_loaded(v.serving);
      s->set_label(v.model_version);
      s->set_hash(v.hash);
      if (v.loaded_at != absl::InfinitePast()) {
        SetTimestamp(v.loaded_at, s->mutable_loaded_at());
      }
      s->set_load_micros(static_cast<uint64_t>(
          absl::ToInt64Microseconds(v.load_duration)));
      s->set_error(paths.Apply(v.error));
      s->set_file(paths.Apply(v.file));
      s->set_stale(v.stale);
      for (const std::string& l : v.labels) s->add_labels(l);
      s->set_tests_passed(v.tests_passed);
      s->set_tests_failed(v.tests_failed);
      s->set_note(paths.Apply(v.note));
    }
  }
  if (const engine::repository::ModelRepository* repository =
          runtime_->models.repository()) {
    const engine::repository::RepositoryStats stats = repository->stats();
    v1::RepositoryCounters* c = response->mutable_counters();
    c->set_reloads(stats.reloads);
    c->set_reload_failures(stats.reload_failures);
    c->set_versions_loaded(stats.versions_loaded);
    c->set_versions_failed(stats.versions_failed);
    c->set_generation(stats.generation);
    if (stats.last_reload != absl::InfinitePast()) {
      SetTimestamp(stats.last_reload, c->mutable_last_reload());
    }
    if (stats.last_success != absl::InfinitePast()) {
      SetTimestamp(stats.last_success, c->mutable_last_success());
    }
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* ModelService::GetModel(
    grpc::CallbackServerContext* context, const v1::GetModelRequest* request,
    v1::GetModelResponse* response) {
  auto* reactor = new GatedReactor(runtime_);
  if (!reactor->accepted()) {
    reactor->Finish(ShuttingDownStatus());
    return reactor;
  }
  if (absl::Status denied = AuthorizeCall(runtime_->auth, AuthScope::kScoring,
                                          "GetModel", *context);
      !denied.ok()) {
    reactor->Finish(ToGrpcStatus(denied));
    return reactor;
  }
  std::shared_ptr<const ModelSet> set = runtime_->models.Current();
  if (set == nullptr) {
    Reject(runtime_, "GetModel", context,
           absl::UnavailableError("the server is still loading its models"),
           reactor);
    return reactor;
  }
  absl::StatusOr<ModelRef> ref = set->Find(request->name(), request->version());
  if (!ref.ok()) {
    Reject(runtime_, "GetModel", context, ref.status(), reactor);
    return reactor;
  }
  DescribeModel(*ref->model, ref->version, response);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

namespace {

void DescribeValidation(const engine::model::CompileResult& result,
                        const PathDisplay& paths,
                        v1::ValidateModelResponse* response) {
  for (engine::model::Diagnostic d : result.diagnostics.items()) {
    // The file is the client's own name; messages may name the server's
    // plugin directory.
    d.message = paths.Apply(d.message);
    d.hint = paths.Apply(d.hint);
    ::healthscore::server::ToProto(d, response->add_diagnostics());
  }
  response->set_error_count(result.diagnostics.error_count());
  response->set_warning_count(result.diagnostics.warning_count());
  response->set_valid(result.model != nullptr);
  if (result.model != nullptr) {
    response->set_name(result.model->name());
    response->set_label(result.model->version());
    response->set_hash(result.model->hash());
  }
}

// The job on the ValidationLane. Returns the answer to send once the job
// no longer counts against the lane's limit (validation_lane.h).
std::function<void()> RunValidation(Runtime* runtime,
                                    const std::shared_ptr<ValidationCall>& call,
                                    const WorkBudget& budget) {
  // Past the deadline the lane answers the call itself; the compiler stops
  // at its next budget check (or the lane abandons it, validation_lane.h).
  engine::model::CompileOptions options;
  if (runtime->options.validate_allow_plugins) {
    options.plugins = runtime->plugins.get();
  } else {
    // The client's YAML would choose the libraries and configure them, and
    // plugins run in this process with full trust.
    options.plugins_refused_reason =
        "but ValidateModel loads no plugin for a client's model";
    options.plugins_refused_hint =
        "validate it with `healthscore validate --plugins DIR`, or start the "
        "server with --validate-allow-plugins=true";
  }
  options.yaml.max_bytes = runtime->options.max_model_bytes;
  options.yaml.max_nodes = runtime->options.max_yaml_nodes;
  options.budget.deadline = budget.deadline;
  options.budget.cancelled = &budget.cancelled;
  grpc::ServerUnaryReactor* reactor = nullptr;
  grpc::Status answer = grpc::Status::OK;
  {
    engine::model::CompileResult result =
        engine::model::CompileString(call->yaml, call->file, options);
    reactor = call->Claim();
    if (reactor != nullptr) {
      // Out of budget: the compile stopped part way, so no diagnostics.
      if (result.status.ok()) {
        DescribeValidation(result, runtime->paths, call->response());
      } else {
        answer = ToGrpcStatus(runtime->ForClient(result.status));
      }
    }
  }
  std::string().swap(call->yaml);
  // The compile's peak is not bounded by the text's size (an alias bomb or
  // deep nesting expands a few kilobytes), and the lane's threads would
  // keep it: every validation gives its memory back. Before the answer, so
  // that the trim after the call (the call's messages are freed then,
  // request_parsing.h) finds this freed too.
  ReturnFreedMemory();
  if (reactor == nullptr) return nullptr;
  return [reactor, answer] { reactor->Finish(answer); };
}

}  // namespace

grpc::ServerUnaryReactor* ModelService::ValidateModel(
    grpc::CallbackServerContext* context,
    const v1::ValidateModelRequest* request,
    v1::ValidateModelResponse* response) {
  auto* reactor = new ValidateReactor(runtime_);
  if (!reactor->accepted()) {
    reactor->Finish(ShuttingDownStatus());
    return reactor;
  }
  if (absl::Status denied = AuthorizeCall(runtime_->auth, AuthScope::kAdmin,
                                          "ValidateModel", *context);
      !denied.ok()) {
    reactor->Finish(ToGrpcStatus(denied));
    return reactor;
  }
  const ServerOptions& o = runtime_->options;
  // Every diagnostic repeats the name: keep it short.
  const std::string file =
      request->file_name().empty()
          ? "model.yaml"
          : engine::common::TruncateForDisplay(request->file_name());
  if (request->yaml().size() > o.max_model_bytes) {
    Reject(runtime_, "ValidateModel", context,
           absl::ResourceExhaustedError(absl::StrCat(
               "model text of ", request->yaml().size(),
               " bytes exceeds max_model_bytes=", o.max_model_bytes,
               "; validate it with `healthscore validate`, or raise "
               "--max-model-bytes")),
           reactor);
    // gRPC read the text in many small buffers and freed them before this
    // handler ran; without a trim they stay with the process.
    ReturnMemoryAfterLargeWork(request->yaml().size());
    return reactor;
  }
  const absl::Time deadline = std::min(absl::Now() + o.validation_timeout,
                                       absl::FromChrono(context->deadline()));
  auto call = std::make_shared<ValidationCall>(
      reactor, response, request->yaml(), file, o.validation_timeout,
      std::make_shared<WorkBudget>(deadline));
  reactor->set_call(call);
  Runtime* runtime = runtime_;
  ValidationLane::Job job;
  job.budget = call->budget;
  job.run = [runtime, call](const WorkBudget& budget) {
    return RunValidation(runtime, call, budget);
  };
  job.on_expired = [runtime, call] {
    grpc::ServerUnaryReactor* answering = call->Claim();
    if (answering == nullptr) return;
    runtime->counters.validations_timed_out.fetch_add(1);
    LogEvery(LogLevel::kWarning, "ValidateModel:DEADLINE_EXCEEDED",
             absl::StrCat("ValidateModel of ", call->file,
                          " ran out of its time budget; the compile is "
                          "abandoned"));
    answering->Finish(grpc::Status(
        grpc::StatusCode::DEADLINE_EXCEEDED,
        absl::StrCat("validating ", call->file, " took longer than ",
                     absl::FormatDuration(call->timeout),
                     " (validation_timeout) and was abandoned; validate it "
                     "with `healthscore validate`, or raise "
                     "--validation-timeout")));
  };
  absl::Status started = runtime_->validations.TryStart(std::move(job));
  if (!started.ok()) {
    if (grpc::ServerUnaryReactor* r = call->Claim()) {
      Reject(runtime_, "ValidateModel", context, started, r);
    }
  }
  return reactor;
}

grpc::ServerUnaryReactor* ModelService::Reload(
    grpc::CallbackServerContext* context, const v1::ReloadRequest*,
    v1::ReloadResponse* response) {
  auto* reactor = new GatedReactor(runtime_);
  if (!reactor->accepted()) {
    reactor->Finish(ShuttingDownStatus());
    return reactor;
  }
  if (absl::Status denied = AuthorizeCall(runtime_->auth, AuthScope::kAdmin,
                                          "Reload", *context);
      !denied.ok()) {
    reactor->Finish(ToGrpcStatus(denied));
    return reactor;
  }
  if (runtime_->models.repository() == nullptr) {
    Reject(runtime_, "Reload", context,
           absl::UnavailableError("the server is still loading its models"),
           reactor);
    return reactor;
  }
  // On the reload thread, coalesced with every other request (reloader.h).
  const Runtime* runtime = runtime_;
  runtime_->reloader.RequestReload(
      [runtime, response,
       reactor](const engine::repository::ReloadResult& result) {
        if (!result.status.ok()) {
          reactor->Finish(ToGrpcStatus(runtime->ForClient(result.status)));
          return;
        }
        response->set_published(result.published);
        response->set_generation(result.generation);
        response->set_compiled(result.compiled);
        response->set_reused(result.reused);
        response->set_failed(result.failed);
        for (const std::string& e : result.errors) {
          response->add_errors(runtime->paths.Apply(e));
        }
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

}  // namespace healthscore::server
