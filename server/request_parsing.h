// Request parsing for the callback services: a request body that is not a
// valid message is answered INVALID_ARGUMENT saying what failed to parse.
//
//   request body is not a valid healthscore.v1.ScoreRequest:
//       accounts[2].id at byte 57: invalid UTF-8 in a string field
//
// Why the services parse their own requests: gRPC 1.51's callback handlers
// answer a request that fails to deserialize with UNIMPLEMENTED and an empty
// message (CallbackUnaryHandler::RunHandler in
// grpcpp/impl/codegen/server_callback_handlers.h), and a ScoreStream batch
// that fails to deserialize reads as the client's end of the stream. So a
// service derives from ParsedRequestService and, in its constructor,
// routes each method through a handler that receives the raw bytes:
//
//   class ModelService final
//       : public ParsedRequestService<v1::ModelService::CallbackService> {
//     explicit ModelService(Runtime* runtime)
//         : ParsedRequestService(v1::ModelService::service_full_name(),
//                                runtime) {
//       ParseRequestsOf("GetModel", this, &ModelService::GetModel);
//     }
//     grpc::ServerUnaryReactor* GetModel(...) override;  // unchanged
//   };
//
// A unary handler keeps its typed signature: it is called only with a
// request that parsed, on the call's protobuf arena (request and response,
// freed in one step when the call ends). A streaming handler reads
// grpc::ByteBuffer messages and parses each with ParseRequestBody. A unary
// handler whose messages would cost many times their size (Score) is
// registered with ReadRawUnaryRequestsOf instead: it parses the body
// itself and answers with serialised bytes.
//
// Thread-safety: ParseRequestBody and DescribeWireFormatError are pure;
// the service methods are called by gRPC concurrently, as any handler.

#ifndef HEALTHSCORE_SERVER_REQUEST_PARSING_H_
#define HEALTHSCORE_SERVER_REQUEST_PARSING_H_

#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/codegen/server_callback_handlers.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/message_allocator.h"
#include "server/runtime.h"

namespace healthscore::server {

// Parses `body` into `message`, replacing its content.
// InvalidArgument "request body is not a valid <type>: <why>" where <why>
// is DescribeWireFormatError's finding, or what libprotobuf said; libprotobuf
// logs nothing meanwhile (its messages go into <why>).
absl::Status ParseRequestBody(const grpc::ByteBuffer& body,
                              google::protobuf::Message* message);

// The first reason `bytes` is not a valid message of `type` in the wire
// format, as "<field path> at byte <offset>: <problem>", e.g.
// "accounts[2].metrics at byte 91: length prefix 2147483647 exceeds the 12
// bytes left"; empty when it finds none. Checks tags, wire types, varints,
// lengths, nesting (at most kMaxMessageNesting deep) and the UTF-8 of string
// fields; an unknown field is skipped as the parser skips it.
std::string DescribeWireFormatError(const google::protobuf::Descriptor& type,
                                    absl::string_view bytes);

// `body` as one string (a copy).
std::string FlattenBody(const grpc::ByteBuffer& body);

// ParseRequestBody's error for `bytes`, which failed to parse as a `type`:
// InvalidArgument "request body is not a valid <type>: <why>", <why> from
// DescribeWireFormatError or else the first of `library_messages` (what
// libprotobuf said while parsing, one per line).
absl::Status InvalidBodyError(const google::protobuf::Descriptor& type,
                              absl::string_view bytes,
                              absl::string_view library_messages);

// As deep as libprotobuf parses by default.
inline constexpr int kMaxMessageNesting = 100;

// Hands the memory a call or job just freed (`bytes`) back to the system
// (glibc's malloc_trim): glibc keeps freed memory in its per-thread arenas
// and raises its mmap threshold after freeing one large block, so without
// this one large request leaves the process holding its peak.
// 16 MiB or more: trimmed before this returns. In any case counted, and
// once 1 MiB or more is pending a background thread trims when calls pause
// for 200 ms, or after 5 s of steady traffic (which also returns what other
// threads free after the call, and the arena blocks CallArenaOptions
// keeps): a trim unmaps the pages the next call faults back in, and trimming
// after every 1 MiB call cost a third of the server's CPU at 1,024-account
// map-form batches (bench/README.md). Cheap otherwise (an atomic add).
// Thread-safe.
void ReturnMemoryAfterLargeWork(size_t bytes);

// Hands freed memory back to the system whatever the size: for work whose
// input size does not bound what it allocated, e.g. compiling a client's
// model (aliases and deep nesting expand a few kilobytes into many
// megabytes), run on threads whose arenas would keep that peak; the
// background thread trims again after the pause. Costs a walk over
// malloc's arenas (about a millisecond): for rare calls only.
// Thread-safe.
void ReturnFreedMemory();

// Arena options for the messages of one call: blocks of 8 KiB to 1 MiB,
// kept (up to 64 MiB) for the next call's arena rather than freed, and
// freed by the next trim (ReturnMemoryAfterLargeWork).
google::protobuf::ArenaOptions CallArenaOptions();

// Counts a request that did not parse as rejected (reason=invalid) and
// logs it (rate-limited), as every other rejected request.
void LogUnparsedRequest(Runtime* runtime, absl::string_view rpc,
                        const grpc::CallbackServerContext* context,
                        const absl::Status& status);

namespace request_parsing_internal {

// The index of `method` in `service` (gRPC numbers methods in the order of
// the .proto file, as the descriptor does). Aborts, naming them, when the
// method does not exist or its types or streaming differ: a programming
// error, found at start-up.
int MethodIndex(absl::string_view service, absl::string_view method,
                const google::protobuf::Descriptor* request,
                const google::protobuf::Descriptor* response,
                bool client_streaming, bool server_streaming);

// One unary call's messages: the raw body gRPC fills, and the parsed
// request and the response on one arena.
template <class Request, class Response>
class Messages final : public grpc::MessageHolder<grpc::ByteBuffer, Response> {
 public:
  Messages() : arena_(CallArenaOptions()) {
    body_.owner = this;
    request_ = google::protobuf::Arena::CreateMessage<Request>(&arena_);
    this->set_request(&body_.bytes);
    if constexpr (std::is_same_v<Response, grpc::ByteBuffer>) {
      this->set_response(&raw_response_);
    } else {
      this->set_response(
          google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
  }

  // The holder whose body `body` is.
  static Messages* Of(const grpc::ByteBuffer* body) {
    // `bytes` is the first member of a standard-layout struct, so the two
    // addresses are interconvertible.
    return reinterpret_cast<const Body*>(body)->owner;
  }

  Request* parsed() { return request_; }
  // The raw body, until ClearBody.
  const grpc::ByteBuffer& body() const { return body_.bytes; }
  // The arena of the parsed request and the response; lives until the
  // call ends.
  google::protobuf::Arena* arena() { return &arena_; }
  // Frees the parsed request and everything else on arena() (their
  // destructors run); parsed() is null afterwards.
  void FreeArena() {
    request_ = nullptr;
    arena_.Reset();
  }
  // Frees the raw bytes once they are parsed.
  void ClearBody() {
    body_bytes_ = body_.bytes.Length();
    body_.bytes.Clear();
  }
  void Release() override {
    // The parsed strings live off the arena, as large as the body they came
    // from; gRPC's buffers may be freed only now, after the answer.
    const size_t used = arena_.SpaceAllocated() +
                        std::max(body_bytes_, body_.bytes.Length()) +
                        raw_response_.Length();
    delete this;
    ReturnMemoryAfterLargeWork(used);
  }

 private:
  struct Body {
    grpc::ByteBuffer bytes;
    Messages* owner;
  };
  static_assert(std::is_standard_layout<Body>::value,
                "Of() needs Body to be standard-layout");

  Body body_;
  size_t body_bytes_ = 0;  // the body's size when ClearBody freed it
  google::protobuf::Arena arena_;
  Request* request_;
  // The response when the handler serialises it itself (Response is
  // grpc::ByteBuffer).
  grpc::ByteBuffer raw_response_;
};

template <class Request, class Response>
class MessagesAllocator final
    : public grpc::MessageAllocator<grpc::ByteBuffer, Response> {
 public:
  grpc::MessageHolder<grpc::ByteBuffer, Response>* AllocateMessages() override {
    return new Messages<Request, Response>;
  }
};

}  // namespace request_parsing_internal

// One unary call's messages, for a handler that parses its request itself
// (ParsedRequestService::ReadRawUnaryRequestsOf).
template <class Request, class Response>
using UnaryCall = request_parsing_internal::Messages<Request, Response>;

// `Generated` is a generated `<Service>::CallbackService`.
template <class Generated>
class ParsedRequestService : public Generated {
 protected:
  // `service` is the full name, e.g. "healthscore.v1.ModelService";
  // `runtime` counts and logs requests that do not parse and must outlive
  // the service.
  ParsedRequestService(absl::string_view service, Runtime* runtime)
      : service_(service), runtime_(runtime) {}

  // Serves unary `method` with `handler` (a member of `self`, usually the
  // override of the generated typed method), called only for a request
  // that parsed; any other is answered INVALID_ARGUMENT.
  template <class Self, class Request, class Response>
  void ParseRequestsOf(
      absl::string_view method, Self* self,
      grpc::ServerUnaryReactor* (Self::*handler)(grpc::CallbackServerContext*,
                                                 const Request*, Response*)) {
    namespace internal = request_parsing_internal;
    const int index = internal::MethodIndex(
        service_, method, Request::descriptor(), Response::descriptor(),
        /*client_streaming=*/false, /*server_streaming=*/false);
    auto allocator =
        std::make_shared<internal::MessagesAllocator<Request, Response>>();
    Runtime* runtime = runtime_;
    std::string rpc(method);
    auto* callback_handler =
        new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, Response>(
            [self, handler, runtime, rpc](
                grpc::CallbackServerContext* context,
                const grpc::ByteBuffer* body,
                Response* response) -> grpc::ServerUnaryReactor* {
              auto* messages = internal::Messages<Request, Response>::Of(body);
              const absl::Status parsed =
                  ParseRequestBody(*body, messages->parsed());
              if (!parsed.ok()) {
                LogUnparsedRequest(runtime, rpc, context, parsed);
                grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
                reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                             std::string(parsed.message())));
                return reactor;
              }
              messages->ClearBody();
              return (self->*handler)(context, messages->parsed(), response);
            });
    callback_handler->SetMessageAllocator(allocator.get());
    allocators_.push_back(std::move(allocator));
    this->MarkMethodRawCallback(index, callback_handler);
  }

  // Serves unary `method` (Request to Response) with `handler`, which
  // parses the request itself from `call->body()` (into `call->parsed()`,
  // or part of it), frees the body with `call->ClearBody()` once it no
  // longer needs it, and writes the response serialised: for a call whose
  // messages would cost many times their size (Score, score_request.h and
  // score_job.h). `call` and `response` live until the call ends.
  //   ReadRawUnaryRequestsOf<v1::ScoreRequest, v1::ScoreResponse>(
  //       "Score", this, &ScoringService::ScoreCall);
  template <class Request, class Response, class Self>
  void ReadRawUnaryRequestsOf(
      absl::string_view method, Self* self,
      grpc::ServerUnaryReactor* (Self::*handler)(
          grpc::CallbackServerContext*,
          UnaryCall<Request, grpc::ByteBuffer>*, grpc::ByteBuffer*)) {
    namespace internal = request_parsing_internal;
    using Call = internal::Messages<Request, grpc::ByteBuffer>;
    const int index = internal::MethodIndex(
        service_, method, Request::descriptor(), Response::descriptor(),
        /*client_streaming=*/false, /*server_streaming=*/false);
    auto allocator = std::make_shared<
        internal::MessagesAllocator<Request, grpc::ByteBuffer>>();
    auto* callback_handler = new grpc::internal::CallbackUnaryHandler<
        grpc::ByteBuffer, grpc::ByteBuffer>(
        [self, handler](grpc::CallbackServerContext* context,
                        const grpc::ByteBuffer* body,
                        grpc::ByteBuffer* response)
            -> grpc::ServerUnaryReactor* {
          return (self->*handler)(context, Call::Of(body), response);
        });
    callback_handler->SetMessageAllocator(allocator.get());
    allocators_.push_back(std::move(allocator));
    this->MarkMethodRawCallback(index, callback_handler);
  }

  // Serves bidirectional-streaming `method` (requests of type Request,
  // responses of type Response) with `handler`, whose reactor reads each
  // request as bytes, parses it itself (ParseRequestBody or otherwise) and
  // writes each response serialised.
  //   ReadRawRequestsOf<v1::ScoreRequest, v1::ScoreResponse>(
  //       "ScoreStream", this, &ScoringService::OpenStream);
  template <class Request, class Response, class Self>
  void ReadRawRequestsOf(
      absl::string_view method, Self* self,
      grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* (
          Self::*handler)(grpc::CallbackServerContext*)) {
    const int index = request_parsing_internal::MethodIndex(
        service_, method, Request::descriptor(), Response::descriptor(),
        /*client_streaming=*/true, /*server_streaming=*/true);
    this->MarkMethodRawCallback(
        index, new grpc::internal::CallbackBidiHandler<grpc::ByteBuffer,
                                                       grpc::ByteBuffer>(
            [self, handler](grpc::CallbackServerContext* context) {
              return (self->*handler)(context);
            }));
  }

 private:
  const std::string service_;
  Runtime* const runtime_;
  // The handlers (owned by grpc::Service) point at these.
  std::vector<std::shared_ptr<void>> allocators_;
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_REQUEST_PARSING_H_
