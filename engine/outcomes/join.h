// Joining snapshots to outcomes: each snapshot (an account at an as_of
// date) is labelled churned or retained from its account's outcome record,
// or excluded with a reason, point in time when a horizon is given.
//
// Rules (docs/outcomes.md, "Outcomes files"), applied to each snapshot in
// this order; the first that applies decides:
//
//   duplicate_snapshot   another snapshot has the same id and as_of (or
//                        the same id and neither has an as_of): which one
//                        to trust cannot be told, so all of them are
//                        excluded. Snapshots of one account at different
//                        dates are all kept.
//   no_outcome           no outcome record has the snapshot's id.
//   duplicate_outcome    several outcome records have the id (all were
//                        dropped when reading, RecordTable::duplicate_ids).
//   unknown_outcome      the record's churn status is unknown (see
//                        outcomes.h).
//   conflicting_outcome  churned is false but a churn_date is given.
// With a horizon of H days (JoinOptions::horizon_days > 0), for a snapshot
// at as_of = a of an account that churned on c:
//   no_as_of             the snapshot has no as_of.
//   after_churn          c <= a: the snapshot was taken on or after the
//                        churn.
//   no_churn_date        churned, but the date is not known, so the churn
//                        cannot be placed inside or outside the window.
//   churned              a < c <= a + H.
//   retained             c > a + H (the account was still a customer at
//                        the end of the window), or it did not churn ...
//   window_not_complete  ... unless JoinOptions::observed_until is given
//                        and falls before a + H: the window is not over,
//                        so a churn in it may not be known yet.
// Without a horizon the record's status is the label (churned or
// retained), except after_churn when both a and c are known.
//
// Every snapshot gets exactly one JoinedSnapshot; the JoinReport counts
// each label and exclusion, with up to JoinOptions::max_examples ids each,
// and the outcome records no snapshot matched.
//
// Cost: O(n) expected in snapshots plus records (hash lookups); the keys'
// ids are kept in one buffer, not one allocation per snapshot.
//
// Thread-safety: JoinOutcomes is a pure function of its arguments; a
// SnapshotKeys is filled by one thread, then may be read by many.

#ifndef HEALTHSCORE_ENGINE_OUTCOMES_JOIN_H_
#define HEALTHSCORE_ENGINE_OUTCOMES_JOIN_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/eval/batch.h"
#include "engine/outcomes/outcomes.h"

namespace healthscore::engine::outcomes {

// The longest horizon: 36,600 days, about a century.
inline constexpr int32_t kMaxHorizonDays = 36600;

// A horizon as `--horizon` takes it: a positive whole number of days
// ("180d") or weeks ("26w", 7 days each), at most kMaxHorizonDays days.
// Months and years are refused (their length varies). Returns the days;
// InvalidArgument otherwise.
absl::StatusOr<int32_t> ParseHorizon(std::string_view text);

// The snapshots to label, in input order: an id and an optional as_of
// (days since 1970-01-01). The ids are copied into one buffer, so the
// batches they came from may be reused.
class SnapshotKeys {
 public:
  size_t size() const { return spans_.size(); }
  void Clear();
  void Add(std::string_view id, std::optional<double> as_of);
  // Adds every row of `batch`, in order (failed rows too, with the id they
  // have), so that key i + size() before the call is the batch's row i.
  void AddBatch(const eval::Batch& batch);

  std::string_view id(size_t i) const {
    return std::string_view(ids_.data() + spans_[i].first, spans_[i].second);
  }
  bool has_as_of(size_t i) const { return has_as_of_[i] != 0; }
  double as_of(size_t i) const { return as_of_[i]; }

 private:
  std::string ids_;
  std::vector<std::pair<uint64_t, uint32_t>> spans_;  // (offset, size)
  std::vector<double> as_of_;
  std::vector<uint8_t> has_as_of_;
};

struct JoinOptions {
  // Days after a snapshot's as_of in which a churn counts (ParseHorizon);
  // 0 for no horizon. `--horizon`.
  int32_t horizon_days = 0;
  // The last day the outcomes are known for (days since 1970-01-01), e.g.
  // the day the file was exported: with a horizon, a snapshot of an
  // account that has not churned is excluded (window_not_complete) when
  // its window ends after this day. Unset: every window is taken as
  // complete. Ignored without a horizon.
  std::optional<double> observed_until;
  // The most example ids each count of the report keeps.
  size_t max_examples = 10;
};

enum class Label : uint8_t { kChurned, kRetained, kExcluded };

enum class Exclusion : uint8_t {
  kNone = 0,  // labelled
  kDuplicateSnapshot,
  kNoOutcome,
  kDuplicateOutcome,
  kUnknownOutcome,
  kConflictingOutcome,
  kNoAsOf,
  kAfterChurn,
  kNoChurnDate,
  kWindowNotComplete,
};
inline constexpr size_t kExclusionCount = 10;

// The reason's stable name ("no_outcome", "after_churn", ...; "none" for
// kNone), for JSON and tables.
std::string_view ExclusionName(Exclusion exclusion);
// What it means, for people ("no outcome record has the id").
std::string_view ExclusionDescription(Exclusion exclusion);

struct JoinedSnapshot {
  Label label = Label::kExcluded;
  Exclusion exclusion = Exclusion::kNone;  // kNone unless excluded
  // The outcome record's row in Outcomes::records(), also for most
  // exclusions (its attributes may still be wanted); -1 when there is none
  // (duplicate_snapshot and no_outcome also leave it -1 when the id has
  // no record).
  int64_t outcome = -1;
};

// How many of something, with the first few ids (display-safe copies).
struct IdSample {
  uint64_t count = 0;
  std::vector<std::string> ids;
};

struct JoinReport {
  uint64_t snapshots = 0;
  uint64_t churned = 0;
  uint64_t retained = 0;
  uint64_t excluded = 0;
  // Indexed by Exclusion (kNone's entry stays empty).
  std::array<IdSample, kExclusionCount> excluded_by;
  // Outcome records that no snapshot has the id of.
  IdSample outcomes_without_snapshots;
  // Outcome records at least one snapshot has the id of.
  uint64_t outcomes_matched = 0;
  // From reading the outcomes file, so that the report names every problem
  // in one place: ids given by several records (all dropped) and the
  // records they cost, records that could not be read, values read as
  // missing, records with an unknown status, conflicting records.
  uint64_t duplicate_outcome_ids = 0;
  uint64_t duplicate_outcome_records = 0;
  uint64_t bad_outcome_records = 0;
  uint64_t bad_outcome_values = 0;
  uint64_t unlabelled_outcomes = 0;
  uint64_t conflicting_outcomes = 0;
  // The options the join ran with.
  int32_t horizon_days = 0;
  std::optional<double> observed_until;
};

struct JoinResult {
  std::vector<JoinedSnapshot> rows;  // one per snapshot, in order
  JoinReport report;
};

// Labels every snapshot. Errors: InvalidArgument for a horizon below 0 or
// above kMaxHorizonDays, or an observed_until that is not a supported date.
absl::StatusOr<JoinResult> JoinOutcomes(const SnapshotKeys& snapshots,
                                        const Outcomes& outcomes,
                                        const JoinOptions& options = {});

// The report as lines for people, e.g.
//   "1,000 snapshots: 180 churned, 790 retained, 30 excluded (no horizon)"
//   "  12 excluded, no_outcome (no outcome record has the id): a17, b9, ..."
// Counts that are zero are left out.
std::vector<std::string> DescribeJoinReport(const JoinReport& report);

// Appends the report as one JSON object (docs/outcomes.md shows it), with
// every exclusion reason under its ExclusionName, zero counts included, so
// the shape never depends on the data:
//   {"snapshots": 6, "churned": 0, "retained": 1, "excluded": 5,
//    "horizon_days": 7, "observed_until": null,
//    "excluded_by": {"duplicate_snapshot": {"count": 0, "examples": []},
//                    "no_outcome": {"count": 2, "examples": ["x", "y"]}, ...},
//    "outcomes_matched": 3,
//    "outcomes_without_snapshots": {"count": 0, "examples": []},
//    "outcomes_file": {"duplicate_ids": 1, "duplicate_records": 2,
//                      "bad_records": 1, "bad_values": 1, "unlabelled": 1,
//                      "conflicting": 1}}
// horizon_days is null without a horizon; observed_until is a date
// ("2026-03-31") or null.
void AppendJoinReportJson(const JoinReport& report, std::string* out);

}  // namespace healthscore::engine::outcomes

#endif  // HEALTHSCORE_ENGINE_OUTCOMES_JOIN_H_
