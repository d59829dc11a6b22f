"""docs/python.md runs as written: its ```python blocks, in order, in one
namespace, from the repository root; a ```text block right after one (only
blank lines between) is what that block prints, exactly."""

import contextlib
import io
import os
import re
import unittest

SOURCE = os.environ["HEALTHSCORE_SOURCE_DIR"]
DOC = os.path.join(SOURCE, "docs", "python.md")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)


def blocks(text):
    """(language, code, expected output or None) per python block."""
    found = list(FENCE.finditer(text))
    out = []
    for k, m in enumerate(found):
        if m.group(1) != "python":
            continue
        expected = None
        if k + 1 < len(found):
            after = found[k + 1]
            between = text[m.end():after.start()]
            if after.group(1) == "text" and not between.strip():
                expected = after.group(2)
        line = text.count("\n", 0, m.start()) + 1
        out.append((line, m.group(2), expected))
    return out


class DocsTest(unittest.TestCase):

    def test_python_md_runs_as_written(self):
        with open(DOC) as f:
            text = f.read()
        found = blocks(text)
        self.assertGreaterEqual(len(found), 8)
        namespace = {"__name__": "docs_python_md"}
        cwd = os.getcwd()
        os.chdir(SOURCE)
        try:
            for line, code, expected in found:
                printed = io.StringIO()
                with contextlib.redirect_stdout(printed):
                    exec(compile(code, f"docs/python.md:{line}", "exec"),
                         namespace)
                if expected is not None:
                    self.assertEqual(printed.getvalue(), expected,
                                     f"the block at docs/python.md:{line}")
        finally:
            os.chdir(cwd)


if __name__ == "__main__":
    unittest.main()
