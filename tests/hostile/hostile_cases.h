// The hostile inputs of the hostile suite (tests/hostile/): model files and
// account files an attacker or a careless operator could send, generated at
// test time so that the repository holds no large files. Each case is a
// class of attack, not one reproduction: the suite runs every case through
// every entry point (CLI validate/lint/score, the server's ValidateModel,
// reloads and start-up) and asserts only what must hold for all of them: no
// process dies, every call answers within its deadline, good work goes on.
// Test code only.

#ifndef HEALTHSCORE_TESTS_HOSTILE_HOSTILE_CASES_H_
#define HEALTHSCORE_TESTS_HOSTILE_HOSTILE_CASES_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace healthscore::hostile {

struct HostileModel {
  std::string name;  // also usable as a model directory name
  std::string yaml;
};

// A valid model named `name` with one number input `x`; `plugins`,
// `derived` and `playbooks` are inserted as whole YAML blocks (empty for
// none) and `extra` is appended at the top level.
inline std::string Model(const std::string& name, const std::string& plugins,
                         const std::string& derived,
                         const std::string& playbooks,
                         const std::string& extra = "") {
  return absl::StrCat(
      "name: ", name, "\nversion: 1\n", plugins,
      "inputs:\n  - id: x\n    type: number\n    range: [0, 10]\n", derived,
      "groups:\n  - id: g\n    weight: 1\n    signals:\n      - id: s\n"
      "        source: x\n        weight: 1\n        normalize:\n"
      "          linear: {bad: 0, good: 10}\n",
      "tiers:\n  - id: good\n    min: 50\n  - id: bad\n    min: 0\n"
      "    max: 50\n",
      playbooks, extra);
}

inline std::string Repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * n);
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// `first SEP first SEP ... first` with n terms.
inline std::string Chain(const std::string& term, const std::string& sep,
                         int n) {
  std::string out = term;
  out.reserve((term.size() + sep.size()) * n);
  for (int i = 1; i < n; ++i) absl::StrAppend(&out, sep, term);
  return out;
}

// A "billion laughs" flow mapping for a settings block (plugin `config:` or
// `params:`, which take nested mappings): `levels` anchored mappings, each
// with `width` aliases to the one before. About 700 bytes for 9x9, which
// expands to 9^9 (387 million) settings.
inline std::string AliasBomb(int levels, int width) {
  std::string out = "{l0: &a0 {";
  for (int j = 0; j < width; ++j) absl::StrAppend(&out, j ? ", " : "", "k", j, ": 1");
  out += "}";
  for (int i = 1; i < levels; ++i) {
    absl::StrAppend(&out, ", l", i, ": &a", i, " {");
    for (int j = 0; j < width; ++j) {
      absl::StrAppend(&out, j ? ", " : "", "k", j, ": *a", i - 1);
    }
    out += "}";
  }
  return out + "}";
}

inline std::string Playbook(const std::string& when) {
  return absl::StrCat(
      "playbooks:\n  - id: pb\n    name: Pb\n    owner: csm\n"
      "    priority: 1\n    when: '",
      when, "'\n");
}

inline std::string Derived(const std::string& expr) {
  return absl::StrCat("derived:\n  - id: d\n    expr: '", expr, "'\n");
}

// Names the case in test output instead of dumping its bytes.
inline void PrintTo(const HostileModel& c, std::ostream* os) { *os << c.name; }

// Every hostile model of the suite. Each is at most a few MB (the server's
// default model size cap is larger than all but `oversized`).
inline std::vector<HostileModel> HostileModels() {
  std::vector<HostileModel> m;
  const std::string nps = "plugins:\n  - id: p\n    library: nps\n";
  // Self-referencing aliases: a walk over the node graph never ends.
  m.push_back({"recursive_alias_config",
               Model("recursive_alias_config",
                     nps + "    config: &c {k: *c}\n", "", "")});
  m.push_back({"recursive_alias_params",
               Model("recursive_alias_params", nps,
                     "derived:\n  - id: d\n    plugin: p\n    signal: nps\n"
                     "    inputs: [x]\n    params: &c {k: [1, *c]}\n",
                     "")});
  m.push_back({"recursive_alias_sequence",
               Model("recursive_alias_sequence", "", "", "",
                     "extra: &s [1, [2, *s]]\n")});
  m.push_back({"recursive_merge_key",
               Model("recursive_merge_key", "", "", "",
                     "extra: &m {a: 1, <<: *m}\n")});
  // Exponential expansion, in a plugin config and anywhere else.
  m.push_back({"alias_bomb_config",
               Model("alias_bomb_config",
                     nps + "    config: " + AliasBomb(9, 9) + "\n", "", "")});
  m.push_back({"alias_bomb_params",
               Model("alias_bomb_params", nps,
                     "derived:\n  - id: d\n    plugin: p\n    signal: nps\n"
                     "    inputs: [x]\n    params: " +
                         AliasBomb(9, 9) + "\n",
                     "")});
  m.push_back({"alias_bomb_deep",
               Model("alias_bomb_deep",
                     nps + "    config: " + AliasBomb(30, 2) + "\n", "", "")});
  // Long flat expressions: every pass over the syntax tree recurses.
  m.push_back({"long_plus_chain",
               Model("long_plus_chain", "", Derived(Chain("x", " + ", 9000)),
                     "")});
  m.push_back({"long_and_chain",
               Model("long_and_chain", "", "",
                     Playbook(Chain("x > 1", " && ", 100000)))});
  m.push_back({"long_or_chain_of_calls",
               Model("long_or_chain_of_calls", "", "",
                     Playbook(Chain("abs(x) > 1", " || ", 30000)))});
  m.push_back({"deep_parentheses",
               Model("deep_parentheses", "",
                     Derived(Repeat("(", 100000) + "x" +
                             Repeat(")", 100000)),
                     "")});
  m.push_back({"deep_unary",
               Model("deep_unary", "", Derived(Repeat("-", 100000) + "x"),
                     "")});
  m.push_back({"deep_not",
               Model("deep_not", "", "",
                     Playbook(Repeat("!", 100000) + "(x > 1)"))});
  std::string ternary;
  for (int i = 0; i < 20000; ++i) {
    absl::StrAppend(&ternary, "x > ", i, " ? ", i, " : ");
  }
  ternary += "0";
  m.push_back({"long_ternary_chain",
               Model("long_ternary_chain", "", Derived(ternary), "")});
  m.push_back({"deep_calls",
               Model("deep_calls", "",
                     Derived(Repeat("abs(", 50000) + "x" +
                             Repeat(")", 50000)),
                     "")});
  m.push_back({"huge_in_list",
               Model("huge_in_list", "", "",
                     Playbook("x in [" + Chain("1", ", ", 200000) + "]"))});
  // Deep YAML nesting, flow and block.
  m.push_back({"deep_flow_sequence",
               Model("deep_flow_sequence", "", "", "",
                     "extra: " + Repeat("[", 100000) + Repeat("]", 100000) +
                         "\n")});
  m.push_back({"deep_flow_mapping",
               Model("deep_flow_mapping",
                     nps + "    config: " + Repeat("{a: ", 50000) + "1" +
                         Repeat("}", 50000) + "\n",
                     "", "")});
  std::string block;
  for (int i = 0; i < 3000; ++i) {
    absl::StrAppend(&block, std::string(2 * i, ' '), "k:\n");
  }
  m.push_back({"deep_block_mapping",
               Model("deep_block_mapping", "", "", "", "extra:\n" + block)});
  // Many keys in one mapping: duplicate detection must be linear (checking
  // each key against every earlier one takes minutes here).
  std::string keys;
  for (int i = 0; i < 400000; ++i) absl::StrAppend(&keys, i ? ", " : "", i, ": 1");
  m.push_back({"many_config_keys",
               Model("many_config_keys", nps + "    config: {" + keys + "}\n",
                     "", "")});
  // Many declarations: everything that checks names must stay linear.
  std::string inputs = "inputs:\n";
  for (int i = 0; i < 40000; ++i) {
    absl::StrAppend(&inputs, "  - id: in", i, "\n    type: number\n");
  }
  m.push_back({"many_inputs",
               absl::StrReplaceAll(Model("many_inputs", "", "", ""),
                                   {{"inputs:\n", inputs}})});
  std::string playbooks = "playbooks:\n";
  for (int i = 0; i < 20000; ++i) {
    absl::StrAppend(&playbooks, "  - {id: pb", i, ", name: P, owner: o, ",
                    "priority: ", i, ", when: 'x > ", i % 10, "'}\n");
  }
  m.push_back({"many_playbooks",
               Model("many_playbooks", "", "", playbooks)});
  // Plugins that cannot be what they claim.
  m.push_back({"empty_library",
               Model("empty_library", "plugins:\n  - id: p\n    library: ''\n",
                     "", "")});
  m.push_back({"library_path_escape",
               Model("library_path_escape",
                     "plugins:\n  - id: p\n    library: ../../../../etc/passwd\n",
                     "", "")});
  // Broken bytes.
  const std::string good = Model("truncated", "", "", "");
  m.push_back({"truncated", good.substr(0, good.size() / 2) + "  - id: [\n"});
  m.push_back({"nul_bytes", Model("nul_bytes", "", "", "") +
                                std::string("extra: \"a\0b\"\n", 13) +
                                std::string(100, '\0')});
  m.push_back({"invalid_utf8",
               Model("invalid_utf8", "", "", "",
                     "extra: \"\xff\xfe\xc3\x28\xa0\xa1\"\n")});
  m.push_back({"huge_key",
               Model("huge_key", "", "", "", Repeat("k", 1 << 20) + ": 1\n")});
  m.push_back({"huge_scalar",
               Model("huge_scalar", "", "", "",
                     "extra: \"" + Repeat("ab", 1 << 20) + "\"\n")});
  m.push_back({"custom_tags",
               Model("custom_tags", "", "", "",
                     "extra: !!binary aGVsbG8=\nmore: !evil {a: !!python/object "
                     "x}\n")});
  m.push_back({"many_documents",
               Repeat("---\n" + Model("many_documents", "", "", ""), 200)});
  return m;
}

// A model file over any sensible size cap (tens of MB), to be sent whole.
inline std::string OversizedModel(size_t bytes) {
  std::string text = Model("oversized", "", "", "");
  text.reserve(bytes + 64);
  while (text.size() < bytes) text += "# padding padding padding padding\n";
  return text;
}

}  // namespace healthscore::hostile

#endif  // HEALTHSCORE_TESTS_HOSTILE_HOSTILE_CASES_H_
