#include "engine/plugin_host/plugin_library.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <limits>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "engine/common/status_macros.h"
#include "openssl/evp.h"

namespace healthscore::engine {

namespace {

// Generous bounds on what a table may declare, so that a corrupt table
// fails the load instead of sending the host through garbage.
constexpr uint32_t kMaxSignals = 4096;
constexpr uint32_t kMaxInputs = 256;

// Whether `s`, whose first member is its struct_size, covers `field`.
#define HS_COVERS(s, type, field) \
  ((s)->struct_size >= offsetof(type, field) + sizeof(((type*)nullptr)->field))

std::string Version(uint32_t major, uint32_t minor) {
  return absl::StrCat(major, ".", minor);
}

std::string CodeText(hs_code code) {
  if (code >= 0 && code <= 16) {
    return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  }
  return absl::StrCat("code ", code);
}

// "message (INVALID_ARGUMENT)" from a call's code and error buffer.
std::string CallError(hs_code code, const char* message) {
  if (message == nullptr || message[0] == '\0') {
    return absl::StrCat("returned ", CodeText(code), " without a message");
  }
  return absl::StrCat(message, " (", CodeText(code), ")");
}

bool IsSignalName(const char* s) {
  if (s == nullptr || *s == '\0') return false;
  if (!((*s >= 'a' && *s <= 'z') || *s == '_')) return false;
  for (; *s != '\0'; ++s) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) {
      return false;
    }
  }
  return true;
}

std::string Text(const char* s) { return s == nullptr ? "" : s; }

absl::StatusOr<std::string> Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InternalError(
        absl::StrCat("cannot read plugin '", path, "' to hash it"));
  }
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(),
                                                         EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    EVP_DigestUpdate(ctx.get(), buf, static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) {
    return absl::InternalError(
        absl::StrCat("cannot read plugin '", path, "' to hash it"));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

// An hs_config over PluginSettings; the settings must outlive it.
class ConfigView {
 public:
  explicit ConfigView(const PluginSettings& settings) {
    keys_.reserve(settings.size());
    values_.reserve(settings.size());
    for (const auto& [k, v] : settings) {
      keys_.push_back(k.c_str());
      values_.push_back(v.c_str());
    }
    config_.count = static_cast<uint32_t>(settings.size());
    config_.keys = keys_.data();
    config_.values = values_.data();
  }
  const hs_config* get() const { return &config_; }

 private:
  std::vector<const char*> keys_, values_;
  hs_config config_{};
};

inline bool Finite(double x) { return x - x == 0; }

}  // namespace

// The host table handed to a library: the plugin sees `api`, and the log
// callback finds its library again from that address.
struct PluginLibrary::HostTable {
  hs_host_api api;
  const PluginLibrary* owner;

  static void Log(const hs_host_api* host, int32_t level, const char* message) {
    static_assert(offsetof(HostTable, api) == 0,
                  "the callback casts hs_host_api* back to HostTable*");
    if (host == nullptr || message == nullptr) return;
    const auto* table = reinterpret_cast<const HostTable*>(host);
    const PluginLibrary* lib = table->owner;
    if (!lib->log_) return;
    lib->log_(lib->name_.empty() ? lib->path_ : lib->name_, level, message);
  }
};

const char* PluginInputKindName(PluginInputKind kind) {
  return kind == PluginInputKind::kSeries ? "series" : "number";
}

bool PluginSignalDesc::AcceptsInputCount(size_t n) const {
  return variadic ? n >= inputs.size() : n == inputs.size();
}

const PluginInputDesc& PluginSignalDesc::Input(size_t k) const {
  return inputs[std::min(k, inputs.size() - 1)];
}

std::string PluginSignalDesc::Signature() const {
  std::vector<std::string> parts;
  for (const PluginInputDesc& in : inputs) {
    parts.push_back(absl::StrCat(in.name, ": ", PluginInputKindName(in.kind)));
  }
  if (variadic) parts.push_back("...");
  return absl::StrCat(name, "(", absl::StrJoin(parts, ", "), ")");
}

std::string PluginCounters::last_error() const {
  absl::MutexLock lock(&mu_);
  return last_error_;
}

void PluginCounters::RecordFailure(std::string message) {
  absl::MutexLock lock(&mu_);
  last_error_ = std::move(message);
}

absl::StatusOr<std::shared_ptr<PluginLibrary>> PluginLibrary::Open(
    const std::string& path, std::shared_ptr<PluginCounters> counters,
    PluginLogSink log) {
  std::shared_ptr<PluginLibrary> lib(new PluginLibrary());
  lib->path_ = path;
  lib->counters_ = counters != nullptr ? std::move(counters)
                                       : std::make_shared<PluginCounters>();
  lib->log_ = std::move(log);
  HEALTHSCORE_ASSIGN_OR_RETURN(lib->sha256_, Sha256File(path));

  dlerror();
  lib->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib->handle_ == nullptr) {
    const char* why = dlerror();
    return absl::FailedPreconditionError(
        absl::StrCat("cannot load plugin '", path,
                     "': ", why != nullptr ? why : "dlopen failed"));
  }
  void* entry = dlsym(lib->handle_, HS_PLUGIN_ENTRY_POINT);
  if (entry == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "'", path, "' is not a Healthscore plugin: it does not export ",
        HS_PLUGIN_ENTRY_POINT,
        " (define it with HS_PLUGIN_EXPORT, or HS_PLUGIN_DEFINE in C++)"));
  }
  lib->host_ = std::make_unique<HostTable>();
  hs_host_api& host = lib->host_->api;
  host.struct_size = sizeof(hs_host_api);
  host.abi_major = HS_PLUGIN_ABI_MAJOR;
  host.abi_minor = HS_PLUGIN_ABI_MINOR;
  host.host_version = "healthscore";
  host.log = &HostTable::Log;
  lib->host_->owner = lib.get();

  const auto get_api = reinterpret_cast<hs_plugin_get_api_fn>(entry);
  const hs_plugin_api* api = get_api(&host);
  if (api == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "plugin '", path, "' refused this host: ", HS_PLUGIN_ENTRY_POINT,
        " returned NULL (host plugin ABI ",
        Version(HS_PLUGIN_ABI_MAJOR, HS_PLUGIN_ABI_MINOR), ")"));
  }
  // The version decides whether anything else in the table can be read.
  if (!HS_COVERS(api, hs_plugin_api, abi_minor)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "plugin '", path, "' returned a table of ", api->struct_size,
        " bytes, too small to hold an ABI version"));
  }
  lib->abi_major_ = api->abi_major;
  lib->abi_minor_ = api->abi_minor;
  const std::string host_version =
      Version(HS_PLUGIN_ABI_MAJOR, HS_PLUGIN_ABI_MINOR);
  const std::string plugin_version = Version(api->abi_major, api->abi_minor);
  if (api->abi_major != HS_PLUGIN_ABI_MAJOR) {
    return absl::FailedPreconditionError(absl::StrCat(
        "plugin '", path, "' was built for plugin ABI ", plugin_version,
        ", but this host implements plugin ABI ", host_version,
        ": major versions must match; rebuild the plugin against this "
        "Healthscore's SDK"));
  }
  if (api->abi_minor > HS_PLUGIN_ABI_MINOR) {
    return absl::FailedPreconditionError(absl::StrCat(
        "plugin '", path, "' needs plugin ABI ", plugin_version,
        ", newer than this host's plugin ABI ", host_version,
        ": upgrade Healthscore, or rebuild the plugin against SDK ",
        host_version));
  }
  lib->api_ = api;
  HEALTHSCORE_RETURN_IF_ERROR(lib->CheckTable());
  return lib;
}

absl::Status PluginLibrary::CheckTable() {
  const hs_plugin_api* api = api_;
  auto bad = [&](absl::string_view what) {
    return absl::FailedPreconditionError(
        absl::StrCat("plugin '", path_, "' has a malformed API table: ", what));
  };
  if (!HS_COVERS(api, hs_plugin_api, evaluate_batch)) {
    return bad(absl::StrCat(
        "it is ", api->struct_size, " bytes; ABI ",
        Version(abi_major_, abi_minor_), " needs at least ",
        offsetof(hs_plugin_api, evaluate_batch) + sizeof(api->evaluate_batch)));
  }
  if (api->name == nullptr || api->name[0] == '\0') return bad("no name");
  name_ = api->name;
  version_ = Text(api->version);
  description_ = Text(api->description);
  if (api->threading > HS_THREADING_CONCURRENT) {
    return bad(absl::StrCat("unknown threading value ", api->threading));
  }
  threading_ = api->threading;
  if (api->create_signal == nullptr) return bad("create_signal is NULL");
  if (api->evaluate_batch == nullptr) return bad("evaluate_batch is NULL");
  if (api->signal_count == 0 || api->signals == nullptr) {
    return bad("it provides no signals");
  }
  if (api->signal_count > kMaxSignals) {
    return bad(
        absl::StrCat("signal_count ", api->signal_count, " is implausible"));
  }
  std::set<std::string> seen;
  for (uint32_t i = 0; i < api->signal_count; ++i) {
    const hs_signal_desc* s = api->signals[i];
    if (s == nullptr || !HS_COVERS(s, hs_signal_desc, inputs)) {
      return bad(absl::StrCat("signal #", i, " is NULL or too small"));
    }
    if (!IsSignalName(s->name)) {
      return bad(absl::StrCat("signal #", i, " has the name '", Text(s->name),
                              "'; names match [a-z_][a-z0-9_]*"));
    }
    PluginSignalDesc desc;
    desc.name = s->name;
    desc.description = Text(s->description);
    if (!seen.insert(desc.name).second) {
      return bad(absl::StrCat("signal '", desc.name, "' is listed twice"));
    }
    if (s->input_count > kMaxInputs ||
        (s->input_count > 0 && s->inputs == nullptr)) {
      return bad(absl::StrCat("signal '", desc.name, "' has a bad input list"));
    }
    for (uint32_t k = 0; k < s->input_count; ++k) {
      const hs_input_desc* in = s->inputs[k];
      if (in == nullptr || !HS_COVERS(in, hs_input_desc, kind)) {
        return bad(absl::StrCat("input #", k, " of signal '", desc.name,
                                "' is NULL or too small"));
      }
      PluginInputDesc input;
      input.name = in->name != nullptr && in->name[0] != '\0'
                       ? in->name
                       : absl::StrCat("input", k + 1);
      if (in->kind == HS_INPUT_NUMBER) {
        input.kind = PluginInputKind::kNumber;
      } else if (in->kind == HS_INPUT_SERIES) {
        input.kind = PluginInputKind::kSeries;
      } else {
        return bad(absl::StrCat("input '", input.name, "' of signal '",
                                desc.name, "' has the unknown kind ",
                                in->kind));
      }
      if (HS_COVERS(in, hs_input_desc, description)) {
        input.description = Text(in->description);
      }
      desc.inputs.push_back(std::move(input));
    }
    if (HS_COVERS(s, hs_signal_desc, flags)) {
      desc.variadic = (s->flags & HS_SIGNAL_VARIADIC) != 0;
    }
    if (desc.variadic && desc.inputs.empty()) {
      return bad(absl::StrCat("signal '", desc.name,
                              "' is variadic but declares no input"));
    }
    signals_.push_back(std::move(desc));
  }
  return absl::OkStatus();
}

PluginLibrary::~PluginLibrary() {
  // Every instance and signal holds this library, so none is left here.
  if (handle_ != nullptr) dlclose(handle_);
}

const PluginSignalDesc* PluginLibrary::FindSignal(std::string_view name) const {
  for (const PluginSignalDesc& s : signals_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

PluginStats PluginLibrary::Stats() const {
  PluginStats s;
  s.path = path_;
  s.name = name_;
  s.version = version_;
  s.sha256 = sha256_;
  s.loaded = true;
  s.calls = counters_->calls.load(std::memory_order_relaxed);
  s.failed_calls = counters_->failed_calls.load(std::memory_order_relaxed);
  s.failed_rows = counters_->failed_rows.load(std::memory_order_relaxed);
  s.row_errors = counters_->row_errors.load(std::memory_order_relaxed);
  s.nonfinite_rows = counters_->nonfinite_rows.load(std::memory_order_relaxed);
  s.last_error = counters_->last_error();
  return s;
}

absl::StatusOr<std::shared_ptr<PluginInstance>> PluginLibrary::Instantiate(
    const PluginSettings& config) {
  std::shared_ptr<PluginInstance> instance(
      new PluginInstance(shared_from_this()));
  if (api_->init == nullptr) {
    instance->initialized_ = true;
    return instance;
  }
  ConfigView view(config);
  char message[1024] = "";
  hs_error error{message, sizeof message};
  hs_plugin_state* state = nullptr;
  hs_code code;
  {
    absl::MutexLock lock(&mu_);
    code = api_->init(&host_->api, view.get(), &state, &error);
  }
  message[sizeof message - 1] = '\0';
  if (code != HS_OK) {
    return absl::FailedPreconditionError(
        absl::StrCat("plugin '", name_, "' (", path_,
                     ") failed to initialise: ", CallError(code, message)));
  }
  instance->state_ = state;
  instance->initialized_ = true;
  return instance;
}

PluginInstance::~PluginInstance() {
  if (!initialized_ || library_->api_->finalize == nullptr) return;
  absl::MutexLock lock(&library_->mu_);
  library_->api_->finalize(state_);
}

absl::StatusOr<std::shared_ptr<PluginSignal>> PluginInstance::CreateSignal(
    std::string_view name, size_t n_inputs, const PluginSettings& params) {
  const PluginLibrary& lib = *library_;
  const PluginSignalDesc* desc = lib.FindSignal(name);
  if (desc == nullptr) {
    std::vector<std::string> names;
    for (const PluginSignalDesc& s : lib.signals_) names.push_back(s.name);
    return absl::NotFoundError(absl::StrCat(
        "plugin '", lib.name_, "' (", lib.path_, ") does not provide signal '",
        absl::string_view(name.data(), name.size()),
        "'; it provides: ", absl::StrJoin(names, ", ")));
  }
  if (!desc->AcceptsInputCount(n_inputs)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "signal ", desc->Signature(), " of plugin '", lib.name_, "' takes ",
        desc->variadic ? "at least " : "", desc->inputs.size(),
        desc->inputs.size() == 1 ? " input" : " inputs", ", got ", n_inputs));
  }
  std::shared_ptr<PluginSignal> signal(
      new PluginSignal(shared_from_this(), desc));
  ConfigView view(params);
  char message[1024] = "";
  hs_error error{message, sizeof message};
  hs_signal_state* state = nullptr;
  hs_code code;
  {
    absl::MutexLock lock(&library_->mu_);
    code = lib.api_->create_signal(state_, desc->name.c_str(),
                                   static_cast<uint32_t>(n_inputs), view.get(),
                                   &state, &error);
  }
  message[sizeof message - 1] = '\0';
  if (code != HS_OK) {
    return absl::FailedPreconditionError(absl::StrCat(
        "plugin '", lib.name_, "' (", lib.path_, ") could not create signal '",
        desc->name, "': ", CallError(code, message)));
  }
  signal->state_ = state;
  signal->created_ = true;
  return signal;
}

PluginSignal::~PluginSignal() {
  const PluginLibrary& lib = *instance_->library_;
  if (!created_ || lib.api_->destroy_signal == nullptr) return;
  absl::MutexLock lock(&instance_->library_->mu_);
  lib.api_->destroy_signal(instance_->state_, state_);
}

void PluginSignal::EvaluateChunk(const expr::ExternalColumn* inputs,
                                 size_t n_inputs, size_t n, double* out,
                                 uint8_t* valid) const {
  PluginLibrary& lib = *instance_->library_;
  PluginCounters& counters = *lib.counters_;
  // Per-thread buffers: after a thread's first chunk nothing is allocated.
  thread_local std::vector<hs_column> columns;
  thread_local std::vector<int32_t> status;
  if (columns.size() < n_inputs) columns.resize(n_inputs);
  if (status.size() < n) status.resize(n);
  for (size_t k = 0; k < n_inputs; ++k) {
    const expr::ExternalColumn& in = inputs[k];
    hs_column& c = columns[k];
    c.kind =
        in.kind == expr::ValueKind::kSeries ? HS_INPUT_SERIES : HS_INPUT_NUMBER;
    c.valid = in.valid;
    c.values = in.values;
    c.offsets = in.offsets;
  }
  // A row the plugin leaves alone is an error, never a stale value.
  std::fill_n(out, n, std::numeric_limits<double>::quiet_NaN());
  std::fill_n(status.data(), n, HS_ROW_ERROR);
  hs_batch_view view{};
  view.struct_size = sizeof view;
  view.n_rows = static_cast<uint32_t>(n);
  view.n_inputs = static_cast<uint32_t>(n_inputs);
  view.inputs = columns.data();
  hs_batch_out result{};
  result.struct_size = sizeof result;
  result.value_host_ptr = out;
  result.row_status_host_ptr = status.data();
  char message[256];
  message[0] = '\0';
  hs_error error{message, sizeof message};

  const hs_plugin_api* api = lib.api_;
  hs_signal_state* state = state_;
  hs_code code;
  switch (lib.threading_) {
    case HS_THREADING_CONCURRENT:
      code = api->evaluate_batch(state, &view, &result, &error);
      break;
    case HS_THREADING_PER_SIGNAL: {
      absl::MutexLock lock(&mu_);
      code = api->evaluate_batch(state, &view, &result, &error);
      break;
    }
    default: {
      absl::MutexLock lock(&lib.mu_);
      code = api->evaluate_batch(state, &view, &result, &error);
      break;
    }
  }
  counters.calls.fetch_add(1, std::memory_order_relaxed);
  if (code != HS_OK) {
    std::fill_n(valid, n, 0);
    counters.failed_calls.fetch_add(1, std::memory_order_relaxed);
    counters.failed_rows.fetch_add(n, std::memory_order_relaxed);
    message[sizeof message - 1] = '\0';
    counters.RecordFailure(
        absl::StrCat("signal '", desc_->name, "': ", CallError(code, message)));
    return;
  }
  const int32_t* st = status.data();
  uint64_t errors = 0, nonfinite = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t ok = st[i] == HS_ROW_OK;
    const uint8_t finite = Finite(out[i]);
    valid[i] = ok & finite;
    errors += static_cast<uint8_t>(!ok & (st[i] != HS_ROW_MISSING));
    nonfinite += static_cast<uint8_t>(ok & !finite);
  }
  if (errors != 0) {
    counters.row_errors.fetch_add(errors, std::memory_order_relaxed);
  }
  if (nonfinite != 0) {
    counters.nonfinite_rows.fetch_add(nonfinite, std::memory_order_relaxed);
  }
}

}  // namespace healthscore::engine
