// Admission control: bounds the work the server holds at once.
//
// Every Score call and every ScoreStream batch is admitted before any work
// is queued and released when its response is ready. Work beyond any
// limit (requests in progress, accounts in progress, serialised request
// bytes in progress) is refused at once with RESOURCE_EXHAUSTED, so
// overload produces fast errors and bounded memory instead of a growing
// queue. Bytes matter beside accounts because accounts differ in size: a
// few large map-form requests hold far more memory than their account
// count says (a call peaks at a few times its request's bytes, see
// docs/operations.md).
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
  Admission(size_t max_requests, size_t max_accounts, size_t max_bytes)
      : max_requests_(max_requests),
        max_accounts_(max_accounts),
        max_bytes_(max_bytes) {}

  // Admits a request of `accounts` accounts and `bytes` serialised bytes,
  // or returns ResourceExhausted naming the limit that was hit and what to
  // do. Every OK must be paired with Release of the same amounts.
  absl::Status TryAdmit(size_t accounts, size_t bytes);
  void Release(size_t accounts, size_t bytes);

  size_t requests() const;
  size_t accounts() const;
  size_t bytes() const;

 private:
  const size_t max_requests_;
  const size_t max_accounts_;
  const size_t max_bytes_;
  mutable absl::Mutex mu_;
  size_t requests_ ABSL_GUARDED_BY(mu_) = 0;
  size_t accounts_ ABSL_GUARDED_BY(mu_) = 0;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_ADMISSION_H_
