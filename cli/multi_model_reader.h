// MultiModelReader: one input read as batches of several models, in
// lockstep.
//
// A Batch holds the inputs one model declares, so a command that scores
// every account with two models (`healthscore diff`) or may score an
// account with any of several (`healthscore score` under segment routing)
// needs each account as a row of a batch of every model. MultiModelReader
// runs one snapshot reader per model over one SharedInput: each ReadBatch
// fills one batch per model with the same accounts, row i of every batch
// being the same account, each read as its model declares it (a value the
// first model ignores may be read by another; an account may fail for one
// model and not another). Every reader parses the whole input, so reading
// costs grow with the number of models; with one model this is a plain
// snapshot reader.
//
// Thread-safety: used by one thread at a time; successive calls may come
// from different threads (as SnapshotReader).

#ifndef HEALTHSCORE_CLI_MULTI_MODEL_READER_H_
#define HEALTHSCORE_CLI_MULTI_MODEL_READER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/args.h"
#include "engine/eval/batch.h"
#include "engine/io/snapshot_reader.h"
#include "engine/model/compiled_model.h"

namespace healthscore::cli {

// The input options shared by the commands that read snapshots (`score`,
// `diff`): their flags, help text and ReaderOptions.
inline const std::vector<FlagSpec> kInputLimitFlags = {
    {"max-line-bytes", true},
    {"max-record-lines", true},
    {"id-field", true},
    {"strict", false}};
inline constexpr char kInputLimitsHelp[] =
    "  --id-field NAME       the JSON Lines key or CSV column holding the\n"
    "                        account id (default \"id\")\n"
    "  --strict              fail an account when a value does not fit its\n"
    "                        input, instead of scoring it with that value\n"
    "                        missing and a warning\n"
    "  --max-line-bytes N    longest JSON Lines line or CSV record, in bytes\n"
    "                        (default 67108864, 64 MiB); a longer one is that\n"
    "                        account's error and is skipped\n"
    "  --max-record-lines N  most lines a CSV record may span through quoted\n"
    "                        line breaks before it is taken for a stray quote\n"
    "                        (default 1000)\n";
// engine::io::ReaderOptions with the flags of kInputLimitFlags applied.
// InvalidArgument naming the flag for a value that is not an integer in
// range (1 byte to 1 GiB; 1 to 1,000,000 lines) and for an empty
// --id-field.
absl::StatusOr<engine::io::ReaderOptions> InputLimitsFromArgs(const Args& args);

class MultiModelReader {
 public:
  // Opens `path` ("-" for standard input) in `format`, for `models` (at
  // least one), every reader with `options`. Errors: those of
  // engine::io::OpenFileSource; InvalidArgument without models.
  static absl::StatusOr<std::unique_ptr<MultiModelReader>> Open(
      const std::string& path, engine::io::InputFormat format,
      std::vector<std::shared_ptr<const engine::CompiledModel>> models,
      const engine::io::ReaderOptions& options = {});

  const std::vector<std::shared_ptr<const engine::CompiledModel>>& models()
      const {
    return models_;
  }

  // One empty batch per model, in the order of models(): what ReadBatch
  // fills.
  std::vector<engine::Batch> MakeBatches() const;

  // Fills (*batches)[k], a batch of models()[k] from MakeBatches, with the
  // next accounts, at most `max_rows` (> 0), the same ones in every batch.
  // Returns how many, 0 at the end of the input.
  //
  // Errors: those of SnapshotReader::ReadBatch, after which the reader
  // must not be used again; Internal when the readers split the input into
  // different accounts (a bug).
  absl::StatusOr<size_t> ReadBatch(std::vector<engine::Batch>* batches,
                                   size_t max_rows);

  // Names in the input that no model declares, with how often the first
  // model's reader saw each (SnapshotReader::ignored_names).
  std::map<std::string, uint64_t> ignored_names() const;

 private:
  MultiModelReader() = default;

  std::vector<std::shared_ptr<const engine::CompiledModel>> models_;
  std::vector<std::unique_ptr<engine::io::SnapshotReader>> readers_;
};

}  // namespace healthscore::cli

#endif  // HEALTHSCORE_CLI_MULTI_MODEL_READER_H_
