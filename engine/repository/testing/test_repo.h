// Test-only helpers: a model repository in a temporary directory, written
// the way deploy tools should write it (temporary file, then rename).

#ifndef HEALTHSCORE_ENGINE_REPOSITORY_TESTING_TEST_REPO_H_
#define HEALTHSCORE_ENGINE_REPOSITORY_TESTING_TEST_REPO_H_

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "engine/common/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace healthscore::engine::repository::testing {

namespace fs = std::filesystem;

class TempRepo {
 public:
  explicit TempRepo(const std::string& tag) {
    static std::atomic<int> counter{0};
    root_ = common::testing::ScratchDir(
        absl::StrCat("repo_", tag, "_", counter++));
  }
  ~TempRepo() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  std::string root() const { return root_.string(); }
  std::string Path(const std::string& rel) const {
    return (root_ / rel).string();
  }

  // Writes `rel` atomically: a temporary file renamed over it.
  void Write(const std::string& rel, const std::string& text) const {
    const fs::path path = root_ / rel;
    fs::create_directories(path.parent_path());
    const fs::path tmp = path.parent_path() / ("." + path.filename().string() +
                                               ".tmp");
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << text;
    }
    fs::rename(tmp, path);
  }
  // Writes `rel` in place, the way a slow editor would (not atomic).
  void WriteInPlace(const std::string& rel, const std::string& text) const {
    const fs::path path = root_ / rel;
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
  void Remove(const std::string& rel) const { fs::remove_all(root_ / rel); }

 private:
  fs::path root_;
};

// A one-signal model: score = x / scale * 100, clamped; green from 50. With
// the default scale 100 the score is x itself.
inline std::string SmallModel(const std::string& name,
                              const std::string& label = "1",
                              double scale = 100) {
  return absl::StrReplaceAll(
      R"(name: NAME
version: "LABEL"
segment_by: segment
inputs:
  - {id: segment, type: string, values: [smb, mid_market, enterprise]}
  - {id: x, type: number}
  - {id: seats, type: number}
  - {id: usage, type: series}
groups:
  - id: g
    weight: 1
    signals:
      - id: s
        source: x
        weight: 1
        normalize:
          linear: {bad: 0, good: SCALE}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0, max: 50}
playbooks:
  - id: rescue
    name: Rescue
    owner: csm
    priority: 1
    when: tier == "red" && has(seats) && has(usage)
)",
      {{"NAME", name}, {"LABEL", label}, {"SCALE", absl::StrCat(scale)}});
}

// Tests for SmallModel: x = 70 scores `expected` (70 for scale 100).
inline std::string SmallTests(double expected = 70) {
  return absl::StrCat(R"(cases:
  - name: seventy
    account: {id: a, metrics: {x: 70}}
    expect: {score: )",
                      expected, R"(}
)");
}

}  // namespace healthscore::engine::repository::testing

#endif  // HEALTHSCORE_ENGINE_REPOSITORY_TESTING_TEST_REPO_H_
