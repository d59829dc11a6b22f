#include "cli/input_options.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

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

absl::StatusOr<engine::io::InputFormat> InputFormatFromArgs(
    const Args& args, const std::string& path) {
  if (args.Has("input-format")) {
    return engine::io::ParseInputFormat(args.Get("input-format"));
  }
  if (path == "-") return engine::io::InputFormat::kJsonLines;
  auto format = engine::io::InputFormatFromPath(path);
  if (!format.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        format.status().message(), "; pass --input-format jsonl|csv"));
  }
  return format;
}

}  // namespace healthscore::cli
