// Where a program of this build finds its example plugins and bundled
// models when no flag names them: the install prefix it runs from, or the
// build tree it was built in.
//
// `cmake --install` lays a prefix out as GNUInstallDirs says (relative to
// the prefix chosen at install time, so `--prefix` may differ from the one
// configured):
//   <prefix>/<bindir>/healthscore                  the programs
//   <prefix>/<libdir>/healthscore/plugins          the example plugins
//   <prefix>/<libdir>/healthscore                  private libraries
//   <prefix>/<datadir>/healthscore/models          the bundled models
// A program whose executable sits in <something>/<bindir>, next to a
// <something>/<datadir>/healthscore directory, is installed and uses that
// prefix. Otherwise, when the executable lies inside the build tree, the
// build's plugin directory (BUILD/plugins/lib) is the default, private
// libraries are in BUILD/lib, and models
// default to `rules`, relative to the current directory (the repository
// root, where the build tree's programs are run from). A program that is
// neither has no default plugin directory.
//
// Thread-safety: pure functions, and DefaultDataDirs() computes its answer
// once (thread-safe static initialisation).

#ifndef HEALTHSCORE_ENGINE_COMMON_INSTALL_LAYOUT_H_
#define HEALTHSCORE_ENGINE_COMMON_INSTALL_LAYOUT_H_

#include <filesystem>
#include <string>

namespace healthscore::engine::common {

// The directories CMake was configured with. Install directories are
// relative to the prefix (GNUInstallDirs' CMAKE_INSTALL_BINDIR, ...); the
// build directories are absolute.
struct InstallLayout {
  std::string bindir;            // "bin"
  std::string libdir;            // "lib", or "lib/x86_64-linux-gnu"
  std::string datadir;           // "share"
  std::string build_dir;         // the CMake binary directory
  std::string build_plugin_dir;  // <build_dir>/plugins/lib
  std::string build_library_dir;  // <build_dir>/lib
};

// The layout this build was configured with.
const InstallLayout& ConfiguredLayout();

// Default data directories. `plugins` is empty when there is none (the
// commands then load no plugins unless told to).
struct DataDirs {
  std::string plugins;
  std::string models;
  bool installed = false;  // found through an install prefix
  // The program's private libraries (e.g. the server's OpenSSL 3 adapter
  // for civetweb, server/metrics_tls.h); empty outside a tree.
  std::string libraries;
};

// The defaults for the executable at `exe` (absolute, symbolic links
// resolved) under `layout`, by the rules at the top of this file. Only
// reads the file system (whether directories exist).
DataDirs DataDirsFor(const std::filesystem::path& exe,
                     const InstallLayout& layout);

// DataDirsFor(the running executable, ConfiguredLayout()); the executable
// is /proc/self/exe. When it cannot be read, the defaults of a program
// outside any tree: no plugins, models in `rules`.
const DataDirs& DefaultDataDirs();

}  // namespace healthscore::engine::common

#endif  // HEALTHSCORE_ENGINE_COMMON_INSTALL_LAYOUT_H_
