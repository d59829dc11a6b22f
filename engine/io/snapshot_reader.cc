// Snapshot readers: input formats, the factory and what every reader
// shares. The readers themselves are in json_lines_reader.cc and
// csv_reader.cc.

#include "engine/io/snapshot_reader.h"

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "engine/common/status_macros.h"
#include "engine/common/strings.h"

namespace healthscore::engine::io {

using common::Cat;

namespace {

using common::Cat;

constexpr size_t kMaxIgnoredNames = 64;

}  // namespace

absl::StatusOr<InputFormat> ParseInputFormat(std::string_view name) {
  std::string lower(name);
  absl::AsciiStrToLower(&lower);
  if (lower == "jsonl" || lower == "ndjson" || lower == "json") {
    return InputFormat::kJsonLines;
  }
  if (lower == "csv") return InputFormat::kCsv;
  return absl::InvalidArgumentError(
      Cat("unknown input format \"", name, "\" (expected jsonl or csv)"));
}

absl::StatusOr<InputFormat> InputFormatFromPath(std::string_view path) {
  size_t dot = path.rfind('.');
  size_t slash = path.rfind('/');
  if (dot == std::string_view::npos ||
      (slash != std::string_view::npos && dot < slash)) {
    return absl::InvalidArgumentError(
        Cat("cannot tell the format of \"", path,
            "\" from its name (expected .jsonl, .ndjson, .json or .csv)"));
  }
  auto format = ParseInputFormat(path.substr(dot + 1));
  if (!format.ok()) {
    return absl::InvalidArgumentError(
        Cat("cannot tell the format of \"", path,
            "\" from its name (expected .jsonl, .ndjson, .json or .csv)"));
  }
  return format;
}

absl::StatusOr<std::unique_ptr<SnapshotReader>> OpenSnapshotReader(
    const std::string& path, InputFormat format, const ReaderOptions& options) {
  HEALTHSCORE_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source,
                               OpenFileSource(path));
  if (format == InputFormat::kCsv) {
    return std::unique_ptr<SnapshotReader>(
        new CsvReader(std::move(source), options));
  }
  return std::unique_ptr<SnapshotReader>(
      new JsonLinesReader(std::move(source), options));
}

SnapshotReader::SnapshotReader(const ReaderOptions& options)
    : strict_(options.strict) {}

absl::StatusOr<size_t> SnapshotReader::ReadBatch(eval::Batch* batch,
                                                 size_t max_rows) {
  HEALTHSCORE_ASSIGN_OR_RETURN(size_t rows, ReadTable(&table_, max_rows));
  eval::TableBinder* binder = nullptr;
  for (const auto& b : binders_) {
    if (b->model().get() == &batch->model()) binder = b.get();
  }
  if (binder == nullptr) {
    binders_.push_back(std::make_unique<eval::TableBinder>(batch->model_ptr()));
    binder = binders_.back().get();
    binder->set_strict(strict_);
  }
  binder->Bind(table_, batch);
  return rows;
}

std::map<std::string, uint64_t> SnapshotReader::ignored_names() const {
  std::map<std::string, uint64_t> names = ignored_names_;
  for (const auto& b : binders_) {
    for (const auto& [name, count] : b->ignored_names()) {
      auto it = names.find(name);
      if (it != names.end()) {
        it->second += count;
      } else if (names.size() < kMaxIgnoredNames) {
        names.emplace(name, count);
      }
    }
  }
  return names;
}

void SnapshotReader::NoteIgnored(std::string_view name) {
  auto it = ignored_names_.find(std::string(name));
  if (it != ignored_names_.end()) {
    ++it->second;
  } else if (ignored_names_.size() < kMaxIgnoredNames) {
    ignored_names_.emplace(std::string(name), 1);
  }
}

}  // namespace healthscore::engine::io
