// Test helpers: a request's accounts read into a table and bound to a
// model, the way the server's ScoreJob does it.

#ifndef HEALTHSCORE_SERVER_TESTING_BIND_H_
#define HEALTHSCORE_SERVER_TESTING_BIND_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/eval/account_table.h"
#include "engine/eval/batch.h"
#include "healthscore/v1/account.pb.h"
#include "server/convert.h"

namespace healthscore::server::testing {

// Binds `table`'s rows (all of them, or `rows` in that order) to
// `batch`'s model, clearing the batch; returns how many values the model
// does not declare.
inline uint64_t BindTable(const engine::eval::AccountTable& table, bool strict,
                          engine::eval::Batch* batch,
                          const std::vector<uint32_t>* rows = nullptr) {
  engine::eval::TableBinder binder(batch->model_ptr());
  binder.set_strict(strict);
  if (rows != nullptr) {
    binder.Bind(table, *rows, batch);
  } else {
    binder.Bind(table, batch);
  }
  return binder.ignored_fields();
}

// Map-form accounts [begin, end) into `batch`.
inline uint64_t BindAccounts(
    const google::protobuf::RepeatedPtrField<v1::AccountSnapshot>& accounts,
    size_t begin, size_t end, bool strict, engine::eval::Batch* batch) {
  engine::eval::AccountTable table;
  engine::eval::TableBuilder builder(&table);
  AddAccountRows(accounts, begin, end, &builder);
  return BindTable(table, strict, batch);
}

// Columnar accounts [begin, end) into `batch`.
inline uint64_t BindColumns(const ColumnarPlan& plan, size_t begin, size_t end,
                            bool strict, engine::eval::Batch* batch) {
  engine::eval::AccountTable table;
  engine::eval::TableBuilder builder(&table);
  plan.AddRows(begin, end, &builder);
  return BindTable(table, strict, batch);
}

}  // namespace healthscore::server::testing

#endif  // HEALTHSCORE_SERVER_TESTING_BIND_H_
