// Containment of paths: the one rule for "does this file stay inside that
// directory", shared by the plugin host (plugin libraries) and the model
// repository (model, tests and config files), so that a symbolic link can
// never make either read a file from elsewhere.
//
// Thread-safety: free functions with no shared state.

#ifndef HEALTHSCORE_ENGINE_COMMON_PATHS_H_
#define HEALTHSCORE_ENGINE_COMMON_PATHS_H_

#include <string>
#include <string_view>

namespace healthscore::engine::common {

// Whether canonical path `path` lies strictly inside canonical directory
// `dir` (both absolute, symlinks resolved, as std::filesystem::canonical
// gives them). "/a/bc" is not inside "/a/b".
inline bool PathWithin(std::string_view path, std::string_view dir) {
  if (dir.empty()) return false;
  std::string prefix(dir);
  if (prefix.back() != '/') prefix.push_back('/');
  return path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix;
}

}  // namespace healthscore::engine::common

#endif  // HEALTHSCORE_ENGINE_COMMON_PATHS_H_
