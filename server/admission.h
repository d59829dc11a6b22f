// Admission control: bounds the work the server holds at once.
//
// Every Score call and every ScoreStream batch is admitted before any work
// is queued and released when its response is ready. Work beyond either
// limit (requests in progress, accounts in progress) is refused at once with
// RESOURCE_EXHAUSTED, so overload produces fast errors and bounded memory
// instead of a growing queue.
//
// Thread-safety: all methods may be called from any thread.

#ifndef HEALTHSCORE_SERVER_ADMISSION_H_
#define HEALTHSCORE_SERVER_ADMISSION_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace healthscore::server {

class Admission {
 public:
  Admission(size_t max_requests, size_t max_accounts)
      : max_requests_(max_requests), max_accounts_(max_accounts) {}

  // Admits a request of `accounts` accounts, or returns ResourceExhausted
  // naming the limit that was hit. Every OK must be paired with Release.
  absl::Status TryAdmit(size_t accounts);
  void Release(size_t accounts);

  size_t requests() const;
  size_t accounts() const;

 private:
  const size_t max_requests_;
  const size_t max_accounts_;
  mutable absl::Mutex mu_;
  size_t requests_ ABSL_GUARDED_BY(mu_) = 0;
  size_t accounts_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_ADMISSION_H_
