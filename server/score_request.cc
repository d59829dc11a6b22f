#include "server/score_request.h"

#include <string_view>
#include <utility>
#include <vector>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "server/convert.h"
#include "server/log.h"
#include "server/request_parsing.h"

namespace healthscore::server {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

struct Span {
  uint32_t offset;
  uint32_t size;
};

// Where the top-level fields of `body` are: each `accounts` value's bytes,
// and every other field whole (tag included). False when the top level is
// not well-formed; ParseRequestBody then says why.
bool FindFields(const grpc::ByteBuffer& body, std::vector<Span>* accounts,
                std::vector<Span>* others) {
  grpc::ByteBuffer shared(body);  // the reader wants it mutable
  grpc::ProtoBufferReader reader(&shared);
  if (!reader.status().ok()) return false;
  CodedInputStream in(&reader);
  in.PushLimit(static_cast<int>(body.Length()));
  while (!in.ExpectAtEnd()) {
    const int start = in.CurrentPosition();
    const uint32_t tag = in.ReadTagNoLastTag();
    if (tag == 0) return false;
    if (WireFormatLite::GetTagFieldNumber(tag) ==
            v1::ScoreRequest::kAccountsFieldNumber &&
        WireFormatLite::GetTagWireType(tag) ==
            WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t size = 0;
      if (!in.ReadVarint32(&size)) return false;
      const int at = in.CurrentPosition();
      if (!in.Skip(static_cast<int>(size))) return false;
      accounts->push_back(Span{static_cast<uint32_t>(at), size});
    } else {
      if (!WireFormatLite::SkipField(&in, tag)) return false;
      others->push_back(Span{static_cast<uint32_t>(start),
                             static_cast<uint32_t>(in.CurrentPosition() -
                                                   start)});
    }
  }
  return true;
}

}  // namespace

absl::Status DeferredAccounts::Parse(
    size_t begin, size_t end,
    google::protobuf::RepeatedPtrField<v1::AccountSnapshot>* out) const {
  out->Clear();
  std::string library_messages;
  CaptureLibraryMessages capture(&library_messages);
  for (size_t i = begin; i < end; ++i) {
    const Range& r = ranges_[i];
    if (out->Add()->ParseFromArray(body_.data() + r.offset,
                                   static_cast<int>(r.size))) {
      continue;
    }
    // The message a whole-body parse gives, with the position in the body.
    return InvalidBodyError(*v1::ScoreRequest::descriptor(), body_,
                            library_messages);
  }
  return absl::OkStatus();
}

bool DeferredAccounts::AddRows(size_t begin, size_t end,
                               engine::eval::TableBuilder* builder) const {
  for (size_t i = begin; i < end; ++i) {
    const Range& r = ranges_[i];
    if (!AddAccountRowFromWire(std::string_view(body_).substr(r.offset, r.size),
                               builder)) {
      return false;
    }
  }
  return true;
}

void DeferredAccounts::Clear() {
  std::string().swap(body_);
  std::vector<Range>().swap(ranges_);
}

absl::Status ParseScoreRequest(const grpc::ByteBuffer& body,
                               v1::ScoreRequest* head,
                               DeferredAccounts* accounts) {
  accounts->Clear();
  std::vector<Span> account_spans, others;
  if (!body.Valid() || !FindFields(body, &account_spans, &others) ||
      account_spans.empty()) {
    // No map-form accounts (or not well-formed): parsed whole.
    return ParseRequestBody(body, head);
  }
  accounts->body_ = FlattenBody(body);
  std::string rest;
  for (const Span& s : others) rest.append(accounts->body_, s.offset, s.size);
  bool parsed = false;
  {
    std::string library_messages;
    CaptureLibraryMessages capture(&library_messages);
    parsed = head->ParseFromString(rest);
  }
  if (!parsed) {
    // The message, with positions in the whole body.
    accounts->Clear();
    return ParseRequestBody(body, head);
  }
  accounts->ranges_.reserve(account_spans.size());
  for (const Span& s : account_spans) {
    accounts->ranges_.push_back(DeferredAccounts::Range{s.offset, s.size});
  }
  return absl::OkStatus();
}

}  // namespace healthscore::server
