// usage_anomaly: how unusual the latest period's usage is against the
// account's own history, as a robust z-score. Written with the C++ helper
// (healthscore/plugin.hpp).
//
// Signal `usage_anomaly`, one input: a usage series (daily active users,
// API calls, ...), oldest first. The series is split into the latest
// `recent` points and the `history` points before them; the value is
//
//   z = (mean(recent) - median(history)) / (1.4826 * MAD(history))
//
// limited to [-cap, cap]. MAD is the median absolute deviation from the
// median; 1.4826 * MAD estimates the standard deviation of normal data but,
// unlike it, ignores a few outliers (a holiday, a one-off import). So a
// sudden drop shows up as a clearly negative z long before a monthly
// average moves. When MAD is 0 (flat history) the mean absolute deviation
// times 1.2533 is used; when that is 0 too, z is 0 if the recent mean
// equals the median and +-cap otherwise.
//
// Settings (each a derived value's `params`, or a default for every signal
// of the plugin in the `plugins:` entry's `config`):
//   recent       points in the latest period (default 1)
//   history      points of history before it; 0 = all (default 0)
//   min_history  fewer history points make the signal missing (default 8)
//   cap          limit of |z| (default 10)
// A NaN or infinite point makes the account's row an error.
//
// Threading: HS_THREADING_PER_SIGNAL. Each signal keeps a scratch buffer
// for the medians, reused across calls, so one signal state must not be
// evaluated by two threads at once; the host serialises that.

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "healthscore/plugin.hpp"

namespace {

namespace hp = ::healthscore::plugin;

struct Settings {
  int64_t recent = 1;
  int64_t history = 0;
  int64_t min_history = 8;
  double cap = 10;
};

// Reads the known keys of `c` over `s`; refuses unknown keys, which are
// most likely typos.
void Apply(const hp::Config& c, Settings* s) {
  for (size_t i = 0; i < c.size(); ++i) {
    const std::string_view k = c.key(i);
    if (k != "recent" && k != "history" && k != "min_history" && k != "cap") {
      throw hp::Error(HS_ERR_INVALID_ARGUMENT,
                      "unknown setting '" + std::string(k) +
                          "' (known: recent, history, min_history, cap)");
    }
  }
  s->recent = c.GetInt("recent", s->recent);
  s->history = c.GetInt("history", s->history);
  s->min_history = c.GetInt("min_history", s->min_history);
  s->cap = c.GetDouble("cap", s->cap);
  if (s->recent < 1) {
    throw hp::Error(HS_ERR_INVALID_ARGUMENT, "'recent' must be at least 1");
  }
  if (s->history < 0) {
    throw hp::Error(HS_ERR_INVALID_ARGUMENT,
                    "'history' must be 0 (all) or more");
  }
  if (s->min_history < 2) {
    throw hp::Error(HS_ERR_INVALID_ARGUMENT,
                    "'min_history' must be at least 2");
  }
  if (!(s->cap > 0)) {
    throw hp::Error(HS_ERR_INVALID_ARGUMENT, "'cap' must be positive");
  }
}

// Median of v (reordered in place). REQUIRES: !v.empty().
double Median(std::vector<double>* v) {
  const size_t n = v->size();
  auto mid = v->begin() + n / 2;
  std::nth_element(v->begin(), mid, v->end());
  const double upper = *mid;
  if (n % 2 == 1) return upper;
  return (upper + *std::max_element(v->begin(), mid)) / 2;
}

class UsageAnomalySignal : public hp::Signal {
 public:
  explicit UsageAnomalySignal(const Settings& s) : s_(s) {}

  void Evaluate(const hp::Batch& batch, hp::Output* out) override {
    const hp::Column usage = batch.input(0);
    for (size_t i = 0; i < batch.rows(); ++i) {
      if (!usage.valid(i)) {
        out->SetMissing(i);
        continue;
      }
      const hp::Series points = usage.series(i);
      const size_t recent = static_cast<size_t>(s_.recent);
      if (points.size() < recent + static_cast<size_t>(s_.min_history)) {
        out->SetMissing(i);
        continue;
      }
      const size_t end = points.size() - recent;
      const size_t begin =
          s_.history > 0 && end > static_cast<size_t>(s_.history)
              ? end - static_cast<size_t>(s_.history)
              : 0;
      bool finite = true;
      for (double x : points) finite = finite && std::isfinite(x);
      if (!finite) {
        out->SetError(i);
        continue;
      }
      double recent_mean = 0;
      for (size_t j = end; j < points.size(); ++j) recent_mean += points[j];
      recent_mean /= static_cast<double>(recent);

      scratch_.assign(points.begin() + begin, points.begin() + end);
      const double median = Median(&scratch_);
      double abs_sum = 0;
      for (double& x : scratch_) {
        x = std::fabs(x - median);
        abs_sum += x;
      }
      double scale = 1.4826 * Median(&scratch_);
      if (scale == 0) {
        scale = 1.2533 * abs_sum / static_cast<double>(scratch_.size());
      }
      const double diff = recent_mean - median;
      double z;
      if (scale > 0) {
        z = diff / scale;
      } else {
        z = diff == 0 ? 0 : (diff > 0 ? s_.cap : -s_.cap);
      }
      out->Set(i, std::clamp(z, -s_.cap, s_.cap));
    }
  }

 private:
  const Settings s_;
  std::vector<double> scratch_;
};

class UsageAnomalyPlugin : public hp::Plugin {
 public:
  explicit UsageAnomalyPlugin(const hp::Config& config) {
    Apply(config, &defaults_);
  }

  static hp::PluginInfo Info() {
    hp::PluginInfo info;
    info.name = "usage_anomaly";
    info.version = "1.0.0";
    info.description =
        "Robust z-score of the latest usage against the account's history";
    info.threading = HS_THREADING_PER_SIGNAL;
    info.signals.push_back(
        {"usage_anomaly",
         "(mean of the latest points - median of history) / (1.4826 * MAD)",
         {{"usage", HS_INPUT_SERIES, "usage per period, oldest first"}},
         false});
    return info;
  }

  std::unique_ptr<hp::Signal> CreateSignal(std::string_view, size_t,
                                           const hp::Config& params) override {
    Settings s = defaults_;
    Apply(params, &s);
    return std::make_unique<UsageAnomalySignal>(s);
  }

 private:
  Settings defaults_;
};

}  // namespace

HS_PLUGIN_DEFINE(UsageAnomalyPlugin)
