// The documentation's console transcripts are tests: every fenced block of
// README.md and docs/*.md preceded by a `doc-transcript` marker is run with
// the freshly built binaries, and what the commands print must be what the
// block shows.
//
// Markers (an HTML comment on the line right before the opening fence):
//
//   <!-- doc-transcript -->
//       Run the block from a scratch copy of the repository root: each
//       top-level entry is a symbolic link to the source tree's, except
//       `build`, which links to this build's directory, so `build/cli/
//       healthscore` and `build/plugins/lib` are what CMake just built. The
//       bare name `healthscore` runs build/cli/healthscore too.
//   <!-- doc-transcript: doc-tests=DIR -->
//       Also write the document's `<!-- doc-test: PATH -->` blocks (see
//       docs_examples_test.cc) to DIR/PATH first, so a tutorial's model can
//       be run where the tutorial tells its reader to put it.
//   <!-- doc-transcript: continued -->
//       Run the block in the scratch copy of the document's previous
//       transcript, after it, so a block can use the files an earlier one
//       made.
//   <!-- doc-file: PATH -->
//       Not a transcript: the block is written to PATH in the scratch copy of
//       every transcript of the same document (an input file the text shows).
//
// Inside a transcript, a line starting with `$ ` is a command (a line ending
// in `\` continues it, as in the shell); the lines after it, up to the next
// command, are what it prints on standard output and standard error
// together. Empty lines before the next command only separate commands. The
// commands of a block run in order in one scratch copy, each with `$?` set to
// the previous command's exit code, so `$ echo $?` shows it.
//
// The comparison is exact, line by line, except where the block says
// otherwise with one of two placeholders:
//   * `…` (U+2026) inside a line stands for any text on that line: elapsed
//     times and rates, content hashes;
//   * a line holding only `…` stands for any number of lines (output the
//     document leaves out);
// and a line ending in `\` is continued by the next one, whose leading spaces
// are not part of the output (long JSON lines wrapped for reading).
//
// Every ```console block must carry a marker, so a transcript cannot escape
// this test by accident. The Python client's output (it needs a live server)
// is compared by tests/foreign_clients.sh, through the
// `<!-- doc-client-output: python -->` marker.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/common/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace healthscore {
namespace {

namespace fs = std::filesystem;

constexpr char kEllipsis[] = "\u2026";

struct Command {
  int line = 0;      // line of the `$ ` in the document
  std::string text;  // without the `$ `
  std::vector<std::string> expected;
};

struct Transcript {
  std::string doc;
  int line = 0;               // line of the opening fence
  std::string doc_tests_dir;  // from `doc-tests=DIR`, or empty
  bool continued = false;     // from `continued`
  std::vector<Command> commands;
};

struct File {
  std::string path;
  std::string text;
};

struct Document {
  std::string name;  // relative to the repository root
  std::vector<Transcript> transcripts;
  std::vector<File> doc_tests;        // `doc-test` blocks
  std::vector<File> doc_files;        // `doc-file` blocks
  std::vector<std::string> problems;  // malformed markers or blocks
};

std::vector<fs::path> Documents() {
  const fs::path root(HEALTHSCORE_SOURCE_DIR);
  std::vector<fs::path> docs = {root / "README.md"};
  for (const auto& e : fs::directory_iterator(root / "docs")) {
    if (e.path().extension() == ".md") docs.push_back(e.path());
  }
  std::sort(docs.begin() + 1, docs.end());
  return docs;
}

// Splits a transcript's lines into commands and their expected output.
void ParseTranscript(const std::vector<std::pair<int, std::string>>& lines,
                     Transcript* t, std::vector<std::string>* problems) {
  Command* current = nullptr;
  bool continues_command = false;
  for (const auto& [number, line] : lines) {
    if (continues_command) {
      current->text += "\n" + line;
      continues_command = absl::EndsWith(line, "\\");
      continue;
    }
    if (absl::StartsWith(line, "$ ")) {
      t->commands.push_back({number, line.substr(2), {}});
      current = &t->commands.back();
      continues_command = absl::EndsWith(line, "\\");
      continue;
    }
    if (current == nullptr) {
      problems->push_back(absl::StrCat(t->doc, ":", number,
                                       ": output before the first `$ ` "
                                       "command of a doc-transcript block"));
      return;
    }
    current->expected.push_back(line);
  }
  for (Command& c : t->commands) {
    while (!c.expected.empty() && c.expected.back().empty()) {
      c.expected.pop_back();
    }
    // Join wrapped lines.
    std::vector<std::string> joined;
    bool continues = false;
    for (const std::string& l : c.expected) {
      std::string piece =
          continues ? std::string(absl::StripLeadingAsciiWhitespace(l)) : l;
      const bool next = absl::EndsWith(piece, "\\");
      if (next) piece.pop_back();
      if (continues) {
        joined.back() += piece;
      } else {
        joined.push_back(piece);
      }
      continues = next;
    }
    c.expected = joined;
  }
  if (t->commands.empty()) {
    problems->push_back(absl::StrCat(t->doc, ":", t->line,
                                     ": a doc-transcript block without a "
                                     "`$ ` command"));
  }
}

Document ReadDocument(const fs::path& path) {
  Document d;
  d.name = fs::relative(path, HEALTHSCORE_SOURCE_DIR).string();
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);

  static const std::regex kMarker(
      R"(^<!-- (doc-[a-z-]+)(?::\s*(.*?))?\s*-->$)");
  for (size_t i = 0; i < lines.size(); ++i) {
    const int number = static_cast<int>(i) + 1;
    std::smatch m;
    const bool console = lines[i] == "```console";
    if (!std::regex_match(lines[i], m, kMarker)) {
      // A console block must be announced by a marker on the line before.
      if (console && (i == 0 || !absl::StartsWith(lines[i - 1], "<!-- doc-"))) {
        d.problems.push_back(absl::StrCat(
            d.name, ":", number,
            ": a ```console block without a doc-transcript marker; every "
            "transcript in the docs is a test (see "
            "tests/docs_transcripts_test.cc)"));
      }
      continue;
    }
    const std::string kind = m[1];
    const std::string arg = m[2];
    if (kind != "doc-transcript" && kind != "doc-file") continue;
    if (i + 1 >= lines.size() || !absl::StartsWith(lines[i + 1], "```")) {
      d.problems.push_back(
          absl::StrCat(d.name, ":", number, ": ", kind,
                       " must be followed directly by a fenced block"));
      continue;
    }
    std::vector<std::pair<int, std::string>> body;
    size_t j = i + 2;
    for (; j < lines.size() && !absl::StartsWith(lines[j], "```"); ++j) {
      body.emplace_back(static_cast<int>(j) + 1, lines[j]);
    }
    if (j == lines.size()) {
      d.problems.push_back(
          absl::StrCat(d.name, ":", number, ": unterminated fenced block"));
      break;
    }
    if (kind == "doc-file") {
      std::string text;
      for (const auto& [n, l] : body) text += l + "\n";
      d.doc_files.push_back({arg, text});
    } else {
      Transcript t;
      t.doc = d.name;
      t.line = number + 1;
      for (absl::string_view option :
           absl::StrSplit(arg, ' ', absl::SkipEmpty())) {
        if (absl::ConsumePrefix(&option, "doc-tests=")) {
          t.doc_tests_dir = std::string(option);
        } else if (option == "continued") {
          t.continued = true;
          if (d.transcripts.empty()) {
            d.problems.push_back(absl::StrCat(
                d.name, ":", number,
                ": `continued` on the document's first transcript"));
          }
        } else {
          d.problems.push_back(absl::StrCat(d.name, ":", number,
                                            ": unknown doc-transcript option '",
                                            option, "'"));
        }
      }
      ParseTranscript(body, &t, &d.problems);
      d.transcripts.push_back(std::move(t));
    }
    i = j;
  }

  // The doc-test blocks, read as docs_examples_test.cc reads them.
  static const std::regex kDocTest(R"(^<!-- doc-test: (\S+) -->$)");
  std::string pending;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (std::regex_match(lines[i], m, kDocTest)) {
      pending = m[1];
    } else if (!pending.empty() && absl::StartsWith(lines[i], "```")) {
      std::string text;
      for (++i; i < lines.size() && !absl::StartsWith(lines[i], "```"); ++i) {
        text += lines[i] + "\n";
      }
      d.doc_tests.push_back({pending, text});
      pending.clear();
    }
  }
  return d;
}

// Does `actual` match `expected`, where `…` stands for any text?
bool LineMatches(const std::string& expected, const std::string& actual) {
  const std::vector<std::string> pieces = absl::StrSplit(expected, kEllipsis);
  if (pieces.size() == 1) return expected == actual;
  if (!absl::StartsWith(actual, pieces.front()) ||
      !absl::EndsWith(actual, pieces.back()) ||
      actual.size() < pieces.front().size() + pieces.back().size()) {
    return false;
  }
  // Leftmost matching of each middle piece is optimal for `*`-only globs.
  size_t at = pieces.front().size();
  const size_t end = actual.size() - pieces.back().size();
  for (size_t p = 1; p + 1 < pieces.size(); ++p) {
    const size_t found = actual.find(pieces[p], at);
    if (found == std::string::npos || found + pieces[p].size() > end) {
      return false;
    }
    at = found + pieces[p].size();
  }
  return true;
}

// Does `actual` match `expected` line by line, where a line `…` stands for
// any number of lines?
bool LinesMatch(const std::vector<std::string>& expected, size_t e,
                const std::vector<std::string>& actual, size_t a) {
  if (e == expected.size()) return a == actual.size();
  if (expected[e] == kEllipsis) {
    for (size_t skip = a; skip <= actual.size(); ++skip) {
      if (LinesMatch(expected, e + 1, actual, skip)) return true;
    }
    return false;
  }
  return a < actual.size() && LineMatches(expected[e], actual[a]) &&
         LinesMatch(expected, e + 1, actual, a + 1);
}

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// Replaces every symbolic link on the way from `root` to `path`'s directory
// by a copy of what it points to, so a file can be written there without
// touching the source tree.
void Materialise(const fs::path& root, const fs::path& relative) {
  fs::path at = root;
  for (const fs::path& part : relative.parent_path()) {
    at /= part;
    if (fs::is_symlink(at)) {
      const fs::path target = fs::read_symlink(at);
      fs::remove(at);
      fs::copy(target, at, fs::copy_options::recursive);
    }
  }
}

// A scratch copy of the repository root for one transcript.
fs::path ScratchCopy(const Document& d, const Transcript& t, int index) {
  const fs::path root = ::healthscore::engine::common::testing::ScratchDir(
      absl::StrCat("transcript_", index));
  for (const auto& e : fs::directory_iterator(HEALTHSCORE_SOURCE_DIR)) {
    const std::string name = e.path().filename().string();
    if (name == "build" || name[0] == '.') continue;
    fs::create_directory_symlink(e.path(), root / name);
  }
  fs::create_directory_symlink(HEALTHSCORE_BINARY_DIR, root / "build");
  std::vector<File> files = d.doc_files;
  if (!t.doc_tests_dir.empty()) {
    for (const File& f : d.doc_tests) {
      files.push_back({t.doc_tests_dir + "/" + f.path, f.text});
    }
  }
  for (const File& f : files) {
    EXPECT_EQ(f.path.find(".."), std::string::npos) << f.path;
    Materialise(root, f.path);
    WriteFile(root / f.path, f.text);
  }
  return root;
}

// Runs one command in `cwd` with `$?` preset, returning its exit code and
// what it printed on standard output and standard error.
int RunCommand(const fs::path& cwd, const std::string& command, int previous,
               std::string* output) {
  const fs::path script = cwd.string() + ".sh";
  WriteFile(script,
            absl::StrCat("cd '", cwd.string(), "' || exit 99\n", "PATH='",
                         cwd.string(), "/build/cli':\"$PATH\"\n",
                         "LC_ALL=C; export LC_ALL\n", "(exit ", previous, ")\n",
                         command, "\n"));
  const std::string shell =
      absl::StrCat("/bin/sh '", script.string(), "' </dev/null 2>&1");
  FILE* pipe = popen(shell.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  output->clear();
  while (size_t n = fread(buf, 1, sizeof(buf), pipe)) output->append(buf, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<Document> AllDocuments() {
  std::vector<Document> docs;
  for (const fs::path& p : Documents()) docs.push_back(ReadDocument(p));
  return docs;
}

TEST(DocsTranscriptsTest, MarkersAreWellFormedAndEveryConsoleBlockIsMarked) {
  size_t transcripts = 0;
  for (const Document& d : AllDocuments()) {
    for (const std::string& p : d.problems) ADD_FAILURE() << p;
    transcripts += d.transcripts.size();
  }
  // The README's tour and the command-line reference at least.
  EXPECT_GE(transcripts, 8u);
}

TEST(DocsTranscriptsTest, EveryTranscriptPrintsWhatTheDocsShow) {
  int index = 0;
  for (const Document& d : AllDocuments()) {
    fs::path cwd;
    for (const Transcript& t : d.transcripts) {
      SCOPED_TRACE(absl::StrCat(t.doc, ":", t.line));
      if (!t.continued) {
        if (!cwd.empty()) fs::remove_all(cwd);
        cwd = ScratchCopy(d, t, ++index);
      }
      int previous = 0;
      for (const Command& c : t.commands) {
        std::string out;
        previous = RunCommand(cwd, c.text, previous, &out);
        std::vector<std::string> actual = absl::StrSplit(out, '\n');
        if (!actual.empty() && actual.back().empty()) actual.pop_back();
        EXPECT_TRUE(LinesMatch(c.expected, 0, actual, 0))
            << t.doc << ":" << c.line << ": `$ " << c.text
            << "` printed something else than the document shows.\n"
            << "--- the document shows:\n"
            << absl::StrJoin(c.expected, "\n") << "\n--- the command printed:\n"
            << out << "--- (`…` stands for any text; see "
            << "tests/docs_transcripts_test.cc)";
      }
      fs::remove(cwd.string() + ".sh");
    }
    if (!cwd.empty()) fs::remove_all(cwd);
  }
}

// The placeholders mean what the header says, and nothing looser.
TEST(DocsTranscriptsTest, PlaceholdersMatchOnlyWhatTheySay) {
  EXPECT_TRUE(LineMatches("a b", "a b"));
  EXPECT_FALSE(LineMatches("a b", "a  b"));
  EXPECT_FALSE(LineMatches("a b", "a b "));
  EXPECT_TRUE(LineMatches("7 accounts in … s (… accounts/s)",
                          "7 accounts in 0.00 s (23,545 accounts/s)"));
  EXPECT_FALSE(LineMatches("7 accounts in … s (… accounts/s)",
                           "8 accounts in 0.00 s (23,545 accounts/s)"));
  EXPECT_TRUE(LineMatches("x…", "x"));
  EXPECT_FALSE(LineMatches("ab…ba", "aba"));
  EXPECT_TRUE(LinesMatch({"a", "\u2026", "z"}, 0, {"a", "z"}, 0));
  EXPECT_TRUE(LinesMatch({"a", "\u2026", "z"}, 0, {"a", "b", "c", "z"}, 0));
  EXPECT_FALSE(LinesMatch({"a", "\u2026", "z"}, 0, {"a", "b", "z", "y"}, 0));
  EXPECT_FALSE(LinesMatch({"a"}, 0, {"a", ""}, 0));
}

}  // namespace
}  // namespace healthscore
