#include "engine/plugin_host/plugin_library.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "engine/common/status_macros.h"
#include "engine/plugin_host/elf_check.h"
#include "openssl/evp.h"

// Linux 6.3+ (older headers lack it; older kernels refuse it).
#if defined(__linux__) && !defined(MFD_EXEC)
#define MFD_EXEC 0x0010U
#endif

namespace healthscore::engine::plugin_host {

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

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

std::string Hex(const unsigned char* bytes, unsigned int n) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 15]);
  }
  return out;
}

// A memfd for the private copy of a plugin, or -1 when the kernel offers
// none. MFD_EXEC asks for an executable one where the kernel can make
// memfds non-executable by default (Linux 6.3+); older kernels reject the
// flag, so it is retried without.
int CreatePluginMemfd(const std::string& path) {
#ifdef __linux__
  const std::string name =
      "healthscore-plugin:" + std::filesystem::path(path).filename().string();
  int fd =
      memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) {
    fd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  }
  return fd;
#else
  return -1;
#endif
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t wrote = write(fd, data, n);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return false;
    data += wrote;
    n -= static_cast<size_t>(wrote);
  }
  return true;
}

// Whether code may be mapped from `fd` (a memfd may be non-executable by
// system policy, or live on a noexec mount).
bool CanMapExecutable(int fd) {
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return false;
  munmap(p, 4096);
  return true;
}

// The plugin file as it will be loaded.
struct PluginBytes {
  uint64_t size = 0;   // bytes read: the file's size, or less if it shrank
  std::string sha256;  // of exactly those bytes
  Fd copy;             // a sealed private copy of them, or -1
};

// Reads `source` (the plugin at `path`) once with pread, hashing it and,
// when possible, copying it into a sealed memfd. pread, not mmap: a file
// truncated while being read gives a short read, never SIGBUS. Internal
// when the file cannot be read.
absl::Status ReadPlugin(int source, const std::string& path, PluginBytes* out) {
  struct stat st;
  if (fstat(source, &st) != 0) {
    return absl::InternalError(absl::StrCat("cannot read plugin '", path,
                                            "': ", std::strerror(errno)));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  out->copy.Reset(CreatePluginMemfd(path));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(),
                                                         EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(size_t{1} << 20);
  uint64_t done = 0;
  while (done < size) {
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(buf.size(), size - done));
    const ssize_t got =
        pread(source, buf.data(), want, static_cast<off_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      return absl::InternalError(absl::StrCat("cannot read plugin '", path,
                                              "': ", std::strerror(errno)));
    }
    if (got == 0) break;  // it shrank: the ELF check says what is missing
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(got));
    if (out->copy.get() >= 0 &&
        !WriteAll(out->copy.get(), buf.data(), static_cast<size_t>(got))) {
      out->copy.Reset();  // no room for the copy: load the file itself
    }
    done += static_cast<uint64_t>(got);
  }
  out->size = done;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  out->sha256 = Hex(digest, len);
#ifdef F_ADD_SEALS
  if (out->copy.get() >= 0) {
    // Nobody, not even this process, can change the copy any more.
    fcntl(out->copy.get(), F_ADD_SEALS,
          F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  }
#endif
  return absl::OkStatus();
}

// dlopen of the private copy through "/proc/self/fd/N". The dynamic loader
// returns an already loaded library whose name equals the one asked for,
// and N is reused once closed, so a name still held by a library loaded
// earlier (one that dlclose did not unload) is skipped by moving the copy
// to another descriptor number. Returns the handle, or null with
// `*error` set; `*error` empty means the copy cannot be loaded this way
// (no /proc) and the caller should load the file itself.
void* OpenCopy(Fd* copy, const std::string& path, std::string* error) {
  error->clear();
  for (int attempt = 0; attempt < 64; ++attempt) {
    const std::string name = absl::StrCat("/proc/self/fd/", copy->get());
    if (attempt == 0 && access(name.c_str(), R_OK) != 0) return nullptr;
    void* taken = dlopen(name.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (taken != nullptr) {
      dlclose(taken);
      const int moved = fcntl(copy->get(), F_DUPFD_CLOEXEC, copy->get() + 1);
      if (moved < 0) return nullptr;
      copy->Reset(moved);
      continue;
    }
    dlerror();
    void* handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      *error = absl::StrReplaceAll(why != nullptr ? why : "dlopen failed",
                                   {{name, path}});
    }
    return handle;
  }
  return nullptr;
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

  // The file is read once, checked, and loaded from a sealed private copy
  // of exactly the bytes checked and hashed: a plugin copied in while a
  // reload runs, or rewritten in place while loaded, can then neither
  // fault dlopen nor the code already running from it (SIGBUS).
  Fd source(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (source.get() < 0) {
    return absl::InternalError(absl::StrCat("cannot read plugin '", path,
                                            "': ", std::strerror(errno)));
  }
  PluginBytes bytes;
  HEALTHSCORE_RETURN_IF_ERROR(ReadPlugin(source.get(), path, &bytes));
  lib->sha256_ = bytes.sha256;
  HEALTHSCORE_ASSIGN_OR_RETURN(
      const ElfFacts facts,
      CheckElfSharedObject(
          bytes.copy.get() >= 0 ? bytes.copy.get() : source.get(), bytes.size,
          path));
  // A library that finds its dependencies through $ORIGIN must be loaded
  // from its own directory; so must one when the copy cannot hold code.
  // Those are loaded from `path` after the same check, with only the
  // window between check and dlopen left open.
  std::string why;
  if (bytes.copy.get() >= 0 && !facts.uses_origin &&
      CanMapExecutable(bytes.copy.get())) {
    lib->handle_ = OpenCopy(&bytes.copy, path, &why);
  }
  bytes.copy.Reset();  // the loader's mappings keep the copy alive
  if (lib->handle_ == nullptr && why.empty()) {
    dlerror();
    lib->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib->handle_ == nullptr) {
      const char* error = dlerror();
      why = error != nullptr ? error : "dlopen failed";
    }
  }
  if (lib->handle_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot load plugin '", path, "': ", why));
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

}  // namespace healthscore::engine::plugin_host
