// ScoreRequest parsing that keeps the map-form accounts serialised until
// they are scored (issue 17).
//
// A map-form account parsed into an AccountSnapshot costs about nine times
// its serialised size (protobuf maps: a hash table and a node per entry),
// so parsing a 20 MB request whole made the server hold about 185 MB
// before scoring began. ParseScoreRequest parses every field of the
// request but `accounts` and keeps the accounts' bytes (one flat copy of
// the body, whose gRPC buffers the caller then frees); the score job
// parses each chunk's accounts (options.rows_per_task of them) into its
// thread's reusable messages just before it reads them into its
// AccountTable. The columnar form is parsed whole as before: its parsed
// columns are about the size of its bytes.
//
// An account that is not a valid AccountSnapshot is found when its chunk
// is parsed; the call then fails with the INVALID_ARGUMENT message that
// parsing the whole request would have given (ParseRequestBody).
//
// Thread-safety: a DeferredAccounts is written by ParseScoreRequest and
// Clear only; Parse may be called from many threads at once.

#ifndef HEALTHSCORE_SERVER_SCORE_REQUEST_H_
#define HEALTHSCORE_SERVER_SCORE_REQUEST_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "engine/eval/account_table.h"
#include "grpcpp/support/byte_buffer.h"
#include "healthscore/v1/account.pb.h"
#include "healthscore/v1/scoring.pb.h"

namespace healthscore::server {

// The map-form accounts of one ScoreRequest, still serialised.
class DeferredAccounts {
 public:
  size_t size() const { return ranges_.size(); }
  // The bytes held (the request body), for accounting.
  size_t bytes() const { return body_.size(); }

  // Parses accounts [begin, end) into `*out`, replacing its content (its
  // cleared messages are reused). `end` <= size(). InvalidArgument
  // "request body is not a valid healthscore.v1.ScoreRequest: <why>", as
  // ParseRequestBody says it for the whole body.
  absl::Status Parse(
      size_t begin, size_t end,
      google::protobuf::RepeatedPtrField<v1::AccountSnapshot>* out) const;

  // Reads accounts [begin, end) straight into `builder`'s table, as
  // AddAccountRows would after Parse, without building messages. False
  // when an account is not read that way (AddAccountRowFromWire): the
  // caller then starts the table over and uses Parse, which also says
  // what is wrong. `end` <= size().
  bool AddRows(size_t begin, size_t end,
               engine::eval::TableBuilder* builder) const;

  // Frees the bytes; size() becomes 0.
  void Clear();

 private:
  friend absl::Status ParseScoreRequest(const grpc::ByteBuffer& body,
                                        v1::ScoreRequest* head,
                                        DeferredAccounts* accounts);
  struct Range {
    uint32_t offset;
    uint32_t size;
  };
  std::string body_;  // the whole request body, when it has accounts
  std::vector<Range> ranges_;  // each account's bytes in body_
};

// Parses `body` into `*head`, every field but `accounts`, whose bytes go to
// `*accounts` (both replaced). The caller may free `body` afterwards.
// Errors: those of ParseRequestBody for the whole body, with the same
// messages.
absl::Status ParseScoreRequest(const grpc::ByteBuffer& body,
                               v1::ScoreRequest* head,
                               DeferredAccounts* accounts);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_SCORE_REQUEST_H_
