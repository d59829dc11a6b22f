// AwaitConnectionsSent: lets a stopping server's connections send what
// they still hold before they are closed.
//
// A gRPC call is done once its last response and its status are handed to
// the transport: the bytes may still wait in gRPC's buffer or in the
// kernel's send queue for a client that reads slowly. Closing the
// connection then loses them: the close shuts the socket for reading, so
// the client's next frame (a flow-control update for what it just read)
// makes the kernel reset the connection and drop its send queue, and the
// client sees UNAVAILABLE ("Connection reset by peer") after part of its
// responses. Server::Shutdown therefore waits for every connection to have
// sent everything (its send queue empty: sent and acknowledged) before it
// closes them.
//
// The connections are found as the process's connected TCP sockets whose
// local port is the server's (/proc/self/fd), which covers those the
// server's listener accepted and those gRPC accepted itself (TLS), and no
// client socket of the same process. A connection has sent everything
// once two looks at least `settle` apart found its kernel queue empty (no
// byte unsent or unacknowledged: SIOCOUTQ). One look is not enough: gRPC
// keeps what the kernel had no room for and writes it as soon as there is
// room, so a queue the client has just emptied may be refilled; by a
// second look `settle` later, gRPC has written it. The looks in between
// may find bytes: a server still answers new calls (with UNAVAILABLE)
// while it drains, and a queue need never stay empty under such traffic.
//
// Linux only (SIOCOUTQ, /proc); elsewhere it returns at once. Thread-safe;
// it only reads the sockets' state, and a socket closed meanwhile counts as
// sent.

#ifndef HEALTHSCORE_SERVER_CONNECTION_DRAIN_H_
#define HEALTHSCORE_SERVER_CONNECTION_DRAIN_H_

#include "absl/time/time.h"

namespace healthscore::server {

struct DrainResult {
  // Connections of the port found at the start.
  int connections = 0;
  // Of those, the ones that still held unsent or unacknowledged bytes at
  // the deadline (a client that stopped reading).
  int still_sending = 0;
};

// Waits until every connection of this process on local TCP port `port`
// has sent everything (two empty looks `settle` apart), or until
// `deadline`.
DrainResult AwaitConnectionsSent(int port, absl::Duration settle,
                                 absl::Time deadline);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_CONNECTION_DRAIN_H_
