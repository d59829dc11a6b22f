#include "engine/model/compiled_model.h"

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
