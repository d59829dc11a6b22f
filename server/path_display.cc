#include "server/path_display.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>

namespace healthscore::server {
namespace {

// Characters a path component is made of: a prefix match must not start
// or end inside one.
bool PathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
         c == '/' || c == '~' || c == '+';
}

std::string TrimSlashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

void AddForms(const std::string& dir,
              std::vector<std::pair<std::string, std::string>>* out) {
  if (dir.empty()) return;
  std::error_code ec;
  std::vector<std::string> forms = {TrimSlashes(dir)};
  std::filesystem::path absolute = std::filesystem::absolute(dir, ec);
  if (!ec) forms.push_back(TrimSlashes(absolute.lexically_normal().string()));
  std::filesystem::path canonical = std::filesystem::weakly_canonical(dir, ec);
  if (!ec) forms.push_back(TrimSlashes(canonical.string()));
  for (const std::string& f : forms) {
    // "/" or "." as a directory would rewrite every path: leave those.
    if (f.empty() || f == "/" || f == ".") continue;
    out->emplace_back(f, ".");
  }
}

}  // namespace

PathDisplay::PathDisplay(const std::string& models_dir,
                         const std::string& plugins_dir) {
  AddForms(models_dir, &prefixes_);
  AddForms(plugins_dir, &prefixes_);
  std::sort(prefixes_.begin(), prefixes_.end(),
            [](const auto& a, const auto& b) {
              return a.first.size() > b.first.size();
            });
  prefixes_.erase(std::unique(prefixes_.begin(), prefixes_.end()),
                  prefixes_.end());
}

std::string PathDisplay::Apply(absl::string_view text) const {
  if (prefixes_.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    bool replaced = false;
    if (i == 0 || !PathChar(text[i - 1])) {
      for (const auto& [prefix, itself] : prefixes_) {
        if (text.compare(i, prefix.size(), prefix) != 0) continue;
        const size_t end = i + prefix.size();
        if (end < text.size() && text[end] == '/') {
          i = end + 1;  // "DIR/a/b" -> "a/b"
        } else if (prefix[0] == '/' &&
                   (end == text.size() || !PathChar(text[end]))) {
          // The directory itself, only in its absolute forms: a relative
          // "rules" alone is as likely a word of the message.
          out.append(itself);
          i = end;
        } else {
          continue;  // "DIRx": another path
        }
        replaced = true;
        break;
      }
    }
    if (!replaced) out.push_back(text[i++]);
  }
  return out;
}

}  // namespace healthscore::server
