#!/usr/bin/env python3
"""Static checks of the Containerfile, which CI cannot build (no registry).

Run by CTest (containerfile_check) as
  containerfile_check.py --source SRC --build BUILD --healthscore BIN

Checks, failing with one line per problem:
  - every stage is FROM debian:12 (or debian:12-slim); the build stage runs
    scripts/install-deps.sh;
  - every COPY source from the build context exists in the repository and
    is not left out by .dockerignore; every COPY --from names an earlier
    stage, and its source is something that stage has: the repository
    copied to WORKDIR, or what `cmake --install` stages (run here, with
    DESTDIR, for the components the Containerfile installs);
  - the runtime stage's apt-get packages exist in Debian (apt-cache show),
    and they and their dependencies provide every shared library the built
    `healthscore` and example plugins load (ldd, dpkg -S);
  - the final USER is not root, and a numeric USER is created by useradd;
  - VOLUME holds the --models and --plugins directories of CMD, EXPOSE the
    gRPC and metrics ports of CMD;
  - ENTRYPOINT + CMD are flags `healthscore serve` accepts.
"""

import argparse
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

problems = []


def problem(message):
    problems.append(message)


def instructions(path):
    """(line number, keyword, argument text) per instruction."""
    out = []
    pending, start = "", 0
    with open(path) as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if pending and line.lstrip().startswith("#"):
                continue
            if not pending:
                start = number
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            pending += line
            keyword, _, rest = pending.strip().partition(" ")
            out.append((start, keyword.upper(), rest.strip()))
            pending = ""
    return out


def json_or_shell(text):
    text = text.strip()
    if text.startswith("["):
        return json.loads(text)
    return shlex.split(text)


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    parser.add_argument("--build", required=True)
    parser.add_argument("--healthscore", required=True)
    args = parser.parse_args()
    source = os.path.abspath(args.source)
    containerfile = os.path.join(source, "Containerfile")

    ignore = []
    with open(os.path.join(source, ".dockerignore")) as f:
        ignore = [l.strip() for l in f if l.strip() and not l.startswith("#")]

    stages = []  # {"name", "base", "workdir", "lines"}
    for number, keyword, rest in instructions(containerfile):
        if keyword == "FROM":
            words = rest.split()
            base = words[0]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else ""
            if base not in ("debian:12", "debian:12-slim"):
                problem(f"Containerfile:{number}: FROM {base}: expected debian:12 or debian:12-slim")
            stages.append({"name": name, "base": base, "workdir": "/",
                           "lines": [], "copies": [], "runs": []})
            continue
        if not stages:
            if keyword != "ARG":
                problem(f"Containerfile:{number}: {keyword} before FROM")
            continue
        stage = stages[-1]
        stage["lines"].append((number, keyword, rest))
        if keyword == "WORKDIR":
            stage["workdir"] = rest
        elif keyword == "RUN":
            stage["runs"].append((number, rest))
        elif keyword == "COPY":
            words = shlex.split(rest)
            origin = None
            while words and words[0].startswith("--"):
                flag = words.pop(0)
                if flag.startswith("--from="):
                    origin = flag[len("--from="):]
            stage["copies"].append((number, origin, words[:-1], words[-1],
                                    stage["workdir"]))

    if len(stages) < 2:
        problem("Containerfile: expected a build stage and a runtime stage")
        return
    build, final = stages[0], stages[-1]
    if not any("scripts/install-deps.sh" in r for _, r in build["runs"]):
        problem("Containerfile: the build stage does not run scripts/install-deps.sh")

    # What `cmake --install` stages for the components the build stage
    # installs (DESTDIR=/stage, prefix /usr/local).
    staged = tempfile.mkdtemp(prefix="hs_containerfile_")
    build_run = " ".join(r for _, r in build["runs"])
    components = []
    m = re.search(r"for component in ([a-z ]+); do", build_run)
    if m:
        components = m.group(1).split()
    else:
        problem("Containerfile: no `for component in ...` install in the build stage")
    for component in components:
        r = run(["cmake", "--install", args.build, "--prefix", "/usr/local",
                 "--component", component],
                env=dict(os.environ, DESTDIR=os.path.join(staged, "stage")))
        if r.returncode != 0:
            problem(f"cmake --install --component {component} failed: {r.stderr.strip()}")

    names = [s["name"] for s in stages]
    for index, stage in enumerate(stages):
        for number, origin, sources, _dest, _workdir in stage["copies"]:
            for src in sources:
                if origin is None:
                    path = os.path.normpath(os.path.join(source, src))
                    if not os.path.exists(path):
                        problem(f"Containerfile:{number}: COPY {src}: not in the repository")
                    first = os.path.normpath(src).split("/")[0]
                    if src != "." and any(fnmatch.fnmatch(first, p) for p in ignore):
                        problem(f"Containerfile:{number}: COPY {src}: left out by .dockerignore")
                    continue
                if origin not in names[:index]:
                    problem(f"Containerfile:{number}: COPY --from={origin}: no earlier stage of that name")
                    continue
                origin_stage = stages[names.index(origin)]
                if src.startswith("/stage/"):
                    if not os.path.exists(os.path.join(staged, src.lstrip("/"))):
                        problem(f"Containerfile:{number}: COPY --from={origin} {src}: "
                                f"cmake --install does not stage it")
                    continue
                # The repository as COPY . . put it in the stage's WORKDIR.
                root = None
                for _, o, srcs, dest, workdir in origin_stage["copies"]:
                    if o is None and srcs == ["."]:
                        root = os.path.normpath(os.path.join(workdir, dest))
                if root and (src + "/").startswith(root + "/"):
                    rel = os.path.relpath(src, root)
                    if not os.path.exists(os.path.join(source, rel)):
                        problem(f"Containerfile:{number}: COPY --from={origin} {src}: "
                                f"{rel} is not in the repository")
                else:
                    problem(f"Containerfile:{number}: COPY --from={origin} {src}: "
                            f"neither staged by cmake --install nor from the repository")

    # Runtime packages: they exist, and cover every library ldd finds.
    packages = []
    for _, r in final["runs"]:
        m = re.search(r"apt-get install (.*?)(&&|$)", r)
        if m:
            packages += [w for w in m.group(1).split() if not w.startswith("-")]
    if not packages:
        problem("Containerfile: the runtime stage installs no packages")
    for p in packages:
        if run(["apt-cache", "show", p]).returncode != 0:
            problem(f"Containerfile: runtime package {p} does not exist in Debian (apt-cache show)")
    closure = set(packages)
    r = run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
             "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"] + packages)
    for line in r.stdout.splitlines():
        line = line.strip()
        if line.startswith(("Depends:", "PreDepends:")):
            closure.add(line.split(":", 1)[1].strip().strip("<>").split(":")[0])
        elif line and not line.startswith("|"):
            closure.add(line.strip("<>").split(":")[0])
    plugin_dir = os.path.join(args.build, "plugins", "lib")
    binaries = [args.healthscore] + [os.path.join(plugin_dir, f)
                                     for f in sorted(os.listdir(plugin_dir))]
    # A sanitizer build (.ci/run's second pass) links the sanitizer
    # runtimes; the image's build stage never enables sanitizers, so they
    # are not libraries the image needs.
    sanitizer_runtime = re.compile(r"/lib(asan|ubsan|lsan|tsan|hwasan)\.so")
    for binary in binaries:
        for line in run(["ldd", binary]).stdout.splitlines():
            m = re.search(r"=> (/\S+)", line)
            if not m or sanitizer_runtime.search(m.group(1)):
                continue
            lib = os.path.realpath(m.group(1))
            owner = run(["dpkg", "-S", lib])
            if owner.returncode != 0:
                owner = run(["dpkg", "-S", m.group(1)])
            if owner.returncode != 0:
                problem(f"{binary}: {lib} belongs to no Debian package")
                continue
            package = owner.stdout.split(":")[0]
            if package not in closure:
                problem(f"Containerfile: {os.path.basename(binary)} needs {lib} "
                        f"from {package}, which the runtime stage does not install")

    # User, volumes, ports, command.
    user = [rest for _, k, rest in final["lines"] if k == "USER"]
    if not user:
        problem("Containerfile: the runtime stage has no USER (it would run as root)")
    else:
        who = user[-1].split(":")[0]
        if who in ("root", "0"):
            problem(f"Containerfile: USER {user[-1]} is root")
        runs = " ".join(r for _, r in final["runs"])
        if who.isdigit() and f"--uid {who}" not in runs:
            problem(f"Containerfile: USER {who}: no useradd --uid {who} in the runtime stage")
    entry = [json_or_shell(rest) for _, k, rest in final["lines"] if k == "ENTRYPOINT"]
    cmd = [json_or_shell(rest) for _, k, rest in final["lines"] if k == "CMD"]
    command = (entry[-1] if entry else []) + (cmd[-1] if cmd else [])
    if command[:2] != ["/usr/local/bin/healthscore", "serve"]:
        problem(f"Containerfile: the command {command[:2]} is not /usr/local/bin/healthscore serve")
    copied = [d for _, _, _, d, _ in final["copies"]]
    if "/usr/local/bin/healthscore" not in copied:
        problem("Containerfile: /usr/local/bin/healthscore is not copied into the runtime stage")
    flags = command[2:]
    def flag(name):
        return flags[flags.index(name) + 1] if name in flags else None
    volumes = []
    for _, k, rest in final["lines"]:
        if k == "VOLUME":
            volumes += json_or_shell(rest)
    for name in ("--models", "--plugins"):
        if flag(name) not in volumes:
            problem(f"Containerfile: {name} {flag(name)} is not a VOLUME ({volumes})")
    exposed = []
    for _, k, rest in final["lines"]:
        if k == "EXPOSE":
            exposed += [p.split("/")[0] for p in rest.split()]
    listen = flag("--listen") or ""
    for port in (listen.rsplit(":", 1)[-1], flag("--metrics-port")):
        if port and port not in exposed:
            problem(f"Containerfile: port {port} of CMD is not EXPOSEd ({exposed})")
    r = run([args.healthscore] + command[1:] + ["--help"])
    if r.returncode != 0:
        problem(f"Containerfile: `healthscore {' '.join(command[1:])}` is refused: {r.stderr.strip()}")
    shutil.rmtree(staged, ignore_errors=True)


if __name__ == "__main__":
    main()
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print("Containerfile: ok")
