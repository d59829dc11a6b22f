#!/usr/bin/env python3
"""Checks that every #include follows the layers declared in LAYERS.

Scans each C and C++ file under engine/, plugins/, server/, cli/, python/,
bench/ and tests/ for #include lines, resolves each to a file of the repository (the
include paths are the repository root and plugins/sdk; headers generated from
proto/ count as proto/<path>) or to an outside library, and prints one line
per include the rules do not allow:

  engine/eval/x.h:12: engine/eval/x.h includes server/y.h, which engine/eval
  may not include (allowed: engine/common, engine/expr, ...)

Exit status: 0 when the tree follows the rules, 1 on a violation, 2 when
the rules file itself is wrong. The rules file format is described at the
top of LAYERS; docs/architecture.md shows the layers.

  scripts/check_layers.py [--root DIR] [--rules FILE]
  scripts/check_layers.py --self-test [--root DIR]

--self-test first proves the checker on small planted trees (a violation must
fail with the message above, a clean tree must pass), then checks --root.
Python 3 standard library only.
"""

import argparse
import fnmatch
import os
import re
import sys
import tempfile

SCANNED_ROOTS = ("engine", "plugins", "server", "cli", "python", "bench",
                 "tests")
SOURCE_SUFFIXES = (".h", ".hpp", ".hh", ".inc", ".c", ".cc", ".cpp")
# Directories searched for "..." includes after the including file's own
# directory, as the build passes them with -I.
INCLUDE_DIRS = ("", "plugins/sdk")
# Sources of generated headers: healthscore/v1/x.pb.h comes from
# proto/healthscore/v1/x.proto.
PROTO_DIR = "proto"
GENERATED_SUFFIXES = (".grpc.pb.h", ".pb.h")
TEST_FILE = re.compile(r"_(test|fuzzer|benchmark)\.(cc|cpp|c)$")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')


class RulesError(Exception):
  pass


class Section:
  """One [folder] or [folder files] block of the rules file."""

  def __init__(self, pattern, file_glob, line):
    self.parts = tuple(p for p in pattern.split("/") if p)
    self.file_glob = file_glob
    self.line = line
    self.rules = []  # (allow: bool, path parts, line)

  def matches_folder(self, dir_parts):
    """The concrete folder this section names for dir_parts, or None."""
    if len(self.parts) > len(dir_parts):
      return None
    for want, have in zip(self.parts, dir_parts):
      if want != "*" and want != have:
        return None
    return dir_parts[:len(self.parts)]

  def specificity(self):
    return (len(self.parts), sum(p != "*" for p in self.parts))


def parse_rules(path):
  sections = []
  current = None
  with open(path, encoding="utf-8") as f:
    for number, raw in enumerate(f, 1):
      line = raw.split("#", 1)[0].strip()
      if not line:
        continue
      where = f"{path}:{number}"
      if line.startswith("["):
        if not line.endswith("]"):
          raise RulesError(f"{where}: a section is [folder] or [folder files]")
        fields = line[1:-1].split()
        if len(fields) not in (1, 2):
          raise RulesError(f"{where}: a section is [folder] or [folder files]")
        current = Section(fields[0], fields[1] if len(fields) == 2 else None,
                          where)
        sections.append(current)
      elif line[0] in "+-":
        if current is None:
          raise RulesError(f"{where}: rule before the first [folder]")
        target = line[1:].strip()
        if not target or " " in target:
          raise RulesError(f"{where}: a rule is +path or -path")
        current.rules.append(
            (line[0] == "+", tuple(p for p in target.split("/") if p), where))
      else:
        raise RulesError(
            f"{where}: expected [folder], +path or -path, got {line!r}")
  return sections


def check_rules_name_real_paths(sections, root):
  """A rule for a path that no longer exists hides a stale layer."""
  problems = []
  for s in sections:
    concrete = [p for p in s.parts if p != "*"]
    if "*" not in s.parts and not os.path.isdir(os.path.join(root, *concrete)):
      problems.append(f"{s.line}: section folder {'/'.join(s.parts)} "
                      "does not exist")
    for allow, parts, where in s.rules:
      # Outside libraries (-grpcpp) need not exist in the tree; a +path must.
      if allow and not os.path.exists(os.path.join(root, *parts)):
        problems.append(f"{where}: +{'/'.join(parts)} does not exist")
  return problems


def is_under(parts, prefix):
  return len(parts) >= len(prefix) and tuple(parts[:len(prefix)]) == prefix


def effective_rules(sections, rel_path):
  """(self folder, rules) for a file, or (None, None) if no section covers it.

  The most specific [folder] section that contains the file governs it; its
  file may include anything in that folder. Its rules add to those of every
  less specific section that also contains the file, and [folder files]
  sections whose glob matches the file's name add theirs.
  """
  parts = tuple(rel_path.split("/"))
  dir_parts, name = parts[:-1], parts[-1]
  folder_sections = [(s, s.matches_folder(dir_parts)) for s in sections
                     if s.file_glob is None]
  folder_sections = [(s, f) for s, f in folder_sections if f is not None]
  if not folder_sections:
    return None, None
  folder_sections.sort(key=lambda sf: sf[0].specificity())
  governing, self_folder = folder_sections[-1]
  rules = [(True, self_folder, governing.line + " (own folder)")]
  for s, _ in folder_sections:
    if len(s.parts) < len(governing.parts) or s is governing:
      rules.extend(s.rules)
  for s in sections:
    if (s.file_glob is not None and s.matches_folder(dir_parts) is not None
        and fnmatch.fnmatchcase(name, s.file_glob)):
      rules.extend(s.rules)
  return self_folder, rules


def resolve(root, including_dir, text):
  """(parts, in_repo) for an included name."""
  candidates = [os.path.join(including_dir, text)]
  candidates += [os.path.join(d, text) for d in INCLUDE_DIRS]
  for c in candidates:
    c = os.path.normpath(c)
    if not c.startswith("..") and os.path.isfile(os.path.join(root, c)):
      return tuple(c.split(os.sep)), True
  for suffix in GENERATED_SUFFIXES:
    if text.endswith(suffix):
      proto = os.path.join(PROTO_DIR, text[:-len(suffix)] + ".proto")
      if os.path.isfile(os.path.join(root, proto)):
        return tuple(os.path.join(PROTO_DIR, text).split(os.sep)), True
      break
  return tuple(text.split("/")), False


def is_test_code(parts):
  return (TEST_FILE.search(parts[-1]) is not None or "testing" in parts[:-1]
          or parts[0] in ("tests", "bench"))


def judge(rules, target, in_repo):
  """The rule that decides target: the longest matching path; None if none.

  Between rules of the same length the later one wins: rules are listed
  from the least specific section to the most specific, so a subfolder can
  take back what its parent allows.
  """
  best = None
  for allow, parts, where in rules:
    if is_under(target, parts) and (best is None or
                                    len(parts) >= len(best[1])):
      best = (allow, parts, where)
  if best is None:
    # In the repository only what a rule allows; outside it (the standard
    # library, absl, gtest...) all that no rule forbids.
    return (not in_repo), None
  return best[0], best


def source_files(root):
  for top in SCANNED_ROOTS:
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
      dirnames[:] = sorted(d for d in dirnames if d != "testdata")
      for name in sorted(filenames):
        if name.endswith(SOURCE_SUFFIXES):
          full = os.path.join(dirpath, name)
          yield os.path.relpath(full, root).replace(os.sep, "/")


def describe_allowed(rules):
  allowed = sorted({"/".join(p) for allow, p, _ in rules if allow})
  return ", ".join(allowed) if allowed else "nothing in the repository"


def check_tree(root, rules_path):
  """Returns the list of violation lines (empty when the tree is clean)."""
  sections = parse_rules(rules_path)
  problems = check_rules_name_real_paths(sections, root)
  for rel in source_files(root):
    self_folder, rules = effective_rules(sections, rel)
    if rules is None:
      problems.append(f"{rel}:1: no section of {os.path.basename(rules_path)} "
                      f"covers {os.path.dirname(rel)}; add one")
      continue
    folder = "/".join(self_folder)
    file_parts = tuple(rel.split("/"))
    with open(os.path.join(root, rel), encoding="utf-8",
              errors="replace") as f:
      for number, line in enumerate(f, 1):
        m = INCLUDE.match(line)
        if m is None:
          continue
        target, in_repo = resolve(root, os.path.dirname(rel), m.group(2))
        shown = "/".join(target)
        where = f"{rel}:{number}: {rel} includes {shown}"
        if in_repo and target == file_parts:
          continue
        allowed, rule = judge(rules, target, in_repo)
        if not allowed:
          why = f" (by {rule[2]})" if rule is not None else ""
          problems.append(f"{where}, which {folder} may not include{why} "
                          f"(allowed: {describe_allowed(rules)})")
          continue
        if not in_repo:
          continue
        # internal/: only the folder above it. An explicit +rule naming a
        # path inside an internal/ folder is a declared exception.
        if "internal" in target[:-1]:
          owner = target[:target.index("internal")]
          explicit = rule is not None and "internal" in rule[1]
          if not is_under(file_parts, owner) and not explicit:
            problems.append(f"{where}, which is internal to "
                            f"{'/'.join(owner)}; only files under "
                            f"{'/'.join(owner)} may include it")
            continue
        # testing/: test helpers, only for tests, fuzzers and benchmarks.
        if "testing" in target[:-1] and not is_test_code(file_parts):
          problems.append(f"{where}, a test helper; only tests (*_test.cc), "
                          "fuzzers, benchmarks and other testing/ files may "
                          "include it")
  return problems


# --- Self-test ---------------------------------------------------------------

SELF_TEST_RULES = """\
[engine/common]
-grpcpp
[engine/eval]
+engine/common
[server]
+engine
+proto
[server/client]
-engine
"""

SELF_TEST_CASES = [
    # (name, {path: text}, expected line starts[, rules]): [] means the tree
    # is clean; {rules} stands for the fixture's rules file, which is
    # SELF_TEST_RULES unless the case gives its own. Every fixture has the
    # folders SELF_TEST_RULES names.
    ("clean tree", {
        "engine/common/a.h": '#include "absl/status/status.h"\n',
        "engine/eval/x.h": '#include "engine/common/a.h"\n#include <vector>\n',
        "engine/eval/internal/p.h": '#include "engine/common/a.h"\n',
        "engine/eval/x.cc": '#include "engine/eval/internal/p.h"\n',
        "engine/eval/testing/h.h": '#include "engine/eval/x.h"\n',
        "engine/eval/x_test.cc": '#include "engine/eval/testing/h.h"\n',
        "server/y.h": '#include "engine/eval/x.h"\n',
    }, []),
    ("engine includes server", {
        "engine/common/a.h": "",
        "engine/eval/x.h": '\n#include "server/y.h"\n',
        "server/y.h": "",
    }, ["engine/eval/x.h:2: engine/eval/x.h includes server/y.h, which "
        "engine/eval may not include (allowed: engine/common, engine/eval)"]),
    ("upward include in a lower layer", {
        "engine/common/a.h": '#include "engine/eval/x.h"\n',
        "engine/eval/x.h": "",
        "server/y.h": "",
    }, ["engine/common/a.h:1: engine/common/a.h includes engine/eval/x.h, "
        "which engine/common may not include"]),
    ("forbidden outside library", {
        "engine/common/a.h": '#include <grpcpp/grpcpp.h>\n',
        "engine/eval/x.h": "",
        "server/y.h": "",
    }, ["engine/common/a.h:1: engine/common/a.h includes grpcpp/grpcpp.h, "
        "which engine/common may not include (by "]),
    ("engine includes a generated proto header", {
        "engine/common/a.h": "",
        "engine/eval/x.cc": '#include "healthscore/v1/s.grpc.pb.h"\n',
        "proto/healthscore/v1/s.proto": "",
        "server/y.h": '#include "healthscore/v1/s.pb.h"\n',
    }, ["engine/eval/x.cc:1: engine/eval/x.cc includes "
        "proto/healthscore/v1/s.grpc.pb.h, which engine/eval may not "
        "include (allowed: engine/common, engine/eval)"]),
    ("a subfolder takes back what its parent allows", {
        "engine/common/a.h": "",
        "engine/eval/x.h": "",
        "server/y.h": '#include "engine/eval/x.h"\n',
        "server/client/c.cc": '#include "engine/eval/x.h"\n',
    }, ["server/client/c.cc:1: server/client/c.cc includes engine/eval/x.h, "
        "which server/client may not include (by "]),
    ("another folder's internal/", {
        "engine/common/a.h": "",
        "engine/eval/internal/p.h": "",
        "server/y.h": '#include "engine/eval/internal/p.h"\n',
    }, ["server/y.h:1: server/y.h includes engine/eval/internal/p.h, which "
        "is internal to engine/eval"]),
    ("test helper in production code", {
        "engine/common/a.h": "",
        "engine/eval/testing/h.h": "",
        "engine/eval/x.cc": '#include "engine/eval/testing/h.h"\n',
        "server/y.h": "",
    }, ["engine/eval/x.cc:1: engine/eval/x.cc includes "
        "engine/eval/testing/h.h, a test helper"]),
    ("folder without a section", {
        "engine/common/a.h": "",
        "engine/eval/x.h": "",
        "server/y.h": "",
        "cli/main.cc": "",
    }, ["cli/main.cc:1: no section of LAYERS covers cli; add one"]),
    ("rules for folders that are gone", {
        "engine/eval/x.h": "",
    }, ["{rules}:2: section folder gone does not exist",
        "{rules}:3: +engine/removed does not exist"],
     "[engine/eval]\n[gone]\n+engine/removed\n"),
]


def self_test():
  failures = []
  for name, files, expected, *own_rules in SELF_TEST_CASES:
    with tempfile.TemporaryDirectory() as root:
      for folder in ("proto", "server/client"):
        os.makedirs(os.path.join(root, folder))
      for rel, text in files.items():
        os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w", encoding="utf-8") as f:
          f.write(text)
      rules = os.path.join(root, "LAYERS")
      with open(rules, "w", encoding="utf-8") as f:
        f.write(own_rules[0] if own_rules else SELF_TEST_RULES)
      got = check_tree(root, rules)
      if not expected and got:
        failures.append(f"{name}: expected no violation, got {got}")
      elif expected and len(got) != len(expected):
        failures.append(f"{name}: expected {len(expected)} violation(s), "
                        f"got {got}")
      else:
        for want, line in zip(expected, got):
          want = want.replace("{rules}", rules)
          if not line.startswith(want):
            failures.append(f"{name}: expected a line starting {want!r}, "
                            f"got {line!r}")
  # A broken rules file is reported, not ignored.
  with tempfile.TemporaryDirectory() as root:
    rules = os.path.join(root, "LAYERS")
    with open(rules, "w", encoding="utf-8") as f:
      f.write("+engine/common\n")
    try:
      check_tree(root, rules)
      failures.append("rule before any section: expected a RulesError")
    except RulesError as e:
      if "rule before the first [folder]" not in str(e):
        failures.append(f"rule before any section: wrong message {e}")
  for f in failures:
    print(f"check_layers self-test: FAILED: {f}", file=sys.stderr)
  if not failures:
    print(f"check_layers self-test: {len(SELF_TEST_CASES) + 1} cases passed")
  return not failures


def main():
  here = os.path.dirname(os.path.abspath(__file__))
  parser = argparse.ArgumentParser(
      description="Check #include lines against the layers in LAYERS.")
  parser.add_argument("--root", default=os.path.dirname(here),
                      help="repository root (default: this script's ..)")
  parser.add_argument("--rules", help="rules file (default: ROOT/LAYERS)")
  parser.add_argument("--self-test", action="store_true",
                      help="first prove the checker on planted trees")
  args = parser.parse_args()
  if args.self_test and not self_test():
    return 1
  rules = args.rules or os.path.join(args.root, "LAYERS")
  try:
    problems = check_tree(args.root, rules)
  except (RulesError, OSError) as e:
    print(f"check_layers: {e}", file=sys.stderr)
    return 2
  for p in problems:
    print(p)
  if problems:
    print(f"check_layers: {len(problems)} include(s) break the layers of "
          f"{rules}; see docs/architecture.md", file=sys.stderr)
    return 1
  print(f"check_layers: every include follows {rules}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
