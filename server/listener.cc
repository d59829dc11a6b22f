#include "server/listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/options.h"
#include "grpcpp/server_posix.h"
#include "server/log.h"

namespace healthscore::server {
namespace {

std::string Describe(const sockaddr* addr) {
  char text[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    port = ntohs(in->sin_port);
    return absl::StrCat(text, ":", port);
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
  ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
  port = ntohs(in6->sin6_port);
  return absl::StrCat("[", text, "]:", port);
}

void SetPort(sockaddr* addr, int port) {
  if (addr->sa_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(addr)->sin_port = htons(port);
  } else if (addr->sa_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(addr)->sin6_port = htons(port);
  }
}

int BoundPort(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return 0;
  }
  return ss.ss_family == AF_INET
             ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
             : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Listener>> Listener::Bind(
    const std::string& address) {
  // The same reading as the flag's (options.h), so what was accepted at
  // start-up binds.
  absl::StatusOr<ListenAddress> parsed = ParseListenAddress(address);
  if (!parsed.ok()) return parsed.status();
  const std::string service = absl::StrCat(parsed->port);
  const std::string& host = parsed->host;
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int gai = ::getaddrinfo(host.empty() ? nullptr : host.c_str(),
                                service.c_str(), &hints, &found);
  if (gai != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve '", host, "': ", gai_strerror(gai)));
  }
  bool has_ipv4 = false;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    has_ipv4 |= ai->ai_family == AF_INET;
  }
  int port = parsed->port;
  std::vector<int> fds;
  std::vector<std::string> bound;
  std::string error;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    // Port 0: every address gets the port the first one was given.
    if (port != 0) SetPort(ai->ai_addr, port);
    const std::string where = Describe(ai->ai_addr);
    bool duplicate = false;
    for (const std::string& b : bound) duplicate |= b == where;
    if (duplicate) continue;
    const int fd =
        ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      if (error.empty()) {
        error = absl::StrCat(strerror(errno), " (", where, ")");
      }
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) {
      // With an IPv4 address of its own, the IPv6 socket must not claim
      // IPv4 too; alone (e.g. [::]), it serves both, as gRPC's does.
      const int v6only = has_ipv4 ? 1 : 0;
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        ::listen(fd, SOMAXCONN) != 0) {
      if (error.empty()) {
        error = absl::StrCat(strerror(errno), " (", where, ")");
      }
      ::close(fd);
      continue;
    }
    if (port == 0) port = BoundPort(fd);
    bound.push_back(where);
    fds.push_back(fd);
  }
  ::freeaddrinfo(found);
  if (fds.empty()) {
    return absl::UnavailableError(
        error.empty() ? std::string("no address to bind") : error);
  }
  return std::unique_ptr<Listener>(new Listener(std::move(fds), port));
}

Listener::Listener(std::vector<int> fds, int port)
    : fds_(std::move(fds)),
      port_(port),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

Listener::~Listener() {
  Stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Listener::Start(grpc::Server* server) {
  absl::MutexLock lock(&mu_);
  if (stopped_ || thread_.joinable()) return;
  thread_ = std::thread([this, server] { AcceptLoop(server); });
}

void Listener::Stop() {
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    thread.swap(thread_);
  }
  const uint64_t one = 1;
  if (wake_fd_ >= 0) {
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }
  if (thread.joinable()) thread.join();
  // Connections the kernel completed but nobody accepted are reset here.
  for (int fd : fds_) ::close(fd);
}

void Listener::AcceptLoop(grpc::Server* server) {
  std::vector<pollfd> polled;
  for (int fd : fds_) polled.push_back({fd, POLLIN, 0});
  polled.push_back({wake_fd_, POLLIN, 0});
  for (;;) {
    if (::poll(polled.data(), polled.size(), -1) < 0) {
      if (errno == EINTR) continue;
      LogError(absl::StrCat("listener: poll failed: ", strerror(errno),
                            "; no longer accepting connections"));
      return;
    }
    if (polled.back().revents != 0) return;  // Stop
    for (size_t i = 0; i + 1 < polled.size(); ++i) {
      if (polled[i].revents == 0) continue;
      for (;;) {
        const int fd = ::accept4(polled[i].fd, nullptr, nullptr,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
          const int one = 1;
          ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          grpc::AddInsecureChannelFromFd(server, fd);
          continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        LogEvery(LogLevel::kWarning, "listener:accept",
                 absl::StrCat("cannot accept a connection: ", strerror(errno),
                              "; retrying"));
        // Out of descriptors or memory: the pending connection stays
        // ready, so pause rather than spin (Stop still wakes this).
        pollfd wake = {wake_fd_, POLLIN, 0};
        ::poll(&wake, 1, 100);
        break;
      }
    }
  }
}

}  // namespace healthscore::server
