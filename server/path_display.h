// PathDisplay: how the server shows file paths to clients.
//
// Messages a client sees (ListModels, Reload, ValidateModel, error
// statuses) name model files relative to the model directory
// ("default/2/model.yaml:5:1: ...") and plugin libraries relative to the
// plugin directory ("libhs_nps.so"), never by where the server keeps them
// on disk: an absolute path tells an attacker about the host, and a client
// has no use for it. The log keeps the operator's paths.
//
// A directory is recognised in the form it was configured in, in its
// absolute form and in its canonical form (symlinks resolved), each only as
// a whole path component: "rules" is rewritten in "rules/x.yaml" and
// "'rules'", not in "myrules/x.yaml".
//
// Thread-safety: immutable after construction; Apply may run concurrently.

#ifndef HEALTHSCORE_SERVER_PATH_DISPLAY_H_
#define HEALTHSCORE_SERVER_PATH_DISPLAY_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace healthscore::server {

class PathDisplay {
 public:
  PathDisplay() = default;
  // Either may be empty (nothing to rewrite for it).
  PathDisplay(const std::string& models_dir, const std::string& plugins_dir);

  // `text` with every path under the model directory made relative to it
  // ("DIR/a/b" becomes "a/b"; DIR itself, when absolute, becomes "."), and
  // every path under
  // the plugin directory made relative to it.
  std::string Apply(absl::string_view text) const;

 private:
  // (prefix, replacement of prefix itself), longest prefix first.
  std::vector<std::pair<std::string, std::string>> prefixes_;
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_PATH_DISPLAY_H_
