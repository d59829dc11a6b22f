// ModelService, grpc.health.v1 and server reflection over a real channel.

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/model/compiler.h"
#include "engine/plugin_host/plugin_host.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "server/log.h"
#include "server/status.h"
#include "server/testing/test_server.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using namespace ::healthscore::server::testing;  // NOLINT
using HealthResponse = grpc::health::v1::HealthCheckResponse;

class ModelServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ts = StartTestServer();
    ASSERT_OK(ts.status());
    ts_ = std::move(ts).value();
  }
  std::unique_ptr<TestServer> ts_;
};

TEST_F(ModelServiceTest, ListModelsReportsEveryVersionAndLoadError) {
  v1::ListModelsResponse r;
  auto ctx = Context();
  ASSERT_OK(FromGrpcStatus(
      ts_->models->ListModels(ctx.get(), v1::ListModelsRequest(), &r)));
  EXPECT_EQ(r.default_model(), "default");
  ASSERT_EQ(r.models_size(), 3);

  const v1::ModelStatus& broken = r.models(0);
  EXPECT_EQ(broken.name(), "broken");
  EXPECT_EQ(broken.serving_version(), "");
  EXPECT_FALSE(broken.is_default());
  ASSERT_EQ(broken.versions_size(), 1);
  EXPECT_FALSE(broken.versions(0).loaded());
  EXPECT_THAT(broken.versions(0).error(),
              HasSubstr("broken/1/model.yaml:5:1: error: invalid YAML"));
  EXPECT_THAT(broken.errors(),
              ElementsAre(broken.versions(0).error(),
                          HasSubstr("no version of model 'broken' loads")));
  EXPECT_EQ(broken.last_error(), absl::StrJoin(broken.errors(), "; "));

  const v1::ModelStatus& def = r.models(1);
  EXPECT_EQ(def.name(), "default");
  EXPECT_TRUE(def.is_default());
  EXPECT_EQ(def.serving_version(), "2");
  ASSERT_EQ(def.versions_size(), 3);
  EXPECT_EQ(def.versions(0).version(), "1");
  EXPECT_TRUE(def.versions(0).loaded());
  EXPECT_EQ(def.versions(0).label(), "1.0-test");
  EXPECT_EQ(def.versions(0).hash().size(), 64u);
  EXPECT_EQ(def.versions(0).error(), "");
  EXPECT_THAT(def.versions(0).file(), HasSubstr("default/1/model.yaml"));
  EXPECT_GT(def.versions(0).loaded_at().seconds(), 1700000000);
  EXPECT_EQ(def.versions(1).label(), "2.0-test");
  EXPECT_FALSE(def.versions(2).loaded());
  EXPECT_THAT(def.versions(2).error(),
              HasSubstr("default/3/model.yaml:13:17: error: signal "
                        "'stickiness' reads 'dau_maux'"));
  EXPECT_EQ(def.last_error(), def.versions(2).error());

  EXPECT_EQ(r.models(2).name(), "segments");
  EXPECT_EQ(r.models(2).serving_version(), "1");
  EXPECT_EQ(r.models(2).last_error(), "");
}

TEST_F(ModelServiceTest, GetModelDescribesWhatToSend) {
  v1::GetModelRequest request;
  v1::GetModelResponse r;
  auto ctx = Context();
  ASSERT_OK(FromGrpcStatus(ts_->models->GetModel(ctx.get(), request, &r)));
  EXPECT_EQ(r.name(), "default");
  EXPECT_EQ(r.version(), "2");
  EXPECT_EQ(r.label(), "2.0-test");
  EXPECT_EQ(r.owner(), "server-tests");
  EXPECT_EQ(r.segment_by(), "segment");
  EXPECT_DOUBLE_EQ(r.min_coverage(), 0.5);

  ASSERT_EQ(r.inputs_size(), 6);
  EXPECT_EQ(r.inputs(0).id(), "segment");
  EXPECT_EQ(r.inputs(0).type(), v1::INPUT_TYPE_STRING);
  EXPECT_THAT(r.inputs(0).values(), ElementsAre("smb", "enterprise"));
  EXPECT_EQ(r.inputs(1).id(), "dau_mau");
  EXPECT_EQ(r.inputs(1).type(), v1::INPUT_TYPE_NUMBER);
  EXPECT_DOUBLE_EQ(r.inputs(1).range_min(), 0);
  EXPECT_DOUBLE_EQ(r.inputs(1).range_max(), 1);
  EXPECT_EQ(r.inputs(4).type(), v1::INPUT_TYPE_DATE);
  EXPECT_FALSE(r.inputs(4).has_range_min());
  EXPECT_EQ(r.inputs(5).type(), v1::INPUT_TYPE_SERIES);

  ASSERT_EQ(r.derived_size(), 2);
  EXPECT_EQ(r.derived(0).id(), "days_to_renewal");
  EXPECT_EQ(r.derived(0).expr(), "days_between(as_of, renewal_date)");

  ASSERT_EQ(r.groups_size(), 2);
  EXPECT_EQ(r.groups(0).id(), "usage");
  EXPECT_DOUBLE_EQ(r.groups(0).share(), 0.5);
  EXPECT_THAT(r.groups(0).signals(), ElementsAre("stickiness", "growth"));
  ASSERT_EQ(r.signals_size(), 4);
  EXPECT_EQ(r.signals(1).id(), "growth");
  EXPECT_EQ(r.signals(1).source(), "wau_growth");
  EXPECT_EQ(r.signals(1).group(), "usage");
  EXPECT_DOUBLE_EQ(r.signals(1).share(), 0.25);
  EXPECT_FALSE(r.signals(1).normalize().empty());

  ASSERT_EQ(r.tiers_size(), 3);
  EXPECT_EQ(r.tiers(0).id(), "green");
  EXPECT_DOUBLE_EQ(r.tiers(0).min(), 70);  // version 2
  EXPECT_EQ(r.tiers(0).color(), "#2e7d32");
  EXPECT_EQ(r.tiers(2).id(), "red");

  ASSERT_EQ(r.playbooks_size(), 3);
  EXPECT_EQ(r.playbooks(0).id(), "rescue");
  EXPECT_EQ(r.playbooks(0).when(), "tier == \"red\"");
  EXPECT_EQ(r.playbooks(0).success(), "score >= 50");
  EXPECT_THAT(r.playbooks(0).steps(), ElementsAre("Call the sponsor"));

  request.set_name("default");
  request.set_version("1");
  auto ctx1 = Context();
  ASSERT_OK(FromGrpcStatus(ts_->models->GetModel(ctx1.get(), request, &r)));
  EXPECT_EQ(r.version(), "1");
  EXPECT_DOUBLE_EQ(r.tiers(0).min(), 80);

  request.set_name("segments");
  request.clear_version();
  auto ctx2 = Context();
  ASSERT_OK(FromGrpcStatus(ts_->models->GetModel(ctx2.get(), request, &r)));
  ASSERT_EQ(r.warnings_size(), 1);
  EXPECT_EQ(r.warnings(0).severity(), v1::Diagnostic::SEVERITY_WARNING);
  EXPECT_THAT(r.warnings(0).message(), HasSubstr("plan"));
}

TEST_F(ModelServiceTest, GetModelErrors) {
  SetLogEnabledForTest(false);
  v1::GetModelRequest request;
  v1::GetModelResponse r;
  request.set_name("nope");
  auto ctx = Context();
  EXPECT_THAT(FromGrpcStatus(ts_->models->GetModel(ctx.get(), request, &r)),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("unknown model 'nope'")));
  request.set_name("default");
  request.set_version("3");
  auto ctx2 = Context();
  EXPECT_THAT(FromGrpcStatus(ts_->models->GetModel(ctx2.get(), request, &r)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("version 3 of model 'default' failed to load")));
  SetLogEnabledForTest(true);
}

TEST_F(ModelServiceTest, ValidateModelReturnsTheValidateDiagnostics) {
  v1::ValidateModelRequest request;
  request.set_yaml(ReadFile(TestModelsDir() + "/default/1/model.yaml"));
  v1::ValidateModelResponse r;
  auto ctx = Context();
  ASSERT_OK(FromGrpcStatus(ts_->models->ValidateModel(ctx.get(), request, &r)));
  EXPECT_TRUE(r.valid());
  EXPECT_EQ(r.error_count(), 0);
  EXPECT_EQ(r.name(), "default");
  EXPECT_EQ(r.label(), "1.0-test");
  v1::ListModelsResponse list;
  auto lctx = Context();
  ASSERT_TRUE(
      ts_->models->ListModels(lctx.get(), v1::ListModelsRequest(), &list).ok());
  EXPECT_EQ(r.hash(), list.models(1).versions(0).hash());

  const std::string broken = ReadFile(TestModelsDir() + "/default/3/model.yaml");
  request.set_yaml(broken);
  request.set_file_name("draft.yaml");
  auto ctx2 = Context();
  ASSERT_OK(
      FromGrpcStatus(ts_->models->ValidateModel(ctx2.get(), request, &r)));
  EXPECT_FALSE(r.valid());
  EXPECT_EQ(r.name(), "");
  // One error (the unknown source) and one warning (dau_mau is unread).
  ASSERT_EQ(r.error_count(), 1);
  EXPECT_EQ(r.warning_count(), 1);
  int error = -1;
  for (int i = 0; i < r.diagnostics_size(); ++i) {
    if (r.diagnostics(i).severity() == v1::Diagnostic::SEVERITY_ERROR) {
      error = i;
    }
  }
  ASSERT_GE(error, 0);
  const v1::Diagnostic& d = r.diagnostics(error);
  EXPECT_EQ(d.file(), "draft.yaml");
  EXPECT_EQ(d.line(), 13);
  EXPECT_EQ(d.column(), 17);
  EXPECT_THAT(d.message(), HasSubstr("'dau_maux'"));
  EXPECT_EQ(d.hint(), "did you mean 'dau_mau'?");
  // Exactly what `healthscore validate` prints: the engine's diagnostics.
  engine::model::CompileResult expected =
      engine::model::CompileString(broken, "draft.yaml");
  ASSERT_EQ(r.diagnostics_size(),
            static_cast<int>(expected.diagnostics.items().size()));
  for (int i = 0; i < r.diagnostics_size(); ++i) {
    EXPECT_EQ(r.diagnostics(i).text(),
              expected.diagnostics.items()[i].ToString());
  }
  EXPECT_EQ(r.error_count(), expected.diagnostics.error_count());

  request.set_yaml("inputs: [");
  auto ctx3 = Context();
  ASSERT_OK(
      FromGrpcStatus(ts_->models->ValidateModel(ctx3.get(), request, &r)));
  EXPECT_FALSE(r.valid());
  EXPECT_GE(r.error_count(), 1);
}

TEST_F(ModelServiceTest, HealthIsServingForTheServerAndBothServices) {
  for (const char* service :
       {"", "healthscore.v1.ScoringService", "healthscore.v1.ModelService"}) {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    HealthResponse r;
    auto ctx = Context();
    ASSERT_OK(FromGrpcStatus(ts_->health->Check(ctx.get(), request, &r)));
    EXPECT_EQ(r.status(), HealthResponse::SERVING) << service;
  }
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("no.such.Service");
  HealthResponse r;
  auto ctx = Context();
  EXPECT_EQ(ts_->health->Check(ctx.get(), request, &r).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST(ModelServiceHealthTest, NotServingUntilModelsLoad) {
  auto ts = StartTestServer(TestOptions(), /*load_models=*/false);
  ASSERT_OK(ts.status());
  grpc::health::v1::HealthCheckRequest request;
  HealthResponse r;
  auto ctx = Context();
  ASSERT_OK(FromGrpcStatus((*ts)->health->Check(ctx.get(), request, &r)));
  EXPECT_EQ(r.status(), HealthResponse::NOT_SERVING);
  SetLogEnabledForTest(false);
  v1::ListModelsResponse list;
  auto lctx = Context();
  EXPECT_THAT(FromGrpcStatus((*ts)->models->ListModels(
                  lctx.get(), v1::ListModelsRequest(), &list)),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("still loading")));
  SetLogEnabledForTest(true);
  ASSERT_OK((*ts)->server->LoadModels());
  auto ctx2 = Context();
  ASSERT_OK(FromGrpcStatus((*ts)->health->Check(ctx2.get(), request, &r)));
  EXPECT_EQ(r.status(), HealthResponse::SERVING);
}

TEST(ModelServiceHealthTest, NoCompilableModelKeepsNotServing) {
  ServerOptions options = TestOptions();
  options.models_dir = SourcePath("server/testdata/rules/broken");
  auto ts = StartTestServer(options, /*load_models=*/false);
  ASSERT_OK(ts.status());
  SetLogEnabledForTest(false);
  // broken/ holds version "1" only: not a models directory at all.
  EXPECT_THAT((*ts)->server->LoadModels(),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no model found")));
  SetLogEnabledForTest(true);
  grpc::health::v1::HealthCheckRequest request;
  HealthResponse r;
  auto ctx = Context();
  ASSERT_OK(FromGrpcStatus((*ts)->health->Check(ctx.get(), request, &r)));
  EXPECT_EQ(r.status(), HealthResponse::NOT_SERVING);
}

// Models with plugins compile against the server's plugin directory (the
// example plugins of the build tree), for scoring and for ValidateModel.
TEST(ModelServicePluginTest, PluginModelsLoadFromThePluginDirectory) {
  const std::string plugins =
      absl::StrCat(HEALTHSCORE_BINARY_DIR, "/plugins/lib");
  ServerOptions options = TestOptions();
  options.models_dir = SourcePath("rules");
  options.plugins_dir = plugins;
  options.plugins_dir_explicit = true;
  options.validate_allow_plugins = true;
  auto ts = StartTestServer(options);
  ASSERT_OK(ts.status());

  Account a;
  a.id = "plugged";
  a.series["nps_answers"] = {10, 10, 9, 9, 3};
  std::vector<double> dau;
  for (int d = 0; d < 35; ++d) dau.push_back(d < 28 ? 100 + d % 3 : 60);
  a.series["daily_active_users"] = dau;
  a.metrics = {{"csat", 4.2}, {"licensed_seats", 150}};
  v1::ScoreRequest request = MapRequest({a}, "plugin_example");
  request.mutable_options()->set_explain(true);
  v1::ScoreResponse r;
  auto ctx = Context();
  ASSERT_OK(FromGrpcStatus((*ts)->scoring->Score(ctx.get(), request, &r)));
  ASSERT_EQ(r.results_size(), 1);
  ASSERT_TRUE(r.results(0).ok()) << r.results(0).error();

  // The same account scored by the engine directly, with its own host.
  engine::plugin_host::PluginHostOptions host_options;
  host_options.directories.push_back(plugins);
  auto host = engine::plugin_host::PluginHost::Create(std::move(host_options));
  ASSERT_OK(host.status());
  engine::model::CompileOptions compile_options;
  compile_options.plugins = host->get();
  engine::model::CompileResult compiled = engine::model::CompileFile(
      SourcePath("rules/plugin_example/1/model.yaml"), compile_options);
  ASSERT_NE(compiled.model, nullptr) << compiled.diagnostics.ToString();
  engine::eval::Batch batch(compiled.model);
  engine::eval::BatchBuilder b(&batch);
  b.BeginRow(a.id);
  b.SetAsOf(a.as_of);
  for (const auto& [k, v] : a.metrics) b.SetMetric(k, v);
  for (const auto& [k, v] : a.series) b.SetSeries(k, v.data(), v.size());
  b.EndRow();
  engine::eval::BatchResult expected;
  ASSERT_OK(engine::eval::Scorer::Score(batch, &expected));
  EXPECT_EQ(r.results(0).score(), expected.score(0));
  EXPECT_EQ(r.results(0).tier(), compiled.model->TierId(expected.tier(0)));
  const int nps = compiled.model->FindSignal("nps");
  ASSERT_GE(nps, 0);
  EXPECT_EQ(r.results(0).explanation().signals(nps).raw(),
            expected.signal_raw(0, nps));

  v1::ValidateModelRequest validate;
  validate.set_yaml(ReadFile(SourcePath("rules/plugin_example/1/model.yaml")));
  v1::ValidateModelResponse v;
  auto vctx = Context();
  ASSERT_OK(FromGrpcStatus(
      (*ts)->models->ValidateModel(vctx.get(), validate, &v)));
  EXPECT_TRUE(v.valid());
  EXPECT_EQ(v.hash(), compiled.model->hash());
}

TEST(ModelServicePluginTest, WithoutAPluginDirectoryThePluginModelFails) {
  ServerOptions options = TestOptions();
  options.models_dir = SourcePath("rules");
  options.plugins_dir = "/nonexistent/plugins";  // not explicit: ignored
  auto ts = StartTestServer(options);
  ASSERT_OK(ts.status());
  v1::ListModelsResponse list;
  auto ctx = Context();
  ASSERT_OK(FromGrpcStatus(
      (*ts)->models->ListModels(ctx.get(), v1::ListModelsRequest(), &list)));
  bool found = false;
  for (const v1::ModelStatus& m : list.models()) {
    if (m.name() != "plugin_example") continue;
    found = true;
    EXPECT_EQ(m.serving_version(), "");
    EXPECT_THAT(m.last_error(), HasSubstr("no plugin directory is "
                                          "configured"));
  }
  EXPECT_TRUE(found);
  // An explicit directory that does not exist stops the server at start.
  options.plugins_dir_explicit = true;
  EXPECT_THAT(Server::Start(options).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--plugins: /nonexistent/plugins is not a "
                                 "directory")));
}

// Server reflection (grpc.reflection.v1alpha), driven with dynamic messages
// built from the descriptors libgrpc++_reflection registers.
class Reflection {
 public:
  explicit Reflection(std::shared_ptr<grpc::Channel> channel)
      : stub_(std::move(channel)) {
    pool_ = google::protobuf::DescriptorPool::generated_pool();
    request_type_ = pool_->FindMessageTypeByName(
        "grpc.reflection.v1alpha.ServerReflectionRequest");
    response_type_ = pool_->FindMessageTypeByName(
        "grpc.reflection.v1alpha.ServerReflectionResponse");
  }

  bool available() const {
    return request_type_ != nullptr && response_type_ != nullptr;
  }

  // One request/response exchange on a fresh stream; false on any failure.
  bool Ask(const std::string& field, const std::string& value,
           google::protobuf::Message* response) {
    std::unique_ptr<google::protobuf::Message> request(
        factory_.GetPrototype(request_type_)->New());
    request->GetReflection()->SetString(
        request.get(), request_type_->FindFieldByName(field), value);
    std::string bytes = request->SerializeAsString();

    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    grpc::CompletionQueue cq;
    auto call = stub_.PrepareCall(
        &ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        &cq);
    void* tag = nullptr;
    bool ok = false;
    auto step = [&](void* want) {
      return cq.Next(&tag, &ok) && tag == want && ok;
    };
    call->StartCall(reinterpret_cast<void*>(1));
    if (!step(reinterpret_cast<void*>(1))) return false;
    grpc::Slice slice(bytes);
    grpc::ByteBuffer out(&slice, 1);
    call->Write(out, reinterpret_cast<void*>(2));
    if (!step(reinterpret_cast<void*>(2))) return false;
    call->WritesDone(reinterpret_cast<void*>(3));
    if (!step(reinterpret_cast<void*>(3))) return false;
    grpc::ByteBuffer in;
    call->Read(&in, reinterpret_cast<void*>(4));
    if (!step(reinterpret_cast<void*>(4))) return false;
    grpc::Status status;
    call->Finish(&status, reinterpret_cast<void*>(5));
    cq.Next(&tag, &ok);
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
    std::vector<grpc::Slice> slices;
    if (!in.Dump(&slices).ok()) return false;
    std::string data;
    for (const grpc::Slice& s : slices) {
      data.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    return status.ok() && response->ParseFromString(data);
  }

  std::unique_ptr<google::protobuf::Message> NewResponse() {
    return std::unique_ptr<google::protobuf::Message>(
        factory_.GetPrototype(response_type_)->New());
  }

 private:
  grpc::GenericStub stub_;
  const google::protobuf::DescriptorPool* pool_;
  const google::protobuf::Descriptor* request_type_ = nullptr;
  const google::protobuf::Descriptor* response_type_ = nullptr;
  google::protobuf::DynamicMessageFactory factory_;
};

TEST_F(ModelServiceTest, ReflectionListsTheServicesAndTheirFiles) {
  Reflection reflection(ts_->channel);
  ASSERT_TRUE(reflection.available());
  auto response = reflection.NewResponse();
  ASSERT_TRUE(reflection.Ask("list_services", "", response.get()));
  const auto* refl = response->GetReflection();
  const auto* list_field =
      response->GetDescriptor()->FindFieldByName("list_services_response");
  const google::protobuf::Message& list =
      refl->GetMessage(*response, list_field);
  const auto* service_field = list.GetDescriptor()->FindFieldByName("service");
  std::vector<std::string> names;
  for (int i = 0; i < list.GetReflection()->FieldSize(list, service_field);
       ++i) {
    const google::protobuf::Message& s =
        list.GetReflection()->GetRepeatedMessage(list, service_field, i);
    names.push_back(s.GetReflection()->GetString(
        s, s.GetDescriptor()->FindFieldByName("name")));
  }
  EXPECT_THAT(names, IsSupersetOf({"healthscore.v1.ScoringService",
                                   "healthscore.v1.ModelService",
                                   "grpc.reflection.v1alpha.ServerReflection"}));

  auto file = reflection.NewResponse();
  ASSERT_TRUE(reflection.Ask("file_containing_symbol",
                             "healthscore.v1.ScoringService", file.get()));
  const auto* fd_field =
      file->GetDescriptor()->FindFieldByName("file_descriptor_response");
  const google::protobuf::Message& fd = refl->GetMessage(*file, fd_field);
  const auto* bytes_field =
      fd.GetDescriptor()->FindFieldByName("file_descriptor_proto");
  ASSERT_GE(fd.GetReflection()->FieldSize(fd, bytes_field), 1);
  google::protobuf::FileDescriptorProto proto;
  ASSERT_TRUE(proto.ParseFromString(
      fd.GetReflection()->GetRepeatedString(fd, bytes_field, 0)));
  EXPECT_EQ(proto.name(), "healthscore/v1/scoring.proto");
  EXPECT_EQ(proto.package(), "healthscore.v1");
}

}  // namespace
}  // namespace healthscore::server
