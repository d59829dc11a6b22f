#include "server/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;

// 0 when a TCP connection to 127.0.0.1:port was established, else errno.
int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int rc =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int error = rc == 0 ? 0 : errno;
  ::close(fd);
  return error;
}

TEST(ListenerTest, BindsAFreePortAndRefusesConnectionsOnceStopped) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Listener> listener,
                       Listener::Bind("127.0.0.1:0"));
  const int port = listener->port();
  ASSERT_GT(port, 0);
  EXPECT_EQ(Connect(port), 0);  // the kernel's backlog takes it
  listener->Stop();
  EXPECT_EQ(Connect(port), ECONNREFUSED);
  listener->Stop();  // idempotent
}

TEST(ListenerTest, APortInUseIsRefused) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Listener> first,
                       Listener::Bind("127.0.0.1:0"));
  const std::string address = absl::StrCat("127.0.0.1:", first->port());
  EXPECT_THAT(Listener::Bind(address),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(absl::StrCat("Address already in use (",
                                              address, ")"))));
}

// A host name: every address it resolves to, on one port.
TEST(ListenerTest, AHostNameBindsItsAddresses) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Listener> listener,
                       Listener::Bind("localhost:0"));
  EXPECT_EQ(Connect(listener->port()), 0);
}

TEST(ListenerTest, MalformedAddresses) {
  for (const char* address :
       {"garbage", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:-1",
        "127.0.0.1:http", "::1:50051", "[::1]", "[::1]50051"}) {
    // The flag's own reading (options_test.cc has the exact messages),
    // which quotes the address.
    EXPECT_THAT(Listener::Bind(address),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(absl::StrCat("'", address, "'"))))
        << address;
  }
}

}  // namespace
}  // namespace healthscore::server
