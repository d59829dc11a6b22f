// Test support: a gRPC server reflection client over a real channel, for
// both grpc.reflection.v1 and grpc.reflection.v1alpha. Header-only; test
// code only.
//
// The two versions' messages are the same on the wire (same fields, same
// numbers; only the package differs), so one pair of message types, the
// v1alpha ones libgrpc++_reflection registers, serves both: the version
// only changes the method called.

#ifndef HEALTHSCORE_SERVER_TESTING_REFLECTION_CLIENT_H_
#define HEALTHSCORE_SERVER_TESTING_REFLECTION_CLIENT_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace healthscore::server::testing {

class ReflectionClient {
 public:
  // `version` is "v1" or "v1alpha".
  ReflectionClient(std::shared_ptr<grpc::Channel> channel,
                   std::string version)
      : stub_(std::move(channel)),
        method_(absl::StrCat("/grpc.reflection.", version,
                             ".ServerReflection/ServerReflectionInfo")) {
    const auto* pool = google::protobuf::DescriptorPool::generated_pool();
    request_type_ = pool->FindMessageTypeByName(
        "grpc.reflection.v1alpha.ServerReflectionRequest");
    response_type_ = pool->FindMessageTypeByName(
        "grpc.reflection.v1alpha.ServerReflectionResponse");
  }

  // The names of the services the server lists.
  absl::StatusOr<std::vector<std::string>> ListServices() {
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> r =
        Ask("list_services", "");
    if (!r.ok()) return r.status();
    const google::protobuf::Message& list =
        Field(**r, "list_services_response");
    std::vector<std::string> names;
    const auto* service = list.GetDescriptor()->FindFieldByName("service");
    for (int i = 0; i < list.GetReflection()->FieldSize(list, service); ++i) {
      const google::protobuf::Message& s =
          list.GetReflection()->GetRepeatedMessage(list, service, i);
      names.push_back(s.GetReflection()->GetString(
          s, s.GetDescriptor()->FindFieldByName("name")));
    }
    return names;
  }

  // The file descriptors the server returns for file_containing_symbol
  // `symbol` (the file first, then what it imports); NotFound, with the
  // server's message, when it answers with an error_response.
  absl::StatusOr<std::vector<google::protobuf::FileDescriptorProto>>
  FileContainingSymbol(const std::string& symbol) {
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> r =
        Ask("file_containing_symbol", symbol);
    if (!r.ok()) return r.status();
    const auto* refl = (*r)->GetReflection();
    const auto* error =
        (*r)->GetDescriptor()->FindFieldByName("error_response");
    if (refl->HasField(**r, error)) {
      const google::protobuf::Message& e = refl->GetMessage(**r, error);
      return absl::NotFoundError(e.GetReflection()->GetString(
          e, e.GetDescriptor()->FindFieldByName("error_message")));
    }
    const google::protobuf::Message& fd =
        Field(**r, "file_descriptor_response");
    const auto* bytes =
        fd.GetDescriptor()->FindFieldByName("file_descriptor_proto");
    std::vector<google::protobuf::FileDescriptorProto> files;
    for (int i = 0; i < fd.GetReflection()->FieldSize(fd, bytes); ++i) {
      google::protobuf::FileDescriptorProto proto;
      if (!proto.ParseFromString(
              fd.GetReflection()->GetRepeatedString(fd, bytes, i))) {
        return absl::DataLossError("unparsable file descriptor");
      }
      files.push_back(std::move(proto));
    }
    return files;
  }

 private:
  static const google::protobuf::Message& Field(
      const google::protobuf::Message& m, const std::string& name) {
    return m.GetReflection()->GetMessage(
        m, m.GetDescriptor()->FindFieldByName(name));
  }

  // One request/response exchange on a fresh stream, with a deadline.
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Ask(
      const std::string& field, const std::string& value) {
    if (request_type_ == nullptr || response_type_ == nullptr) {
      return absl::FailedPreconditionError("no reflection descriptors");
    }
    std::unique_ptr<google::protobuf::Message> request(
        factory_.GetPrototype(request_type_)->New());
    request->GetReflection()->SetString(
        request.get(), request_type_->FindFieldByName(field), value);
    const std::string bytes = request->SerializeAsString();

    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    grpc::CompletionQueue cq;
    auto call = stub_.PrepareCall(&ctx, method_, &cq);
    void* tag = nullptr;
    bool ok = false;
    auto step = [&](intptr_t want) {
      return cq.Next(&tag, &ok) && tag == reinterpret_cast<void*>(want) && ok;
    };
    grpc::ByteBuffer in;
    bool exchanged = false;
    call->StartCall(reinterpret_cast<void*>(1));
    if (step(1)) {
      grpc::Slice slice(bytes);
      grpc::ByteBuffer out(&slice, 1);
      call->Write(out, reinterpret_cast<void*>(2));
      if (step(2)) {
        call->WritesDone(reinterpret_cast<void*>(3));
        if (step(3)) {
          call->Read(&in, reinterpret_cast<void*>(4));
          exchanged = step(4);
        }
      }
    }
    grpc::Status status;
    call->Finish(&status, reinterpret_cast<void*>(5));
    while (cq.Next(&tag, &ok) && tag != reinterpret_cast<void*>(5)) {
    }
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    if (!exchanged) return absl::UnavailableError("no response");
    std::vector<grpc::Slice> slices;
    if (!in.Dump(&slices).ok()) return absl::DataLossError("bad response");
    std::string data;
    for (const grpc::Slice& s : slices) {
      data.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    std::unique_ptr<google::protobuf::Message> response(
        factory_.GetPrototype(response_type_)->New());
    if (!response->ParseFromString(data)) {
      return absl::DataLossError("unparsable response");
    }
    return response;
  }

  grpc::GenericStub stub_;
  const std::string method_;
  const google::protobuf::Descriptor* request_type_ = nullptr;
  const google::protobuf::Descriptor* response_type_ = nullptr;
  google::protobuf::DynamicMessageFactory factory_;
};

}  // namespace healthscore::server::testing

#endif  // HEALTHSCORE_SERVER_TESTING_REFLECTION_CLIENT_H_
