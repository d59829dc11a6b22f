// PluginHost: directories, name resolution, path escapes, loading and
// sharing libraries, and every load-time error, with real plugin files from
// the build tree (plugins/ and plugins/testing/).

#include "engine/plugin_host/plugin_host.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
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
using ::testing::ElementsAre;
using testing::ExamplePluginDir;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using testing::TestPluginDir;

std::string ExamplePlugin(const std::string& name) {
  return ExamplePluginDir() + "/libhs_" + name + ".so";
}
std::string TestPlugin(const std::string& name) {
  return TestPluginDir() + "/libhs_" + name + ".so";
}

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::canonical(::healthscore::engine::common::testing::ScratchDir(
        std::string("plugin_host_") + info->name()));
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  std::string Sub(const std::string& name) const {
    fs::create_directories(path_ / name);
    return (path_ / name).string();
  }

 private:
  fs::path path_;
};

std::unique_ptr<PluginHost> HostFor(std::vector<std::string> dirs) {
  PluginHostOptions options;
  options.directories = std::move(dirs);
  auto host = PluginHost::Create(std::move(options));
  return host.ok() ? *std::move(host) : nullptr;
}

TEST(PluginHostCreateTest, NeedsExistingDirectories) {
  EXPECT_THAT(PluginHost::Create({}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("at least one plugin directory")));
  PluginHostOptions missing;
  missing.directories = {"/nonexistent/plugins"};
  EXPECT_THAT(PluginHost::Create(missing),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("plugin directory '/nonexistent/plugins' "
                                 "does not exist")));
  PluginHostOptions file;
  file.directories = {ExamplePlugin("nps")};
  EXPECT_THAT(
      PluginHost::Create(file),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("is not a directory")));
}

TEST(PluginHostCreateTest, DirectoriesAreCanonical) {
  TempDir tmp;
  const std::string dir = tmp.Sub("plugins");
  auto host = HostFor({dir + "/../plugins/."});
  ASSERT_NE(host, nullptr);
  EXPECT_THAT(host->directories(), ElementsAre(dir));
}

TEST(PluginHostResolveTest, NamesAreFileNamesNotPaths) {
  auto host = HostFor({ExamplePluginDir()});
  ASSERT_NE(host, nullptr);
  for (const char* name : {"../lib/libhs_nps.so", "/usr/lib/libc.so.6",
                           "sub/nps", "..", ".", "a\\b"}) {
    EXPECT_THAT(host->Resolve(name),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("must be a file name inside a "
                                         "plugin directory, not a path"),
                               HasSubstr(host->directories()[0]))))
        << name;
  }
  EXPECT_THAT(host->Resolve(""), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("name is empty")));
}

TEST(PluginHostResolveTest, CandidatesInOrder) {
  TempDir tmp;
  const std::string a = tmp.Sub("a");
  const std::string b = tmp.Sub("b");
  fs::copy_file(ExamplePlugin("nps"), a + "/nps.so");
  fs::copy_file(ExamplePlugin("nps"), b + "/libhs_nps.so");
  fs::copy_file(ExamplePlugin("nps"), b + "/custom.so");
  auto host = HostFor({a, b});
  ASSERT_NE(host, nullptr);
  // The first directory wins, even with the second candidate name.
  EXPECT_EQ(host->Resolve("nps").value_or(""), a + "/nps.so");
  // A name ending in .so is taken as is.
  EXPECT_EQ(host->Resolve("custom.so").value_or(""), b + "/custom.so");
  EXPECT_THAT(
      host->Resolve("churn"),
      StatusIs(absl::StatusCode::kNotFound,
               HasSubstr("plugin library 'churn' not found; looked for: " + a +
                         "/libhs_churn.so, " + a + "/churn.so, " + b +
                         "/libhs_churn.so, " + b + "/churn.so")));
}

TEST(PluginHostResolveTest, SymlinksMustStayInsideTheDirectory) {
  TempDir tmp;
  const std::string dir = tmp.Sub("plugins");
  const std::string outside = tmp.Sub("outside");
  fs::copy_file(ExamplePlugin("nps"), outside + "/libhs_nps.so");
  fs::copy_file(ExamplePlugin("nps"), dir + "/real.so");
  fs::create_symlink(outside + "/libhs_nps.so", dir + "/libhs_escape.so");
  fs::create_symlink("real.so", dir + "/libhs_alias.so");
  fs::create_symlink(dir + "/gone.so", dir + "/libhs_dangling.so");
  fs::create_directories(dir + "/libhs_folder.so");
  auto host = HostFor({dir});
  ASSERT_NE(host, nullptr);
  EXPECT_THAT(host->Resolve("escape"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       AllOf(HasSubstr("resolves to '" + outside +
                                       "/libhs_nps.so', outside the plugin "
                                       "directory '" +
                                       dir + "'"),
                             HasSubstr("copy the file into the directory"))));
  EXPECT_EQ(host->Resolve("alias").value_or(""), dir + "/real.so");
  EXPECT_THAT(host->Resolve("dangling"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("is a symbolic link to a file that does not "
                                 "exist")));
  EXPECT_THAT(host->Resolve("folder"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("libhs_folder.so' is not a regular file")));
  // The escaping link is refused by Load too, before anything is opened.
  EXPECT_THAT(host->Load("escape"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("outside the plugin directory")));
  EXPECT_THAT(host->Stats(), IsEmpty());
}

TEST(PluginHostLoadTest, LoadsAndDescribesAPlugin) {
  auto host = HostFor({ExamplePluginDir()});
  ASSERT_NE(host, nullptr);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<PluginLibrary> lib, host->Load("nps"));
  EXPECT_EQ(lib->path(), fs::canonical(ExamplePlugin("nps")).string());
  EXPECT_EQ(lib->name(), "nps");
  EXPECT_EQ(lib->abi_major(), static_cast<uint32_t>(HS_PLUGIN_ABI_MAJOR));
  EXPECT_EQ(lib->abi_minor(), static_cast<uint32_t>(HS_PLUGIN_ABI_MINOR));
  EXPECT_THAT(lib->sha256(), SizeIs(64));
  ASSERT_NE(lib->FindSignal("nps"), nullptr);
  EXPECT_EQ(lib->FindSignal("nps")->inputs[0].kind, PluginInputKind::kSeries);
  EXPECT_EQ(lib->FindSignal("npz"), nullptr);
}

TEST(PluginHostLoadTest, SharesOneLibraryPerFile) {
  TempDir tmp;
  const std::string dir = tmp.Sub("plugins");
  fs::copy_file(ExamplePlugin("nps"), dir + "/real.so");
  fs::create_symlink("real.so", dir + "/libhs_nps.so");
  auto host = HostFor({dir});
  ASSERT_NE(host, nullptr);
  ASSERT_OK_AND_ASSIGN(auto first, host->Load("nps"));
  ASSERT_OK_AND_ASSIGN(auto second, host->Load("real.so"));
  EXPECT_EQ(first.get(), second.get());
  EXPECT_THAT(host->Stats(), SizeIs(1));
}

TEST(PluginHostLoadTest, LibraryLivesWhileAnythingUsesIt) {
  auto host = HostFor({ExamplePluginDir()});
  ASSERT_NE(host, nullptr);
  std::shared_ptr<PluginSignal> signal;
  const PluginLibrary* address = nullptr;
  {
    ASSERT_OK_AND_ASSIGN(auto lib, host->Load("nps"));
    address = lib.get();
    ASSERT_OK_AND_ASSIGN(auto instance, lib->Instantiate({}));
    ASSERT_OK_AND_ASSIGN(signal, instance->CreateSignal("nps", 1, {}));
  }
  // Only the signal holds the library now, and the host hands it out again.
  ASSERT_OK_AND_ASSIGN(auto again, host->Load("nps"));
  EXPECT_EQ(again.get(), address);
  EXPECT_EQ(&signal->instance().library(), address);
  ASSERT_THAT(host->Stats(), SizeIs(1));
  EXPECT_TRUE(host->Stats()[0].loaded);
  // The host may go first: what a model holds stays usable.
  host.reset();
  again.reset();
  testing::SeriesColumn answers;
  answers.Add({10, 0});
  testing::Output out = testing::RunSignal(*signal, {answers});
  EXPECT_THAT(out.valid, ElementsAre(1));
  EXPECT_EQ(out.value[0], 0);
}

TEST(PluginHostLoadTest, StatsOutliveUnloading) {
  auto host = HostFor({ExamplePluginDir(), TestPluginDir()});
  ASSERT_NE(host, nullptr);
  {
    ASSERT_OK_AND_ASSIGN(
        auto signal,
        testing::MakeSignal(host.get(), "faulty", "row_errors", 1));
    testing::NumberColumn x;
    x.Add(1).Add(-1).Add(-2);
    testing::RunSignal(*signal, {x});
  }
  std::vector<PluginStats> stats = host->Stats();
  ASSERT_THAT(stats, SizeIs(1));
  EXPECT_FALSE(stats[0].loaded);
  EXPECT_EQ(stats[0].name, "faulty");
  EXPECT_EQ(stats[0].path, fs::canonical(TestPlugin("faulty")).string());
  EXPECT_EQ(stats[0].calls, 1u);
  EXPECT_EQ(stats[0].row_errors, 2u);
  EXPECT_EQ(stats[0].errors(), 2u);
  // Loaded again, the file keeps counting where it left off.
  ASSERT_OK_AND_ASSIGN(auto signal, testing::MakeSignal(
                                        host.get(), "faulty", "row_errors", 1));
  testing::NumberColumn x;
  x.Add(-5);
  testing::RunSignal(*signal, {x});
  stats = host->Stats();
  ASSERT_THAT(stats, SizeIs(1));
  EXPECT_TRUE(stats[0].loaded);
  EXPECT_EQ(stats[0].calls, 2u);
  EXPECT_EQ(stats[0].row_errors, 3u);
}

// --- Load-time errors, each with a real file --------------------------------

class PluginLoadErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = HostFor({TestPluginDir()});
    ASSERT_NE(host_, nullptr);
  }
  std::string Path(const std::string& name) {
    return fs::canonical(TestPlugin(name)).string();
  }
  std::unique_ptr<PluginHost> host_;
};

TEST_F(PluginLoadErrorTest, FileMissing) {
  EXPECT_THAT(
      host_->Load("nps"),
      StatusIs(absl::StatusCode::kNotFound,
               HasSubstr("plugin library 'nps' not found; looked for: " +
                         host_->directories()[0] + "/libhs_nps.so")));
}

TEST_F(PluginLoadErrorTest, NotAPlugin) {
  EXPECT_THAT(host_->Load("no_entry"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("'" + Path("no_entry") +
                                 "' is not a Healthscore plugin: it does not "
                                 "export hs_plugin_get_api")));
}

TEST_F(PluginLoadErrorTest, NotASharedLibrary) {
  TempDir tmp;
  const std::string dir = tmp.Sub("plugins");
  std::ofstream(dir + "/libhs_text.so") << "this is not an ELF file\n";
  auto host = HostFor({dir});
  ASSERT_NE(host, nullptr);
  EXPECT_THAT(host->Load("text"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("cannot load plugin '" + dir +
                                       "/libhs_text.so': "),
                             HasSubstr("libhs_text.so"),
                             HasSubstr("it is not a shared library: it does "
                                       "not start with the ELF magic "
                                       "number"))));
}

// A plugin cut short (copied in while a reload runs) used to crash the
// process with SIGBUS inside dlopen. Every cut is refused before dlopen,
// naming the file and what is missing; nothing is left loaded or counted.
TEST_F(PluginLoadErrorTest, TruncatedPluginIsRefusedNotLoaded) {
  TempDir tmp;
  const std::string dir = tmp.Sub("plugins");
  auto host = HostFor({dir});
  ASSERT_NE(host, nullptr);
  for (const std::string& source :
       {ExamplePlugin("nps"), ExamplePlugin("weighted_sum"),
        TestPlugin("faulty")}) {
    std::ifstream in(source, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
    const size_t size = bytes.size();
    for (size_t cut : {size_t{0}, size_t{16}, size_t{64}, size_t{1024},
                       size / 2, size - 1}) {
      SCOPED_TRACE(source + " cut at " + std::to_string(cut));
      std::ofstream(dir + "/libhs_cut.so", std::ios::binary | std::ios::trunc)
          .write(bytes.data(), static_cast<std::streamsize>(cut));
      EXPECT_THAT(host->Load("cut"),
                  StatusIs(absl::StatusCode::kFailedPrecondition,
                           AllOf(HasSubstr("cannot load plugin '" + dir +
                                           "/libhs_cut.so': the file is "
                                           "truncated: "),
                                 HasSubstr("was it copied while being "
                                           "written?"))));
    }
  }
  EXPECT_THAT(host->Stats(), IsEmpty());
}

// The library is loaded from a sealed private copy of the bytes checked and
// hashed, so rewriting or truncating the file in place while it is loaded
// (cp over a loaded .so) cannot fault the code running from it.
TEST(PluginHostLoadTest, LoadedPluginSurvivesItsFileBeingRewritten) {
  TempDir tmp;
  const std::string dir = tmp.Sub("plugins");
  fs::copy_file(ExamplePlugin("nps"), dir + "/libhs_nps.so");
  auto host = HostFor({dir});
  ASSERT_NE(host, nullptr);
  ASSERT_OK_AND_ASSIGN(auto signal,
                       testing::MakeSignal(host.get(), "nps", "nps", 1));
  testing::SeriesColumn answers;
  answers.Add({10, 9, 0, 7});
  const testing::Output before =
      testing::RunSignal(*signal, {answers});
  ASSERT_THAT(before.valid, ElementsAre(1));

  std::ifstream maps("/proc/self/maps");
  const std::string mapped((std::istreambuf_iterator<char>(maps)),
                           std::istreambuf_iterator<char>());
  EXPECT_NE(mapped.find("healthscore-plugin:libhs_nps.so"), std::string::npos)
      << "libhs_nps.so is not mapped from a private copy";

  // Truncated in place, then filled with other bytes: same inode.
  fs::resize_file(dir + "/libhs_nps.so", 0);
  std::ofstream(dir + "/libhs_nps.so", std::ios::binary | std::ios::in)
      << std::string(4096, 'x');
  const testing::Output after =
      testing::RunSignal(*signal, {answers});
  EXPECT_EQ(after.valid, before.valid);
  EXPECT_EQ(after.value, before.value);
}

// Libraries loaded from private copies stay distinct even when a copy's
// descriptor number was used by one still loaded (the loader would hand
// back the earlier library for the same /proc/self/fd name).
TEST(PluginHostLoadTest, EveryLibraryIsItsOwn) {
  auto host = HostFor({ExamplePluginDir(), TestPluginDir()});
  ASSERT_NE(host, nullptr);
  std::vector<std::shared_ptr<PluginLibrary>> held;
  for (const char* name :
       {"nps", "weighted_sum", "usage_anomaly", "faulty", "init_fails"}) {
    ASSERT_OK_AND_ASSIGN(auto lib, host->Load(name));
    EXPECT_EQ(lib->name(), name);
    held.push_back(lib);
  }
  // Unloaded and loaded again, in another order.
  held.clear();
  for (const char* name : {"faulty", "nps", "usage_anomaly"}) {
    ASSERT_OK_AND_ASSIGN(auto lib, host->Load(name));
    EXPECT_EQ(lib->name(), name);
    held.push_back(lib);
  }
}

// A library that finds its dependencies through $ORIGIN is loaded from its
// own directory (a private copy has none), after the same checks.
TEST(PluginHostLoadTest, OriginIsTheLibrarysOwnDirectory) {
  TempDir tmp;
  const std::string dir = tmp.Sub("plugins");
  std::ifstream in(ExamplePlugin("nps"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  const std::string needed("libc.so.6\0", 10);
  const size_t at = bytes.find(needed);
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, needed.size(), std::string("$ORIGIN/x\0", 10));
  std::ofstream(dir + "/libhs_origin.so", std::ios::binary) << bytes;
  auto host = HostFor({dir});
  ASSERT_NE(host, nullptr);
  EXPECT_THAT(host->Load("origin"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot load plugin '" + dir +
                                 "/libhs_origin.so': " + dir + "/x: ")));
}

TEST_F(PluginLoadErrorTest, AbiMajorMismatchNamesBothVersions) {
  // The plugin's other functions abort: reaching one fails the test.
  EXPECT_THAT(
      host_->Load("abi_major"),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("plugin '" + Path("abi_major") +
                               "' was built for plugin ABI " +
                               std::to_string(HS_PLUGIN_ABI_MAJOR + 1) +
                               ".0, but this host implements plugin ABI " +
                               std::to_string(HS_PLUGIN_ABI_MAJOR) + "." +
                               std::to_string(HS_PLUGIN_ABI_MINOR)),
                     HasSubstr("major versions must match"))));
}

TEST_F(PluginLoadErrorTest, NewerAbiMinorNamesBothVersions) {
  const std::string host_version = std::to_string(HS_PLUGIN_ABI_MAJOR) + "." +
                                   std::to_string(HS_PLUGIN_ABI_MINOR);
  EXPECT_THAT(host_->Load("abi_minor"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("plugin '" + Path("abi_minor") +
                                 "' needs plugin ABI " +
                                 std::to_string(HS_PLUGIN_ABI_MAJOR) + "." +
                                 std::to_string(HS_PLUGIN_ABI_MINOR + 1) +
                                 ", newer than this host's plugin ABI " +
                                 host_version + ": upgrade Healthscore")));
}

TEST_F(PluginLoadErrorTest, FailedLoadsLeaveNoStats) {
  EXPECT_THAT(
      host_->Load("abi_major"),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("ABI")));
  EXPECT_THAT(host_->Stats(), IsEmpty());
}

TEST_F(PluginLoadErrorTest, InitFailureCarriesTheMessageAndPath) {
  ASSERT_OK_AND_ASSIGN(auto lib, host_->Load("init_fails"));
  EXPECT_THAT(
      lib->Instantiate({{"endpoint", "https://crm.example"}, {"retries", "3"}}),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("plugin 'init_fails' (" + Path("init_fails") +
                         ") failed to initialise: cannot reach endpoint "
                         "'https://crm.example' (2 config keys) "
                         "(INVALID_ARGUMENT)")));
}

TEST_F(PluginLoadErrorTest, SignalNotProvided) {
  ASSERT_OK_AND_ASSIGN(auto lib, host_->Load("faulty"));
  ASSERT_OK_AND_ASSIGN(auto instance, lib->Instantiate({}));
  EXPECT_THAT(instance->CreateSignal("nps", 1, {}),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("plugin 'faulty' (" + Path("faulty") +
                                 ") does not provide signal 'nps'; it "
                                 "provides: row_errors, nan_output, throws, "
                                 "skips_rows, bad_params")));
  EXPECT_THAT(instance->CreateSignal("row_errors", 2, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("signal row_errors(x: number) of plugin "
                                 "'faulty' takes 1 input, got 2")));
}

}  // namespace
}  // namespace healthscore::engine::plugin_host
