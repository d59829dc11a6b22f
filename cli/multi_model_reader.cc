#include "cli/multi_model_reader.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cli/shared_input.h"

namespace healthscore::cli {

absl::StatusOr<engine::io::ReaderOptions> InputLimitsFromArgs(
    const Args& args) {
  engine::io::ReaderOptions options;
  auto bytes = args.GetInt("max-line-bytes",
                           static_cast<int64_t>(options.max_line_bytes), 1,
                           int64_t{1} << 30);
  if (!bytes.ok()) return bytes.status();
  auto lines =
      args.GetInt("max-record-lines",
                  static_cast<int64_t>(options.max_record_lines), 1, 1000000);
  if (!lines.ok()) return lines.status();
  options.max_line_bytes = static_cast<size_t>(*bytes);
  options.max_record_lines = static_cast<size_t>(*lines);
  if (args.Has("id-field")) {
    options.id_field = args.Get("id-field");
    if (options.id_field.empty()) {
      return absl::InvalidArgumentError("--id-field needs a name");
    }
  }
  options.strict = args.Has("strict");
  return options;
}

absl::StatusOr<std::unique_ptr<MultiModelReader>> MultiModelReader::Open(
    const std::string& path, engine::io::InputFormat format,
    std::vector<std::shared_ptr<const engine::CompiledModel>> models,
    const engine::io::ReaderOptions& options) {
  if (models.empty()) {
    return absl::InvalidArgumentError("no model to read the input for");
  }
  auto source = engine::io::OpenFileSource(path);
  if (!source.ok()) return source.status();
  std::unique_ptr<MultiModelReader> reader(new MultiModelReader());
  reader->models_ = std::move(models);
  const int n = static_cast<int>(reader->models_.size());
  // One model reads the file directly: no copy through a shared buffer.
  std::shared_ptr<SharedInput> shared;
  if (n > 1) shared = SharedInput::Create(*std::move(source), n);
  for (int k = 0; k < n; ++k) {
    std::unique_ptr<engine::io::ByteSource> bytes =
        shared != nullptr ? shared->Reader(k) : *std::move(source);
    if (format == engine::io::InputFormat::kCsv) {
      reader->readers_.push_back(
          std::make_unique<engine::io::CsvReader>(std::move(bytes), options));
    } else {
      reader->readers_.push_back(std::make_unique<engine::io::JsonLinesReader>(
          std::move(bytes), options));
    }
  }
  return reader;
}

std::vector<engine::Batch> MultiModelReader::MakeBatches() const {
  std::vector<engine::Batch> batches;
  batches.reserve(models_.size());
  for (const auto& model : models_) batches.emplace_back(model);
  return batches;
}

absl::StatusOr<size_t> MultiModelReader::ReadBatch(
    std::vector<engine::Batch>* batches, size_t max_rows) {
  size_t rows = 0;
  for (size_t k = 0; k < readers_.size(); ++k) {
    absl::StatusOr<size_t> n = readers_[k]->ReadBatch(&(*batches)[k], max_rows);
    if (!n.ok()) return n.status();
    if (k == 0) {
      rows = *n;
    } else if (*n != rows) {
      return absl::InternalError(
          absl::StrCat("the input split into different accounts for models '",
                       models_[0]->name(), "' and '", models_[k]->name(), "' (",
                       rows, " and ", *n, ")"));
    }
  }
  return rows;
}

std::map<std::string, uint64_t> MultiModelReader::ignored_names() const {
  std::map<std::string, uint64_t> names = readers_[0]->ignored_names();
  for (size_t k = 1; k < readers_.size(); ++k) {
    const std::map<std::string, uint64_t>& other = readers_[k]->ignored_names();
    for (auto it = names.begin(); it != names.end();) {
      it = other.count(it->first) > 0 ? std::next(it) : names.erase(it);
    }
  }
  return names;
}

}  // namespace healthscore::cli
