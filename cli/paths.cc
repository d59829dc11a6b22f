#include "cli/paths.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"

namespace healthscore::cli {
namespace {

namespace fs = std::filesystem;

bool HasYamlExtension(const fs::path& p) {
  std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml";
}

// Every regular file named `name` below `root`, sorted.
std::vector<std::string> FindNamed(const fs::path& root,
                                   const std::string& name) {
  std::vector<std::string> found;
  std::error_code ec;
  fs::recursive_directory_iterator it(
      root, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    std::string base = entry.path().filename().string();
    std::error_code type_ec;
    if (entry.is_directory(type_ec)) {
      if (!base.empty() && base[0] == '.') it.disable_recursion_pending();
      continue;
    }
    if (base == name && entry.is_regular_file(type_ec)) {
      found.push_back(entry.path().lexically_normal().string());
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

absl::Status Missing(const std::string& path) {
  return absl::NotFoundError(absl::StrCat(path, ": no such file or directory"));
}

}  // namespace

absl::StatusOr<std::vector<std::string>> FindModelFiles(
    const std::string& path) {
  std::error_code ec;
  fs::path p(path);
  if (!fs::exists(p, ec)) return Missing(path);
  if (fs::is_directory(p, ec)) return FindNamed(p, "model.yaml");
  if (p.filename() == "tests.yaml") {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is a test file; run `healthscore test ", path, "`"));
  }
  if (!HasYamlExtension(p)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a model file (expected .yaml)"));
  }
  return std::vector<std::string>{path};
}

absl::StatusOr<std::vector<std::string>> FindTestFiles(
    const std::string& path) {
  std::error_code ec;
  fs::path p(path);
  if (!fs::exists(p, ec)) return Missing(path);
  if (fs::is_directory(p, ec)) return FindNamed(p, "tests.yaml");
  if (p.filename() == "model.yaml") {
    // `healthscore test dir/model.yaml` means the tests of that model.
    fs::path tests = p.parent_path() / "tests.yaml";
    if (!fs::exists(tests, ec)) {
      return absl::NotFoundError(
          absl::StrCat(path, " has no tests.yaml beside it"));
    }
    return std::vector<std::string>{tests.string()};
  }
  return std::vector<std::string>{path};
}

absl::StatusOr<std::string> ResolveModelPath(const std::string& path) {
  std::error_code ec;
  fs::path p(path);
  if (!fs::exists(p, ec)) return Missing(path);
  if (!fs::is_directory(p, ec)) return path;
  fs::path model = p / "model.yaml";
  if (fs::exists(model, ec)) return model.lexically_normal().string();
  // A model's directory in the repository layout: <name>/<version>/, where
  // the highest numeric version is the latest.
  long best = -1;
  for (const auto& entry : fs::directory_iterator(p, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.size() > 9 ||
        name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    if (!fs::exists(entry.path() / "model.yaml", ec)) continue;
    best = std::max(best, std::stol(name));
  }
  if (best < 0) {
    return absl::NotFoundError(absl::StrCat(
        path, " has neither a model.yaml nor numbered version directories "
              "holding one"));
  }
  return (p / std::to_string(best) / "model.yaml").lexically_normal().string();
}

absl::StatusOr<std::vector<std::string>> CollectModelFiles(
    const std::vector<std::string>& paths, const std::string& command,
    std::ostream& err, int* exit_code) {
  std::vector<std::string> files;
  std::set<std::string> seen;
  for (const std::string& path : paths) {
    auto found = FindModelFiles(path);
    if (!found.ok()) {
      if (found.status().code() == absl::StatusCode::kInvalidArgument) {
        return found.status();
      }
      err << "healthscore " << command << ": " << found.status().message()
          << "\n";
      *exit_code = kExitFailure;
      continue;
    }
    if (found->empty()) {
      err << "healthscore " << command << ": no model.yaml found under "
          << path << "\n";
      *exit_code = kExitFailure;
    }
    for (const std::string& f : *found) {
      if (seen.insert(f).second) files.push_back(f);
    }
  }
  return files;
}

}  // namespace healthscore::cli
