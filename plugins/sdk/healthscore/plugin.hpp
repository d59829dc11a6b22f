// healthscore/plugin.hpp: write a Healthscore plugin as C++ classes.
//
// A header-only layer over the C ABI in healthscore/plugin.h. The author
// writes two classes and one macro:
//
//   class MySignal : public healthscore::plugin::Signal {
//    public:
//     void Evaluate(const healthscore::plugin::Batch& batch,
//                   healthscore::plugin::Output* out) override;
//   };
//
//   class MyPlugin : public healthscore::plugin::Plugin {
//    public:
//     explicit MyPlugin(const healthscore::plugin::Config& config);
//     static healthscore::plugin::PluginInfo Info();
//     std::unique_ptr<healthscore::plugin::Signal> CreateSignal(
//         std::string_view name, size_t input_count,
//         const healthscore::plugin::Config& params) override;
//   };
//
//   HS_PLUGIN_DEFINE(MyPlugin)
//
// The macro defines the exported entry point; the constructor is the ABI's
// init, CreateSignal its create_signal, ~Signal and ~MyPlugin its
// destroy_signal and finalize, and Evaluate its evaluate_batch.
//
// Exceptions: every call is wrapped, so nothing unwinds into the host.
// Throw healthscore::plugin::Error to choose the code; any other
// std::exception becomes HS_ERR_INTERNAL with its what(), std::bad_alloc
// HS_ERR_RESOURCE_EXHAUSTED, and anything else HS_ERR_INTERNAL. An
// exception from Evaluate fails that whole call (every row of the chunk is
// missing for the signal, and the host counts the failure); mark single
// bad rows with Output::Error instead.
//
// Threading: as declared in PluginInfo::threading (see plugin.h). With
// HS_THREADING_CONCURRENT, Evaluate must not modify the Signal (make it
// const-correct, keep per-call state on the stack).
//
// Requires C++17.

#ifndef HEALTHSCORE_PLUGIN_HPP_
#define HEALTHSCORE_PLUGIN_HPP_

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "healthscore/plugin.h"

#if __cplusplus < 201703L
#error "healthscore/plugin.hpp needs C++17; plugin.h alone works from C99"
#endif

namespace healthscore::plugin {

// An error with an hs_code, thrown by plugin code and turned into the
// call's return code and message at the ABI boundary.
class Error : public std::runtime_error {
 public:
  Error(hs_code code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  hs_code code() const { return code_; }

 private:
  hs_code code_;
};

// A read-only view of an hs_config (a plugins entry's `config` or a derived
// value's `params`). Valid only during the call that received it: copy the
// values you keep. Getters throw Error(HS_ERR_INVALID_ARGUMENT) with a
// message naming the key when a value is missing or malformed.
class Config {
 public:
  explicit Config(const hs_config* config) : config_(config) {}

  size_t size() const { return config_ == nullptr ? 0 : config_->count; }
  std::string_view key(size_t i) const { return config_->keys[i]; }
  std::string_view value(size_t i) const { return config_->values[i]; }

  // The value of `key`, or nullopt.
  std::optional<std::string_view> Find(std::string_view key) const {
    for (size_t i = 0; i < size(); ++i) {
      if (this->key(i) == key) return value(i);
    }
    return std::nullopt;
  }
  bool Has(std::string_view key) const { return Find(key).has_value(); }

  std::string GetString(std::string_view key) const {
    return std::string(Required(key));
  }
  std::string GetString(std::string_view key, std::string fallback) const {
    auto v = Find(key);
    return v ? std::string(*v) : std::move(fallback);
  }

  double GetDouble(std::string_view key) const {
    return ParseDouble(key, Required(key));
  }
  double GetDouble(std::string_view key, double fallback) const {
    auto v = Find(key);
    return v ? ParseDouble(key, *v) : fallback;
  }

  int64_t GetInt(std::string_view key) const {
    return ParseInt(key, Required(key));
  }
  int64_t GetInt(std::string_view key, int64_t fallback) const {
    auto v = Find(key);
    return v ? ParseInt(key, *v) : fallback;
  }

  bool GetBool(std::string_view key, bool fallback) const {
    auto v = Find(key);
    if (!v) return fallback;
    if (*v == "true") return true;
    if (*v == "false") return false;
    throw Error(
        HS_ERR_INVALID_ARGUMENT,
        Quote(key) + " must be true or false, got '" + std::string(*v) + "'");
  }

  // A list written as `[1, 2.5]` in the model (the host passes "1,2.5").
  std::vector<double> GetDoubleList(std::string_view key) const {
    std::string_view text = Required(key);
    std::vector<double> out;
    while (true) {
      size_t comma = text.find(',');
      out.push_back(ParseDouble(key, Trim(text.substr(0, comma))));
      if (comma == std::string_view::npos) break;
      text.remove_prefix(comma + 1);
    }
    return out;
  }

 private:
  static std::string Quote(std::string_view key) {
    return "'" + std::string(key) + "'";
  }
  static std::string_view Trim(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  }
  std::string_view Required(std::string_view key) const {
    auto v = Find(key);
    if (!v) {
      throw Error(HS_ERR_INVALID_ARGUMENT,
                  "missing required key " + Quote(key));
    }
    return *v;
  }
  static double ParseDouble(std::string_view key, std::string_view text) {
    std::string s(text);
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE ||
        !std::isfinite(v)) {
      throw Error(HS_ERR_INVALID_ARGUMENT,
                  Quote(key) + " must be a finite number, got '" + s + "'");
    }
    return v;
  }
  static int64_t ParseInt(std::string_view key, std::string_view text) {
    std::string s(text);
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE) {
      throw Error(HS_ERR_INVALID_ARGUMENT,
                  Quote(key) + " must be an integer, got '" + s + "'");
    }
    return static_cast<int64_t>(v);
  }

  const hs_config* config_;
};

// One row's series points, oldest first.
class Series {
 public:
  Series(const double* data, size_t size) : data_(data), size_(size) {}
  const double* begin() const { return data_; }
  const double* end() const { return data_ + size_; }
  const double* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  double operator[](size_t i) const { return data_[i]; }
  double back() const { return data_[size_ - 1]; }

 private:
  const double* data_;
  size_t size_;
};

// One input column of a batch.
class Column {
 public:
  explicit Column(const hs_column* column) : c_(column) {}
  bool is_series() const { return c_->kind == HS_INPUT_SERIES; }
  bool valid(size_t row) const { return c_->valid[row] != 0; }
  // REQUIRES: a number column and valid(row).
  double number(size_t row) const { return c_->values[row]; }
  // REQUIRES: a series column and valid(row).
  Series series(size_t row) const {
    const uint32_t begin = c_->offsets[row];
    return Series(c_->values + begin, c_->offsets[row + 1] - begin);
  }
  const hs_column& raw() const { return *c_; }

 private:
  const hs_column* c_;
};

// The rows of one evaluate_batch call. Valid only during the call.
class Batch {
 public:
  explicit Batch(const hs_batch_view* view) : v_(view) {}
  size_t rows() const { return v_->n_rows; }
  size_t input_count() const { return v_->n_inputs; }
  Column input(size_t i) const { return Column(&v_->inputs[i]); }
  const hs_batch_view& raw() const { return *v_; }

 private:
  const hs_batch_view* v_;
};

// Where Evaluate writes. Every row starts as an error (HS_ROW_ERROR, NaN):
// set each row you compute. Valid only during the call.
class Output {
 public:
  Output(hs_batch_out* out, size_t rows) : out_(out), rows_(rows) {}
  size_t rows() const { return rows_; }
  void Set(size_t row, double value) {
    out_->value_host_ptr[row] = value;
    out_->row_status_host_ptr[row] = HS_ROW_OK;
  }
  // Not enough data for this account: the signal is missing, no error.
  void SetMissing(size_t row) {
    out_->value_host_ptr[row] = std::numeric_limits<double>::quiet_NaN();
    out_->row_status_host_ptr[row] = HS_ROW_MISSING;
  }
  // This account failed: the signal is missing and the host counts it.
  void SetError(size_t row) {
    out_->value_host_ptr[row] = std::numeric_limits<double>::quiet_NaN();
    out_->row_status_host_ptr[row] = HS_ROW_ERROR;
  }
  // The raw columns, for loops that write them directly.
  double* values() { return out_->value_host_ptr; }
  int32_t* status() { return out_->row_status_host_ptr; }

 private:
  hs_batch_out* out_;
  size_t rows_;
};

// One signal instance: one derived value of one model.
class Signal {
 public:
  virtual ~Signal() = default;
  // Computes every row of `batch` into `out`. Inputs are bound in the
  // order the SignalInfo declares them.
  virtual void Evaluate(const Batch& batch, Output* out) = 0;
};

// One plugin instance: one `plugins:` entry of one model. Subclasses have a
// constructor taking `const Config&` (the entry's `config`) and a static
// `PluginInfo Info()`.
class Plugin {
 public:
  virtual ~Plugin() = default;
  // `name` is one of Info().signals (the host checks); `input_count` the
  // number of inputs every Evaluate will get (more than declared only for a
  // variadic signal); `params` the derived value's params. Throw Error to
  // refuse them: the model then fails to load with the message.
  virtual std::unique_ptr<Signal> CreateSignal(std::string_view name,
                                               size_t input_count,
                                               const Config& params) = 0;
};

struct InputInfo {
  std::string name;
  hs_input_kind kind = HS_INPUT_NUMBER;
  std::string description;
};

struct SignalInfo {
  std::string name;
  std::string description;
  std::vector<InputInfo> inputs;
  // The last input may be given one or more times.
  bool variadic = false;
};

struct PluginInfo {
  std::string name;
  std::string version;
  std::string description;
  hs_threading threading = HS_THREADING_PER_SIGNAL;
  std::vector<SignalInfo> signals;
};

// Writes to the host's log (no-op before the host is known or when it has
// no log). Thread-safe.
void Log(int32_t level, const std::string& message);

namespace internal {

// The host table; one per plugin library (symbols are hidden).
inline std::atomic<const hs_host_api*> host{nullptr};

template <typename Fn>
hs_code Guard(hs_error* error, Fn&& fn) noexcept {
  try {
    fn();
    return HS_OK;
  } catch (const Error& e) {
    return hs_error_set(error, e.code() == HS_OK ? HS_ERR_UNKNOWN : e.code(),
                        "%s", e.what());
  } catch (const std::bad_alloc&) {
    return hs_error_set(error, HS_ERR_RESOURCE_EXHAUSTED, "out of memory");
  } catch (const std::exception& e) {
    return hs_error_set(error, HS_ERR_INTERNAL, "unhandled exception: %s",
                        e.what());
  } catch (...) {
    return hs_error_set(error, HS_ERR_INTERNAL,
                        "unhandled exception of unknown type");
  }
}

// The C descriptors built from a PluginInfo, with the table pointing into
// them. A function-local static of the plugin library: built on the first
// hs_plugin_get_api call and destroyed when the library is unloaded, so a
// plugin loaded and unloaded again and again leaks nothing. Never copied or
// moved (the table points into its own strings).
struct Descriptors {
  PluginInfo info;
  std::deque<hs_input_desc> inputs;
  std::deque<std::vector<const hs_input_desc*>> input_lists;
  std::deque<hs_signal_desc> signals;
  std::vector<const hs_signal_desc*> signal_list;
  hs_plugin_api api{};

  explicit Descriptors(PluginInfo i) : info(std::move(i)) { Build(); }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;

 private:
  void Build() {
    for (const SignalInfo& s : info.signals) {
      std::vector<const hs_input_desc*> list;
      for (const InputInfo& in : s.inputs) {
        hs_input_desc d{};
        d.struct_size = sizeof(hs_input_desc);
        d.name = in.name.c_str();
        d.kind = in.kind;
        d.description = in.description.c_str();
        inputs.push_back(d);
        list.push_back(&inputs.back());
      }
      input_lists.push_back(std::move(list));
      hs_signal_desc d{};
      d.struct_size = sizeof(hs_signal_desc);
      d.name = s.name.c_str();
      d.description = s.description.c_str();
      d.input_count = static_cast<uint32_t>(s.inputs.size());
      d.inputs = input_lists.back().data();
      d.flags = s.variadic ? HS_SIGNAL_VARIADIC : 0u;
      signals.push_back(d);
      signal_list.push_back(&signals.back());
    }
    api.struct_size = sizeof(hs_plugin_api);
    api.abi_major = HS_PLUGIN_ABI_MAJOR;
    api.abi_minor = HS_PLUGIN_ABI_MINOR;
    api.name = info.name.c_str();
    api.version = info.version.c_str();
    api.description = info.description.c_str();
    api.threading = info.threading;
    api.signal_count = static_cast<uint32_t>(signal_list.size());
    api.signals = signal_list.data();
  }
};

template <typename P>
struct Trampolines {
  static hs_code Init(const hs_host_api*, const hs_config* config,
                      hs_plugin_state** state, hs_error* error) {
    return Guard(error, [&] {
      *state = reinterpret_cast<hs_plugin_state*>(new P(Config(config)));
    });
  }
  static void Finalize(hs_plugin_state* state) {
    delete reinterpret_cast<P*>(state);
  }
  static hs_code CreateSignal(hs_plugin_state* plugin, const char* name,
                              uint32_t n_inputs, const hs_config* params,
                              hs_signal_state** state, hs_error* error) {
    return Guard(error, [&] {
      std::unique_ptr<Signal> s = reinterpret_cast<P*>(plugin)->CreateSignal(
          name, n_inputs, Config(params));
      if (s == nullptr) {
        throw Error(HS_ERR_NOT_FOUND,
                    "no signal '" + std::string(name) + "' in this plugin");
      }
      *state = reinterpret_cast<hs_signal_state*>(s.release());
    });
  }
  static void DestroySignal(hs_plugin_state*, hs_signal_state* state) {
    delete reinterpret_cast<Signal*>(state);
  }
  static hs_code Evaluate(hs_signal_state* signal, const hs_batch_view* batch,
                          hs_batch_out* out, hs_error* error) {
    return Guard(error, [&] {
      Output output(out, batch->n_rows);
      reinterpret_cast<Signal*>(signal)->Evaluate(Batch(batch), &output);
    });
  }
};

// Descriptors plus P's trampolines.
template <typename P>
struct PluginTable : Descriptors {
  PluginTable() : Descriptors(P::Info()) {
    api.init = &Trampolines<P>::Init;
    api.finalize = &Trampolines<P>::Finalize;
    api.create_signal = &Trampolines<P>::CreateSignal;
    api.destroy_signal = &Trampolines<P>::DestroySignal;
    api.evaluate_batch = &Trampolines<P>::Evaluate;
  }
};

template <typename P>
const hs_plugin_api* GetApi(const hs_host_api* h) noexcept {
  try {
    host.store(h, std::memory_order_relaxed);
    static const PluginTable<P> table;
    return &table.api;
  } catch (...) {
    return nullptr;  // e.g. Info() threw; the next call tries again
  }
}

}  // namespace internal

inline void Log(int32_t level, const std::string& message) {
  const hs_host_api* h = internal::host.load(std::memory_order_relaxed);
  if (h == nullptr || h->log == nullptr ||
      h->struct_size < offsetof(hs_host_api, log) + sizeof(h->log)) {
    return;
  }
  h->log(h, level, message.c_str());
}

}  // namespace healthscore::plugin

// Defines the plugin's exported entry point for PluginClass (a subclass of
// healthscore::plugin::Plugin). Use once per plugin, at namespace scope.
#define HS_PLUGIN_DEFINE(PluginClass)                                  \
  extern "C" HS_PLUGIN_EXPORT const hs_plugin_api* hs_plugin_get_api(  \
      const hs_host_api* host) {                                       \
    return ::healthscore::plugin::internal::GetApi<PluginClass>(host); \
  }

#endif  // HEALTHSCORE_PLUGIN_HPP_
