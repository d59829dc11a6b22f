#include "engine/repository/repository_config.h"

#include <string>
#include <vector>

#include "engine/common/testing/yaml_bombs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::repository {

using model::DiagnosticList;

namespace {

using ::healthscore::engine::common::testing::AliasBomb;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Lines(const DiagnosticList& diags) {
  std::vector<std::string> out;
  for (const model::Diagnostic& d : diags.items()) out.push_back(d.ToString());
  return out;
}

TEST(RepositoryConfigTest, FullModelConfig) {
  DiagnosticList diags;
  ModelConfig c = ParseModelConfig(
      "version_policy: {specific: [3, 1]}\n"
      "labels: {stable: 1, canary: 3}\n"
      "default_version: stable\n"
      "routes:\n"
      "  - when: 'segment == \"enterprise\"'\n"
      "    model: enterprise-health\n"
      "    version: 2\n"
      "    description: big accounts\n"
      "  - when: >-\n"
      "      seats > 100\n"
      "      && region == \"emea\"\n"
      "    model: emea\n",
      "config.yaml", &diags);
  EXPECT_THAT(Lines(diags), IsEmpty());
  EXPECT_EQ(c.file, "config.yaml");
  EXPECT_EQ(c.version_policy.kind, VersionPolicyKind::kSpecific);
  EXPECT_THAT(c.version_policy.versions, ElementsAre(1, 3));
  EXPECT_EQ(c.version_policy.ToString(), "specific [1, 3]");
  EXPECT_EQ(c.labels.at("stable"), 1);
  EXPECT_EQ(c.labels.at("canary"), 3);
  EXPECT_EQ(c.label_locations.at("canary").ToString(), "config.yaml:2:29");
  EXPECT_EQ(c.default_version, "stable");
  ASSERT_EQ(c.routes.size(), 2u);
  EXPECT_EQ(c.routes[0].when.text, "segment == \"enterprise\"");
  // Past the opening quote.
  EXPECT_EQ(c.routes[0].when.location.ToString(), "config.yaml:5:12");
  EXPECT_EQ(c.routes[0].model, "enterprise-health");
  EXPECT_EQ(c.routes[0].version, 2);
  EXPECT_EQ(c.routes[0].description, "big accounts");
  EXPECT_EQ(c.routes[0].fields.Get("model", {}).ToString(), "config.yaml:6:12");
  EXPECT_EQ(c.routes[1].when.text, "seats > 100 && region == \"emea\"");
  // A block scalar starts on its first line of text.
  EXPECT_EQ(c.routes[1].when.location.ToString(), "config.yaml:10:7");
  EXPECT_EQ(c.routes[1].version, 0);
}

TEST(RepositoryConfigTest, PolicyForms) {
  struct Case {
    const char* text;
    const char* policy;
  };
  for (const Case& c : {Case{"version_policy: latest", "latest"},
                        Case{"version_policy: {latest: 3}", "latest 3"},
                        Case{"version_policy: all", "all"},
                        Case{"version_policy: {all: }", "all"},
                        Case{"", "latest"}}) {
    DiagnosticList diags;
    ModelConfig config = ParseModelConfig(c.text, "c.yaml", &diags);
    EXPECT_THAT(Lines(diags), IsEmpty()) << c.text;
    EXPECT_EQ(config.version_policy.ToString(), c.policy) << c.text;
  }
}

TEST(RepositoryConfigTest, EveryMistakeIsLocated) {
  DiagnosticList diags;
  ParseModelConfig(
      "version_policy: lastest\n"                  // 1
      "labels: {Stable: 1, canary: two}\n"         // 2
      "default_version: [1]\n"                     // 3
      "route: []\n"                                // 4
      "routes:\n"                                  // 5
      "  - model: Enterprise\n"                    // 6
      "  - when: 'x > 1'\n"                        // 7
      "    version: 0\n"                           // 8
      "    extra: 1\n"                             // 9
      "  - just a string\n",                       // 10
      "c.yaml", &diags);
  EXPECT_THAT(
      Lines(diags),
      ElementsAre(
          "c.yaml:1:17: error: 'version_policy' must be one of latest, "
          "{latest: N}, all or {specific: [versions]}, got \"lastest\" "
          "(hint: did you mean 'latest'?)",
          "c.yaml:2:10: error: label 'Stable' must be an identifier "
          "[a-z_][a-z0-9_]*",
          "c.yaml:2:29: error: 'canary' must be a version number (a positive "
          "integer), got \"two\" (hint: versions are the numeric directory "
          "names: 1, 2, 3...)",
          "c.yaml:3:18: error: 'default_version' must be a version number or "
          "a label, got a list",
          "c.yaml:4:1: error: unknown key 'route' in model config (hint: did "
          "you mean 'routes'?)",
          "c.yaml:6:5: error: missing required key 'when' in route (hint: "
          "e.g. when: 'segment == \"enterprise\"')",
          "c.yaml:6:12: error: 'model' must be a model name [a-z0-9_-]+, got "
          "\"Enterprise\"",
          "c.yaml:7:5: error: missing required key 'model' in route (hint: "
          "name the model that scores the accounts of this route)",
          "c.yaml:8:14: error: 'version' must be a version number (a "
          "positive integer), got \"0\" (hint: versions are the numeric "
          "directory names: 1, 2, 3...)",
          "c.yaml:9:5: error: unknown key 'extra' in route (hint: known "
          "keys: when, model, version, description)",
          "c.yaml:10:5: error: a route must be a mapping {when, model}, got "
          "\"just a string\""));
}

TEST(RepositoryConfigTest, InvalidYamlAndNotAMapping) {
  DiagnosticList diags;
  ParseModelConfig("routes: [\n", "c.yaml", &diags);
  EXPECT_THAT(Lines(diags),
              ElementsAre(::testing::StartsWith("c.yaml:2:1: error: invalid "
                                                "YAML: ")));
  DiagnosticList list;
  ParseModelConfig("- a\n- b\n", "c.yaml", &list);
  EXPECT_THAT(Lines(list),
              ElementsAre("c.yaml:1:1: error: expected a mapping of settings, "
                          "got a list"));
}

TEST(RepositoryConfigTest, RepositoryFile) {
  DiagnosticList diags;
  RepositoryConfig c =
      ParseRepositoryConfig("default_model: health\n", "r.yaml", &diags);
  EXPECT_THAT(Lines(diags), IsEmpty());
  EXPECT_EQ(c.default_model, "health");

  DiagnosticList bad;
  ParseRepositoryConfig("default_modle: x\ndefault_model: Bad Name\n",
                        "r.yaml", &bad);
  EXPECT_THAT(
      Lines(bad),
      ElementsAre("r.yaml:1:1: error: unknown key 'default_modle' in "
                  "repository config (hint: did you mean 'default_model'?)",
                  "r.yaml:2:16: error: 'default_model' must be a model name "
                  "[a-z0-9_-]+, got \"Bad Name\""));
}

TEST(RepositoryConfigTest, VersionNumbersAndNames) {
  int64_t v = 0;
  EXPECT_TRUE(ParseVersionNumber("1", &v));
  EXPECT_EQ(v, 1);
  EXPECT_TRUE(ParseVersionNumber("20", &v));
  EXPECT_EQ(v, 20);
  for (const char* bad : {"", "0", "01", "-1", "+1", "v2", "1.5",
                          "1234567890123456789"}) {
    EXPECT_FALSE(ParseVersionNumber(bad, &v)) << bad;
  }
  EXPECT_TRUE(IsModelName("adoption_trends"));
  EXPECT_TRUE(IsModelName("smb-2"));
  EXPECT_FALSE(IsModelName("Default"));
  EXPECT_FALSE(IsModelName(""));
  EXPECT_FALSE(IsModelName("a b"));
}

// Config files are read through the same bounded reader as model files.
TEST(RepositoryConfigTest, HostileConfigsAreOneLocatedError) {
  DiagnosticList diags;
  ParseModelConfig("labels: &l {stable: 1, again: *l}\n", "config.yaml",
                   &diags);
  EXPECT_THAT(Lines(diags),
              ElementsAre("config.yaml:1:31: error: invalid YAML: alias '*l' "
                          "is inside the node it refers to ('&l' at line 1, "
                          "column 9): a recursive alias (hint: an alias may "
                          "only repeat a node that ends before it; write the "
                          "value out instead)"));

  const std::string bomb = AliasBomb();
  DiagnosticList bomb_diags;
  ParseRepositoryConfig(bomb, "config.yaml", &bomb_diags);
  EXPECT_THAT(Lines(bomb_diags),
              ElementsAre("config.yaml:7:10: error: alias '*a5' expands the "
                          "YAML to more than 1000000 nodes, the limit once "
                          "aliases are expanded (hint: an alias repeats its "
                          "whole anchored node; write the values out, or "
                          "raise the limit with --max-yaml-nodes)"));
}

}  // namespace
}  // namespace healthscore::engine::repository
