#include "engine/model/compiled_model.h"

#include "engine/common/strings.h"
#include "engine/model/model_plan.h"

namespace healthscore::engine::model {

CompiledModel::CompiledModel() = default;
CompiledModel::~CompiledModel() = default;

namespace {
int Find(const absl::flat_hash_map<std::string, int>& index,
         std::string_view id) {
  auto it = index.find(absl::string_view(id.data(), id.size()));
  return it == index.end() ? -1 : it->second;
}

// Binding looks up a tier (previous_tier) or a string input's value (a
// segment, a plan) per account. Among a few names, comparing lengths and
// then bytes is cheaper than hashing the text (a fifth of binding a string
// value in a profile): up to this many are scanned.
constexpr size_t kScannedNames = 8;

bool SameText(std::string_view a, std::string_view b) {
  return a.size() == b.size() && common::SameBytes(a.data(), b.data(), a.size());
}

}  // namespace

int CompiledModel::FindInput(std::string_view id) const {
  return Find(input_index_, id);
}
int CompiledModel::FindSignal(std::string_view id) const {
  return Find(signal_index_, id);
}
int CompiledModel::FindGroup(std::string_view id) const {
  return Find(group_index_, id);
}

int CompiledModel::FindTier(std::string_view id) const {
  if (id == kInsufficientDataTierId) return kInsufficientDataTier;
  if (tiers_.size() <= kScannedNames) {
    for (size_t t = 0; t < tiers_.size(); ++t) {
      if (SameText(tiers_[t].id, id)) return static_cast<int>(t);
    }
    return -2;
  }
  int t = Find(tier_index_, id);
  return t < 0 ? -2 : t;
}

std::string_view CompiledModel::TierId(int tier) const {
  if (tier >= 0 && tier < static_cast<int>(tiers_.size())) {
    return tiers_[tier].id;
  }
  return kInsufficientDataTierId;
}

int32_t CompiledModel::StringCode(int column, std::string_view value) const {
  // A value's code is its place in string_values_.
  const std::vector<std::string>& values = string_values_[column];
  if (values.size() <= kScannedNames) {
    for (size_t code = 0; code < values.size(); ++code) {
      if (SameText(values[code], value)) return static_cast<int32_t>(code);
    }
    return kUnknownString;
  }
  const auto& codes = string_codes_[column];
  auto it = codes.find(absl::string_view(value.data(), value.size()));
  return it == codes.end() ? kUnknownString : it->second;
}

std::string_view CompiledModel::StringValue(int column, int32_t code) const {
  const auto& values = string_values_[column];
  if (code < 0 || code >= static_cast<int32_t>(values.size())) return "";
  return values[code];
}

}  // namespace healthscore::engine::model
