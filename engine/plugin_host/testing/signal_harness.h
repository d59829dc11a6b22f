// Test helpers: load a real plugin file through the host and run one of its
// signals over columns built in the test.
//
// For the plugins' own tests (plugins/<name>/*_test.cc), the host's unit
// tests and integration tests. It lives with the host it drives, so the
// engine never includes a folder above it (LAYERS). Plugins are read from
// the build tree: HEALTHSCORE_BINARY_DIR "/plugins/lib" (examples) and
// "/plugins/broken" (broken on purpose); a program that includes this links
// healthscore_tree_plugins, which builds them first.

#ifndef HEALTHSCORE_ENGINE_PLUGIN_HOST_TESTING_SIGNAL_HARNESS_H_
#define HEALTHSCORE_ENGINE_PLUGIN_HOST_TESTING_SIGNAL_HARNESS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/expr/program.h"
#include "engine/plugin_host/plugin_host.h"
#include "engine/plugin_host/plugin_library.h"

namespace healthscore::engine::plugin_host::testing {

inline std::string ExamplePluginDir() {
  return HEALTHSCORE_BINARY_DIR "/plugins/lib";
}
inline std::string TestPluginDir() {
  return HEALTHSCORE_BINARY_DIR "/plugins/broken";
}

// A number column under construction.
struct NumberColumn {
  std::vector<double> values;
  std::vector<uint8_t> valid;

  NumberColumn& Add(double v) {
    values.push_back(v);
    valid.push_back(1);
    return *this;
  }
  NumberColumn& AddMissing() {
    values.push_back(std::numeric_limits<double>::quiet_NaN());
    valid.push_back(0);
    return *this;
  }
  size_t rows() const { return values.size(); }
};

// A series column under construction.
struct SeriesColumn {
  std::vector<double> values;
  std::vector<uint32_t> offsets{0};
  std::vector<uint8_t> valid;

  SeriesColumn& Add(const std::vector<double>& points) {
    values.insert(values.end(), points.begin(), points.end());
    offsets.push_back(static_cast<uint32_t>(values.size()));
    valid.push_back(1);
    return *this;
  }
  SeriesColumn& AddMissing() {
    offsets.push_back(static_cast<uint32_t>(values.size()));
    valid.push_back(0);
    return *this;
  }
  size_t rows() const { return valid.size(); }
};

// One input of a run: a view of a column the caller keeps alive.
class Input {
 public:
  Input(const NumberColumn& c)  // NOLINT: implicit on purpose
      : kind_(engine::expr::ValueKind::kNum),
        values_(c.values.data()),
        valid_(c.valid.data()),
        offsets_(nullptr),
        rows_(c.rows()) {}
  Input(const SeriesColumn& c)  // NOLINT: implicit on purpose
      : kind_(engine::expr::ValueKind::kSeries),
        values_(c.values.data()),
        valid_(c.valid.data()),
        offsets_(c.offsets.data()),
        rows_(c.rows()) {}

  size_t rows() const { return rows_; }
  // The column for rows [start, start + n).
  engine::expr::ExternalColumn Chunk(size_t start) const {
    return {kind_,
            kind_ == engine::expr::ValueKind::kNum ? values_ + start : values_,
            valid_ + start, offsets_ == nullptr ? nullptr : offsets_ + start};
  }

 private:
  engine::expr::ValueKind kind_;
  const double* values_;
  const uint8_t* valid_;
  const uint32_t* offsets_;
  size_t rows_;
};

// What a signal produced: value[i] is meaningful only when valid[i].
struct Output {
  std::vector<double> value;
  std::vector<uint8_t> valid;
};

// Runs `signal` over every row of `inputs` in chunks of `chunk_rows`, as the
// scoring program does.
inline Output RunSignal(const engine::plugin_host::PluginSignal& signal,
                        const std::vector<Input>& inputs,
                        size_t chunk_rows = engine::expr::kChunkRows) {
  const size_t rows = inputs.empty() ? 0 : inputs[0].rows();
  Output out;
  out.value.resize(rows);
  out.valid.resize(rows);
  std::vector<engine::expr::ExternalColumn> cols(inputs.size());
  for (size_t start = 0; start < rows; start += chunk_rows) {
    const size_t n = std::min(chunk_rows, rows - start);
    for (size_t k = 0; k < inputs.size(); ++k) cols[k] = inputs[k].Chunk(start);
    signal.EvaluateChunk(cols.data(), cols.size(), n, out.value.data() + start,
                         out.valid.data() + start);
  }
  return out;
}

// A host over the example and broken-plugin directories of the build tree.
inline std::unique_ptr<engine::plugin_host::PluginHost> BuildTreeHost() {
  engine::plugin_host::PluginHostOptions options;
  options.directories = {ExamplePluginDir(), TestPluginDir()};
  absl::StatusOr<std::unique_ptr<engine::plugin_host::PluginHost>> host =
      engine::plugin_host::PluginHost::Create(std::move(options));
  return host.ok() ? *std::move(host) : nullptr;
}

// Loads `library`, initialises it with `config` and creates `signal` for
// `n_inputs` inputs with `params`.
inline absl::StatusOr<std::shared_ptr<engine::plugin_host::PluginSignal>>
MakeSignal(engine::plugin_host::PluginHost* host, const std::string& library,
           const std::string& signal, size_t n_inputs,
           const engine::plugin_host::PluginSettings& params = {},
           const engine::plugin_host::PluginSettings& config = {}) {
  absl::StatusOr<std::shared_ptr<engine::plugin_host::PluginLibrary>> lib =
      host->Load(library);
  if (!lib.ok()) return lib.status();
  absl::StatusOr<std::shared_ptr<engine::plugin_host::PluginInstance>>
      instance = (*lib)->Instantiate(config);
  if (!instance.ok()) return instance.status();
  return (*instance)->CreateSignal(signal, n_inputs, params);
}

}  // namespace healthscore::engine::plugin_host::testing

#endif  // HEALTHSCORE_ENGINE_PLUGIN_HOST_TESTING_SIGNAL_HARNESS_H_
