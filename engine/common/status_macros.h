// Propagation macros for absl::Status and absl::StatusOr.
//
// Abseil 20220623 (the Debian 12 version) ships neither RETURN_IF_ERROR nor
// ASSIGN_OR_RETURN, so the project keeps these two, spelled HEALTHSCORE_* to
// stay out of the way of any later Abseil release.
//
//   HEALTHSCORE_RETURN_IF_ERROR(DoThing());
//   HEALTHSCORE_ASSIGN_OR_RETURN(auto model, LoadModel(path));

#ifndef HEALTHSCORE_ENGINE_COMMON_STATUS_MACROS_H_
#define HEALTHSCORE_ENGINE_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define HEALTHSCORE_RETURN_IF_ERROR(expr)                 \
  do {                                                    \
    ::absl::Status healthscore_status_ = (expr);          \
    if (!healthscore_status_.ok()) return healthscore_status_; \
  } while (0)

#define HEALTHSCORE_STATUS_CONCAT_INNER_(a, b) a##b
#define HEALTHSCORE_STATUS_CONCAT_(a, b) HEALTHSCORE_STATUS_CONCAT_INNER_(a, b)

#define HEALTHSCORE_ASSIGN_OR_RETURN(lhs, rexpr)                           \
  HEALTHSCORE_ASSIGN_OR_RETURN_IMPL_(                                      \
      HEALTHSCORE_STATUS_CONCAT_(healthscore_statusor_, __LINE__), lhs, rexpr)

#define HEALTHSCORE_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                       \
  if (!statusor.ok()) return std::move(statusor).status();       \
  lhs = std::move(statusor).value()

#endif  // HEALTHSCORE_ENGINE_COMMON_STATUS_MACROS_H_
