#include "server/request_parsing.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <map>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/common/display.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/stubs/common.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "server/log.h"

namespace healthscore::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// Reads one message's fields from `in` up to its current limit; the first
// problem, or empty. `path` names the message ("" at the top).
class WireWalker {
 public:
  explicit WireWalker(CodedInputStream* in) : in_(in) {}

  std::string Walk(const Descriptor* type, const std::string& path, int depth) {
    std::map<int, int> seen;  // occurrences of each repeated field so far
    while (!in_->ExpectAtEnd()) {
      const int offset = in_->CurrentPosition();
      const uint32_t tag = in_->ReadTagNoLastTag();
      if (tag == 0) {
        return Problem(path, offset,
                       "invalid field tag (a field number 0, or a varint cut "
                       "short)");
      }
      const int number = WireFormatLite::GetTagFieldNumber(tag);
      const WireFormatLite::WireType wire = WireFormatLite::GetTagWireType(tag);
      const FieldDescriptor* field =
          type == nullptr ? nullptr : type->FindFieldByNumber(number);
      const std::string where = FieldPath(path, field, number, &seen);
      switch (wire) {
        case WireFormatLite::WIRETYPE_VARINT: {
          uint64_t value = 0;
          if (!in_->ReadVarint64(&value)) {
            return Problem(where, offset, "varint cut short or over 10 bytes");
          }
          break;
        }
        case WireFormatLite::WIRETYPE_FIXED64: {
          uint64_t value = 0;
          if (!in_->ReadLittleEndian64(&value)) {
            return Problem(where, offset, "64-bit value cut short");
          }
          break;
        }
        case WireFormatLite::WIRETYPE_FIXED32: {
          uint32_t value = 0;
          if (!in_->ReadLittleEndian32(&value)) {
            return Problem(where, offset, "32-bit value cut short");
          }
          break;
        }
        case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
          std::string problem = LengthDelimited(field, where, offset, depth);
          if (!problem.empty()) return problem;
          break;
        }
        case WireFormatLite::WIRETYPE_START_GROUP:
          // Groups are not proto3, but the parser skips unknown ones.
          if (!WireFormatLite::SkipField(in_, tag)) {
            return Problem(where, offset, "malformed group");
          }
          break;
        case WireFormatLite::WIRETYPE_END_GROUP:
          return Problem(where, offset, "end-group tag without a group");
        default:
          return Problem(where, offset,
                         absl::StrCat("invalid wire type ", wire));
      }
    }
    return "";
  }

 private:
  static std::string Problem(absl::string_view where, int offset,
                             absl::string_view problem) {
    // Deep nesting makes long paths: the end says where.
    constexpr size_t kMaxPath = 200;
    std::string shown;
    if (where.size() > kMaxPath) {
      absl::string_view tail = where.substr(where.size() - kMaxPath);
      tail = tail.substr(std::min(tail.size(), tail.find('.') + 1));
      shown = absl::StrCat("…", tail);
    } else {
      shown = std::string(where);
    }
    return absl::StrCat(shown, shown.empty() ? "" : " ", "at byte ", offset,
                        ": ", problem);
  }

  static std::string FieldPath(const std::string& parent,
                               const FieldDescriptor* field, int number,
                               std::map<int, int>* seen) {
    std::string name =
        field == nullptr ? absl::StrCat("(field ", number, ")") : field->name();
    if (field != nullptr && field->is_repeated() && !field->is_map()) {
      absl::StrAppend(&name, "[", (*seen)[number]++, "]");
    }
    return parent.empty() ? name : absl::StrCat(parent, ".", name);
  }

  std::string LengthDelimited(const FieldDescriptor* field,
                              const std::string& where, int offset, int depth) {
    uint32_t length = 0;
    if (!in_->ReadVarint32(&length)) {
      return Problem(where, offset, "length prefix cut short");
    }
    const int left = in_->BytesUntilLimit();
    if (left >= 0 && length > static_cast<uint32_t>(left)) {
      return Problem(where, offset,
                     absl::StrCat("length prefix ", length, " exceeds the ",
                                  left, " bytes left"));
    }
    const int size = static_cast<int>(length);
    if (field != nullptr && field->type() == FieldDescriptor::TYPE_MESSAGE) {
      if (depth >= kMaxMessageNesting) {
        return Problem(
            where, offset,
            absl::StrCat("messages nested deeper than ", kMaxMessageNesting));
      }
      const CodedInputStream::Limit limit = in_->PushLimit(size);
      std::string problem = Walk(field->message_type(), where, depth + 1);
      if (!problem.empty()) return problem;
      in_->PopLimit(limit);
      return "";
    }
    if (field != nullptr && field->type() == FieldDescriptor::TYPE_STRING &&
        field->file()->syntax() == FileDescriptor::SYNTAX_PROTO3) {
      std::string text;
      if (!in_->ReadString(&text, size)) {
        return Problem(where, offset, "string cut short");
      }
      if (!google::protobuf::internal::IsStructurallyValidUTF8(text)) {
        return Problem(where, offset,
                       "invalid UTF-8 in a string field (send binary data "
                       "as text, e.g. base64)");
      }
      return "";
    }
    if (!in_->Skip(size)) return Problem(where, offset, "value cut short");
    return "";
  }

  CodedInputStream* const in_;
};

}  // namespace

std::string DescribeWireFormatError(const Descriptor& type,
                                    absl::string_view bytes) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  // Lengths are checked against what is left of the enclosing message.
  in.PushLimit(static_cast<int>(bytes.size()));
  WireWalker walker(&in);
  return walker.Walk(&type, "", 0);
}

absl::Status ParseRequestBody(const grpc::ByteBuffer& body,
                              google::protobuf::Message* message) {
  const std::string& type = message->GetDescriptor()->full_name();
  if (!body.Valid()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the call carried no ", type, " message"));
  }
  std::string library_messages;
  bool parsed = false;
  {
    CaptureLibraryMessages capture(&library_messages);
    grpc::ByteBuffer shared(body);  // the reader wants it mutable
    grpc::ProtoBufferReader reader(&shared);
    parsed = reader.status().ok() && message->ParseFromZeroCopyStream(&reader);
  }
  if (parsed) return absl::OkStatus();
  return InvalidBodyError(*message->GetDescriptor(), FlattenBody(body),
                          library_messages);
}

std::string FlattenBody(const grpc::ByteBuffer& body) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!body.Dump(&slices).ok()) return out;
  out.reserve(body.Length());
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

absl::Status InvalidBodyError(const Descriptor& type, absl::string_view bytes,
                              absl::string_view library_messages) {
  std::string why = DescribeWireFormatError(type, bytes);
  if (why.empty()) {
    const std::vector<absl::string_view> lines =
        absl::StrSplit(library_messages, '\n', absl::SkipEmpty());
    why = lines.empty()
              ? std::string("malformed protobuf wire format")
              : engine::common::TruncateForDisplay(
                    std::string_view(lines[0].data(), lines[0].size()), 512);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "request body is not a valid ", type.full_name(), ": ", why));
}

namespace {

// The blocks of the calls' arenas (CallArenaOptions), kept for the next
// call instead of freed: glibc gave a freed block's pages back (its heaps
// shrink as they free) and the next call faulted them in again, 130,000
// page faults in 5 s at 1,024-account map-form batches. Blocks of the
// arena's sizes (powers of two, 8 KiB to 1 MiB) only, at most
// kMaxCachedBytes of them; emptied by every trim, so a pause returns them.
class BlockCache {
 public:
  static BlockCache& Get() {
    static BlockCache* const cache = new BlockCache;  // never destroyed
    return *cache;
  }

  static void* Allocate(size_t size) {
    const int c = ClassOf(size);
    if (c >= 0) {
      BlockCache& cache = Get();
      absl::MutexLock lock(&cache.mu_);
      std::vector<void*>& free = cache.free_[c];
      if (!free.empty()) {
        void* block = free.back();
        free.pop_back();
        cache.cached_bytes_ -= size;
        return block;
      }
    }
    return ::operator new(size);
  }

  static void Deallocate(void* block, size_t size) {
    const int c = ClassOf(size);
    if (c >= 0) {
      BlockCache& cache = Get();
      absl::MutexLock lock(&cache.mu_);
      if (cache.cached_bytes_ + size <= kMaxCachedBytes) {
        cache.free_[c].push_back(block);
        cache.cached_bytes_ += size;
        return;
      }
    }
    ::operator delete(block);
  }

  // Frees every kept block.
  void Clear() {
    std::vector<void*> blocks;
    {
      absl::MutexLock lock(&mu_);
      for (std::vector<void*>& free : free_) {
        blocks.insert(blocks.end(), free.begin(), free.end());
        std::vector<void*>().swap(free);
      }
      cached_bytes_ = 0;
    }
    for (void* block : blocks) ::operator delete(block);
  }

  static constexpr size_t kMinBlock = size_t{8} << 10;
  static constexpr size_t kMaxBlock = size_t{1} << 20;

 private:
  static constexpr size_t kMaxCachedBytes = size_t{64} << 20;
  static constexpr int kClasses = 8;  // 8 KiB .. 1 MiB
  static_assert((kMinBlock << (kClasses - 1)) == kMaxBlock);

  // The class of a block of `size` bytes, -1 for a size not kept.
  static int ClassOf(size_t size) {
    if (size < kMinBlock || size > kMaxBlock || (size & (size - 1)) != 0) {
      return -1;
    }
    int c = 0;
    for (size_t s = kMinBlock; s < size; s <<= 1) ++c;
    return c;
  }

  absl::Mutex mu_;
  std::vector<void*> free_[kClasses] ABSL_GUARDED_BY(mu_);
  size_t cached_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

void TrimNow() {
  BlockCache::Get().Clear();
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

// The background half of ReturnMemoryAfterLargeWork: sums what calls freed
// and trims once calls have paused, so that a burst of calls costs one trim
// and its memory still goes back shortly after it.
class DeferredTrim {
 public:
  static DeferredTrim& Get() {
    static DeferredTrim* const trim = new DeferredTrim;  // never destroyed
    return *trim;
  }

  void Add(size_t bytes) {
    adds_.fetch_add(1, std::memory_order_relaxed);
    if (pending_.fetch_add(bytes, std::memory_order_relaxed) + bytes <
        kWorthTrimming) {
      return;
    }
    absl::MutexLock lock(&mu_);
    if (!started_) {
      started_ = true;
      std::thread([this] { Loop(); }).detach();
    }
    wake_ = true;
  }

  static constexpr size_t kWorthTrimming = size_t{1} << 20;

 private:
  static constexpr absl::Duration kQuiet = absl::Milliseconds(200);
  static constexpr absl::Duration kMaxDelay = absl::Seconds(5);

  void Loop() {
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(&wake_));
        wake_ = false;
      }
      // Wait for a quiet period: under steady traffic the next calls would
      // fault the trimmed pages straight back in. kMaxDelay bounds how long
      // a burst's memory is kept while traffic goes on.
      const absl::Time first = absl::Now();
      for (;;) {
        const uint64_t seen = adds_.load(std::memory_order_relaxed);
        absl::SleepFor(kQuiet);
        if (adds_.load(std::memory_order_relaxed) == seen ||
            absl::Now() - first >= kMaxDelay) {
          break;
        }
      }
      if (pending_.exchange(0, std::memory_order_relaxed) >= kWorthTrimming) {
        TrimNow();
      }
    }
  }

  std::atomic<size_t> pending_{0};
  std::atomic<uint64_t> adds_{0};  // calls so far
  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

void ReturnMemoryAfterLargeWork(size_t bytes) {
  constexpr size_t kLarge = size_t{16} << 20;
  if (bytes >= kLarge) TrimNow();
  // Again after the pause, for what gRPC and other threads free after this
  // trim (their buffers of this call are freed later, on their threads).
  DeferredTrim::Get().Add(bytes);
}

void ReturnFreedMemory() {
  TrimNow();
  DeferredTrim::Get().Add(DeferredTrim::kWorthTrimming);
}

google::protobuf::ArenaOptions CallArenaOptions() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = BlockCache::kMinBlock;
  options.max_block_size = BlockCache::kMaxBlock;
  options.block_alloc = &BlockCache::Allocate;
  options.block_dealloc = &BlockCache::Deallocate;
  return options;
}

void LogUnparsedRequest(Runtime* runtime, absl::string_view rpc,
                        const grpc::CallbackServerContext* context,
                        const absl::Status& status) {
  runtime->counters.rejected_invalid.fetch_add(1, std::memory_order_relaxed);
  LogEvery(LogLevel::kWarning,
           absl::StrCat(rpc, ":", absl::StatusCodeToString(status.code())),
           absl::StrCat(rpc, " from ",
                        context != nullptr ? context->peer() : "a client",
                        " failed: ", absl::StatusCodeToString(status.code()),
                        ": ", status.message()));
}

namespace request_parsing_internal {

int MethodIndex(absl::string_view service, absl::string_view method,
                const Descriptor* request, const Descriptor* response,
                bool client_streaming, bool server_streaming) {
  const google::protobuf::ServiceDescriptor* s =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          std::string(service));
  const google::protobuf::MethodDescriptor* m =
      s == nullptr ? nullptr : s->FindMethodByName(std::string(method));
  if (m == nullptr || m->input_type() != request ||
      m->output_type() != response ||
      m->client_streaming() != client_streaming ||
      m->server_streaming() != server_streaming) {
    LogError(absl::StrCat("internal error: no method ", service, ".", method,
                          " from ", request->full_name(), " to ",
                          response->full_name(),
                          client_streaming ? " (streaming)" : ""));
    std::abort();
  }
  return m->index();
}

}  // namespace request_parsing_internal
}  // namespace healthscore::server
