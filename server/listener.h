// Listener: the server's listening sockets, and a thread that accepts
// connections and hands each to gRPC (grpc::AddInsecureChannelFromFd).
//
// The server listens itself rather than through gRPC's AddListeningPort so
// that shutdown can stop accepting connections while gRPC still serves:
// gRPC stops its own listener only as part of its shutdown, and answers a
// call that reaches it after that began with CANCELLED (server.h). With
// this listener stopped first, a client that loses its connection cannot
// open a new one; it is refused, which it sees as UNAVAILABLE.
//
// Addresses: "HOST:PORT", "[IPV6]:PORT" or ":PORT" (every interface). A
// host name is resolved and every address it has is bound, as gRPC does;
// port 0 picks a free port, the same for all of them. No SO_REUSEPORT, so
// a second server cannot silently share a port in use.
//
// Thread-safety: Start and Stop may be called from any thread; Stop joins
// the accept thread.

#ifndef HEALTHSCORE_SERVER_LISTENER_H_
#define HEALTHSCORE_SERVER_LISTENER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server.h"

namespace healthscore::server {

class Listener {
 public:
  // Binds and listens. InvalidArgument for an address that is not
  // HOST:PORT; Unavailable when no address could be bound (the message
  // says why, e.g. "Address already in use").
  static absl::StatusOr<std::unique_ptr<Listener>> Bind(
      const std::string& address);

  // Stop().
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // The bound port.
  int port() const { return port_; }

  // Starts the accept thread: every connection becomes a channel of
  // `server`, which must outlive Stop. Call once.
  void Start(grpc::Server* server);

  // Stops accepting and closes the listening sockets: from its return, new
  // connections are refused. Idempotent.
  void Stop();

 private:
  Listener(std::vector<int> fds, int port);
  void AcceptLoop(grpc::Server* server);

  const std::vector<int> fds_;
  const int port_;
  const int wake_fd_;  // eventfd: tells the accept thread to stop

  absl::Mutex mu_;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_LISTENER_H_
