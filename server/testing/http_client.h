// Test support: a minimal HTTP/1.1 client over a POSIX socket, for the
// metrics endpoint's tests (server/metrics_test.cc,
// tests/server_metrics_test.cc). One request per connection
// (`Connection: close`), read to end of file; and slow clients that hold
// connections open. Header-only; test code only.

#ifndef HEALTHSCORE_SERVER_TESTING_HTTP_CLIENT_H_
#define HEALTHSCORE_SERVER_TESTING_HTTP_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"

namespace healthscore::server::testing {

struct HttpResponse {
  int status = 0;
  // Header names lower-cased.
  std::map<std::string, std::string> headers;
  std::string body;
};

// A socket connected to 127.0.0.1:`port` whose sends and receives give up
// after `timeout`; Unavailable when the connection fails.
inline absl::StatusOr<int> ConnectLoopback(int port, absl::Duration timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError(std::strerror(errno));
  timeval tv = absl::ToTimeval(timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) !=
      0) {
    const std::string error = std::strerror(errno);
    ::close(fd);
    return absl::UnavailableError(
        absl::StrCat("connect to 127.0.0.1:", port, ": ", error));
  }
  return fd;
}

// Sends `method path` to 127.0.0.1:`port` and reads the reply, each socket
// operation waiting at most `timeout`. Unavailable when the connection
// fails; Internal for a reply that is not HTTP (or none in time).
inline absl::StatusOr<HttpResponse> HttpRequest(
    int port, const std::string& method, const std::string& path,
    absl::Duration timeout = absl::Seconds(30)) {
  absl::StatusOr<int> connected = ConnectLoopback(port, timeout);
  if (!connected.ok()) return connected.status();
  const int fd = *connected;
  const std::string request =
      absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1:", port,
                   "\r\nConnection: close\r\n\r\n");
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n =
        ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return absl::UnavailableError("send failed");
    }
    sent += static_cast<size_t>(n);
  }
  std::string reply;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) {
    reply.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);

  const size_t end = reply.find("\r\n\r\n");
  if (end == std::string::npos) {
    return absl::InternalError(absl::StrCat("not an HTTP reply: ", reply));
  }
  std::vector<std::string> lines =
      absl::StrSplit(absl::string_view(reply).substr(0, end), "\r\n");
  HttpResponse response;
  std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
  if (status_line.size() < 2 || !absl::StartsWith(status_line[0], "HTTP/")) {
    return absl::InternalError(absl::StrCat("bad status line: ", lines[0]));
  }
  response.status = std::atoi(status_line[1].c_str());
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    response.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(
            absl::string_view(lines[i]).substr(colon + 1)));
  }
  response.body = reply.substr(end + 4);
  return response;
}

inline absl::StatusOr<HttpResponse> HttpGet(
    int port, const std::string& path,
    absl::Duration timeout = absl::Seconds(30)) {
  return HttpRequest(port, "GET", path, timeout);
}

// A Prometheus text exposition (a /metrics body) as series ("name" or
// "name{labels}") -> value; comment lines are skipped. InvalidArgument
// naming the first line whose value is not a number.
inline absl::StatusOr<std::map<std::string, double>> ParseMetricSamples(
    const std::string& text) {
  std::map<std::string, double> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    double value = 0;
    if (space == absl::string_view::npos ||
        !absl::SimpleAtod(line.substr(space + 1), &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a metric sample: ", line));
    }
    out[std::string(line.substr(0, space))] = value;
  }
  return out;
}

// Slow clients, as a slowloris attack makes them: `idle` connections that
// send nothing, and `trickling` ones that send a request one byte every
// `interval` and never finish it (each connection starts over when the
// server closes it). Stopped and closed on destruction.
class SlowClients {
 public:
  SlowClients(int port, int idle, int trickling, absl::Duration interval)
      : port_(port), interval_(interval) {
    for (int i = 0; i < idle; ++i) {
      absl::StatusOr<int> fd = ConnectLoopback(port_, absl::Seconds(1));
      if (fd.ok()) idle_.push_back(*fd);
    }
    for (int i = 0; i < trickling; ++i) {
      trickling_.emplace_back([this] { Trickle(); });
    }
  }
  ~SlowClients() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    stopped_.notify_all();
    for (std::thread& t : trickling_) t.join();
    for (int fd : idle_) ::close(fd);
  }
  SlowClients(const SlowClients&) = delete;
  SlowClients& operator=(const SlowClients&) = delete;

  // Bytes the trickling connections have sent.
  int64_t bytes_sent() const { return sent_.load(); }
  // Times the server closed a trickling connection.
  int64_t closed_by_server() const { return closed_.load(); }

 private:
  void Trickle() {
    const std::string request =
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    int fd = -1;
    size_t next = 0;
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (fd < 0) {
        absl::StatusOr<int> connected =
            ConnectLoopback(port_, absl::Seconds(1));
        if (!connected.ok()) break;
        fd = *connected;
        next = 0;
      }
      const char byte = request[next++ % request.size()];
      if (::send(fd, &byte, 1, MSG_NOSIGNAL) != 1) {
        ::close(fd);
        fd = -1;
        ++closed_;
        continue;
      }
      ++sent_;
      stopped_.wait_for(lock, absl::ToChronoMilliseconds(interval_),
                        [this] { return stop_; });
    }
    if (fd >= 0) ::close(fd);
  }

  const int port_;
  const absl::Duration interval_;
  std::vector<int> idle_;
  std::vector<std::thread> trickling_;
  std::mutex mu_;
  std::condition_variable stopped_;
  bool stop_ = false;
  std::atomic<int64_t> sent_{0};
  std::atomic<int64_t> closed_{0};
};

}  // namespace healthscore::server::testing

#endif  // HEALTHSCORE_SERVER_TESTING_HTTP_CLIENT_H_
