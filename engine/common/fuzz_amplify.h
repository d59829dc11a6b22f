// Fuzzing support (fuzz targets only): turns short fuzz inputs into the
// long or deep texts where recursive passes and alias expansion do their
// worst, which libFuzzer rarely reaches by mutation within its length
// limit. Header-only.
//
// Amplify: the first byte gives a count k = 1 + 2 * byte (1..511); the rest,
// split at '@' as OPEN@CORE@CLOSE, becomes OPEN x k, CORE, CLOSE x k;
// without two '@' the rest is repeated k times. E.g. "\x80(@x@)" is x in 257
// parentheses, "\x7fx + @x@" a chain of 255 '+'.
//
// FuzzModelText: a model file built from the input. A first byte of 0x01
// puts the amplified rest into a derived expression of a valid model, 0x02
// into a playbook condition, 0x03 into a plugin's `config:` (after an anchor
// `&a [1, 2]`, so `*a` repeated k times fans an alias out and nested
// brackets go deep); any other input is the model file itself.

#ifndef HEALTHSCORE_ENGINE_COMMON_FUZZ_AMPLIFY_H_
#define HEALTHSCORE_ENGINE_COMMON_FUZZ_AMPLIFY_H_

#include <string>
#include <string_view>

namespace healthscore::engine::common {

inline std::string Repeat(std::string_view s, int times) {
  std::string out;
  out.reserve(s.size() * times);
  for (int i = 0; i < times; ++i) out.append(s);
  return out;
}

// REQUIRES: !data.empty().
inline std::string Amplify(std::string_view data) {
  const int k = 1 + 2 * static_cast<unsigned char>(data[0]);
  std::string_view rest = data.substr(1);
  const size_t first = rest.find('@');
  const size_t second =
      first == std::string_view::npos ? first : rest.find('@', first + 1);
  if (second == std::string_view::npos) return Repeat(rest, k);
  return Repeat(rest.substr(0, first), k) +
         std::string(rest.substr(first + 1, second - first - 1)) +
         Repeat(rest.substr(second + 1), k);
}

inline std::string FuzzModelText(std::string_view data) {
  if (data.size() < 2 || data[0] < 1 || data[0] > 3) return std::string(data);
  const char mode = data[0];
  const std::string amplified = Amplify(data.substr(1));
  std::string plugins, derived, playbooks;
  if (mode == 3) {
    plugins = "plugins:\n  - id: p\n    library: nps\n    config: {a: &a [1, 2], b: " +
              amplified + "}\n";
  } else if (mode == 1) {
    derived = "derived:\n  - id: d\n    expr: \"" + amplified + "\"\n";
  } else {
    playbooks =
        "playbooks:\n  - id: pb\n    name: P\n    owner: o\n    priority: 1\n"
        "    when: \"" + amplified + "\"\n";
  }
  return "name: fuzz\nversion: 1\n" + plugins +
         "inputs:\n  - {id: x, type: number, range: [0, 10]}\n"
         "  - {id: plan, type: string, values: [a, b]}\n"
         "  - {id: s, type: series}\n" +
         derived +
         "groups:\n  - id: g\n    weight: 1\n    signals:\n"
         "      - {id: sx, source: x, weight: 1, normalize: {linear: {bad: 0, "
         "good: 10}}}\n"
         "tiers:\n  - {id: good, min: 50}\n  - {id: bad, min: 0, max: 50}\n" +
         playbooks;
}

}  // namespace healthscore::engine::common

#endif  // HEALTHSCORE_ENGINE_COMMON_FUZZ_AMPLIFY_H_
