// Hostile request input against the real healthscore-server binary:
// client-supplied names of any size are echoed short in status messages and
// log lines; request bodies that are not valid protobuf are answered
// INVALID_ARGUMENT naming what failed to parse, on every method, with
// libprotobuf's complaints kept out of the log; and malformed --listen
// addresses are refused at start.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <future>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "server/testing/server_process.h"
#include "server/testing/test_server.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::ScratchDir;
using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Lt;
using ::testing::SizeIs;
using ::testing::StartsWith;
using namespace ::healthscore::server::testing;  // NOLINT

constexpr size_t kHuge = 100 * 1024;
// Status messages and log lines stay far below gRPC's 8 KB metadata limit.
constexpr size_t kShort = 1024;

std::string Huge(char c) { return std::string(kHuge, c); }

// Where a huge echo was cut.
std::string Cut(char c) {
  return absl::StrCat(std::string(128, c), "…(", kHuge, " bytes)");
}

// One healthscore-server process for the whole suite.
class ServerInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    process_ = new ServerProcess;
    const std::string dir = ScratchDir("input");
    const std::string port_file = dir + "/port";
    ASSERT_TRUE(process_->Spawn(
        dir, {"--listen", "127.0.0.1:0", "--port-file", port_file, "--models",
              TestModelsDir(), "--threads", "2",
              "--allow-unauthenticated-admin=true"}));
    port_ = process_->WaitForPort(port_file);
    ASSERT_GT(port_, 0) << process_->err();
  }

  static void TearDownTestSuite() {
    delete process_;
    process_ = nullptr;
  }

  void SetUp() override {
    ASSERT_GT(port_, 0) << "the server did not start";
    channel_ = MakeChannel(absl::StrCat("127.0.0.1:", port_));
    scoring_ = v1::ScoringService::NewStub(channel_);
    models_ = v1::ModelService::NewStub(channel_);
  }

  // Every line the server logged so far: in its own format, and short.
  static void ExpectLogShortAndOurs() {
    // "2026-11-22T18:43:41.123Z I " (std::regex recurses per character: a
    // prefix only).
    const std::regex prefix(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [IWE] )");
    for (absl::string_view line :
         absl::StrSplit(process_->err(), '\n', absl::SkipEmpty())) {
      EXPECT_LT(line.size(), kShort) << line.substr(0, 200);
      EXPECT_TRUE(std::regex_match(std::string(line.substr(0, 27)), prefix))
          << "a line not in the server's log format: " << line.substr(0, 200);
    }
  }

  // A unary call with `bytes` as the request body, through a generic stub.
  grpc::Status RawCall(const std::string& method, const std::string& bytes) {
    grpc::GenericStub stub(channel_);
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    auto ctx = Context(absl::Seconds(30));
    std::promise<grpc::Status> done;
    stub.UnaryCall(ctx.get(), method, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status s) { done.set_value(s); });
    return done.get_future().get();
  }

  static ServerProcess* process_;
  static int port_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ScoringService::Stub> scoring_;
  std::unique_ptr<v1::ModelService::Stub> models_;
};

ServerProcess* ServerInputTest::process_ = nullptr;
int ServerInputTest::port_ = 0;

v1::ScoreRequest OneAccount() {
  Account a;
  a.id = "acme";
  a.metrics["dau_mau"] = 0.4;
  return MapRequest({a});
}

TEST_F(ServerInputTest, HugeModelNameIsNotFoundWithAShortMessage) {
  v1::ScoreRequest request = OneAccount();
  request.set_model(Huge('m'));
  v1::ScoreResponse response;
  grpc::Status s = scoring_->Score(Context().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_THAT(s.error_message(),
              AllOf(StartsWith(absl::StrCat("unknown model '", Cut('m'), "'")),
                    HasSubstr("; models: "), SizeIs(Lt(kShort))));

  v1::GetModelRequest get;
  get.set_name(Huge('m'));
  v1::GetModelResponse model;
  s = models_->GetModel(Context().get(), get, &model);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_THAT(s.error_message(), SizeIs(Lt(kShort)));
  ExpectLogShortAndOurs();
}

TEST_F(ServerInputTest, HugeVersionOrLabelIsNotFoundWithAShortMessage) {
  for (char c : {'9', 'l'}) {  // digits overflow a version; letters a label
    v1::GetModelRequest get;
    get.set_name("default");
    get.set_version(Huge(c));
    v1::GetModelResponse model;
    grpc::Status s = models_->GetModel(Context().get(), get, &model);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
    EXPECT_THAT(s.error_message(),
                AllOf(StartsWith(absl::StrCat(
                          "model 'default' has no version or label '", Cut(c),
                          "'; labels: ")),
                      SizeIs(Lt(kShort))));

    v1::ScoreRequest request = OneAccount();
    request.set_version(Huge(c));
    v1::ScoreResponse response;
    s = scoring_->Score(Context().get(), request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
    EXPECT_THAT(s.error_message(), SizeIs(Lt(kShort)));
  }
  ExpectLogShortAndOurs();
}

TEST_F(ServerInputTest, HugeShadowCandidateIsNotFoundWithAShortMessage) {
  v1::ScoreRequest request = OneAccount();
  request.mutable_shadow()->set_model(Huge('s'));
  v1::ScoreResponse response;
  grpc::Status s = scoring_->Score(Context().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_THAT(s.error_message(),
              AllOf(StartsWith(absl::StrCat("shadow candidate: unknown model '",
                                            Cut('s'), "'")),
                    SizeIs(Lt(kShort))));

  request.mutable_shadow()->set_model("default");
  request.mutable_shadow()->set_version(Huge('v'));
  s = scoring_->Score(Context().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_THAT(s.error_message(),
              AllOf(StartsWith(absl::StrCat(
                        "shadow candidate: model 'default' has no version or "
                        "label '",
                        Cut('v'), "'")),
                    SizeIs(Lt(kShort))));
  ExpectLogShortAndOurs();
}

TEST_F(ServerInputTest, HugeColumnNameIsEchoedShort) {
  v1::ScoreRequest request;
  request.mutable_columns()->add_ids("acme");
  v1::NumberColumn* column = request.mutable_columns()->add_metrics();
  column->set_name(Huge('c'));
  column->add_values(1);
  column->add_values(2);
  v1::ScoreResponse response;
  grpc::Status s = scoring_->Score(Context().get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << s.error_message();
  EXPECT_EQ(s.error_message(),
            absl::StrCat("columns: metrics column '", Cut('c'),
                         "' has 2 entries; expected 1 (one per id)"));
  ExpectLogShortAndOurs();
}

TEST_F(ServerInputTest, HugeValidateModelFileNameIsEchoedShort) {
  v1::ValidateModelRequest request;
  request.set_file_name(Huge('f'));
  request.set_yaml("name: [\n");
  v1::ValidateModelResponse response;
  grpc::Status s = models_->ValidateModel(Context().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(response.valid());
  ASSERT_GT(response.diagnostics_size(), 0);
  for (const v1::Diagnostic& d : response.diagnostics()) {
    EXPECT_EQ(d.file(), Cut('f'));
    EXPECT_THAT(d.text(),
                AllOf(StartsWith(Cut('f') + ":"), SizeIs(Lt(kShort))));
  }
}

// Bodies that are not valid protobuf, for any message, and the problem
// each one is reported with.
struct Malformed {
  std::string name;
  std::string bytes;
  std::string problem;
};

std::vector<Malformed> MalformedBodies() {
  return {
      {"truncated varint", "\x78\xff",
       "(field 15) at byte 0: varint cut short or over 10 bytes"},
      {"invalid wire type", "\x7f", "at byte 0: invalid wire type 7"},
      {"end-group without a group", "\x7c",
       "at byte 0: end-group tag without a group"},
      {"huge length prefix",
       "\x7a\xff\xff\xff\xff\x07"
       "abc",
       "at byte 0: length prefix 2147483647 exceeds the 3 bytes left"},
      {"empty tag", std::string("\x00\x01", 2),
       "at byte 0: invalid field tag (a field number 0, or a varint cut "
       "short)"},
  };
}

struct Method {
  std::string path;
  std::string request_type;
  bool string_field_1;  // field 1 is a string (for the UTF-8 case)
};

const Method kMethods[] = {
    {"/healthscore.v1.ScoringService/Score", "healthscore.v1.ScoreRequest",
     true},
    {"/healthscore.v1.ModelService/ListModels",
     "healthscore.v1.ListModelsRequest", false},
    {"/healthscore.v1.ModelService/GetModel", "healthscore.v1.GetModelRequest",
     true},
    {"/healthscore.v1.ModelService/ValidateModel",
     "healthscore.v1.ValidateModelRequest", true},
    {"/healthscore.v1.ModelService/Reload", "healthscore.v1.ReloadRequest",
     false},
};

TEST_F(ServerInputTest, MalformedBodiesAreInvalidArgumentOnEveryMethod) {
  for (const Method& m : kMethods) {
    for (const Malformed& body : MalformedBodies()) {
      SCOPED_TRACE(absl::StrCat(m.path, ": ", body.name));
      grpc::Status s = RawCall(m.path, body.bytes);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << s.error_message();
      EXPECT_THAT(s.error_message(),
                  AllOf(StartsWith(absl::StrCat("request body is not a valid ",
                                                m.request_type, ": ")),
                        EndsWith(body.problem)));
    }
    if (m.string_field_1) {
      SCOPED_TRACE(absl::StrCat(m.path, ": invalid UTF-8"));
      grpc::Status s = RawCall(m.path, "\x0a\x02\xff\xfe");
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << s.error_message();
      EXPECT_THAT(s.error_message(),
                  AllOf(StartsWith(absl::StrCat("request body is not a valid ",
                                                m.request_type, ": ")),
                        HasSubstr(" at byte 0: invalid UTF-8 in a string "
                                  "field")));
    }
  }
  // The server is unharmed.
  v1::ScoreResponse response;
  grpc::Status s = scoring_->Score(Context().get(), OneAccount(), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.results_size(), 1);
  // libprotobuf's own complaints (invalid UTF-8) did not reach stderr raw.
  ExpectLogShortAndOurs();
}

// Map-form accounts are parsed chunk by chunk while the request is scored
// (server/score_request.h): a bad account in a later chunk fails the call
// with the message a whole-body parse gives, naming the account.
TEST_F(ServerInputTest, BadAccountInALaterChunkIsInvalidArgumentNamingIt) {
  v1::ScoreRequest request =
      MapRequest(RandomAccounts(5000, 4, false), "default");
  request.mutable_accounts(4500)->set_id("\xff\xfe");
  grpc::Status s = RawCall("/healthscore.v1.ScoringService/Score",
                           request.SerializePartialAsString());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << s.error_message();
  EXPECT_THAT(s.error_message(),
              AllOf(StartsWith("request body is not a valid "
                               "healthscore.v1.ScoreRequest: "
                               "accounts[4500].id at byte "),
                    HasSubstr(": invalid UTF-8 in a string field")));
  // The server is unharmed.
  v1::ScoreResponse response;
  s = scoring_->Score(Context().get(), OneAccount(), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ExpectLogShortAndOurs();
}

TEST_F(ServerInputTest, MalformedStreamBatchEndsTheStreamWithInvalidArgument) {
  grpc::GenericStub stub(channel_);
  auto ctx = Context(absl::Seconds(30));
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call = stub.PrepareCall(
      ctx.get(), "/healthscore.v1.ScoringService/ScoreStream", &cq);
  ASSERT_NE(call, nullptr);
  // One operation at a time: each waits for its own tag.
  auto wait = [&cq](intptr_t expected) {
    void* tag = nullptr;
    bool ok = false;
    EXPECT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(reinterpret_cast<intptr_t>(tag), expected);
    return ok;
  };
  auto buffer = [](const std::string& bytes) {
    grpc::Slice slice(bytes);
    return grpc::ByteBuffer(&slice, 1);
  };
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(wait(1));
  call->Write(buffer(OneAccount().SerializeAsString()),
              reinterpret_cast<void*>(2));
  ASSERT_TRUE(wait(2));
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(3));
  ASSERT_TRUE(wait(3));
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(reply.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  v1::ScoreResponse first;
  ASSERT_TRUE(first.ParseFromString(bytes));
  EXPECT_EQ(first.results_size(), 1);

  call->Write(buffer("\x0f"), reinterpret_cast<void*>(4));
  wait(4);  // may fail: the server ends the call on reading it
  call->WritesDone(reinterpret_cast<void*>(5));
  wait(5);
  call->Read(&reply, reinterpret_cast<void*>(6));
  EXPECT_FALSE(wait(6));  // no second response
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(7));
  ASSERT_TRUE(wait(7));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_EQ(status.error_message(),
            "batch 2: request body is not a valid healthscore.v1.ScoreRequest: "
            "model at byte 0: invalid wire type 7");
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
  ExpectLogShortAndOurs();
}

// --listen is checked at start: a bad address is a usage error (exit 2)
// that names the flag, never a different port or a late failure.
TEST(ServerListenTest, BadListenAddressesExitTwo) {
  struct Case {
    std::string listen;
    std::string message;
  };
  const Case cases[] = {
      {"127.0.0.1:99999",
       "--listen: port 99999 in '127.0.0.1:99999' is out of range"},
      {"garbage", "--listen: expected HOST:PORT"},
      {"127.0.0.1", "--listen: expected HOST:PORT"},
      {"[::1:50051", "--listen: "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.listen);
    ServerProcess p;
    ASSERT_TRUE(p.Spawn(ScratchDir("listen"),
                        {"--listen", c.listen, "--models", TestModelsDir()}));
    // A server that took the address would run until killed.
    ASSERT_TRUE(WaitFor([&p] { return p.Exited(); }, absl::Seconds(30)))
        << "still running: " << p.err();
    EXPECT_EQ(p.Wait(), 2) << p.err();
    EXPECT_THAT(p.err(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace healthscore::server
