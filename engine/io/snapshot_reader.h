// Snapshot readers: account snapshots from JSON Lines or CSV into an
// AccountTable (engine/eval/account_table.h), which any number of models
// then bind to; ReadBatch does both for one model.
//
// The readers stream. A SnapshotReader pulls bytes from a ByteSource in large
// blocks (16 MiB by default), cuts each block at its last line break and
// fills a table with at most `max_rows` accounts per ReadTable call, so a
// file of any length is processed in constant memory: only the current block
// (plus one partial line) and the current table are held. A reader knows no
// model: it keeps every value as written and binding applies the declared
// types.
//
// Bad input costs as little as possible, never the file. A value that does
// not fit its input (a metric sent as a string, a date that is not a date,
// a series with a non-numeric point, a key given twice) costs that value
// only: binding uses it as missing and gives the account a warning
// naming the field, the value and why (see engine/eval/batch.h; with
// ReaderOptions::strict the account fails instead). An account fails only
// when it cannot be read or identified: a line that is not a JSON object
// (or not valid JSON), a CSV record of the wrong shape, a missing id. Its
// row's error starts with the line number, e.g.
//
//   line 7: invalid JSON: TAPE_ERROR: ...
//
// and keeps the account's id whenever the record has one. Reading then
// continues with the next line. The same holds for a line longer than
// ReaderOptions::max_line_bytes: it becomes an error row (with an empty id)
// and is skipped without being held in memory. Only problems with the input
// as a whole are errors of ReadBatch: the source cannot be read, a CSV
// header has no id column, names a column twice or is itself malformed.
//
// CSV records may span lines (a quoted field may hold line breaks). A
// record whose quoted field holds line breaks and that turns out malformed
// (the quote is never closed before the end of the input, the record grows
// past max_line_bytes or past max_record_lines lines, text follows a
// closing quote, or the record has the wrong number of fields) is most
// likely a stray quote that swallowed the records after it. It becomes one
// error row naming its first line and how many lines it consumed, and
// reading resumes at the line after its first line: those lines are read
// again as records, now with quoted fields confined to their own line (so
// recovery costs at most one more pass over those lines, never a
// quadratic one). A stray quote therefore costs its own record only.
//
// Names the model does not declare are skipped and counted, once per value
// given (see ignored_names() and TableBinder::ignored_names()), so a data
// team can spot a misspelt column; in JSON Lines that includes top-level
// keys other than the snapshot's own, which no model reads.
//
// JSON Lines shape (one object per line; blank lines are skipped):
//
//   {"id": "acme", "as_of": "2026-11-01",
//    "metrics": {"dau_mau": 0.42}, "attributes": {"segment": "smb"},
//    "dates": {"renewal_date": "2027-01-31"},
//    "series": {"weekly_active_users": [120, 118, 131]},
//    "previous_score": 71.5, "previous_tier": "yellow"}
//
// The section an input is sent under does not decide its meaning; its
// declared type does (a date under "attributes" is read as a date). A
// series may also be written {"values": [...]}, and asOf, previousScore and
// previousTier are accepted for as_of, previous_score and previous_tier
// (protobuf's JSON names). The id is a string or a number (kept as
// written), under the key ReaderOptions::id_field. JSON null anywhere, an
// empty string, and for numbers the strings "NaN", "Infinity" and
// "-Infinity" mean "missing". A key may appear only once per record (as_of
// and asOf count as the same key, and so does an input under two
// sections): JSON leaves the meaning of a repeated key open, so the value
// is used as missing with a warning instead of one being picked silently.
//
// CSV shape: RFC 4180 (quoted fields may hold commas, quotes and line
// breaks), a header row naming the columns: the id column (`id`, or
// ReaderOptions::id_field), `as_of`, `previous_score`, `previous_tier`, and
// one column per model input id. Cells are read by the input's declared
// type: number (also NaN, Infinity: missing), string, date (YYYY-MM-DD) or
// series (numbers separated by ';', oldest first). An empty cell is
// missing.
//
// Thread-safety: a reader is used by one thread at a time. ReadBatch may be
// called from a different thread than the previous call. To parse one input
// on several threads, cut it into blocks (engine/io/line_blocks.h) and give
// each thread its own JsonLinesReader (see ParseBlock).

#ifndef HEALTHSCORE_ENGINE_IO_SNAPSHOT_READER_H_
#define HEALTHSCORE_ENGINE_IO_SNAPSHOT_READER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/eval/account_table.h"
#include "engine/eval/batch.h"
#include "engine/io/byte_source.h"

namespace healthscore::engine::io {

enum class InputFormat { kJsonLines, kCsv };

// "jsonl" (also "ndjson", "json") or "csv". InvalidArgument otherwise.
absl::StatusOr<InputFormat> ParseInputFormat(std::string_view name);
// From the file name: .csv is CSV; .jsonl, .ndjson and .json are JSON Lines.
// InvalidArgument for any other extension (the caller should ask for an
// explicit format).
absl::StatusOr<InputFormat> InputFormatFromPath(std::string_view path);

struct ReaderOptions {
  // Bytes requested from the source per read. Larger blocks mean fewer
  // reads; the buffer holds about one block. Tests use tiny blocks to
  // exercise lines that cross block boundaries.
  size_t block_size = size_t{16} << 20;
  // The longest JSON Lines line or CSV record (in bytes, without its line
  // break). A longer one is an error row of its own and is skipped: it
  // usually means the file is not in the expected format (e.g. one big JSON
  // array), and would otherwise have to be held in memory. The reader holds
  // at most about max_line_bytes + block_size bytes. `healthscore score
  // --max-line-bytes`.
  size_t max_line_bytes = size_t{64} << 20;
  // The most physical lines one CSV record may span (through quoted fields
  // holding line breaks) before it is taken for an unterminated quote and
  // recovered from (see the file comment). `healthscore score
  // --max-record-lines`.
  size_t max_record_lines = 1000;
  // A table (ReadTable) ends early, before max_rows, once it holds this
  // many bytes (AccountTable::bytes): a table keeps every value of its
  // records, also those no model reads, so rows alone would not bound it.
  // At least one row is always read.
  size_t max_table_bytes = size_t{64} << 20;
  // The JSON Lines key or CSV column that holds the account's id.
  // `healthscore score --id-field`.
  std::string id_field = "id";
  // A value that does not fit its input fails the account (listing every
  // such problem) instead of being used as missing with a warning.
  // `healthscore score --strict`.
  bool strict = false;
  // JSON Lines: a record is flat, not a snapshot. Every top-level key other
  // than the id becomes a column of its own, with no section, holding its
  // value as written ("metrics" and "as_of" included, and an object is
  // kept as an object). For files of other records keyed by account, such
  // as outcome files (engine/outcomes); CSV is flat anyway.
  bool flat_records = false;
};

class SnapshotReader {
 public:
  virtual ~SnapshotReader() = default;

  // Clears `table`, then fills it with up to `max_rows` accounts (max_rows
  // must be > 0), fewer once it holds ReaderOptions::max_table_bytes. Returns the number of rows added, 0 at the end of the
  // input. Unreadable accounts are failed rows (AccountTable::row_failed),
  // not an error of this call.
  //
  // Errors: the source's read errors; InvalidArgument for an input that is
  // unreadable as a whole (see the file comment). After an error the reader
  // must not be used again.
  virtual absl::StatusOr<size_t> ReadTable(eval::AccountTable* table,
                                           size_t max_rows) = 0;

  // ReadTable, then binds the table to `batch`'s model (with
  // ReaderOptions::strict): for callers that read with one model. Bad
  // accounts are rows with an error (Batch::row_error). Errors: those of
  // ReadTable.
  absl::StatusOr<size_t> ReadBatch(eval::Batch* batch, size_t max_rows);

  // Physical lines consumed so far (including blank lines and the CSV
  // header). After a CSV record is recovered from, this goes back to the
  // record's first line, since the lines after it are read again.
  uint64_t lines_read() const { return line_; }

  // Names seen in the input that no model can read (JSON Lines top-level
  // keys that are not part of a snapshot) and, for ReadBatch, the names
  // its model does not declare, with how often each was given (at most 64
  // distinct names are kept).
  std::map<std::string, uint64_t> ignored_names() const;

 protected:
  explicit SnapshotReader(const ReaderOptions& options);
  void NoteIgnored(std::string_view name);

  uint64_t line_ = 0;

 private:
  bool strict_;
  std::map<std::string, uint64_t> ignored_names_;
  // ReadBatch's table and its binders, one per model it was used with.
  eval::AccountTable table_;
  std::vector<std::unique_ptr<eval::TableBinder>> binders_;
};

struct LineBlock;  // engine/io/line_blocks.h

// Reads JSON Lines with simdjson's On-Demand parser.
//
// It also parses blocks of lines cut from a stream by LineSplitter
// (engine/io/line_blocks.h), so that one input can be parsed by several
// readers on several threads: give each thread a reader made without a
// source and hand it blocks.
class JsonLinesReader : public SnapshotReader {
 public:
  explicit JsonLinesReader(std::unique_ptr<ByteSource> source,
                           const ReaderOptions& options = {});
  // A reader without a source, for ParseBlock (ReadTable finds no rows).
  explicit JsonLinesReader(const ReaderOptions& options);
  ~JsonLinesReader() override;

  absl::StatusOr<size_t> ReadTable(eval::AccountTable* table,
                                   size_t max_rows) override;

  // Clears `table` and fills it with every account of `block`: the rows,
  // their errors (with the same "line N:" numbers), warnings and ignored
  // names are exactly those ReadTable gives for the same lines of the whole
  // input read with the same options (block.overlong stands for a line too
  // long to keep). Returns the number of rows; lines_read() is then the
  // block's last line. `block` is only read, and must stay unchanged during
  // the call.
  size_t ParseBlock(const LineBlock& block, eval::AccountTable* table);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads RFC 4180 CSV. The header's names become the table's columns.
class CsvReader : public SnapshotReader {
 public:
  explicit CsvReader(std::unique_ptr<ByteSource> source,
                     const ReaderOptions& options = {});
  ~CsvReader() override;

  absl::StatusOr<size_t> ReadTable(eval::AccountTable* table,
                                   size_t max_rows) override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Opens `path` ("-" for standard input) with the reader for `format`.
absl::StatusOr<std::unique_ptr<SnapshotReader>> OpenSnapshotReader(
    const std::string& path, InputFormat format,
    const ReaderOptions& options = {});

}  // namespace healthscore::engine::io

#endif  // HEALTHSCORE_ENGINE_IO_SNAPSHOT_READER_H_
