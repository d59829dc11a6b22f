#!/usr/bin/env python3
"""Healthscore gRPC client example (Python, grpcio).

Usage: score_client.py [--tls-ca FILE [--tls-cert FILE --tls-key FILE]]
                        [--token-file FILE] HOST:PORT

--tls-ca: speak TLS, trusting the CA certificates in FILE (PEM); with
--tls-cert and --tls-key, present that client certificate (mTLS).
--token-file: send `authorization: Bearer TOKEN` (the first token line of FILE,
as the server reads token files: '#' lines and blank lines skipped)
with every call; only over TLS, so that the token never travels in clear.

Generates the Python stubs from proto/ with protoc at run time (into a
temporary directory; nothing is committed), then calls every RPC of the
server and checks the answers. Works with whatever default model the server
has: it reads the model's inputs with GetModel and builds accounts from them.
Exits non-zero, with a message, at the first wrong answer.

Needs: python3-grpcio and python3-protobuf (Debian), protoc and
grpc_python_plugin (protobuf-compiler, protobuf-compiler-grpc).
"""

import math
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "proto"))
PROTOS = [
    "healthscore/v1/account.proto",
    "healthscore/v1/scoring.proto",
    "healthscore/v1/model.proto",
]
# grpc.health.v1 is compiled from a copy under another path: a generated
# "grpc" package would shadow grpcio's own.
HEALTH_PROTO = "grpc/health/v1/health.proto"
HEALTH_COPY = "healthcheck/v1/health.proto"


def generate_stubs(out_dir):
    """protoc --python_out --grpc_python_out for every proto we use."""
    plugin = shutil.which("grpc_python_plugin")
    if plugin is None:
        sys.exit("grpc_python_plugin not found (apt install protobuf-compiler-grpc)")
    health_src = os.path.join(out_dir, "src")
    os.makedirs(os.path.join(health_src, os.path.dirname(HEALTH_COPY)))
    shutil.copy(os.path.join(PROTO_DIR, HEALTH_PROTO),
                os.path.join(health_src, HEALTH_COPY))
    common = ["--python_out", out_dir, "--grpc_python_out", out_dir,
              "--plugin=protoc-gen-grpc_python=" + plugin]
    subprocess.run(["protoc", "-I", PROTO_DIR] + common
                   + [os.path.join(PROTO_DIR, p) for p in PROTOS], check=True)
    subprocess.run(["protoc", "-I", health_src] + common
                   + [os.path.join(health_src, HEALTH_COPY)], check=True)


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def parse_args(argv):
    import argparse
    p = argparse.ArgumentParser(prog="score_client.py")
    p.add_argument("target", metavar="HOST:PORT")
    p.add_argument("--tls-ca", metavar="FILE")
    p.add_argument("--tls-cert", metavar="FILE")
    p.add_argument("--tls-key", metavar="FILE")
    p.add_argument("--token-file", metavar="FILE")
    args = p.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        p.error("--tls-cert and --tls-key go together")
    if args.tls_cert is not None and args.tls_ca is None:
        p.error("--tls-cert needs --tls-ca")
    if args.token_file is not None and args.tls_ca is None:
        p.error("--token-file needs --tls-ca: tokens are only sent over TLS")
    return args


def open_channel(args):
    """A plaintext channel, or TLS (mTLS, a bearer token) as asked."""
    import grpc
    if args.tls_ca is None:
        return grpc.insecure_channel(args.target)
    creds = grpc.ssl_channel_credentials(
        root_certificates=read(args.tls_ca),
        private_key=read(args.tls_key) if args.tls_key else None,
        certificate_chain=read(args.tls_cert) if args.tls_cert else None)
    if args.token_file is not None:
        lines = [l.strip() for l in read(args.token_file).decode().splitlines()
                 if l.strip() and not l.strip().startswith("#")]
        if not lines:
            sys.exit("%s holds no token" % args.token_file)
        creds = grpc.composite_channel_credentials(
            creds, grpc.access_token_call_credentials(lines[0]))
    return grpc.secure_channel(args.target, creds)


def main():
    args = parse_args(sys.argv[1:])

    stub_dir = tempfile.mkdtemp(prefix="healthscore-py-")
    try:
        generate_stubs(stub_dir)
        sys.path.insert(0, stub_dir)
        run(args)
    finally:
        shutil.rmtree(stub_dir, ignore_errors=True)


def run(args):
    import grpc
    from healthcheck.v1 import health_pb2, health_pb2_grpc
    from healthscore.v1 import account_pb2, model_pb2, model_pb2_grpc
    from healthscore.v1 import scoring_pb2, scoring_pb2_grpc

    channel = open_channel(args)
    grpc.channel_ready_future(channel).result(timeout=30)
    models = model_pb2_grpc.ModelServiceStub(channel)
    scoring = scoring_pb2_grpc.ScoringServiceStub(channel)
    health = health_pb2_grpc.HealthStub(channel)
    timeout = 30  # seconds: every call has a deadline

    # Health: SERVING once the models are loaded.
    status = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
    check(status.status == health_pb2.HealthCheckResponse.SERVING,
          "health is %s, expected SERVING" % status.status)

    # What the server holds, and what the default model expects.
    listing = models.ListModels(model_pb2.ListModelsRequest(), timeout=timeout)
    names = [m.name for m in listing.models]
    check(listing.default_model in names,
          "default model %r not in %r" % (listing.default_model, names))
    model = models.GetModel(model_pb2.GetModelRequest(), timeout=timeout)
    check(model.name == listing.default_model, "GetModel returned %r" % model.name)
    numbers = [i for i in model.inputs if i.type == model_pb2.INPUT_TYPE_NUMBER]
    check(numbers, "the default model has no number input")
    tiers = [t.id for t in model.tiers] + ["insufficient_data"]
    print("model %s version %s (%s): %d inputs, tiers %s" % (
        model.name, model.version, model.hash[:12], len(model.inputs), tiers))

    # Accounts built from the model: every input mid-range, one account with
    # a number sent as text (must fail alone, naming the field).
    def mid(i):
        lo = i.range_min if i.HasField("range_min") else 0.0
        hi = i.range_max if i.HasField("range_max") else 100.0
        return (lo + hi) / 2

    good = account_pb2.AccountSnapshot(id="py-good", as_of="2026-11-01",
                                       previous_score=50.0)
    for i in model.inputs:
        if i.type == model_pb2.INPUT_TYPE_NUMBER:
            good.metrics[i.id] = mid(i)
        elif i.type == model_pb2.INPUT_TYPE_STRING and i.values:
            good.attributes[i.id] = i.values[0]
        elif i.type == model_pb2.INPUT_TYPE_DATE:
            good.dates[i.id] = "2026-06-01"
        elif i.type == model_pb2.INPUT_TYPE_SERIES:
            good.series[i.id].values.extend([10, 12, 11, 13, 15, 14, 16, 18])
    sparse = account_pb2.AccountSnapshot(id="py-sparse", as_of="2026-11-01")
    sparse.metrics[numbers[0].id] = mid(numbers[0])
    bad = account_pb2.AccountSnapshot(id="py-bad", as_of="2026-11-01")
    bad.attributes[numbers[0].id] = "lots"
    accounts = [good, sparse, bad]

    request = scoring_pb2.ScoreRequest(accounts=accounts, request_id="py-1")
    request.options.explain = True
    response = scoring.Score(request, timeout=timeout)
    check(response.request_id == "py-1", "request_id not echoed")
    check(response.model == model.name, "scored with %r" % response.model)
    check([r.id for r in response.results] == ["py-good", "py-sparse", "py-bad"],
          "results out of order: %r" % [r.id for r in response.results])
    for r in response.results:
        check(r.ok, "%s failed: %s" % (r.id, r.error))
        check(r.tier in tiers, "%s has unknown tier %r" % (r.id, r.tier))
        check(0 <= r.coverage <= 1, "%s coverage %r" % (r.id, r.coverage))
        if r.HasField("score"):
            check(0 <= r.score <= 100, "%s score %r" % (r.id, r.score))
    first = response.results[0]
    check(first.HasField("score_delta"), "py-good has no score_delta")
    check(len(first.explanation.signals) == len(model.signals),
          "explanation lists %d signals, model has %d" % (
              len(first.explanation.signals), len(model.signals)))
    # A value that does not fit its input costs that value only: the account
    # scores on the rest and says which value was dropped and why.
    bad_result = response.results[2]
    check(len(bad_result.warnings) == 1 and numbers[0].id in bad_result.warnings[0]
          and "used as missing" in bad_result.warnings[0],
          "py-bad: expected a warning naming %r, got %r" % (
              numbers[0].id, list(bad_result.warnings)))
    check(response.failed_accounts == 0, "failed_accounts %d" % response.failed_accounts)
    check(response.dropped_values == 1, "dropped_values %d" % response.dropped_values)
    check(sum(response.tier_counts.values()) == 3,
          "tier counts %r" % dict(response.tier_counts))
    print("py-good: score %.2f tier %s coverage %.2f playbooks %s" % (
        first.score, first.tier, first.coverage, [p.id for p in first.playbooks]))
    print("py-bad: %s" % bad_result.warnings[0])

    # The same accounts in columnar form give the same results.
    cols = account_pb2.ColumnarAccounts(ids=[a.id for a in accounts], as_of=["2026-11-01"])
    for name in sorted({k for a in accounts for k in a.metrics}):
        cols.metrics.add(name=name, values=[a.metrics.get(name, math.nan) for a in accounts])
    for name in sorted({k for a in accounts for k in a.attributes}):
        dictionary = sorted({a.attributes[name] for a in accounts if name in a.attributes})
        cols.attributes.add(name=name, dictionary=dictionary, codes=[
            dictionary.index(a.attributes[name]) if name in a.attributes else -1
            for a in accounts])
    for name in sorted({k for a in accounts for k in a.dates}):
        # 2026-06-01 is day 20605 since 1970-01-01.
        cols.dates.add(name=name, days=[20605.0 if name in a.dates else math.nan
                                        for a in accounts])
    for name in sorted({k for a in accounts for k in a.series}):
        column = cols.series.add(name=name)
        for a in accounts:
            values = list(a.series[name].values) if name in a.series else None
            column.lengths.append(-1 if values is None else len(values))
            column.values.extend(values or [])
    cols.previous_score.extend([a.previous_score if a.HasField("previous_score")
                                else math.nan for a in accounts])
    columnar = scoring.Score(scoring_pb2.ScoreRequest(columns=cols), timeout=timeout)
    c = columnar.columns
    check(len(c.score) == 3, "columnar: %d scores" % len(c.score))
    for i, r in enumerate(response.results):
        if not r.ok:
            check(any(e.index == i and e.message == r.error for e in c.errors),
                  "columnar: account %d error differs" % i)
            continue
        score = c.score[i]
        check((math.isnan(score) and not r.HasField("score")) or score == r.score,
              "columnar: account %d score %r != %r" % (i, score, r.score))
        check(c.tier_ids[c.tier[i]] == r.tier, "columnar: account %d tier differs" % i)
        check(c.coverage[i] == r.coverage, "columnar: account %d coverage differs" % i)
        check([w.message for w in c.warnings if w.index == i] == list(r.warnings),
              "columnar: account %d warnings differ" % i)
    print("columnar form: identical results")

    # Shadow scoring: the same batch with a candidate model beside the live
    # one. Here the candidate is the serving version itself, so nothing
    # may change; a data team would name the version it is about to publish.
    shadowed = scoring.Score(scoring_pb2.ScoreRequest(
        accounts=accounts, shadow=scoring_pb2.ShadowRequest(model="default")),
        timeout=timeout)
    s = shadowed.shadow
    check(len(shadowed.models) == 1 and shadowed.models[0].model == "default",
          "models %r" % list(shadowed.models))
    check(all(r.model_index == 0 for r in shadowed.results), "model_index")
    check(s.model == "default" and s.model_hash == shadowed.model_hash,
          "shadow candidate %s %s" % (s.model, s.model_hash))
    check(s.compared == 3 and s.failed_both == 0 and s.tier_changed == 0,
          "shadow: compared %d failed_both %d tier_changed %d" % (
              s.compared, s.failed_both, s.tier_changed))
    check(all(cell.count == 0 or getattr(cell, "from") == cell.to
              for cell in s.tier_table), "shadow: off-diagonal tier cell")
    check(s.score_delta.count == 2 and s.score_delta.max == 0.0,
          "shadow: score delta %r" % s.score_delta)
    print("shadow against itself: %d compared, %d change tier, %d failed both" % (
        s.compared, s.tier_changed, s.failed_both))

    # Errors are status codes.
    try:
        scoring.Score(scoring_pb2.ScoreRequest(model="no-such-model"), timeout=timeout)
        fail("unknown model did not fail")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.NOT_FOUND, "unknown model gave %s" % e.code())
        print("unknown model: %s: %s" % (e.code().name, e.details()))

    # Authoring tools: ValidateModel returns the diagnostics.
    v = models.ValidateModel(model_pb2.ValidateModelRequest(
        yaml="name: draft\nversion: 1\ninputs: []\n", file_name="draft.yaml"), timeout=timeout)
    check(not v.valid and v.error_count > 0, "an empty model validated")
    check(all(d.file == "draft.yaml" for d in v.diagnostics), "diagnostics name another file")
    print("ValidateModel: %d errors, first: %s" % (v.error_count, v.diagnostics[0].text))

    # Bulk: a stream of batches, answered in order.
    def batches():
        for n in range(3):
            yield scoring_pb2.ScoreRequest(accounts=accounts[:2], request_id="batch-%d" % n)
    ids = [r.request_id for r in scoring.ScoreStream(batches(), timeout=timeout)]
    check(ids == ["batch-0", "batch-1", "batch-2"], "stream answered %r" % ids)
    print("ScoreStream: %d batches in order" % len(ids))
    print("OK")


if __name__ == "__main__":
    main()
