#!/usr/bin/env node
// Checks the grpcurl stand-in (grpcurl.js) against the transcript of the real
// grpcurl v1.8.7 (tests/interop/grpcurl-reference.md) on a live magiclinkd
// without callers:
//
// 1. Each command of the transcript runs, in order, through the stand-in (with
//    the few set-up calls the transcript leaves out: consume the token the
//    failing Verify names, issue and consume the one-link batch GetBatch and
//    ListLinks show). Outputs must equal the transcript's once tokens, batch
//    ids and times are normalised, and so must the exit statuses. The two
//    error cases must print their details *decoded*: the transcript was
//    recorded when reflection did not serve google/rpc/error_details.proto,
//    so there they read "is not recognized"; the decoded lines below are what
//    grpcurl prints when it can decode them (compact, keys sorted).
// 2. Without the descriptor (a resolver that fails, as protoreflect's did
//    against the old server), the stand-in turns the transcript's own detail
//    bytes into exactly the transcript's text; with the descriptors the live
//    server's reflection serves, into the decoded lines.
//
//   node grpcurl_reference_test.js HOST:PORT REFERENCE.md [TOKENS_FILE]
// Issued tokens are appended to TOKENS_FILE (run.sh checks no log has one).
'use strict';

const assert = require('assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const { Formatter, Reflector, STATUS_TYPE, statusText } = require('./grpcurl.js');

const [address, referencePath, tokensFile] = process.argv.slice(2);
const standIn = path.join(__dirname, 'grpcurl.js');

const DECODED = {
  TOKEN_ALREADY_USED:
    '{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"magiclink.v1",' +
    '"reason":"TOKEN_ALREADY_USED"}',
  INVALID_REQUEST:
    '{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"magiclink.v1",' +
    '"reason":"INVALID_REQUEST"}',
  BAD_REQUEST:
    '{"@type":"type.googleapis.com/google.rpc.BadRequest","field_violations":[' +
    '{"field":"recipients[0].email","description":"\\"not-an-email\\": the address has no \'@\'"},' +
    '{"field":"recipients[1].email","description":"\\"a@@b\\": the address has more than one \'@\'"}]}',
};

// The transcript's blocks: command arguments, expected output, exit status.
function readReference(file) {
  const blocks = [];
  const text = fs.readFileSync(file, 'utf8');
  for (const match of text.matchAll(/^```\n\$ grpcurl (.*)\n([\s\S]*?)^# exit status (\d+)\n```$/gm)) {
    blocks.push({ args: match[1].split(' '), output: match[2], status: Number(match[3]) });
  }
  return blocks;
}

function normalise(text) {
  return text.replace(/b_[A-Za-z0-9_-]{22}(?![A-Za-z0-9_-])/g, 'b_<id>')
    .replace(/(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g, '<token>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>');
}

function grpcurl(args) {
  const result = spawnSync(process.execPath, [standIn, ...args], { encoding: 'utf8' });
  if (result.error) throw result.error;
  const tokens = result.stdout.match(/"token": "([A-Za-z0-9_-]{43})"/g) || [];
  if (tokensFile && tokens.length) {
    fs.appendFileSync(tokensFile, tokens.map((t) => `${t.slice(-44, -1)}\n`).join(''));
  }
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

function call(method, request) {
  return grpcurl(['-plaintext', '-d', JSON.stringify(request), address,
                  `magiclink.v1.MagicLinkService/${method}`]);
}

function mustSucceed(result, what) {
  assert.strictEqual(result.status, 0, `${what}: exit ${result.status}: ${normalise(result.stderr)}`);
  return JSON.parse(result.stdout);
}

let passed = 0;
function ok(what) {
  passed++;
  console.log(`ok   ${what}`);
}

async function replayTranscript(blocks) {
  assert.strictEqual(blocks.length, 9, 'the reference has nine commands');
  const bound = {};
  // Set-up the transcript does not show, run before the command at an index.
  const setUp = {
    3: () => {  // Verify names a token that was consumed before
      bound.token = bound.issued.links[1].token;
      mustSucceed(call('Verify', { token: bound.token }), 'consume before the second CONSUME');
    },
    5: () => {  // GetBatch and ListLinks show a one-link batch whose link was consumed
      const cy = mustSucceed(call('IssueBatch', {
        recipients: [{ email: 'cy@example.com' }], purpose: 'invite',
        redirect_url: 'http://localhost:3000/welcome' }), 'issue to cy');
      mustSucceed(call('Verify', { token: cy.links[0].token }), 'consume cy');
      bound.batch = cy.batch_id;
    },
    8: () => { bound.batch = bound.issued.batch_id; },  // Revoke the first batch: nothing left
  };
  const decodedDetails = { 3: [DECODED.TOKEN_ALREADY_USED],
                           4: [DECODED.INVALID_REQUEST, DECODED.BAD_REQUEST] };

  for (const [index, block] of blocks.entries()) {
    if (setUp[index]) setUp[index]();
    const args = block.args.map((arg) => arg.replace('localhost:50051', address)
      .replace('<token>', bound.token).replace('b_<id>', bound.batch));
    const what = `grpcurl ${block.args.slice(-1)[0]} (reference command ${index + 1})`;
    const result = grpcurl(args);
    assert.strictEqual(result.status, block.status,
                       `${what}: exit ${result.status}, want ${block.status}: ${normalise(result.stderr)}`);
    if (block.status === 0) {
      assert.strictEqual(result.stderr, '', `${what}: stderr ${result.stderr}`);
      assert.strictEqual(normalise(result.stdout), normalise(block.output), `${what}: stdout`);
      if (index === 2) bound.issued = JSON.parse(result.stdout);
      ok(`${what}: output as the reference, exit 0`);
    } else {
      assert.strictEqual(result.stdout, '', `${what}: stdout ${result.stdout}`);
      const want = block.output.replace(/^( +\d+\)\t).*$/gm, (line, prefix) => {
        const n = Number(prefix.trim().slice(0, -1));
        return `${prefix}${decodedDetails[index][n - 1]}`;
      });
      assert.notStrictEqual(want, block.output, `${what}: the reference has details`);
      assert.strictEqual(result.stderr, want, `${what}: stderr`);
      ok(`${what}: exit ${block.status}, details decoded through reflection`);
    }
  }
}

// The transcript's details (base64 in @value) packed back into a
// google.rpc.Status, as the server sent them.
function statusFromReference(block) {
  const details = [];
  for (const [, json] of block.output.matchAll(/^ +\d+\)\t(.*)$/gm)) {
    const detail = JSON.parse(json);
    details.push({ type_url: detail['@type'], value: Buffer.from(detail['@value'], 'base64') });
  }
  const code = /Code: (\w+)/.exec(block.output)[1] === 'FailedPrecondition' ? 9 : 3;
  const message = /Message: (.*)/.exec(block.output)[1];
  return { code, message,
           bytes: Buffer.from(STATUS_TYPE.encode(STATUS_TYPE.fromObject({ code, message, details }))
             .finish()) };
}

async function checkDetailDecoding(blocks) {
  const reflector = new Reflector(address, grpc.credentials.createInsecure(), new grpc.Metadata());
  const formatter = new Formatter((field) => reflector.jsonNameOf(field), false);
  const withoutDescriptor = async (name) => { throw new Error(`Symbol not found: ${name}`); };
  const cases = [[3, [DECODED.TOKEN_ALREADY_USED]], [4, [DECODED.INVALID_REQUEST, DECODED.BAD_REQUEST]]];
  for (const [index, decoded] of cases) {
    const block = blocks[index];
    const status = statusFromReference(block);
    const unrecognized = await statusText(status.code, status.message, status.bytes,
                                          withoutDescriptor, formatter);
    assert.strictEqual(unrecognized, block.output);
    ok(`reference command ${index + 1}: without the descriptor, the reference's "is not recognized" text`);
    const text = await statusText(status.code, status.message, status.bytes,
                                  (name) => reflector.resolveAnyType(name), formatter);
    const lines = [...text.matchAll(/^ +\d+\)\t(.*)$/gm)].map((m) => m[1]);
    assert.deepStrictEqual(lines, decoded);
    ok(`reference command ${index + 1}: the reference's detail bytes decode through the server's reflection`);
  }
}

async function main() {
  const blocks = readReference(referencePath);
  await replayTranscript(blocks);
  await checkDetailDecoding(blocks);
  console.log(`${passed} passed, 0 failed`);
}

main().then(() => process.exit(0), (error) => {
  console.error(`FAIL ${error.message}`);
  process.exit(1);
});
