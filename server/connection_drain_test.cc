#include "server/connection_drain.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace healthscore::server {
namespace {

// A connection over loopback: `server` is the accepted end (local port
// `port`), `client` the connecting one, whose receive buffer is small so
// that what the server writes waits in the server's send queue.
class Connection {
 public:
  Connection() {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr),
              0);
    EXPECT_EQ(::listen(listen_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int small = 4096;
    ::setsockopt(client, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    EXPECT_EQ(
        ::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    server = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
    EXPECT_GE(server, 0);
  }
  ~Connection() {
    ::close(client);
    ::close(server);
    ::close(listen_);
  }
  int port() const { return port_; }
  // Accepts one more connection to the port.
  int Accept() { return ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC); }

  // Writes from `from` without blocking until the kernel takes no more;
  // returns the bytes written.
  static size_t Fill(int from) {
    ::fcntl(from, F_SETFL, ::fcntl(from, F_GETFL) | O_NONBLOCK);
    const std::vector<char> chunk(64 << 10, 'x');
    size_t written = 0;
    for (;;) {
      const ssize_t n = ::write(from, chunk.data(), chunk.size());
      if (n <= 0) break;
      written += static_cast<size_t>(n);
    }
    return written;
  }

  static int Queued(int fd) {
    int queued = -1;
    ::ioctl(fd, SIOCOUTQ, &queued);
    return queued;
  }

  int server = -1;
  int client = -1;

 private:
  int listen_ = -1;
  int port_ = 0;
};

// What the server wrote and the client has not made room for keeps the
// connection sending until the deadline; once the client reads it all,
// the wait ends with the queue empty.
TEST(ConnectionDrainTest, WaitsForTheClientToTakeWhatWasSent) {
  Connection c;
  const size_t written = Connection::Fill(c.server);
  ASSERT_GT(written, 4096u);
  ASSERT_GT(Connection::Queued(c.server), 0);

  DrainResult early = AwaitConnectionsSent(
      c.port(), absl::Milliseconds(5), absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(early.connections, 1);
  EXPECT_EQ(early.still_sending, 1);

  std::thread reader([&c, written] {
    std::vector<char> buffer(64 << 10);
    size_t read = 0;
    while (read < written) {
      const ssize_t n = ::read(c.client, buffer.data(), buffer.size());
      if (n <= 0) break;
      read += static_cast<size_t>(n);
    }
  });
  DrainResult done = AwaitConnectionsSent(c.port(), absl::Milliseconds(5),
                                          absl::Now() + absl::Seconds(60));
  EXPECT_EQ(done.connections, 1);
  EXPECT_EQ(done.still_sending, 0);
  EXPECT_EQ(Connection::Queued(c.server), 0);  // sent and acknowledged
  reader.join();
}

// Only connected sockets whose local port is the port count: not the
// listening socket, not a client socket of the same process (here one
// whose own queue is full), not other ports.
TEST(ConnectionDrainTest, CountsOnlyTheConnectionsOfThePort) {
  Connection c;
  Connection other;
  ASSERT_GT(Connection::Fill(other.server), 0u);
  // The client end writes until the server end, which does not read, is
  // full: a queue on the client socket, whose local port is not c.port().
  ASSERT_GT(Connection::Fill(c.client), 0u);
  ASSERT_GT(Connection::Queued(c.client), 0);
  DrainResult result = AwaitConnectionsSent(c.port(), absl::Milliseconds(1),
                                            absl::Now() + absl::Seconds(60));
  EXPECT_EQ(result.connections, 1);
  EXPECT_EQ(result.still_sending, 0);
}

// At a deadline already past, one look: an empty queue counts as sent, a
// full one as still sending.
TEST(ConnectionDrainTest, ADeadlinePastLooksOnce) {
  Connection idle;
  DrainResult result = AwaitConnectionsSent(idle.port(), absl::Seconds(10),
                                            absl::InfinitePast());
  EXPECT_EQ(result.connections, 1);
  EXPECT_EQ(result.still_sending, 0);

  Connection full;
  ASSERT_GT(Connection::Fill(full.server), 0u);
  result = AwaitConnectionsSent(full.port(), absl::Seconds(10),
                                absl::InfinitePast());
  EXPECT_EQ(result.connections, 1);
  EXPECT_EQ(result.still_sending, 1);
}

// One empty look is not enough: gRPC refills a queue the client has just
// emptied with what it kept back. Here the queue is empty at the first
// look and refilled (and never read) well within `settle`.
TEST(ConnectionDrainTest, AQueueRefilledAfterAnEmptyLookIsStillSending) {
  Connection c;
  std::thread refill([&c] {
    absl::SleepFor(absl::Milliseconds(50));
    Connection::Fill(c.server);
  });
  DrainResult result = AwaitConnectionsSent(
      c.port(), absl::Milliseconds(300), absl::Now() + absl::Milliseconds(600));
  refill.join();
  EXPECT_EQ(result.connections, 1);
  EXPECT_EQ(result.still_sending, 1);
}

// A connection closed while the wait goes on counts as sent.
TEST(ConnectionDrainTest, AClosedConnectionCountsAsSent) {
  Connection c;
  ASSERT_GT(Connection::Fill(c.server), 0u);
  std::thread closer([&c] {
    absl::SleepFor(absl::Milliseconds(20));
    ::close(c.server);
    c.server = -1;
  });
  DrainResult result = AwaitConnectionsSent(c.port(), absl::Milliseconds(1),
                                            absl::Now() + absl::Seconds(60));
  closer.join();
  EXPECT_EQ(result.connections, 1);
  EXPECT_EQ(result.still_sending, 0);
}

// Hundreds of connections on the port, all idle: each is looked at in the
// same pass, and the wait ends once they have all settled.
TEST(ConnectionDrainTest, ManyIdleConnectionsAreAllCounted) {
  Connection first;
  const int port = first.port();
  constexpr int kMore = 300;
  std::vector<int> clients;
  std::vector<int> accepted;
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < kMore; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr),
              0);
    clients.push_back(fd);
    accepted.push_back(first.Accept());
    ASSERT_GE(accepted.back(), 0);
  }
  DrainResult result = AwaitConnectionsSent(port, absl::Milliseconds(5),
                                            absl::Now() + absl::Seconds(60));
  EXPECT_EQ(result.connections, kMore + 1);
  EXPECT_EQ(result.still_sending, 0);
  for (int fd : clients) ::close(fd);
  for (int fd : accepted) ::close(fd);
}

}  // namespace
}  // namespace healthscore::server
