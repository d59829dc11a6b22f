#include "server/build_info.h"

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/stubs/common.h"
#include "gtest/gtest.h"
#include "healthscore/plugin.h"

namespace healthscore::server {
namespace {

using ::testing::MatchesRegex;

TEST(BuildInfoTest, FieldsComeFromTheBuildAndTheLibraries) {
  const BuildInfo& b = GetBuildInfo();
  EXPECT_THAT(b.version, MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
  EXPECT_THAT(b.commit, MatchesRegex("([0-9a-f]{12}(-dirty)?|unknown)"));
  EXPECT_EQ(b.plugin_abi,
            absl::StrCat(HS_PLUGIN_ABI_MAJOR, ".", HS_PLUGIN_ABI_MINOR));
  EXPECT_EQ(b.grpc, grpc::Version());
  EXPECT_THAT(b.grpc, MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
  EXPECT_EQ(b.protobuf,
            google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION));
  EXPECT_THAT(b.protobuf, MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
}

TEST(BuildInfoTest, VersionTextHasOneLinePerField) {
  const BuildInfo& b = GetBuildInfo();
  EXPECT_EQ(VersionText(),
            absl::StrCat("healthscore ", b.version, "\ncommit: ", b.commit,
                         "\nplugin ABI: ", b.plugin_abi, "\ngRPC: ", b.grpc,
                         "\nprotobuf: ", b.protobuf, "\n"));
}

TEST(BuildInfoTest, VersionLineIsOneLine) {
  const BuildInfo& b = GetBuildInfo();
  EXPECT_EQ(VersionLine(),
            absl::StrCat(b.version, " (commit ", b.commit, ", plugin ABI ",
                         b.plugin_abi, ", gRPC ", b.grpc, ", protobuf ",
                         b.protobuf, ")"));
}

}  // namespace
}  // namespace healthscore::server
