#include "engine/stats/folds.h"

#include <limits>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/stats/sample.h"

namespace healthscore::engine::stats {
namespace {

// Uniform in [0, bound) by rejection, as folds.h specifies.
uint64_t Uniform(std::mt19937_64& engine, uint64_t bound) {
  // 2^64 mod bound, computed without 2^64: (2^64 - bound) mod bound.
  const uint64_t remainder = (0 - bound) % bound;
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - remainder;
  // Accept r <= limit, i.e. r < 2^64 - remainder.
  uint64_t r;
  do {
    r = engine();
  } while (r > limit);
  return r % bound;
}

void Shuffle(std::mt19937_64& engine, std::vector<int64_t>* v) {
  for (size_t i = v->size(); i-- > 1;) {
    const uint64_t j = Uniform(engine, i + 1);
    std::swap((*v)[i], (*v)[j]);
  }
}

}  // namespace

absl::StatusOr<std::vector<int32_t>> StratifiedFolds(
    absl::Span<const uint8_t> churned, int32_t k, uint64_t seed) {
  HEALTHSCORE_RETURN_IF_ERROR(ValidateLabels(churned));
  if (k < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("k is ", k, ": cross-validation needs at least 2 folds"));
  }
  size_t churners = 0;
  for (uint8_t c : churned) churners += c;
  std::vector<int64_t> pos;
  std::vector<int64_t> neg;
  pos.reserve(churners);
  neg.reserve(churned.size() - churners);
  for (size_t i = 0; i < churned.size(); ++i) {
    (churned[i] ? pos : neg).push_back(static_cast<int64_t>(i));
  }
  if (static_cast<int64_t>(pos.size()) < k ||
      static_cast<int64_t>(neg.size()) < k) {
    return absl::FailedPreconditionError(absl::StrCat(
        k, " stratified folds need at least ", k, " churned and ", k,
        " retained accounts; the sample has ", pos.size(), " churned and ",
        neg.size(), " retained: use fewer folds or more data"));
  }
  std::mt19937_64 engine(seed);
  Shuffle(engine, &pos);
  Shuffle(engine, &neg);
  std::vector<int32_t> fold(churned.size());
  for (size_t t = 0; t < pos.size(); ++t) {
    fold[pos[t]] = static_cast<int32_t>(t % k);
  }
  for (size_t t = 0; t < neg.size(); ++t) {
    fold[neg[t]] = static_cast<int32_t>((pos.size() + t) % k);
  }
  return fold;
}

}  // namespace healthscore::engine::stats
