// weighted_sum: a weighted mean (or sum) of any number of values. The
// template for a C++ plugin: a variadic signal, validated params, the
// missing-data policy, and a loop that writes the output columns directly.
//
// Signal `weighted_sum`, inputs: one or more numbers (inputs or numeric
// derived values). Params:
//   weights    one weight per input, e.g. [0.5, 0.3, 0.2] (required)
//   missing    "skip" (default): leave missing inputs out and spread their
//              weight over the present ones (the engine's own rule for
//              signals); "require": any missing input makes the value
//              missing
//   normalize  true (default): divide by the sum of the weights used, so
//              the value stays on the inputs' scale; false: the plain sum
// The value is missing when no input is present.

#include <cmath>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "healthscore/plugin.hpp"

namespace {

namespace hp = ::healthscore::plugin;

class WeightedSumSignal : public hp::Signal {
 public:
  WeightedSumSignal(std::vector<double> weights, bool require_all,
                    bool normalize)
      : weights_(std::move(weights)),
        require_all_(require_all),
        normalize_(normalize) {}

  // Reads only its own const members, so calls may overlap freely
  // (HS_THREADING_CONCURRENT).
  void Evaluate(const hp::Batch& batch, hp::Output* out) override {
    const size_t rows = batch.rows();
    double* value = out->values();
    int32_t* status = out->status();
    for (size_t i = 0; i < rows; ++i) {
      double sum = 0, weight = 0;
      size_t present = 0;
      for (size_t k = 0; k < weights_.size(); ++k) {
        const hp::Column in = batch.input(k);
        if (!in.valid(i)) continue;
        sum += weights_[k] * in.number(i);
        weight += weights_[k];
        ++present;
      }
      const bool complete = present == weights_.size();
      if (present == 0 || (require_all_ && !complete) ||
          (normalize_ && weight == 0)) {
        status[i] = HS_ROW_MISSING;
        continue;
      }
      value[i] = normalize_ ? sum / weight : sum;
      status[i] = HS_ROW_OK;
    }
  }

 private:
  const std::vector<double> weights_;
  const bool require_all_;
  const bool normalize_;
};

class WeightedSumPlugin : public hp::Plugin {
 public:
  explicit WeightedSumPlugin(const hp::Config& config) {
    if (config.size() > 0) {
      throw hp::Error(HS_ERR_INVALID_ARGUMENT,
                      "weighted_sum takes no config, got '" +
                          std::string(config.key(0)) +
                          "'; put settings in the derived value's params");
    }
  }

  static hp::PluginInfo Info() {
    hp::PluginInfo info;
    info.name = "weighted_sum";
    info.version = "1.0.0";
    info.description = "Weighted mean or sum of any number of values";
    info.threading = HS_THREADING_CONCURRENT;
    info.signals.push_back({"weighted_sum",
                            "sum(w * x) / sum(w) over the present inputs",
                            {{"value", HS_INPUT_NUMBER, "a number"}},
                            /*variadic=*/true});
    return info;
  }

  std::unique_ptr<hp::Signal> CreateSignal(std::string_view, size_t input_count,
                                           const hp::Config& params) override {
    for (size_t i = 0; i < params.size(); ++i) {
      const std::string_view k = params.key(i);
      if (k != "weights" && k != "missing" && k != "normalize") {
        throw hp::Error(HS_ERR_INVALID_ARGUMENT,
                        "unknown param '" + std::string(k) +
                            "' (known: weights, missing, normalize)");
      }
    }
    std::vector<double> weights = params.GetDoubleList("weights");
    if (weights.size() != input_count) {
      throw hp::Error(HS_ERR_INVALID_ARGUMENT,
                      "'weights' has " + std::to_string(weights.size()) +
                          " entries for " + std::to_string(input_count) +
                          " inputs; give one weight per input");
    }
    for (double w : weights) {
      if (!(w >= 0)) {
        throw hp::Error(HS_ERR_INVALID_ARGUMENT,
                        "'weights' must not be negative");
      }
    }
    const std::string missing = params.GetString("missing", "skip");
    if (missing != "skip" && missing != "require") {
      throw hp::Error(
          HS_ERR_INVALID_ARGUMENT,
          "'missing' must be skip or require, got '" + missing + "'");
    }
    return std::make_unique<WeightedSumSignal>(
        std::move(weights), missing == "require",
        params.GetBool("normalize", true));
  }
};

}  // namespace

HS_PLUGIN_DEFINE(WeightedSumPlugin)
