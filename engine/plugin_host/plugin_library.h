// PluginLibrary, PluginInstance, PluginSignal: one loaded plugin, as C++.
//
// The C ABI (plugins/sdk/healthscore/plugin.h) stops here: each C table is
// wrapped in a class, so the compiler and the evaluator only see these
// types and expr::ExternalFunction. Ownership follows use:
//
//   CompiledModel -> Program -> PluginSignal   (an expr::ExternalFunction)
//                                 -> PluginInstance (one init()'d state)
//                                      -> PluginLibrary (the dlopen handle)
//
// each arrow a shared_ptr, so a library stays loaded, and a plugin state
// alive, for as long as any compiled model uses them; the last owner's
// release runs destroy_signal, finalize and dlclose, in that order.
//
// Libraries are opened through PluginHost (plugin_host.h), which resolves
// names inside the configured directories and shares one PluginLibrary per
// file.
//
// Thread-safety: all methods may be called from any thread. Lifecycle calls
// into a library (init, create_signal, destroy_signal, finalize) are
// serialised per library; evaluate_batch gets the locking the plugin's
// declared threading requires.

#ifndef HEALTHSCORE_ENGINE_PLUGIN_HOST_PLUGIN_LIBRARY_H_
#define HEALTHSCORE_ENGINE_PLUGIN_HOST_PLUGIN_LIBRARY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/expr/program.h"
#include "healthscore/plugin.h"

namespace healthscore::engine::plugin_host {

// Flat key/value text for a plugin's `config` or a signal's `params`, in
// file order (see hs_config in plugin.h).
using PluginSettings = std::vector<std::pair<std::string, std::string>>;

// Receives the lines plugins log through hs_host_api.log: the plugin's
// name, an HS_LOG_* level and the message. Called from any thread.
using PluginLogSink = std::function<void(std::string_view plugin, int level,
                                         std::string_view message)>;

// Run-time counters of one plugin file, kept by PluginHost across reloads
// of the file (so metrics never go backwards while the process lives).
// Updated with relaxed atomics on the scoring path: at most one update of
// each per chunk of accounts.
struct PluginCounters {
  std::atomic<uint64_t> calls{0};           // evaluate_batch calls
  std::atomic<uint64_t> failed_calls{0};    // calls that returned an error
  std::atomic<uint64_t> failed_rows{0};     // rows of the failed calls
  std::atomic<uint64_t> row_errors{0};      // rows with HS_ROW_ERROR or junk
  std::atomic<uint64_t> nonfinite_rows{0};  // HS_ROW_OK with NaN or inf

  // The message of the latest failed call.
  std::string last_error() const;
  void RecordFailure(std::string message);

 private:
  mutable absl::Mutex mu_;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
};

// A snapshot of one plugin file's identity and counters, for metrics.
struct PluginStats {
  std::string path;  // canonical path of the .so
  std::string name;  // as the plugin names itself
  std::string version;
  std::string sha256;   // hex digest of the file
  bool loaded = false;  // a model holds it right now
  uint64_t calls = 0;
  uint64_t failed_calls = 0;
  uint64_t failed_rows = 0;
  uint64_t row_errors = 0;
  uint64_t nonfinite_rows = 0;
  std::string last_error;
  // Every error counted: failed_calls + row_errors + nonfinite_rows.
  uint64_t errors() const { return failed_calls + row_errors + nonfinite_rows; }
};

enum class PluginInputKind { kNumber, kSeries };
const char* PluginInputKindName(PluginInputKind kind);

struct PluginInputDesc {
  std::string name;
  PluginInputKind kind = PluginInputKind::kNumber;
  std::string description;
};

struct PluginSignalDesc {
  std::string name;
  std::string description;
  std::vector<PluginInputDesc> inputs;
  bool variadic = false;  // the last input repeats (one or more times)

  // Whether a model may bind `n` inputs: exactly the declared count, or at
  // least that many for a variadic signal.
  bool AcceptsInputCount(size_t n) const;
  // The declared input the k-th bound input feeds (the last one repeats).
  // REQUIRES: AcceptsInputCount(k + 1) or k < inputs.size().
  const PluginInputDesc& Input(size_t k) const;
  // e.g. "nps(answers: series)" or "weighted_sum(value: number, ...)".
  std::string Signature() const;
};

class PluginInstance;
class PluginSignal;

class PluginLibrary : public std::enable_shared_from_this<PluginLibrary> {
 public:
  // Opens the shared library at `path` (already resolved and checked by
  // PluginHost) with dlopen(RTLD_NOW | RTLD_LOCAL), finds the entry point,
  // checks the ABI version before anything else, then checks the table.
  //
  // The file is read once, with pread, into a sealed private copy (a
  // memfd); the copy is hashed (sha256()), checked by CheckElfSharedObject
  // (elf_check.h) and loaded through /proc/self/fd. The loaded code thus
  // never maps the file itself: a plugin copied in while a reload runs is
  // refused as truncated instead of raising SIGBUS in dlopen, and one
  // rewritten or truncated in place while loaded cannot fault the code
  // already running. The file itself is loaded, after the same check, only
  // when the copy cannot serve: no memfd or /proc, memfds not executable on
  // this system, or a library that finds its dependencies through $ORIGIN
  // (which must be its own directory); then a change to the file between
  // the check and dlopen is not covered.
  //
  // Errors, each naming `path`:
  //   FailedPrecondition  the file is truncated, not an ELF shared library,
  //                       built for another machine or corrupt (see
  //                       elf_check.h); dlopen failed (missing dependency);
  //                       no hs_plugin_get_api (not a plugin), the entry
  //                       point returned NULL, an ABI major other than ours
  //                       or a minor newer than ours (naming both
  //                       versions), a malformed table.
  //   Internal            the file could not be read.
  static absl::StatusOr<std::shared_ptr<PluginLibrary>> Open(
      const std::string& path, std::shared_ptr<PluginCounters> counters,
      PluginLogSink log);

  ~PluginLibrary();
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const std::string& path() const { return path_; }
  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  const std::string& description() const { return description_; }
  // Hex SHA-256 of the bytes loaded (the private copy).
  const std::string& sha256() const { return sha256_; }
  uint32_t abi_major() const { return abi_major_; }
  uint32_t abi_minor() const { return abi_minor_; }
  hs_threading threading() const { return threading_; }
  const std::vector<PluginSignalDesc>& signals() const { return signals_; }
  // The signal called `name`, or null.
  const PluginSignalDesc* FindSignal(std::string_view name) const;

  PluginCounters& counters() const { return *counters_; }
  PluginStats Stats() const;

  // Calls the plugin's init with `config`. Errors: FailedPrecondition with
  // the plugin's path, code and message when init fails.
  absl::StatusOr<std::shared_ptr<PluginInstance>> Instantiate(
      const PluginSettings& config);

 private:
  friend class PluginInstance;
  friend class PluginSignal;
  struct HostTable;
  PluginLibrary() = default;
  absl::Status CheckTable();

  std::string path_, name_, version_, description_, sha256_;
  uint32_t abi_major_ = 0, abi_minor_ = 0;
  hs_threading threading_ = HS_THREADING_SERIAL;
  std::vector<PluginSignalDesc> signals_;
  void* handle_ = nullptr;
  const hs_plugin_api* api_ = nullptr;
  std::unique_ptr<HostTable> host_;
  std::shared_ptr<PluginCounters> counters_;
  PluginLogSink log_;
  // Serialises lifecycle calls, and every evaluate_batch of a
  // HS_THREADING_SERIAL plugin.
  mutable absl::Mutex mu_;
};

// One initialised plugin state: a model's `plugins:` entry.
class PluginInstance : public std::enable_shared_from_this<PluginInstance> {
 public:
  ~PluginInstance();  // calls finalize
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  const PluginLibrary& library() const { return *library_; }
  const std::shared_ptr<PluginLibrary>& library_ptr() const { return library_; }

  // Creates signal `name`, to be evaluated with `n_inputs` input columns of
  // the kinds CheckInputs accepts, with `params`. Errors: NotFound when the
  // plugin does not provide `name` (the message lists what it provides);
  // InvalidArgument when `n_inputs` does not fit the signal;
  // FailedPrecondition with the plugin's path and message when
  // create_signal fails.
  absl::StatusOr<std::shared_ptr<PluginSignal>> CreateSignal(
      std::string_view name, size_t n_inputs, const PluginSettings& params);

 private:
  friend class PluginLibrary;
  friend class PluginSignal;
  explicit PluginInstance(std::shared_ptr<PluginLibrary> library)
      : library_(std::move(library)) {}

  std::shared_ptr<PluginLibrary> library_;
  hs_plugin_state* state_ = nullptr;
  bool initialized_ = false;  // init succeeded: finalize is owed
};

// One signal state, evaluated by the scoring program chunk by chunk.
//
// EvaluateChunk builds the C batch view over the chunk's columns (no
// copies), pre-fills the output with NaN and HS_ROW_ERROR, calls
// evaluate_batch once, and turns the row statuses into validity: a row is
// valid only when its status is HS_ROW_OK and its value finite. A failed
// call makes every row missing. Failures, error rows and non-finite values
// are counted in the library's PluginCounters. Allocates nothing once a
// thread has run its first chunk.
class PluginSignal : public expr::ExternalFunction {
 public:
  ~PluginSignal() override;  // calls destroy_signal
  PluginSignal(const PluginSignal&) = delete;
  PluginSignal& operator=(const PluginSignal&) = delete;

  const PluginSignalDesc& desc() const { return *desc_; }
  const PluginInstance& instance() const { return *instance_; }

  void EvaluateChunk(const expr::ExternalColumn* inputs, size_t n_inputs,
                     size_t n, double* out, uint8_t* valid) const override;

 private:
  friend class PluginInstance;
  PluginSignal(std::shared_ptr<PluginInstance> instance,
               const PluginSignalDesc* desc)
      : instance_(std::move(instance)), desc_(desc) {}

  std::shared_ptr<PluginInstance> instance_;
  const PluginSignalDesc* desc_;
  hs_signal_state* state_ = nullptr;
  bool created_ = false;  // create_signal succeeded: destroy_signal is owed
  // Held around evaluate_batch for HS_THREADING_PER_SIGNAL plugins.
  mutable absl::Mutex mu_;
};

}  // namespace healthscore::engine::plugin_host

#endif  // HEALTHSCORE_ENGINE_PLUGIN_HOST_PLUGIN_LIBRARY_H_
