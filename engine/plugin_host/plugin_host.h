// PluginHost: finds and loads plugin libraries from configured directories.
//
// Models name a plugin library by file name (`library: nps` in a model's
// `plugins:` list). The host resolves that name inside its directories only
// and opens each file once: every model that uses the same file shares one
// PluginLibrary, and a library stays loaded for as long as any compiled
// model holds it (see plugin_library.h), independently of the host's own
// lifetime.
//
// Name resolution, for `library: NAME`:
//   - NAME must be a plain file name: no '/', no '\', not "." or "..", not
//     empty. Paths are refused, so a model can never load a file from
//     outside the plugin directories.
//   - NAME ending in ".so" is used as is; otherwise the candidates are
//     "libhs_NAME.so" (what the SDK's hs_add_plugin() builds) and then
//     "NAME.so".
//   - Directories are searched in order and, within one, candidates in
//     order; the first existing file wins.
//   - The file's real path (symlinks resolved) must lie inside the real
//     path of the directory it was found in: a symlink to a file elsewhere
//     is refused.
//
// Metrics: Stats() lists every plugin file the host has loaded since it was
// created, with error counters that survive reloads of the file.
//
// Thread-safety: all methods may be called concurrently.

#ifndef HEALTHSCORE_ENGINE_PLUGIN_HOST_PLUGIN_HOST_H_
#define HEALTHSCORE_ENGINE_PLUGIN_HOST_PLUGIN_HOST_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/plugin_host/plugin_library.h"

namespace healthscore::engine::plugin_host {

struct PluginHostOptions {
  // Directories to load plugins from, searched in order. Each must exist.
  std::vector<std::string> directories;
  // Where plugins' log lines go; by default standard error, as
  // "plugin NAME: [LEVEL] MESSAGE".
  PluginLogSink log;
};

class PluginHost {
 public:
  // Errors: InvalidArgument when no directory is given; NotFound when a
  // directory does not exist or is not a directory (naming it).
  static absl::StatusOr<std::unique_ptr<PluginHost>> Create(
      PluginHostOptions options);

  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // The directories, as canonical absolute paths.
  const std::vector<std::string>& directories() const { return dirs_; }

  // The canonical path `library` resolves to (see the file comment).
  // Errors: InvalidArgument for a name that is a path; NotFound when no
  // candidate exists (the message lists every path tried);
  // PermissionDenied when the file resolves outside its directory;
  // FailedPrecondition when it is not a regular file.
  absl::StatusOr<std::string> Resolve(std::string_view library) const;

  // Resolves and opens `library`, or returns the already loaded library for
  // the same file. Errors: those of Resolve and PluginLibrary::Open (each
  // naming the path).
  absl::StatusOr<std::shared_ptr<PluginLibrary>> Load(std::string_view library);

  // Every plugin file loaded so far, sorted by path.
  std::vector<PluginStats> Stats() const;

 private:
  explicit PluginHost(std::vector<std::string> dirs, PluginLogSink log);

  struct File {
    std::weak_ptr<PluginLibrary> library;
    std::shared_ptr<PluginCounters> counters;
    std::string name, version, sha256;
  };

  const std::vector<std::string> dirs_;
  const PluginLogSink log_;
  mutable absl::Mutex mu_;
  std::map<std::string, File> files_ ABSL_GUARDED_BY(mu_);
};

}  // namespace healthscore::engine::plugin_host

#endif  // HEALTHSCORE_ENGINE_PLUGIN_HOST_PLUGIN_HOST_H_
