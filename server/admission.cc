#include "server/admission.h"

#include "absl/strings/str_cat.h"

namespace healthscore::server {

absl::Status Admission::TryAdmit(size_t accounts, size_t bytes) {
  absl::MutexLock lock(&mu_);
  if (requests_ >= max_requests_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "server at capacity: ", requests_,
        " requests in progress (limit max_concurrent_requests=",
        max_requests_, "); retry with backoff"));
  }
  if (accounts_ + accounts > max_accounts_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "server at capacity: ", accounts_, " accounts in progress, ",
        accounts, " more would exceed max_pending_accounts=", max_accounts_,
        "; retry with backoff"));
  }
  if (bytes_ + bytes > max_bytes_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "server at capacity: ", bytes_, " request bytes in progress, ", bytes,
        " more would exceed max_bytes_in_flight=", max_bytes_,
        "; retry with backoff, or send smaller batches"));
  }
  ++requests_;
  accounts_ += accounts;
  bytes_ += bytes;
  return absl::OkStatus();
}

void Admission::Release(size_t accounts, size_t bytes) {
  absl::MutexLock lock(&mu_);
  --requests_;
  accounts_ -= accounts;
  bytes_ -= bytes;
}

size_t Admission::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

size_t Admission::accounts() const {
  absl::MutexLock lock(&mu_);
  return accounts_;
}

size_t Admission::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

}  // namespace healthscore::server
