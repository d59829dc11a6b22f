// The smallest valid model, for tests that need a model only around the one
// thing they exercise: one number input `x`, one group `g` with one signal
// `s` (x, linear from 0 to 1), tiers green (from 50) and red (from 0).
//
// Test-only (engine/*/testing/ is for tests, fuzzers and benchmarks).

#ifndef HEALTHSCORE_ENGINE_MODEL_TESTING_MINIMAL_MODEL_H_
#define HEALTHSCORE_ENGINE_MODEL_TESTING_MINIMAL_MODEL_H_

#include <string>
#include <string_view>

namespace healthscore::engine::model::testing {

// The model's YAML text, named `name`, with `derived` (list items, each
// line ending in a newline) under a `derived:` key before the groups, and
// `playbooks` (likewise) under a `playbooks:` key at the end; either key is
// left out when its items are empty.
//
// Tests assert file:line:col positions, so the layout is part of the
// contract: line 1 is `name:`, 2 `version: 1`, 3 `inputs:`, 4 the input x.
// With no derived items, `groups:` is line 5, `tiers:` line 10 (green 11,
// red 12), `playbooks:` line 13 and the playbook items start on line 14.
// Derived items: `derived:` is line 5, the items start on line 6, and every
// later line moves down by 1 + their line count.
inline std::string MinimalModel(std::string_view name,
                                std::string_view derived = "",
                                std::string_view playbooks = "") {
  std::string text = "name: ";
  text.append(name);
  text.append("\nversion: 1\ninputs:\n  - {id: x, type: number}\n");
  if (!derived.empty()) {
    text.append("derived:\n");
    text.append(derived);
  }
  text.append(R"(groups:
  - id: g
    weight: 1
    signals:
      - {id: s, source: x, weight: 1, normalize: {linear: {bad: 0, good: 1}}}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0}
)");
  if (!playbooks.empty()) {
    text.append("playbooks:\n");
    text.append(playbooks);
  }
  return text;
}

}  // namespace healthscore::engine::model::testing

#endif  // HEALTHSCORE_ENGINE_MODEL_TESTING_MINIMAL_MODEL_H_
