#include "engine/common/install_layout.h"

#include <system_error>
#include <vector>

#include "engine/common/paths.h"

#ifndef HEALTHSCORE_INSTALL_BINDIR
#error "engine/CMakeLists.txt defines the configured install directories"
#endif

namespace healthscore::engine::common {
namespace {

namespace fs = std::filesystem;

constexpr char kModelsInTree[] = "rules";

bool IsDirectory(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// The prefix whose <bindir> is `dir`, or empty when `dir` does not end in
// <bindir>'s components ("bin", or "local/bin" for a bindir of that form).
fs::path PrefixOf(const fs::path& dir, const std::string& bindir) {
  std::vector<std::string> tail;
  for (const fs::path& part : fs::path(bindir).lexically_normal()) {
    if (!part.empty() && part != ".") tail.push_back(part.string());
  }
  if (tail.empty() || fs::path(bindir).is_absolute()) return {};
  fs::path prefix = dir;
  for (auto it = tail.rbegin(); it != tail.rend(); ++it) {
    if (prefix.filename() != *it) return {};
    prefix = prefix.parent_path();
  }
  return prefix;
}

}  // namespace

const InstallLayout& ConfiguredLayout() {
  static const InstallLayout* layout = new InstallLayout{
      HEALTHSCORE_INSTALL_BINDIR, HEALTHSCORE_INSTALL_LIBDIR,
      HEALTHSCORE_INSTALL_DATADIR, HEALTHSCORE_BUILD_DIR,
      HEALTHSCORE_BUILD_PLUGIN_DIR, HEALTHSCORE_BUILD_LIBRARY_DIR};
  return *layout;
}

DataDirs DataDirsFor(const fs::path& exe, const InstallLayout& layout) {
  DataDirs dirs;
  dirs.models = kModelsInTree;
  const fs::path prefix = PrefixOf(exe.parent_path(), layout.bindir);
  if (!prefix.empty() &&
      IsDirectory(prefix / layout.datadir / "healthscore")) {
    dirs.installed = true;
    dirs.models = (prefix / layout.datadir / "healthscore" / "models").string();
    dirs.plugins =
        (prefix / layout.libdir / "healthscore" / "plugins").string();
    dirs.libraries = (prefix / layout.libdir / "healthscore").string();
    return dirs;
  }
  // Inside the build tree: its plugins, when they were built.
  std::error_code ec;
  const fs::path build = fs::weakly_canonical(layout.build_dir, ec);
  if (!ec && PathWithin(exe.string(), build.string())) {
    if (IsDirectory(layout.build_plugin_dir)) {
      dirs.plugins = layout.build_plugin_dir;
    }
    dirs.libraries = layout.build_library_dir;
  }
  return dirs;
}

const DataDirs& DefaultDataDirs() {
  static const DataDirs* dirs = [] {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return new DataDirs{"", kModelsInTree, false, ""};
    return new DataDirs(DataDirsFor(exe, ConfiguredLayout()));
  }();
  return *dirs;
}

}  // namespace healthscore::engine::common
