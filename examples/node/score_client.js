#!/usr/bin/env node
// Healthscore gRPC client example (Node.js, @grpc/grpc-js).
//
// Usage: node score_client.js [--tls-ca FILE [--tls-cert FILE --tls-key FILE]]
//                             [--token-file FILE] HOST:PORT
//
// Loads proto/ at run time with @grpc/proto-loader (no generated code), then
// calls every RPC of the server and checks the answers. Works with whatever
// default model the server has: it reads the model's inputs with GetModel
// and builds accounts from them. Exits non-zero, with a message, at the first
// wrong answer.
//
// Setup: cd examples/node && npm ci

'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_DIR = path.resolve(__dirname, '..', '..', 'proto');

function fail(message) {
  console.error('FAIL: ' + message);
  process.exit(1);
}

function check(condition, message) {
  if (!condition) fail(message);
}

function load() {
  const definition = protoLoader.loadSync(
      ['healthscore/v1/scoring.proto', 'healthscore/v1/model.proto',
       'grpc/health/v1/health.proto'],
      {
        includeDirs: [PROTO_DIR],
        keepCase: true,  // field names as in the .proto (snake_case)
        longs: Number,
        enums: String,
        defaults: true,
        oneofs: true,
      });
  return grpc.loadPackageDefinition(definition);
}

// Promisified unary call with a deadline (every call has one).
function call(client, method, request) {
  const deadline = new Date(Date.now() + 30000);
  return new Promise((resolve, reject) => {
    client[method](request, {deadline}, (err, response) => {
      if (err) reject(err);
      else resolve(response);
    });
  });
}

const USAGE = 'usage: node score_client.js [--tls-ca FILE [--tls-cert FILE ' +
    '--tls-key FILE]] [--token-file FILE] HOST:PORT';

function usage(message) {
  console.error(message ? `${message}\n${USAGE}` : USAGE);
  process.exit(2);
}

// Plaintext, or TLS trusting --tls-ca (with --tls-cert/--tls-key: mTLS);
// --token-file sends `authorization: Bearer TOKEN` with every call, only
// over TLS so that the token never travels in clear.
function parseArgs(argv) {
  const opts = {};
  let target;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (['--tls-ca', '--tls-cert', '--tls-key', '--token-file'].includes(flag)) {
      if (i + 1 >= argv.length) usage(`${flag} needs a FILE`);
      opts[flag] = argv[++i];
    } else if (flag.startsWith('-') || target !== undefined) {
      usage(`unexpected argument ${flag}`);
    } else {
      target = flag;
    }
  }
  if (!target) usage();
  if (!!opts['--tls-cert'] !== !!opts['--tls-key']) {
    usage('--tls-cert and --tls-key go together');
  }
  if ((opts['--tls-cert'] || opts['--token-file']) && !opts['--tls-ca']) {
    usage('--tls-cert and --token-file need --tls-ca');
  }
  if (!opts['--tls-ca']) {
    return {target, creds: grpc.credentials.createInsecure()};
  }
  const read = (f) => (f ? fs.readFileSync(f) : null);
  let creds = grpc.credentials.createSsl(read(opts['--tls-ca']),
      read(opts['--tls-key']), read(opts['--tls-cert']));
  if (opts['--token-file']) {
    const token = fs.readFileSync(opts['--token-file'], 'utf8').split('\n')
        .map((l) => l.trim()).find((l) => l && !l.startsWith('#'));
    if (!token) usage(`${opts['--token-file']} holds no token`);
    creds = grpc.credentials.combineChannelCredentials(creds,
        grpc.credentials.createFromMetadataGenerator((params, callback) => {
          const md = new grpc.Metadata();
          md.add('authorization', `Bearer ${token}`);
          callback(null, md);
        }));
  }
  return {target, creds};
}

async function main() {
  const {target, creds} = parseArgs(process.argv.slice(2));
  const proto = load();
  const v1 = proto.healthscore.v1;
  const scoring = new v1.ScoringService(target, creds);
  const models = new v1.ModelService(target, creds);
  const health = new proto.grpc.health.v1.Health(target, creds);

  // Health: SERVING once the models are loaded.
  const status = await call(health, 'Check', {service: ''});
  check(status.status === 'SERVING', `health is ${status.status}`);

  // What the server holds, and what the default model expects.
  const listing = await call(models, 'ListModels', {});
  const names = listing.models.map((m) => m.name);
  check(names.includes(listing.default_model),
        `default model ${listing.default_model} not in ${names}`);
  const model = await call(models, 'GetModel', {});
  check(model.name === listing.default_model, `GetModel returned ${model.name}`);
  const numbers = model.inputs.filter((i) => i.type === 'INPUT_TYPE_NUMBER');
  check(numbers.length > 0, 'the default model has no number input');
  const tiers = model.tiers.map((t) => t.id).concat(['insufficient_data']);
  console.log(`model ${model.name} version ${model.version} ` +
              `(${model.hash.slice(0, 12)}): ${model.inputs.length} inputs, ` +
              `tiers ${tiers.join(',')}`);

  // Accounts built from the model: every input mid-range, one account with
  // a number sent as text (must fail alone, naming the field).
  const mid = (i) => {
    const lo = i.range_min ?? 0;
    const hi = i.range_max ?? 100;
    return (lo + hi) / 2;
  };
  const good = {id: 'js-good', as_of: '2026-11-01', previous_score: 50,
                metrics: {}, attributes: {}, dates: {}, series: {}};
  for (const i of model.inputs) {
    if (i.type === 'INPUT_TYPE_NUMBER') good.metrics[i.id] = mid(i);
    if (i.type === 'INPUT_TYPE_STRING' && i.values.length) {
      good.attributes[i.id] = i.values[0];
    }
    if (i.type === 'INPUT_TYPE_DATE') good.dates[i.id] = '2026-06-01';
    if (i.type === 'INPUT_TYPE_SERIES') {
      good.series[i.id] = {values: [10, 12, 11, 13, 15, 14, 16, 18]};
    }
  }
  const sparse = {id: 'js-sparse', as_of: '2026-11-01',
                  metrics: {[numbers[0].id]: mid(numbers[0])}};
  const bad = {id: 'js-bad', as_of: '2026-11-01',
               attributes: {[numbers[0].id]: 'lots'}};
  const accounts = [good, sparse, bad];

  const response = await call(scoring, 'Score', {
    accounts, request_id: 'js-1', options: {explain: true},
  });
  check(response.request_id === 'js-1', 'request_id not echoed');
  check(response.model === model.name, `scored with ${response.model}`);
  const ids = response.results.map((r) => r.id);
  check(ids.join() === 'js-good,js-sparse,js-bad', `results out of order: ${ids}`);
  for (const r of response.results) {
    check(r.ok, `${r.id} failed: ${r.error}`);
    check(tiers.includes(r.tier), `${r.id} has unknown tier ${r.tier}`);
    check(r.coverage >= 0 && r.coverage <= 1, `${r.id} coverage ${r.coverage}`);
    if (r.score !== null && r.score !== undefined) {
      check(r.score >= 0 && r.score <= 100, `${r.id} score ${r.score}`);
    }
  }
  const first = response.results[0];
  check(first.score_delta !== null && first.score_delta !== undefined,
        'js-good has no score_delta');
  check(first.explanation.signals.length === model.signals.length,
        'explanation does not list every signal');
  // A value that does not fit its input costs that value only: the account
  // scores on the rest and says which value was dropped and why.
  const badResult = response.results[2];
  check(badResult.warnings.length === 1 &&
        badResult.warnings[0].includes(numbers[0].id) &&
        badResult.warnings[0].includes('used as missing'),
        `js-bad: expected a warning naming ${numbers[0].id}, got ` +
        `${JSON.stringify(badResult.warnings)}`);
  check(Number(response.failed_accounts) === 0,
        `failed_accounts ${response.failed_accounts}`);
  check(Number(response.dropped_values) === 1,
        `dropped_values ${response.dropped_values}`);
  const counted = Object.values(response.tier_counts)
                      .reduce((a, b) => a + Number(b), 0);
  check(counted === 3, `tier counts ${JSON.stringify(response.tier_counts)}`);
  console.log(`js-good: score ${first.score.toFixed(2)} tier ${first.tier} ` +
              `coverage ${first.coverage.toFixed(2)} playbooks ` +
              `${first.playbooks.map((p) => p.id).join(',')}`);
  console.log(`js-bad: ${badResult.warnings[0]}`);

  // The same accounts in columnar form give the same results.
  const keys = (field) => [...new Set(accounts.flatMap(
      (a) => Object.keys(a[field] || {})))].sort();
  const columns = {
    ids: accounts.map((a) => a.id),
    as_of: ['2026-11-01'],
    metrics: keys('metrics').map((name) => ({
      name,
      values: accounts.map((a) => (a.metrics && name in a.metrics ?
                                   a.metrics[name] : NaN)),
    })),
    attributes: keys('attributes').map((name) => {
      const dictionary = [...new Set(accounts.filter(
          (a) => a.attributes && name in a.attributes).map(
          (a) => a.attributes[name]))];
      return {
        name, dictionary,
        codes: accounts.map((a) => (a.attributes && name in a.attributes ?
            dictionary.indexOf(a.attributes[name]) : -1)),
      };
    }),
    // 2026-06-01 is day 20605 since 1970-01-01.
    dates: keys('dates').map((name) => ({
      name,
      days: accounts.map((a) => (a.dates && name in a.dates ? 20605 : NaN)),
    })),
    series: keys('series').map((name) => ({
      name,
      lengths: accounts.map((a) => (a.series && name in a.series ?
                                    a.series[name].values.length : -1)),
      values: accounts.flatMap((a) => (a.series && name in a.series ?
                                       a.series[name].values : [])),
    })),
    previous_score: accounts.map((a) => a.previous_score ?? NaN),
  };
  const columnar = await call(scoring, 'Score', {columns});
  const c = columnar.columns;
  check(c.score.length === 3, `columnar: ${c.score.length} scores`);
  response.results.forEach((r, i) => {
    if (!r.ok) {
      check(c.errors.some((e) => e.index === i && e.message === r.error),
            `columnar: account ${i} error differs`);
      return;
    }
    const same = (Number.isNaN(c.score[i]) && (r.score === null ||
                                               r.score === undefined)) ||
                 c.score[i] === r.score;
    check(same, `columnar: account ${i} score ${c.score[i]} != ${r.score}`);
    check(c.tier_ids[c.tier[i]] === r.tier, `columnar: account ${i} tier`);
    check(c.coverage[i] === r.coverage, `columnar: account ${i} coverage`);
    const warnings = c.warnings.filter((w) => w.index === i)
                         .map((w) => w.message);
    check(JSON.stringify(warnings) === JSON.stringify(r.warnings),
          `columnar: account ${i} warnings`);
  });
  console.log('columnar form: identical results');

  // Shadow scoring: the same batch with a candidate model beside the live
  // one. Here the candidate is the serving version itself, so nothing may
  // change; a data team would name the version it is about to publish.
  const shadowed = await call(scoring, 'Score',
                              {accounts, shadow: {model: 'default'}});
  const s = shadowed.shadow;
  check(shadowed.models.length === 1 && shadowed.models[0].model === 'default',
        `models ${JSON.stringify(shadowed.models)}`);
  check(shadowed.results.every((r) => r.model_index === 0), 'model_index');
  check(s.model === 'default' && s.model_hash === shadowed.model_hash,
        `shadow candidate ${s.model} ${s.model_hash}`);
  check(s.compared === 3 && s.failed_both === 0 && s.tier_changed === 0,
        `shadow: compared ${s.compared} failed_both ${s.failed_both} ` +
        `tier_changed ${s.tier_changed}`);
  check(s.tier_table.every((cell) => cell.count === 0 || cell.from === cell.to),
        'shadow: off-diagonal tier cell');
  check(s.score_delta.count === 2 && s.score_delta.max === 0,
        `shadow: score delta ${JSON.stringify(s.score_delta)}`);
  console.log(`shadow against itself: ${s.compared} compared, ` +
              `${s.tier_changed} change tier, ${s.failed_both} failed both`);

  // Errors are status codes.
  try {
    await call(scoring, 'Score', {model: 'no-such-model'});
    fail('unknown model did not fail');
  } catch (err) {
    check(err.code === grpc.status.NOT_FOUND, `unknown model gave ${err.code}`);
    console.log(`unknown model: NOT_FOUND: ${err.details}`);
  }

  // Authoring tools: ValidateModel returns the diagnostics.
  const v = await call(models, 'ValidateModel', {
    yaml: 'name: draft\nversion: 1\ninputs: []\n', file_name: 'draft.yaml',
  });
  check(!v.valid && v.error_count > 0, 'an empty model validated');
  check(v.diagnostics.every((d) => d.file === 'draft.yaml'),
        'diagnostics name another file');
  console.log(`ValidateModel: ${v.error_count} errors, first: ` +
              `${v.diagnostics[0].text}`);

  // Bulk: a stream of batches, answered in order.
  const streamIds = await new Promise((resolve, reject) => {
    const got = [];
    const stream = scoring.ScoreStream(
        {deadline: new Date(Date.now() + 30000)});
    stream.on('data', (r) => got.push(r.request_id));
    stream.on('error', reject);
    stream.on('end', () => resolve(got));
    for (let n = 0; n < 3; n++) {
      stream.write({accounts: accounts.slice(0, 2), request_id: `batch-${n}`});
    }
    stream.end();
  });
  check(streamIds.join() === 'batch-0,batch-1,batch-2',
        `stream answered ${streamIds}`);
  console.log(`ScoreStream: ${streamIds.length} batches in order`);

  scoring.close();
  models.close();
  health.close();
  console.log('OK');
}

main().catch((err) => fail(err.stack || String(err)));
