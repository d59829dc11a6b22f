#include "engine/plugin_host/plugin_host.h"

#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "engine/common/paths.h"
#include "engine/common/status_macros.h"

namespace healthscore::engine::plugin_host {

namespace fs = std::filesystem;

namespace {

const char* LevelName(int level) {
  switch (level) {
    case HS_LOG_DEBUG:
      return "debug";
    case HS_LOG_INFO:
      return "info";
    case HS_LOG_WARNING:
      return "warning";
    default:
      return "error";
  }
}

void LogToStderr(std::string_view plugin, int level, std::string_view message) {
  std::fprintf(stderr, "plugin %.*s: [%s] %.*s\n",
               static_cast<int>(plugin.size()), plugin.data(), LevelName(level),
               static_cast<int>(message.size()), message.data());
}

}  // namespace

absl::StatusOr<std::unique_ptr<PluginHost>> PluginHost::Create(
    PluginHostOptions options) {
  if (options.directories.empty()) {
    return absl::InvalidArgumentError(
        "a plugin host needs at least one plugin directory");
  }
  std::vector<std::string> dirs;
  for (const std::string& d : options.directories) {
    std::error_code ec;
    const fs::path real = fs::canonical(d, ec);
    if (ec) {
      return absl::NotFoundError(
          absl::StrCat("plugin directory '", d, "' does not exist"));
    }
    if (!fs::is_directory(real, ec)) {
      return absl::NotFoundError(
          absl::StrCat("plugin directory '", d, "' is not a directory"));
    }
    dirs.push_back(real.string());
  }
  PluginLogSink log =
      options.log ? std::move(options.log) : PluginLogSink(&LogToStderr);
  return std::unique_ptr<PluginHost>(
      new PluginHost(std::move(dirs), std::move(log)));
}

PluginHost::PluginHost(std::vector<std::string> dirs, PluginLogSink log)
    : dirs_(std::move(dirs)), log_(std::move(log)) {}

absl::StatusOr<std::string> PluginHost::Resolve(
    std::string_view library) const {
  const std::string name(library);
  if (name.empty()) {
    return absl::InvalidArgumentError("plugin library name is empty");
  }
  if (name.find('/') != std::string::npos ||
      name.find('\\') != std::string::npos || name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat(
        "plugin library '", name,
        "' must be a file name inside a plugin directory, not a path "
        "(plugin directories: ",
        absl::StrJoin(dirs_, ", "), ")"));
  }
  std::vector<std::string> candidates;
  if (absl::EndsWith(name, ".so")) {
    candidates.push_back(name);
  } else {
    candidates.push_back(absl::StrCat("libhs_", name, ".so"));
    candidates.push_back(absl::StrCat(name, ".so"));
  }
  std::vector<std::string> tried;
  for (const std::string& dir : dirs_) {
    for (const std::string& candidate : candidates) {
      const fs::path path = fs::path(dir) / candidate;
      std::error_code ec;
      const fs::file_status status = fs::symlink_status(path, ec);
      if (ec || !fs::exists(status)) {
        tried.push_back(path.string());
        continue;
      }
      const fs::path real = fs::canonical(path, ec);
      if (ec) {
        return absl::NotFoundError(
            absl::StrCat("plugin library '", name, "': '", path.string(),
                         "' is a symbolic link to a file that does not exist"));
      }
      if (!common::PathWithin(real.string(), dir)) {
        return absl::PermissionDeniedError(absl::StrCat(
            "plugin library '", name, "': '", path.string(), "' resolves to '",
            real.string(), "', outside the plugin directory '", dir,
            "'; copy the file into the directory instead of linking to it"));
      }
      if (!fs::is_regular_file(real, ec)) {
        return absl::FailedPreconditionError(
            absl::StrCat("plugin library '", name, "': '", real.string(),
                         "' is not a regular file"));
      }
      return real.string();
    }
  }
  return absl::NotFoundError(
      absl::StrCat("plugin library '", name,
                   "' not found; looked for: ", absl::StrJoin(tried, ", ")));
}

absl::StatusOr<std::shared_ptr<PluginLibrary>> PluginHost::Load(
    std::string_view library) {
  HEALTHSCORE_ASSIGN_OR_RETURN(std::string path, Resolve(library));
  absl::MutexLock lock(&mu_);
  File& file = files_[path];
  if (std::shared_ptr<PluginLibrary> loaded = file.library.lock()) {
    return loaded;
  }
  if (file.counters == nullptr) {
    file.counters = std::make_shared<PluginCounters>();
  }
  absl::StatusOr<std::shared_ptr<PluginLibrary>> opened =
      PluginLibrary::Open(path, file.counters, log_);
  if (!opened.ok()) {
    if (file.name.empty()) files_.erase(path);
    return opened.status();
  }
  file.library = *opened;
  file.name = (*opened)->name();
  file.version = (*opened)->version();
  file.sha256 = (*opened)->sha256();
  return opened;
}

std::vector<PluginStats> PluginHost::Stats() const {
  absl::MutexLock lock(&mu_);
  std::vector<PluginStats> out;
  for (const auto& [path, file] : files_) {
    if (std::shared_ptr<PluginLibrary> lib = file.library.lock()) {
      out.push_back(lib->Stats());
      continue;
    }
    PluginStats s;
    s.path = path;
    s.name = file.name;
    s.version = file.version;
    s.sha256 = file.sha256;
    s.loaded = false;
    const PluginCounters& c = *file.counters;
    s.calls = c.calls.load(std::memory_order_relaxed);
    s.failed_calls = c.failed_calls.load(std::memory_order_relaxed);
    s.failed_rows = c.failed_rows.load(std::memory_order_relaxed);
    s.row_errors = c.row_errors.load(std::memory_order_relaxed);
    s.nonfinite_rows = c.nonfinite_rows.load(std::memory_order_relaxed);
    s.last_error = c.last_error();
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace healthscore::engine::plugin_host
