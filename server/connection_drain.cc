#include "server/connection_drain.h"

#include <dirent.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "absl/time/clock.h"

#if defined(__linux__)
#include <linux/sockios.h>
#endif

namespace healthscore::server {
namespace {

struct Connection {
  int fd;
  ino_t inode;  // the socket's: a number closed and reused is not it
  // The first look that found its queue empty.
  absl::Time first_empty = absl::InfiniteFuture();
  int last_queued = 0;
  bool sending = true;
};

// The local TCP port of a connected (not listening) socket, or -1.
int ConnectedPort(int fd) {
  int type = 0;
  int listening = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
      type != SOCK_STREAM) {
    return -1;
  }
  len = sizeof listening;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
      listening != 0) {
    return -1;
  }
  sockaddr_storage peer = {};
  len = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) {
    return -1;
  }
  sockaddr_storage local = {};
  len = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
    return -1;
  }
  if (local.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(local).sin_port);
  }
  if (local.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(local).sin6_port);
  }
  return -1;
}

std::vector<Connection> FindConnections(int port) {
  std::vector<Connection> found;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return found;
  const int own = ::dirfd(dir);
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == own) continue;
    struct stat st;
    if (::fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) {
      continue;
    }
    if (ConnectedPort(static_cast<int>(fd)) != port) continue;
    found.push_back({static_cast<int>(fd), st.st_ino});
  }
  ::closedir(dir);
  return found;
}

// Bytes the kernel holds for the connection (unsent or unacknowledged); 0
// when the descriptor is no longer that socket.
int Queued(const Connection& c) {
  struct stat st;
  if (::fstat(c.fd, &st) != 0 || st.st_ino != c.inode) return 0;
#if defined(SIOCOUTQ)
  int queued = 0;
  if (::ioctl(c.fd, SIOCOUTQ, &queued) != 0) return 0;
  return queued;
#else
  return 0;
#endif
}

}  // namespace

DrainResult AwaitConnectionsSent(int port, absl::Duration settle,
                                 absl::Time deadline) {
  std::vector<Connection> connections = FindConnections(port);
  DrainResult result;
  result.connections = static_cast<int>(connections.size());
  // A look every millisecond: a queue drains at the client's pace.
  constexpr absl::Duration kPoll = absl::Milliseconds(1);
  for (;;) {
    const absl::Time now = absl::Now();
    int sending = 0;
    for (Connection& c : connections) {
      if (!c.sending) continue;
      c.last_queued = Queued(c);
      if (c.last_queued == 0) {
        if (c.first_empty == absl::InfiniteFuture()) c.first_empty = now;
        if (now - c.first_empty >= settle) {
          c.sending = false;
          continue;
        }
      }
      ++sending;
    }
    if (sending == 0) return result;
    if (now >= deadline) {
      for (const Connection& c : connections) {
        if (c.sending && c.last_queued > 0) ++result.still_sending;
      }
      return result;
    }
    // At least as long as the look took: with many connections a look
    // costs two system calls each, and waiting must not become a busy loop.
    absl::SleepFor(std::max(kPoll, absl::Now() - now));
  }
}

}  // namespace healthscore::server
