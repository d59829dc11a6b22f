// A plugin written with the C++ helper whose signals fail at run time in
// every way the host must absorb: error rows, non-finite values, thrown
// exceptions, rows left unwritten, rejected params, a throwing constructor.
// See README.md for the table.

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "healthscore/plugin.hpp"

namespace {

namespace hp = ::healthscore::plugin;

enum class Mode { kRowErrors, kNanOutput, kThrows, kSkipsRows, kBadParams };

class FaultySignal : public hp::Signal {
 public:
  explicit FaultySignal(Mode mode) : mode_(mode) {}

  void Evaluate(const hp::Batch& batch, hp::Output* out) override {
    const hp::Column x = batch.input(0);
    if (mode_ == Mode::kThrows) {
      for (size_t i = 0; i < batch.rows(); ++i) {
        if (x.valid(i) && x.number(i) == 13) {
          throw std::runtime_error("unlucky 13");
        }
      }
    }
    for (size_t i = 0; i < batch.rows(); ++i) {
      if (mode_ == Mode::kSkipsRows && i % 2 == 1) continue;
      if (!x.valid(i)) {
        out->SetMissing(i);
        continue;
      }
      const double v = x.number(i);
      if (mode_ == Mode::kRowErrors && v < 0) {
        out->SetError(i);
      } else if (mode_ == Mode::kNanOutput && v > 1000) {
        out->Set(i, std::numeric_limits<double>::infinity());
      } else if (mode_ == Mode::kNanOutput && v > 100) {
        out->Set(i, std::numeric_limits<double>::quiet_NaN());
      } else {
        out->Set(i, v);
      }
    }
  }

 private:
  const Mode mode_;
};

class FaultyPlugin : public hp::Plugin {
 public:
  explicit FaultyPlugin(const hp::Config& config) {
    if (config.GetBool("throw_in_init", false)) {
      throw std::runtime_error("constructor refused: throw_in_init is set");
    }
    if (auto line = config.Find("log")) {
      hp::Log(HS_LOG_WARNING, "config says: " + std::string(*line));
    }
    // A load that takes as long as the test wants, whatever the host's
    // own limits: the host cannot interrupt a plugin's init.
    if (const int64_t ms = config.GetInt("stall_in_init_ms", 0); ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
  }

  static hp::PluginInfo Info() {
    hp::PluginInfo info;
    info.name = "faulty";
    info.version = "0.0.1";
    info.description = "Fails on purpose; for the host's tests";
    info.threading = HS_THREADING_CONCURRENT;
    for (const char* name :
         {"row_errors", "nan_output", "throws", "skips_rows", "bad_params"}) {
      info.signals.push_back({name, "", {{"x", HS_INPUT_NUMBER, ""}}, false});
    }
    return info;
  }

  std::unique_ptr<hp::Signal> CreateSignal(std::string_view name, size_t,
                                           const hp::Config& params) override {
    Mode mode = Mode::kRowErrors;
    if (name == "nan_output") mode = Mode::kNanOutput;
    if (name == "throws") mode = Mode::kThrows;
    if (name == "skips_rows") mode = Mode::kSkipsRows;
    if (name == "bad_params") {
      mode = Mode::kBadParams;
      if (params.GetInt("window") <= 0) {
        throw hp::Error(HS_ERR_INVALID_ARGUMENT,
                        "'window' must be a positive integer");
      }
    }
    return std::make_unique<FaultySignal>(mode);
  }
};

}  // namespace

HS_PLUGIN_DEFINE(FaultyPlugin)
