// Node.js interop client for magiclink: runs the shared scenario against a
// live server, loading the .proto files with @grpc/proto-loader (no static
// codegen). tests/interop/run.sh runs it as:
//
//   node interop_client.js <stubs>/node/proto 127.0.0.1:PORT
//
// Environment: MAGICLINK_API_KEY (optional; sent as "authorization: Bearer
// <key>"), MAGICLINK_TOKENS_FILE (optional; issued tokens are appended there,
// never printed, so the driver can check no log contains them).
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const ERROR_DOMAIN = 'magiclink.v1';
const REDIRECT_URL = 'http://localhost:3000/welcome';
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const DEADLINE_MS = 10000;

class Mismatch extends Error {}

function expect(ok, what) {
  if (!ok) throw new Mismatch(what);
  console.log(`ok   ${what}`);
}

// Metadata for every call: the API key when one is configured.
function callMetadata() {
  const metadata = new grpc.Metadata();
  const key = process.env.MAGICLINK_API_KEY;
  if (key) metadata.set('authorization', `Bearer ${key}`);
  return metadata;
}

// Promisified unary call with a deadline.
function call(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, callMetadata(), { deadline: Date.now() + DEADLINE_MS },
      (error, response) => (error ? reject(error) : resolve(response)));
  });
}

// Decodes the single google.rpc.ErrorInfo from grpc-status-details-bin.
function errorInfo(rpcTypes, error) {
  const [details] = error.metadata ? error.metadata.get('grpc-status-details-bin') : [];
  if (!details) throw new Mismatch(`${error.code} without grpc-status-details-bin`);
  const status = rpcTypes.Status.decode(details);
  const infos = status.details.filter(
    (any) => any.type_url === 'type.googleapis.com/google.rpc.ErrorInfo');
  if (infos.length !== 1) throw new Mismatch(`expected exactly one ErrorInfo, got ${infos.length}`);
  if (status.code !== error.code) {
    throw new Mismatch(`google.rpc.Status code ${status.code} != grpc status ${error.code}`);
  }
  return rpcTypes.ErrorInfo.decode(infos[0].value);
}

async function expectError(rpcTypes, promise, code, reason, what) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  if (!error) throw new Mismatch(`${what}: succeeded, expected ${grpc.status[code]} ${reason}`);
  if (error instanceof Mismatch) throw error;
  const info = errorInfo(rpcTypes, error);
  if (error.code !== code || info.domain !== ERROR_DOMAIN || info.reason !== reason) {
    throw new Mismatch(`${what}: expected ${grpc.status[code]} ${ERROR_DOMAIN}/${reason}, ` +
                       `got ${grpc.status[error.code]} ${info.domain}/${info.reason}`);
  }
  console.log(`ok   ${what}: ${grpc.status[code]} ${reason}`);
}

function seconds(timestamp) {
  return Number(timestamp.seconds);
}

async function run(protoDir, target) {
  const loaderOptions = { keepCase: true, longs: String, enums: String, defaults: false,
                          oneofs: true, includeDirs: [protoDir] };
  const definition = protoLoader.loadSync(
    ['magiclink/v1/magic_link_service.proto', 'grpc/health/v1/health.proto'], loaderOptions);
  const loaded = grpc.loadPackageDefinition(definition);
  const rpcRoot = new protobuf.Root();
  rpcRoot.resolvePath = (_origin, target) => path.join(protoDir, target);
  rpcRoot.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto',
                    'magiclink/v1/magic_link_service.proto'], { keepCase: true });
  const rpcTypes = { Status: rpcRoot.lookupType('google.rpc.Status'),
                     ErrorInfo: rpcRoot.lookupType('google.rpc.ErrorInfo') };
  // The reasons are the names of magiclink.v1.ErrorReason's values.
  const ErrorReason = rpcRoot.lookupEnum('magiclink.v1.ErrorReason');
  const reason = (value) => ErrorReason.valuesById[value];

  const credentials = grpc.credentials.createInsecure();
  const health = new loaded.grpc.health.v1.Health(target, credentials);
  const client = new loaded.magiclink.v1.MagicLinkService(target, credentials);
  try {
    const checked = await call(health, 'Check', {});
    expect(checked.status === 'SERVING', 'health: SERVING');

    const issued = await call(client, 'IssueBatch', {
      recipients: [{ email: 'ada@example.com', metadata: { name: 'Ada' } },
                   { email: ' Grace@Example.COM ' }],
      purpose: 'invite',
      ttl: { seconds: 3600 },
      redirect_url: REDIRECT_URL,
      metadata: { team: 'interop' },
    });
    const tokens = issued.links.map((link) => link.token);
    if (process.env.MAGICLINK_TOKENS_FILE) {
      fs.appendFileSync(process.env.MAGICLINK_TOKENS_FILE, tokens.join('\n') + '\n', { mode: 0o600 });
    }
    expect(issued.batch_id !== '', 'issue: batch_id set');
    expect(JSON.stringify(issued.links.map((link) => link.email)) ===
           JSON.stringify(['ada@example.com', 'Grace@example.com']),
           'issue: two links, request order, normalised emails');
    expect(tokens.every((t) => TOKEN_PATTERN.test(t)) && tokens[0] !== tokens[1],
           'issue: tokens are 43 distinct URL-safe characters');
    expect(issued.links.every((link) => link.url.startsWith(`${REDIRECT_URL}?`) &&
                                        link.url.includes(`token=${link.token}`)),
           'issue: url is redirect_url with the token');

    const peek = await call(client, 'Verify', { token: tokens[0], mode: 'PEEK' });
    expect(peek.email === 'ada@example.com' && peek.purpose === 'invite' &&
           peek.batch_id === issued.batch_id && peek.redirect_url === REDIRECT_URL, 'peek: claims');
    expect(JSON.stringify(Object.entries(peek.metadata).sort()) ===
           JSON.stringify([['name', 'Ada'], ['team', 'interop']]),
           'peek: batch metadata merged with recipient metadata');
    expect(seconds(peek.expires_at) - seconds(peek.issued_at) === 3600, 'peek: ttl 3600s');
    expect(!peek.consumed_at, 'peek: not consumed');

    const consumed = await call(client, 'Verify',
                                { token: tokens[0], mode: 'CONSUME', expected_purpose: 'invite' });
    expect(consumed.email === 'ada@example.com' && !!consumed.consumed_at,
           'consume: claims with consumed_at');

    await expectError(rpcTypes, call(client, 'Verify', { token: tokens[0] }),
                      grpc.status.FAILED_PRECONDITION, reason(ErrorReason.values.TOKEN_ALREADY_USED), 'consume again');

    const revoked = await call(client, 'Revoke', { token: tokens[1] });
    expect(revoked.revoked_count === '1', 'revoke: one token revoked');
    await expectError(rpcTypes, call(client, 'Verify', { token: tokens[1] }),
                      grpc.status.FAILED_PRECONDITION, reason(ErrorReason.values.TOKEN_REVOKED), 'verify revoked');

    const batch = await call(client, 'GetBatch', { batch_id: issued.batch_id });
    expect(Number(batch.total) === 2 && Number(batch.outstanding || 0) === 0 &&
           Number(batch.consumed) === 1 && Number(batch.revoked) === 1,
           'get batch: total 2, consumed 1, revoked 1');
  } finally {
    health.close();
    client.close();
  }
}

async function main() {
  if (process.argv.length !== 4) {
    console.error('usage: node interop_client.js PROTO_DIR HOST:PORT');
    return 2;
  }
  try {
    await run(process.argv[2], process.argv[3]);
  } catch (e) {
    if (e instanceof Mismatch) {
      console.error(`FAIL ${e.message}`);
    } else if (e.code !== undefined && e.details !== undefined) {
      console.error(`FAIL unexpected ${grpc.status[e.code]}: ${e.details}`);
    } else {
      console.error(`FAIL ${e.stack || e}`);
    }
    return 1;
  }
  console.log('node interop: all checks passed');
  return 0;
}

main().then((code) => { process.exitCode = code; });
