#include "server/score_request.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "engine/eval/account_table.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "server/convert.h"
#include "server/request_parsing.h"
#include "server/testing/test_server.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;

grpc::ByteBuffer Body(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

v1::AccountSnapshot Account(const std::string& id, double dau) {
  v1::AccountSnapshot a;
  a.set_id(id);
  a.set_as_of("2026-11-01");
  (*a.mutable_metrics())["dau_mau"] = dau;
  (*a.mutable_attributes())["segment"] = "smb";
  return a;
}

v1::ScoreRequest MapRequest(int n) {
  v1::ScoreRequest r;
  r.set_model("default");
  r.set_version("2");
  r.set_request_id("req-1");
  r.mutable_options()->set_explain(true);
  for (int i = 0; i < n; ++i) {
    *r.add_accounts() = Account("a" + std::to_string(i), 0.1 * i);
  }
  return r;
}

TEST(ScoreRequestTest, MapAccountsStaySerialisedAndParseByRange) {
  const v1::ScoreRequest request = MapRequest(5);
  v1::ScoreRequest head;
  DeferredAccounts accounts;
  ASSERT_TRUE(
      ParseScoreRequest(Body(request.SerializeAsString()), &head, &accounts)
          .ok());
  EXPECT_EQ(head.accounts_size(), 0);
  EXPECT_EQ(head.model(), "default");
  EXPECT_EQ(head.version(), "2");
  EXPECT_EQ(head.request_id(), "req-1");
  EXPECT_TRUE(head.options().explain());
  ASSERT_EQ(accounts.size(), 5u);
  EXPECT_GE(accounts.bytes(), request.ByteSizeLong());

  google::protobuf::RepeatedPtrField<v1::AccountSnapshot> out;
  ASSERT_TRUE(accounts.Parse(1, 4, &out).ok());
  ASSERT_EQ(out.size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].SerializeAsString(),
              request.accounts(i + 1).SerializeAsString());
  }
  // The messages are reused, and replaced.
  ASSERT_TRUE(accounts.Parse(4, 5, &out).ok());
  ASSERT_EQ(out.size(), 1);
  EXPECT_EQ(out[0].id(), "a4");

  accounts.Clear();
  EXPECT_EQ(accounts.size(), 0u);
}

TEST(ScoreRequestTest, AccountsInterleavedWithOtherFieldsKeepTheirOrder) {
  v1::ScoreRequest first, middle, last;
  *first.add_accounts() = Account("x", 1);
  middle.set_model("default");
  *last.add_accounts() = Account("y", 2);
  const std::string bytes = first.SerializeAsString() +
                            middle.SerializeAsString() +
                            last.SerializeAsString();
  v1::ScoreRequest head;
  DeferredAccounts accounts;
  ASSERT_TRUE(ParseScoreRequest(Body(bytes), &head, &accounts).ok());
  EXPECT_EQ(head.model(), "default");
  google::protobuf::RepeatedPtrField<v1::AccountSnapshot> out;
  ASSERT_TRUE(accounts.Parse(0, 2, &out).ok());
  ASSERT_EQ(out.size(), 2);
  EXPECT_EQ(out[0].id(), "x");
  EXPECT_EQ(out[1].id(), "y");
}

TEST(ScoreRequestTest, ColumnarRequestIsParsedWhole) {
  v1::ScoreRequest request;
  request.set_model("default");
  request.mutable_columns()->add_ids("a");
  request.mutable_columns()->add_as_of("2026-11-01");
  v1::ScoreRequest head;
  DeferredAccounts accounts;
  ASSERT_TRUE(
      ParseScoreRequest(Body(request.SerializeAsString()), &head, &accounts)
          .ok());
  EXPECT_EQ(accounts.size(), 0u);
  EXPECT_EQ(accounts.bytes(), 0u);
  EXPECT_EQ(head.SerializeAsString(), request.SerializeAsString());
}

TEST(ScoreRequestTest, ABadAccountFailsWithTheWholeBodyMessage) {
  v1::ScoreRequest request = MapRequest(3);
  request.mutable_accounts(2)->set_id("\xff\xfe");
  const std::string bytes = request.SerializePartialAsString();
  // What parsing the whole body says.
  v1::ScoreRequest whole;
  const absl::Status expected = ParseRequestBody(Body(bytes), &whole);
  ASSERT_THAT(expected, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("accounts[2].id at byte ")));

  v1::ScoreRequest head;
  DeferredAccounts accounts;
  ASSERT_TRUE(ParseScoreRequest(Body(bytes), &head, &accounts).ok());
  google::protobuf::RepeatedPtrField<v1::AccountSnapshot> out;
  EXPECT_TRUE(accounts.Parse(0, 2, &out).ok());
  const absl::Status parsed = accounts.Parse(0, 3, &out);
  EXPECT_EQ(parsed, expected);
}

TEST(ScoreRequestTest, AMalformedTopLevelFailsAsAWholeParse) {
  const std::string bytes = MapRequest(2).SerializeAsString() + "\x7f";
  v1::ScoreRequest whole;
  const absl::Status expected = ParseRequestBody(Body(bytes), &whole);
  ASSERT_FALSE(expected.ok());
  v1::ScoreRequest head;
  DeferredAccounts accounts;
  EXPECT_EQ(ParseScoreRequest(Body(bytes), &head, &accounts), expected);
  EXPECT_THAT(expected, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr("invalid wire type 7")));
}

absl::string_view S(std::string_view v) { return {v.data(), v.size()}; }

// Everything a table holds, row by row, as text (numbers bit for bit).
std::string Dump(const engine::eval::AccountTable& t) {
  std::string out;
  std::vector<engine::eval::AccountTable::RowValue> values;
  for (size_t r = 0; r < t.size(); ++r) {
    absl::StrAppend(&out, "row ", S(t.id(r)), t.row_failed(r) ? " failed" : "",
                    "\n");
    t.RowValues(r, &values);
    for (const auto& v : values) {
      const engine::eval::FieldName f = t.column(v.column);
      uint64_t bits = 0;
      std::memcpy(&bits, &v.number, sizeof(bits));
      absl::StrAppend(&out, "  ", S(f.section), ".", S(f.name), " kind ",
                      static_cast<int>(v.kind), " ", bits, " '", S(v.text),
                      "'");
      for (uint32_t i = 0; i < v.points; ++i) {
        absl::StrAppend(&out, " ", v.series[i]);
      }
      absl::StrAppend(&out, "\n");
    }
  }
  return out;
}

// The table read straight from the wire, or "" when the reader declined.
std::string FromWire(const std::string& account) {
  engine::eval::AccountTable table;
  engine::eval::TableBuilder builder(&table);
  if (!AddAccountRowFromWire(account, &builder)) return "";
  return Dump(table);
}

// The table read from the parsed message, or "" when it does not parse.
std::string FromMessage(const std::string& account) {
  google::protobuf::RepeatedPtrField<v1::AccountSnapshot> parsed;
  if (!parsed.Add()->ParseFromString(account)) return "";
  engine::eval::AccountTable table;
  engine::eval::TableBuilder builder(&table);
  AddAccountRows(parsed, 0, 1, &builder);
  return Dump(table);
}

using google::protobuf::internal::WireFormatLite;

// Hand-written wire bytes, for what a serialiser never writes.
class Wire {
 public:
  Wire& Tag(int field, WireFormatLite::WireType type) {
    WireFormatLite::WriteTag(field, type, &out_);
    return *this;
  }
  Wire& Bytes(int field, const std::string& bytes) {
    Tag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
    out_.WriteVarint32(static_cast<uint32_t>(bytes.size()));
    out_.WriteString(bytes);
    return *this;
  }
  Wire& Double(int field, double v) {
    Tag(field, WireFormatLite::WIRETYPE_FIXED64);
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(bits));
    out_.WriteLittleEndian64(bits);
    return *this;
  }
  Wire& Varint(int field, uint64_t v) {
    Tag(field, WireFormatLite::WIRETYPE_VARINT);
    out_.WriteVarint64(v);
    return *this;
  }
  std::string str() {
    out_.Trim();
    return text_;
  }

 private:
  std::string text_;
  google::protobuf::io::StringOutputStream stream_{&text_};
  google::protobuf::io::CodedOutputStream out_{&stream_};
};

std::string Packed(const std::vector<double>& values) {
  std::string bytes(values.size() * 8, '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

// Reading the wire straight into the table gives the rows parsing and
// reading the messages gives, for what serialisers write and for what they
// do not: repeated keys and fields, unknown fields, series packed and not,
// entries without a key or value.
TEST(AddAccountRowFromWireTest, HoldsWhatTheParsedMessageHolds) {
  std::vector<std::string> cases;
  for (const testing::Account& a : testing::RandomAccounts(200, 3, true)) {
    v1::ScoreRequest r = testing::MapRequest({a}, "default");
    cases.push_back(r.accounts(0).SerializeAsString());
  }
  v1::AccountSnapshot full;
  full.set_id("full");
  full.set_as_of("2026-11-01");
  (*full.mutable_metrics())["nan"] = std::nan("");
  (*full.mutable_metrics())["b"] = -0.0;
  (*full.mutable_metrics())["same"] = 1;
  (*full.mutable_attributes())["same"] = "x";
  (*full.mutable_dates())["renewal"] = "2027-01-01";
  (*full.mutable_series())["wau"].add_values(1.5);
  (*full.mutable_series())["empty"];
  full.set_previous_score(0);
  full.set_previous_tier("");
  cases.push_back(full.SerializeAsString());
  cases.push_back("");  // an empty account
  const std::string entry = Wire().Bytes(1, "m").Double(2, 2).str();
  const std::string series_a = Wire().Double(1, 1).Bytes(1, Packed({2, 3})).str();
  const std::string series_b = Wire().Double(1, 9).str();
  cases.push_back(
      Wire()
          .Bytes(1, "first").Bytes(1, "second")  // the last id
          .Bytes(3, entry)
          .Bytes(3, Wire().Bytes(1, "m").Double(2, 5).str())  // the last
          .Bytes(3, Wire().Double(2, 7).Bytes(1, "k").str())  // value first
          .Bytes(3, Wire().Bytes(1, "nokey_value").str())     // 0
          .Bytes(3, Wire().Double(2, 4).str())                // key ""
          .Bytes(3, Wire().Bytes(1, "m2").Double(2, 1).Double(2, 8).str())
          .Bytes(4, Wire().Bytes(1, "seg").Bytes(2, "a").Bytes(2, "b").str())
          .Bytes(6, Wire().Bytes(1, "s").Bytes(2, series_a).Bytes(2, series_b)
                        .str())  // value messages merge
          .Bytes(6, Wire().Bytes(1, "t").Bytes(2, series_a).str())
          .Bytes(6, Wire().Bytes(1, "t").Bytes(2, series_b).str())  // last
          .Varint(99, 12).Bytes(100, "unknown").Double(101, 1)
          .Bytes(3, Wire().Bytes(1, "u").Double(2, 1).Varint(3, 1).str())
          .Double(7, 41).Double(7, 42)
          .Bytes(8, "red")
          .str());
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string expected = FromMessage(cases[i]);
    ASSERT_NE(expected, "") << "case " << i;
    EXPECT_EQ(FromWire(cases[i]), expected) << "case " << i;
  }
}

// What the reader does not take it leaves to the parser, adding nothing:
// each of these the parser refuses or reads differently.
TEST(AddAccountRowFromWireTest, DeclinesWhatItDoesNotReadExactly) {
  const std::vector<std::string> declined = {
      Wire().Bytes(1, "\xff\xfe").str(),                      // UTF-8
      Wire().Bytes(3, Wire().Bytes(1, "\xc3").str()).str(),   // key UTF-8
      Wire().Bytes(4, Wire().Bytes(1, "k").Bytes(2, "\xe2\x82").str()).str(),
      Wire().Varint(1, 5).str(),                              // id as varint
      Wire().Bytes(3, Wire().Bytes(1, "k").Varint(2, 1).str()).str(),
      Wire().Bytes(7, "x").str(),                             // wire type
      Wire().Bytes(6, Wire().Bytes(2, Wire().Bytes(1, "1234567").str())
                          .str()).str(),                      // packed size
      std::string("\x0a\x05" "ab", 4),                        // truncated
      std::string("\x00", 1),                                 // tag 0
      Wire().Varint(0, 1).str(),                              // field 0
      std::string("\x0c", 1),                                 // end group
  };
  for (size_t i = 0; i < declined.size(); ++i) {
    engine::eval::AccountTable table;
    engine::eval::TableBuilder builder(&table);
    EXPECT_FALSE(AddAccountRowFromWire(declined[i], &builder)) << "case " << i;
    EXPECT_EQ(table.size(), 0u) << "case " << i;
  }
}

}  // namespace
}  // namespace healthscore::server
