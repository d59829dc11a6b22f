#include "server/build_info.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/common.h"
#include "healthscore_build_commit.h"  // generated: cmake/git_commit.cmake
#include "healthscore/plugin.h"

#ifndef HEALTHSCORE_VERSION
#error "server/CMakeLists.txt defines HEALTHSCORE_VERSION"
#endif

namespace healthscore::server {

const BuildInfo& GetBuildInfo() {
  static const BuildInfo* info = new BuildInfo{
      HEALTHSCORE_VERSION,
      HEALTHSCORE_GIT_COMMIT,
      absl::StrCat(HS_PLUGIN_ABI_MAJOR, ".", HS_PLUGIN_ABI_MINOR),
      grpc::Version(),
      google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION),
  };
  return *info;
}

std::string VersionText() {
  const BuildInfo& b = GetBuildInfo();
  return absl::StrCat("healthscore ", b.version, "\ncommit: ", b.commit,
                      "\nplugin ABI: ", b.plugin_abi, "\ngRPC: ", b.grpc,
                      "\nprotobuf: ", b.protobuf, "\n");
}

std::string VersionLine() {
  const BuildInfo& b = GetBuildInfo();
  return absl::StrCat(b.version, " (commit ", b.commit, ", plugin ABI ",
                      b.plugin_abi, ", gRPC ", b.grpc, ", protobuf ",
                      b.protobuf, ")");
}

}  // namespace healthscore::server
