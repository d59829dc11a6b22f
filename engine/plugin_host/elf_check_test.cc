// CheckElfSharedObject on the real plugin files of the build, cut short at
// every kind of offset and with damaged headers: each is refused with a
// message naming the file and what is wrong, before dlopen could map it.

#include "engine/plugin_host/elf_check.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "engine/plugin_host/testing/signal_harness.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::plugin_host {
namespace {

namespace fs = std::filesystem;
using ::healthscore::engine::common::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

using Ehdr = Elf64_Ehdr;
using Phdr = Elf64_Phdr;
using Shdr = Elf64_Shdr;
using Dyn = Elf64_Dyn;

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Plugin(const std::string& dir, const std::string& name) {
  return dir + "/libhs_" + name + ".so";
}

// `bytes` written to a scratch file and checked there.
absl::StatusOr<ElfFacts> Check(const std::string& bytes,
                               std::string* path_out = nullptr) {
  const fs::path path = common::testing::ScratchFile("elf_check.so");
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  if (path_out != nullptr) *path_out = path.string();
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  absl::StatusOr<ElfFacts> facts =
      CheckElfSharedObject(fd, bytes.size(), path.string());
  close(fd);
  fs::remove(path);
  return facts;
}

template <typename T>
T Get(const std::string& bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}
template <typename T>
void Put(std::string* bytes, size_t offset, const T& value) {
  std::memcpy(bytes->data() + offset, &value, sizeof value);
}

// The real plugins: C (nps) and C++ (faulty, weighted_sum) builds.
std::vector<std::string> RealPlugins() {
  return {Plugin(testing::ExamplePluginDir(), "nps"),
          Plugin(testing::ExamplePluginDir(), "weighted_sum"),
          Plugin(testing::TestPluginDir(), "faulty")};
}

TEST(ElfCheckTest, AcceptsTheBuiltPlugins) {
  for (const std::string& path : RealPlugins()) {
    const std::string bytes = ReadBytes(path);
    ASSERT_GT(bytes.size(), sizeof(Ehdr)) << path;
    ASSERT_OK_AND_ASSIGN(ElfFacts facts, Check(bytes));
    EXPECT_FALSE(facts.uses_origin) << path;
  }
}

// Cut anywhere, a plugin is refused as truncated: the header, the program
// headers, a segment or the section header table (at the end of the file)
// is always missing a part.
TEST(ElfCheckTest, EveryTruncationIsRefusedAsTruncated) {
  for (const std::string& source : RealPlugins()) {
    SCOPED_TRACE(source);
    const std::string bytes = ReadBytes(source);
    const size_t size = bytes.size();
    std::vector<size_t> cuts = {0,        1,        4,         16,
                                63,       64,       100,       1024,
                                size / 4, size / 2, size - 64, size - 1};
    for (size_t cut = 2; cut < size; cut += 997) cuts.push_back(cut);
    for (size_t cut : cuts) {
      SCOPED_TRACE(cut);
      std::string path;
      absl::StatusOr<ElfFacts> facts = Check(bytes.substr(0, cut), &path);
      EXPECT_THAT(facts,
                  StatusIs(absl::StatusCode::kFailedPrecondition,
                           AllOf(HasSubstr("cannot load plugin '" + path +
                                           "': the file is truncated: "),
                                 HasSubstr("was it copied while being "
                                           "written?"))));
    }
  }
  // The messages say what is cut and where.
  const std::string nps =
      ReadBytes(Plugin(testing::ExamplePluginDir(), "nps"));
  EXPECT_THAT(Check(""), StatusIs(absl::StatusCode::kFailedPrecondition,
                                  HasSubstr("the file is truncated: it is "
                                            "empty; was it copied while "
                                            "being written?")));
  EXPECT_THAT(Check(nps.substr(0, 16)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("the file is truncated: it has 16 bytes, "
                                 "fewer than the 64 of an ELF header; was it "
                                 "copied while being written?")));
  const Ehdr ehdr = Get<Ehdr>(nps, 0);
  EXPECT_THAT(Check(nps.substr(0, 64)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("the file is truncated: the program header "
                                 "table ends at byte " +
                                 std::to_string(ehdr.e_phoff +
                                                ehdr.e_phnum * sizeof(Phdr)) +
                                 " but the file has 64 bytes; was it copied "
                                 "while being written?")));
  const Phdr first = Get<Phdr>(nps, ehdr.e_phoff);
  if (first.p_type == PT_LOAD && first.p_offset + first.p_filesz > 1024) {
    EXPECT_THAT(
        Check(nps.substr(0, 1024)),
        StatusIs(absl::StatusCode::kFailedPrecondition,
                 HasSubstr("the file is truncated: segment 0 (LOAD) "
                           "ends at byte " +
                           std::to_string(first.p_offset + first.p_filesz) +
                           " but the file has 1024 bytes")));
  }
  EXPECT_THAT(
      Check(nps.substr(0, nps.size() - 1)),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("the file is truncated: the section header table "
                         "ends at byte " +
                         std::to_string(nps.size()) + " but the file has " +
                         std::to_string(nps.size() - 1) + " bytes")));
}

TEST(ElfCheckTest, NotElfAtAll) {
  EXPECT_THAT(Check("this is not an ELF file\n"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("it is not a shared library: it does not "
                                 "start with the ELF magic number")));
  EXPECT_THAT(Check("#!"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("does not start with the ELF magic number")));
}

// Damaged headers: each is refused naming the field, never passed to
// dlopen.
TEST(ElfCheckTest, DamagedHeadersAreRefused) {
  const std::string good =
      ReadBytes(Plugin(testing::ExamplePluginDir(), "nps"));
  const Ehdr ehdr = Get<Ehdr>(good, 0);
  auto patched = [&](auto patch) {
    std::string bytes = good;
    patch(&bytes);
    return Check(bytes);
  };
  auto refused = [](const std::string& what) {
    return StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(what));
  };

  EXPECT_THAT(patched([](std::string* b) { (*b)[EI_CLASS] = ELFCLASS32; }),
              refused("it was built for 32-bit code, but this host is "
                      "64-bit"));
  EXPECT_THAT(patched([](std::string* b) { (*b)[EI_DATA] = ELFDATA2MSB; }),
              refused("it was built for big-endian code, but this host is "
                      "little-endian"));
  EXPECT_THAT(patched([](std::string* b) {
                Put<uint16_t>(b, offsetof(Ehdr, e_type), ET_EXEC);
              }),
              refused("it is not a shared library: it is an executable; "
                      "build plugins with -shared"));
  EXPECT_THAT(
      patched([&](std::string* b) {
        Put<uint16_t>(b, offsetof(Ehdr, e_machine),
                      ehdr.e_machine == EM_AARCH64 ? EM_X86_64 : EM_AARCH64);
      }),
      AllOf(refused("it was built for "), refused(", but this host is")));
  EXPECT_THAT(patched([](std::string* b) {
                Put<uint16_t>(b, offsetof(Ehdr, e_ehsize), 10);
              }),
              refused("it is not a valid ELF shared library: the ELF header "
                      "says it has 10 bytes instead of 64"));
  EXPECT_THAT(patched([&](std::string* b) {
                Put<uint64_t>(b, offsetof(Ehdr, e_phoff), good.size() - 10);
              }),
              refused("the file is truncated: the program header table ends "
                      "at byte"));
  EXPECT_THAT(patched([](std::string* b) {
                Put<uint64_t>(b, offsetof(Ehdr, e_phoff), ~uint64_t{0});
              }),
              refused("the file is truncated: the program header table ends "
                      "at byte 18446744073709551615"));
  EXPECT_THAT(patched([](std::string* b) {
                Put<uint16_t>(b, offsetof(Ehdr, e_phnum), 0xfffe);
              }),
              refused("the file is truncated: the program header table"));
  EXPECT_THAT(patched([](std::string* b) {
                Put<uint16_t>(b, offsetof(Ehdr, e_phnum), 0);
              }),
              refused("it is not a valid ELF shared library: it has no "
                      "program headers"));
  EXPECT_THAT(patched([](std::string* b) {
                Put<uint16_t>(b, offsetof(Ehdr, e_phentsize), 10);
              }),
              refused("it is not a valid ELF shared library: program header "
                      "entries of 10 bytes instead of 56"));
  EXPECT_THAT(patched([&](std::string* b) {
                Put<uint64_t>(b, offsetof(Ehdr, e_shoff), good.size());
              }),
              refused("the file is truncated: the section header table ends "
                      "at byte"));
  EXPECT_THAT(patched([](std::string* b) {
                Put<uint16_t>(b, offsetof(Ehdr, e_shnum), 0xfff0);
              }),
              refused("the file is truncated: the section header table"));

  // A segment or a section pointing past the end of the file.
  size_t load = 0, dynamic = 0;
  bool has_dynamic = false;
  for (size_t i = 0; i < ehdr.e_phnum; ++i) {
    const Phdr p = Get<Phdr>(good, ehdr.e_phoff + i * sizeof(Phdr));
    if (p.p_type == PT_LOAD) load = i;
    if (p.p_type == PT_DYNAMIC) {
      dynamic = i;
      has_dynamic = true;
    }
  }
  const size_t load_at = ehdr.e_phoff + load * sizeof(Phdr);
  EXPECT_THAT(patched([&](std::string* b) {
                Phdr p = Get<Phdr>(*b, load_at);
                p.p_filesz = p.p_memsz = uint64_t{1} << 40;
                Put(b, load_at, p);
              }),
              refused("the file is truncated: segment " + std::to_string(load) +
                      " (LOAD) ends at byte"));
  EXPECT_THAT(patched([&](std::string* b) {
                Phdr p = Get<Phdr>(*b, load_at);
                p.p_filesz = p.p_memsz + 1;
                Put(b, load_at, p);
              }),
              refused("has more bytes in the file"));
  const size_t section_at = ehdr.e_shoff + 1 * sizeof(Shdr);
  EXPECT_THAT(patched([&](std::string* b) {
                Shdr s = Get<Shdr>(*b, section_at);
                s.sh_offset = good.size();
                Put(b, section_at, s);
              }),
              refused("the file is truncated: section 1 (.note.gnu.build-id) "
                      "ends at byte"));

  // A dynamic entry the loader would read through, pointing nowhere.
  ASSERT_TRUE(has_dynamic);
  const Phdr dyn = Get<Phdr>(good, ehdr.e_phoff + dynamic * sizeof(Phdr));
  size_t strtab_at = 0;
  for (size_t at = dyn.p_offset;
       at + sizeof(Dyn) <= dyn.p_offset + dyn.p_filesz; at += sizeof(Dyn)) {
    if (Get<Dyn>(good, at).d_tag == DT_STRTAB) strtab_at = at;
  }
  ASSERT_NE(strtab_at, 0u);
  EXPECT_THAT(patched([&](std::string* b) {
                Dyn d = Get<Dyn>(*b, strtab_at);
                d.d_un.d_ptr = uint64_t{1} << 50;
                Put(b, strtab_at, d);
              }),
              refused("it is not a valid ELF shared library: the dynamic "
                      "entry DT_STRTAB points outside every loaded segment"));
}

// A library naming $ORIGIN must be loaded from its own directory: the
// check reports it.
TEST(ElfCheckTest, ReportsOrigin) {
  std::string bytes =
      ReadBytes(Plugin(testing::ExamplePluginDir(), "nps"));
  const std::string needed("libc.so.6\0", 10);
  const size_t at = bytes.find(needed);
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, needed.size(), std::string("$ORIGIN/x\0", 10));
  ASSERT_OK_AND_ASSIGN(ElfFacts facts, Check(bytes));
  EXPECT_TRUE(facts.uses_origin);
}

}  // namespace
}  // namespace healthscore::engine::plugin_host
