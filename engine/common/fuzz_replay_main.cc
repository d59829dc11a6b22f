// Runs a libFuzzer entry point over files, without libFuzzer.
//
// Every *_fuzzer.cc is linked with this driver in the normal build and run by
// CTest over its seed corpus, so the fuzz targets always compile and the
// corpus (including inputs that once crashed) is replayed in CI, under the
// sanitizers in the sanitizer build. Real fuzzing uses clang and
// -DHEALTHSCORE_FUZZ=ON (see docs/fuzzing.md).
//
// Usage: <name>_replay PATH... (files, or directories searched recursively).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int RunFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()),
                         bytes.size());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  int inputs = 0;
  // The empty input and a few degenerate ones, whatever the corpus holds.
  for (const std::string& s :
       {std::string(), std::string("\0", 1), std::string("\xff\xfe\xfd"),
        std::string(4096, '{'), std::string(4096, '[')}) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()),
                           s.size());
    ++inputs;
  }
  for (int i = 1; i < argc; ++i) {
    const fs::path root(argv[i]);
    std::error_code ec;
    if (fs::is_directory(root, ec)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::recursive_directory_iterator(root, ec)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
      for (const auto& f : files) inputs += RunFile(f);
    } else if (fs::is_regular_file(root, ec)) {
      inputs += RunFile(root);
    } else {
      std::fprintf(stderr, "no such file or directory: %s\n", argv[i]);
      return 2;
    }
  }
  std::printf("replayed %d inputs without a crash\n", inputs);
  return 0;
}
