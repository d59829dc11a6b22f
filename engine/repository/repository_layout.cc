#include "engine/repository/repository_layout.h"

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/common/paths.h"
#include "engine/common/status_macros.h"
#include "engine/common/yaml_reader.h"
#include "engine/repository/repository_config.h"

namespace healthscore::engine::repository {

using common::ReadYamlFile;

namespace {

namespace fs = std::filesystem;

bool IsRegularFile(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

bool IsDirectory(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// Sorted names of the entries of `dir`, hidden ones left out.
std::vector<std::string> ListDir(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Whether `p`, with every symbolic link followed, lies inside the
// repository (`real_root` is its canonical path). A path that does not
// resolve (a dangling link) is not inside.
bool Inside(const fs::path& p, const std::string& real_root) {
  std::error_code ec;
  const fs::path real = fs::canonical(p, ec);
  return !ec && common::PathWithin(real.string(), real_root);
}

std::string LeavesMessage(const fs::path& p, const char* what) {
  return absl::StrCat(p.string(), ": a symbolic link that leads outside the ",
                      "repository; refused and not read (copy the ", what,
                      " into the repository instead of linking to it)");
}

// A file of the layout: read when it stays inside the repository and
// within the size limit; otherwise `*refused` says why and nothing is read.
absl::StatusOr<FileContent> Read(const fs::path& path,
                                 const std::string& real_root, size_t max_bytes,
                                 std::string* refused) {
  refused->clear();
  if (!Inside(path, real_root)) {
    *refused = LeavesMessage(path, "file");
    return FileContent{path.string(), ""};
  }
  absl::StatusOr<std::string> text = ReadFile(path.string(), max_bytes);
  if (absl::IsResourceExhausted(text.status())) {
    *refused = std::string(text.status().message());
    return FileContent{path.string(), ""};
  }
  if (!text.ok()) {
    // Listed a moment ago: it vanished or cannot be read.
    return absl::DataLossError(text.status().message());
  }
  return FileContent{path.string(), *std::move(text)};
}

class Hasher {
 public:
  Hasher() : ctx_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
  }
  ~Hasher() { EVP_MD_CTX_free(ctx_); }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
  void Add(const std::string& data) {
    const std::string size = absl::StrCat(data.size(), ":");
    EVP_DigestUpdate(ctx_, size.data(), size.size());
    EVP_DigestUpdate(ctx_, data.data(), data.size());
  }
  std::string Finish() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, digest, &len);
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      out.push_back(kHex[digest[i] >> 4]);
      out.push_back(kHex[digest[i] & 15]);
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     size_t max_bytes) {
  common::YamlLimits limits;
  limits.max_bytes = max_bytes;
  absl::StatusOr<std::string> text = ReadYamlFile(path, limits);
  if (text.ok() || absl::IsResourceExhausted(text.status())) return text;
  if (absl::IsNotFound(text.status())) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  return absl::DataLossError(absl::StrCat("cannot read ", path));
}

std::string Sha256Hex(const std::string& data) {
  Hasher h;
  h.Add(data);
  return h.Finish();
}

absl::StatusOr<TreeScan> ScanTree(const std::string& root,
                                  size_t max_file_bytes) {
  std::error_code ec;
  const fs::path real_root_path = fs::canonical(root, ec);
  if (ec || !IsDirectory(real_root_path)) {
    return absl::NotFoundError(
        absl::StrCat("model repository ", root, " is not a directory"));
  }
  const std::string real_root = real_root_path.string();
  TreeScan scan;
  scan.root = root;
  Hasher fingerprint;
  const fs::path base(root);
  std::string refused;

  if (IsRegularFile(base / kConfigFileName)) {
    HEALTHSCORE_ASSIGN_OR_RETURN(
        FileContent c,
        Read(base / kConfigFileName, real_root, max_file_bytes, &refused));
    fingerprint.Add(kConfigFileName);
    if (refused.empty()) {
      fingerprint.Add(c.text);
      scan.config = std::move(c);
    } else {
      fingerprint.Add(refused);
      scan.errors.push_back(refused);
    }
  }

  for (const std::string& name : ListDir(base)) {
    const fs::path dir = base / name;
    if (!IsDirectory(dir)) continue;
    if (!Inside(dir, real_root)) {
      const std::string error = LeavesMessage(dir, "model directory");
      fingerprint.Add(error);
      scan.errors.push_back(error);
      continue;
    }
    ModelDir model;
    model.name = name;
    model.dir = dir.string();
    std::vector<std::string> other_dirs;
    for (const std::string& entry : ListDir(dir)) {
      const fs::path sub = dir / entry;
      if (!IsDirectory(sub)) continue;
      int64_t version = 0;
      if (!ParseVersionNumber(entry, &version)) {
        other_dirs.push_back(entry);
        continue;
      }
      VersionDir v;
      v.version = version;
      v.dir = sub.string();
      v.model.path = (sub / kModelFileName).string();
      Hasher source;
      if (!Inside(sub, real_root)) {
        v.error = LeavesMessage(sub, "version directory");
      } else if (!IsRegularFile(sub / kModelFileName)) {
        model.notes.push_back(absl::StrCat(sub.string(), " has no ",
                                           kModelFileName, "; ignored"));
        continue;
      } else {
        HEALTHSCORE_ASSIGN_OR_RETURN(
            v.model,
            Read(sub / kModelFileName, real_root, max_file_bytes, &refused));
        v.error = refused;
        if (v.error.empty() && IsRegularFile(sub / kTestsFileName)) {
          HEALTHSCORE_ASSIGN_OR_RETURN(
              FileContent t,
              Read(sub / kTestsFileName, real_root, max_file_bytes, &refused));
          v.error = refused;
          v.tests = std::move(t);
        }
      }
      if (!v.error.empty()) {
        // Nothing of a refused version is kept, not even a partial text.
        v.model.text.clear();
        v.tests.reset();
        source.Add("\x02refused");
        source.Add(v.error);
      } else {
        source.Add(v.model.text);
        source.Add(v.tests ? v.tests->text : std::string("\x01no tests"));
      }
      v.source_hash = source.Finish();
      model.versions[version] = std::move(v);
    }
    if (IsRegularFile(dir / kConfigFileName)) {
      HEALTHSCORE_ASSIGN_OR_RETURN(
          FileContent c,
          Read(dir / kConfigFileName, real_root, max_file_bytes, &refused));
      if (refused.empty()) {
        model.config = std::move(c);
      } else {
        model.errors.push_back(refused);
      }
    }
    if (model.versions.empty() && !model.config && model.errors.empty()) {
      continue;  // not a model
    }
    for (const std::string& other : other_dirs) {
      model.notes.push_back(absl::StrCat(
          (dir / other).string(),
          " is not a version directory (versions are positive integers "
          "without leading zeros); ignored"));
    }
    if (!IsModelName(name)) {
      scan.errors.push_back(absl::StrCat(
          dir.string(),
          ": not a valid model name (use lowercase letters, digits, '_' "
          "and '-'); ignored"));
      continue;
    }
    if (model.config) {
      fingerprint.Add(absl::StrCat(name, "/", kConfigFileName));
      fingerprint.Add(model.config->text);
    }
    for (const std::string& error : model.errors) fingerprint.Add(error);
    for (const auto& [version, v] : model.versions) {
      fingerprint.Add(absl::StrCat(name, "/", version));
      fingerprint.Add(v.source_hash);
    }
    scan.models[name] = std::move(model);
  }
  scan.fingerprint = fingerprint.Finish();
  return scan;
}

}  // namespace healthscore::engine::repository
