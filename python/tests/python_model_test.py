"""healthscore.load, the model's description, its errors as diagnostics,
validate/lint/test against the CLI's own JSON reports, pickling by
reference and the per-process cache."""

import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import unittest

import healthscore

SOURCE = os.environ["HEALTHSCORE_SOURCE_DIR"]
CLI = os.environ["HEALTHSCORE_CLI"]
DEFAULT = os.path.join(SOURCE, "rules", "default", "1")

BROKEN = """name: broken
version: 1
inputs:
  - id: nps
    type: number
groups:
  - id: g
    weight: 1
    signals:
      - id: s
        source: npss
        weight: 1
        normalize:
          linear: {bad: 0, good: 10}
tiers:
  - id: ok
    min: 0
"""


def cli_report(command, *args):
    run = subprocess.run([CLI, command, "--format", "json", *args],
                         capture_output=True, text=True)
    return run.returncode, json.loads(run.stdout)


class LoadTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="hs_py_model_")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_describes_the_model(self):
        model = healthscore.load(DEFAULT)
        self.assertEqual(model.name, "default")
        self.assertEqual(model.version, "1")
        self.assertEqual(model.path, os.path.join(DEFAULT, "model.yaml"))
        self.assertEqual(model.groups, ["usage", "support", "outcomes"])
        self.assertEqual(model.tiers, ["green", "yellow", "red"])
        self.assertIn("stickiness", model.signals)
        self.assertIn("red_account_turnaround", model.playbooks)
        inputs = {i["id"]: i for i in model.inputs}
        self.assertEqual(inputs["dau_mau"]["type"], "number")
        self.assertEqual(inputs["dau_mau"]["range"], (0.0, 1.0))
        self.assertEqual(inputs["segment"]["values"],
                         ["smb", "mid_market", "enterprise"])
        self.assertEqual(inputs["weekly_active_users"]["type"], "series")
        self.assertEqual(len(model.hash), 64)
        # The CLI's hash of the same file.
        out = subprocess.run(
            [CLI, "score", "--model", DEFAULT, "--input",
             os.path.join(SOURCE, "rules", "testdata", "sample_accounts.csv"),
             "--quiet"], check=True, capture_output=True, text=True).stdout
        self.assertEqual(json.loads(out.splitlines()[0])["model"]["hash"],
                         model.hash)

    def test_a_directory_of_versions_loads_the_highest(self):
        self.assertEqual(
            healthscore.load(os.path.join(SOURCE, "rules", "default")).path,
            os.path.join(DEFAULT, "model.yaml"))

    def test_errors_are_diagnostics(self):
        path = self.write("broken/model.yaml", BROKEN)
        with self.assertRaises(healthscore.ModelError) as caught:
            healthscore.load(path)
        e = caught.exception
        self.assertIsInstance(e, ValueError)
        self.assertIn(f"{path} has errors:", str(e))
        self.assertEqual(len(e.diagnostics), 1)
        d = e.diagnostics[0]
        self.assertEqual((d.file, d.line, d.column, d.severity, d.code),
                         (path, 11, 17, "error", "model"))
        self.assertIn("'npss'", d.message)
        self.assertIn("nps", d.hint + d.message)
        # The CLI's validate says the same.
        code, report = cli_report("validate", path)
        self.assertEqual(code, 1)
        errors = [x for x in report["diagnostics"] if x["severity"] == "error"]
        self.assertEqual([(x["message"], x["hint"]) for x in errors],
                         [(d.message, d.hint)])

    def test_a_missing_path_is_a_value_error(self):
        missing = os.path.join(self.dir, "nowhere")
        with self.assertRaisesRegex(ValueError, "nowhere"):
            healthscore.load(missing)

    def test_limits_apply(self):
        with self.assertRaisesRegex(ValueError, "max_model_bytes"):
            healthscore.load(DEFAULT, max_model_bytes=0)
        with self.assertRaises(healthscore.ModelError) as caught:
            healthscore.load(DEFAULT, max_model_bytes=100)
        self.assertIn("100", str(caught.exception))

    def test_a_plugin_model_needs_its_plugins(self):
        plugin_model = os.path.join(SOURCE, "rules", "plugin_example", "1")
        env = os.environ.pop("HEALTHSCORE_PLUGIN_PATH", None)
        try:
            with self.assertRaises(healthscore.ModelError) as caught:
                healthscore.load(plugin_model)
            self.assertTrue(any("plugin" in d.message
                                for d in caught.exception.diagnostics))
        finally:
            if env is not None:
                os.environ["HEALTHSCORE_PLUGIN_PATH"] = env
        with self.assertRaisesRegex(ValueError, "plugins: "):
            healthscore.load(plugin_model,
                             plugins=[os.path.join(self.dir, "no-such-dir")])


class ChecksTest(unittest.TestCase):
    """validate, lint and test report what the CLI's --format json does."""

    def assert_same_as_cli(self, report, command, *args):
        code, cli = cli_report(command, *args)
        self.assertEqual(report.exit_code, code)
        self.assertEqual(report.ok, cli["ok"])
        self.assertEqual([d.__dict__ if hasattr(d, "__dict__") else
                          {k: getattr(d, k) for k in d.__slots__}
                          for d in report.diagnostics], cli["diagnostics"])
        self.assertEqual(report.files, cli["files"])
        self.assertEqual(report.summary, cli["summary"])

    def test_validate(self):
        tmp = tempfile.mkdtemp(prefix="hs_py_validate_")
        self.addCleanup(shutil.rmtree, tmp)
        path = os.path.join(tmp, "model.yaml")
        with open(path, "w") as f:
            f.write(BROKEN)
        report = healthscore.validate([DEFAULT, path])
        self.assertFalse(report)
        self.assertEqual(len(report.errors), 1)
        self.assert_same_as_cli(report, "validate", DEFAULT, path)
        frame = report.to_frame()
        self.assertEqual(list(frame.columns),
                         ["file", "line", "column", "severity", "code",
                          "message", "hint"])
        self.assertEqual(frame[frame["severity"] == "error"].iloc[0]["line"],
                         11)
        self.assertTrue(healthscore.validate(DEFAULT).ok)

    def test_lint(self):
        paths = [DEFAULT, os.path.join(SOURCE, "rules", "adoption_trends")]
        report = healthscore.lint(paths)
        self.assert_same_as_cli(report, "lint", *paths)

    def test_test(self):
        report = healthscore.test(DEFAULT)
        self.assertTrue(report.ok)
        self.assertGreater(report.summary["passed"], 0)
        self.assertEqual(report.summary["failed_cases"], 0)
        self.assert_same_as_cli(report, "test", DEFAULT)

    def test_a_missing_path_fails_the_report(self):
        # As the CLI: the JSON report has no diagnostic for it, standard
        # error (Report.stderr) names it.
        report = healthscore.validate("/nonexistent/model.yaml")
        self.assertFalse(report.ok)
        self.assertEqual(report.exit_code, 1)
        self.assertIn("/nonexistent/model.yaml: no such file or directory",
                      report.stderr)
        self.assert_same_as_cli(report, "validate", "/nonexistent/model.yaml")

    def test_usage_errors_raise(self):
        with self.assertRaisesRegex(ValueError, "max-model-bytes"):
            healthscore.validate(DEFAULT, max_model_bytes=0)


class PickleTest(unittest.TestCase):

    def test_unpickling_in_this_process_gives_the_cached_model(self):
        model = healthscore.load(DEFAULT)
        self.assertIs(healthscore.load(DEFAULT), model)
        self.assertIs(pickle.loads(pickle.dumps(model)), model)

    def test_pickled_by_reference_and_compiled_once_per_process(self):
        model = healthscore.load(DEFAULT)
        data = pickle.dumps(model)
        self.assertLess(len(data), 1000)  # a reference, not the model
        script = (
            "import pickle, sys, healthscore\n"
            "from healthscore import _core\n"
            "compiled = []\n"
            "original = _core.Model\n"
            "class Counting(original):\n"
            "    def __init__(self, *a):\n"
            "        compiled.append(a[0])\n"
            "        super().__init__(*a)\n"
            "_core.Model = Counting\n"
            "data = sys.stdin.buffer.read()\n"
            "models = [pickle.loads(data) for _ in range(5)]\n"
            "assert all(m is models[0] for m in models)\n"
            "print(len(compiled), models[0].hash)\n")
        out = subprocess.run([sys.executable, "-c", script], input=data,
                             capture_output=True, check=True).stdout.decode()
        self.assertEqual(out.split(), ["1", model.hash])

    def test_a_changed_file_fails_the_unpickle(self):
        tmp = tempfile.mkdtemp(prefix="hs_py_pickle_")
        self.addCleanup(shutil.rmtree, tmp)
        path = os.path.join(tmp, "model.yaml")
        shutil.copy(os.path.join(DEFAULT, "model.yaml"), path)
        data = pickle.dumps(healthscore.load(path))
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("min_coverage: 0.6", "min_coverage: 0.5"))
        script = ("import pickle, sys, healthscore\n"
                  "pickle.loads(sys.stdin.buffer.read())\n")
        run = subprocess.run([sys.executable, "-c", script], input=data,
                             capture_output=True)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn(b"changed since the model was pickled", run.stderr)
        # This process still holds the model that was pickled: it is the
        # one unpickling gives.
        self.assertEqual(pickle.loads(data).hash,
                         healthscore.load(path).hash)


class StubsTest(unittest.TestCase):
    """The .pyi stubs describe what the package has: every public name,
    and each function's and method's parameters, in order."""

    def stub_functions(self, module):
        import ast
        path = os.path.splitext(module.__file__)[0] + ".pyi"
        with open(path) as f:
            tree = ast.parse(f.read())
        out = {}
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                out[node.name] = node
            elif isinstance(node, ast.ClassDef):
                out[node.name] = node
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        out[f"{node.name}.{item.name}"] = item
        return out

    def params(self, node):
        a = node.args
        names = [x.arg for x in a.posonlyargs + a.args]
        if a.vararg:
            names.append(a.vararg.arg)
        names += [x.arg for x in a.kwonlyargs]
        if a.kwarg:
            names.append(a.kwarg.arg)
        return names

    def check(self, module, names):
        import inspect
        stubs = self.stub_functions(module)
        for name in names:
            self.assertIn(name, stubs, name)
            obj = getattr(module, name)
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if attr.startswith("_") and attr != "__init__":
                        continue
                    if attr == "__init__" and name in (
                            "Model", "Report", "OutcomeReport", "Repository"):
                        continue  # made by load(), not by users
                    key = f"{name}.{attr}"
                    if isinstance(value, property):
                        self.assertIn(key, stubs, key)
                    elif inspect.isfunction(value):
                        self.assertIn(key, stubs, key)
                        self.assertEqual(
                            self.params(stubs[key]),
                            list(inspect.signature(value).parameters), key)
            elif inspect.isfunction(obj):
                self.assertEqual(self.params(stubs[name]),
                                 list(inspect.signature(obj).parameters),
                                 name)
            self.assertTrue(obj.__doc__, f"{name} has no docstring")

    def test_package(self):
        self.check(healthscore, healthscore.__all__)

    def test_outcomes(self):
        import healthscore.outcomes
        self.check(healthscore.outcomes, healthscore.outcomes.__all__)

    def test_dask(self):
        import healthscore.dask
        self.check(healthscore.dask, healthscore.dask.__all__)


if __name__ == "__main__":
    unittest.main()
