#include "server/auth.h"

#include <fstream>
#include <string>

#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::IsOk;
using ::healthscore::engine::common::testing::ScratchDir;
using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Write(const std::string& name, const std::string& text) {
  // One scratch directory for the whole binary (ScratchDir makes a new one
  // on every call).
  static const std::string* dir = new std::string(ScratchDir("auth_test"));
  const std::string path = *dir + "/" + name;
  std::ofstream(path, std::ios::trunc) << text;
  return path;
}

Credentials Token(const std::string& t) {
  Credentials c;
  c.has_token = true;
  c.token = t;
  return c;
}

TEST(ConstantTimeEqualsTest, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("secret2", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", ""));
  // A repeating prefix must not match by wrapping around.
  EXPECT_FALSE(ConstantTimeEquals("ab", "abab"));
}

TEST(ReadTokenFileTest, OneTokenALineCommentsAndBlanksIgnored) {
  absl::StatusOr<std::vector<std::string>> t = ReadTokenFile(
      Write("tokens", "# rotated 2026-12\n\n  new-token \nold-token\r\n"));
  ASSERT_THAT(t.status(), IsOk());
  EXPECT_THAT(*t, ElementsAre("new-token", "old-token"));
}

TEST(ReadTokenFileTest, EmptyOrMissingFileIsAnError) {
  EXPECT_THAT(ReadTokenFile(Write("empty", "# nothing\n\n")).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("holds no token")));
  EXPECT_THAT(ReadTokenFile("/nonexistent/tokens").status(),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("cannot read token file /nonexistent")));
  EXPECT_THAT(ReadTokenFile(Write("huge", std::string(70000, 'x'))).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("larger than 65536 bytes")));
}

TEST(SplitSanListTest, TrimsAndDropsEmptyEntries) {
  EXPECT_THAT(SplitSanList(" admin.example ,, spiffe://x/y,"),
              ElementsAre("admin.example", "spiffe://x/y"));
}

TEST(AuthorizerTest, NothingConfiguredRefusesAdminCallsAndOpensScoring) {
  Authorizer auth({});
  ASSERT_THAT(auth.Reload(), IsOk());
  EXPECT_FALSE(auth.AdminConfigured());
  EXPECT_TRUE(auth.Required(AuthScope::kAdmin));
  EXPECT_FALSE(auth.Required(AuthScope::kScoring));
  const std::string why =
      "admin calls (Reload, ValidateModel) are refused: this server has no "
      "admin credential configured; start it with --admin-token-file or "
      "--admin-allow-san (or --allow-unauthenticated-admin=true on a trusted "
      "network)";
  EXPECT_THAT(auth.Check(AuthScope::kAdmin, {}),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr(why)));
  // A token cannot be right when there are none.
  EXPECT_THAT(auth.Check(AuthScope::kAdmin, Token("guess")),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(why)));
  Credentials certificate;
  certificate.sans = {"admin.example"};
  EXPECT_THAT(auth.Check(AuthScope::kAdmin, certificate),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr(why)));
  EXPECT_THAT(auth.Check(AuthScope::kScoring, {}), IsOk());
  EXPECT_EQ(auth.failures(AuthScope::kAdmin).unauthenticated, 2u);
  EXPECT_EQ(auth.failures(AuthScope::kAdmin).permission_denied, 1u);
}

TEST(AuthorizerTest, AllowUnauthenticatedAdminOpensOnlyWhatHasNoCredential) {
  Authorizer::Options open;
  open.allow_unauthenticated_admin = true;
  Authorizer auth(open);
  ASSERT_THAT(auth.Reload(), IsOk());
  EXPECT_FALSE(auth.Required(AuthScope::kAdmin));
  EXPECT_THAT(auth.Check(AuthScope::kAdmin, {}), IsOk());
  EXPECT_THAT(auth.Check(AuthScope::kScoring, {}), IsOk());

  // With a token file the flag is ignored: the token is needed.
  Authorizer::Options configured = open;
  configured.admin_token_file = Write("admin-open", "a1\n");
  Authorizer strict(configured);
  ASSERT_THAT(strict.Reload(), IsOk());
  EXPECT_TRUE(strict.Required(AuthScope::kAdmin));
  EXPECT_THAT(strict.Check(AuthScope::kAdmin, {}),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("need a credential")));
  EXPECT_THAT(strict.Check(AuthScope::kAdmin, Token("a1")), IsOk());
}

TEST(AuthorizerTest, AdminTokenMissingWrongRightAndCounted) {
  Authorizer auth({Write("admin", "a1\na2\n"), {}, ""});
  ASSERT_THAT(auth.Reload(), IsOk());
  EXPECT_THAT(auth.Check(AuthScope::kAdmin, {}),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("admin calls (Reload, ValidateModel) need a "
                                 "credential: send metadata 'authorization: "
                                 "Bearer TOKEN'")));
  EXPECT_THAT(auth.Check(AuthScope::kAdmin, Token("nope")),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("bearer token is not accepted")));
  Credentials malformed;
  malformed.malformed_authorization = true;
  EXPECT_THAT(auth.Check(AuthScope::kAdmin, malformed),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("is not 'Bearer TOKEN'")));
  EXPECT_THAT(auth.Check(AuthScope::kAdmin, Token("a1")), IsOk());
  EXPECT_THAT(auth.Check(AuthScope::kAdmin, Token("a2")), IsOk());
  // Scoring stays open without --auth-token-file.
  EXPECT_THAT(auth.Check(AuthScope::kScoring, {}), IsOk());
  EXPECT_EQ(auth.failures(AuthScope::kAdmin).unauthenticated, 1u);
  EXPECT_EQ(auth.failures(AuthScope::kAdmin).permission_denied, 2u);
  EXPECT_EQ(auth.failures(AuthScope::kScoring).unauthenticated, 0u);
}

TEST(AuthorizerTest, ScoringTokenAndAdminCredentialsBothServeScoring) {
  Authorizer auth({Write("admin2", "admin\n"), {"ops.example"},
                   Write("scoring", "score\n")});
  ASSERT_THAT(auth.Reload(), IsOk());
  EXPECT_THAT(auth.Check(AuthScope::kScoring, {}),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("scoring calls")));
  EXPECT_THAT(auth.Check(AuthScope::kScoring, Token("score")), IsOk());
  EXPECT_THAT(auth.Check(AuthScope::kScoring, Token("admin")), IsOk());
  // A scoring token is no admin credential.
  EXPECT_THAT(auth.Check(AuthScope::kAdmin, Token("score")),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("")));
  Credentials ops;
  ops.sans = {"ops.example"};
  EXPECT_THAT(auth.Check(AuthScope::kAdmin, ops), IsOk());
  EXPECT_THAT(auth.Check(AuthScope::kScoring, ops), IsOk());
  Credentials other;
  other.sans = {"client.example", "10.0.0.1"};
  EXPECT_THAT(auth.Check(AuthScope::kAdmin, other),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("(subject alternative names: "
                                 "client.example, 10.0.0.1) is not in "
                                 "--admin-allow-san")));
  // On a scoring call a certificate that is not an admin's is no
  // credential: the scoring token is missing.
  EXPECT_THAT(auth.Check(AuthScope::kScoring, other),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("scoring calls")));
}

TEST(AuthorizerTest, ReloadRotatesAndKeepsTokensWhenTheFileBreaks) {
  const std::string path = Write("rotating", "old\n");
  Authorizer auth({path, {}, ""});
  ASSERT_THAT(auth.Reload(), IsOk());
  std::ofstream(path, std::ios::trunc) << "new\n";
  ASSERT_THAT(auth.Reload(), IsOk());
  EXPECT_THAT(auth.Check(AuthScope::kAdmin, Token("old")),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("")));
  EXPECT_THAT(auth.Check(AuthScope::kAdmin, Token("new")), IsOk());
  std::ofstream(path, std::ios::trunc) << "\n";
  EXPECT_THAT(auth.Reload(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--admin-token-file: token file")));
  EXPECT_THAT(auth.Check(AuthScope::kAdmin, Token("new")), IsOk());
}

}  // namespace
}  // namespace healthscore::server
