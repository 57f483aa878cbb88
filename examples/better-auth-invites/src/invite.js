// Issues invitation links for a CSV of addresses with one IssueBatch call.
//
//   MAGICLINK_API_KEY=... node src/invite.js --csv invites.csv --out links.jsonl \
//       [--app-url http://localhost:3000] [--request-id spring-invites] [--ttl-hours 168]
//
// The CSV has a header row with an `email` column; other columns (e.g. `name`)
// become per-recipient metadata, which the app uses (`name` becomes the new
// user's name). Every link opens <app-url>/welcome?token=... .
//
// It mails nothing and prints no link: the links (email, url, expires_at) go
// to --out as JSON lines, created with mode 0600, for whatever sends the mail
// (magiclinkctl's --format=resend is the documented way to build Resend batch
// payloads). The request_id (default: derived from the CSV's content) makes a
// re-run of the same file return the same links instead of a second set.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { connectMagiclink, errorReason } from './magiclink.js';

// Parses CSV text (RFC 4180: quoted fields, "" inside quotes, CRLF or LF).
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += c;
  }
  if (quoted) throw new Error('CSV: unterminated quoted field');
  row.push(field);
  if (row.length > 1 || row[0] !== '') rows.push(row);
  return rows;
}

// The IssueBatch recipients of a CSV with a header row and an `email` column.
export function recipientsFromCsv(text) {
  const [header, ...rows] = parseCsv(text);
  const columns = (header || []).map((h) => h.trim().toLowerCase());
  const emailAt = columns.indexOf('email');
  if (emailAt < 0) throw new Error('CSV: the header row needs an "email" column');
  return rows.map((cells, line) => {
    if (cells.length !== columns.length) {
      throw new Error(`CSV line ${line + 2}: ${cells.length} fields, the header has ${columns.length}`);
    }
    const metadata = {};
    columns.forEach((name, i) => { if (i !== emailAt && cells[i] !== '') metadata[name] = cells[i]; });
    return { email: cells[emailAt].trim(), metadata };
  });
}

// Asks magiclink for one invite link per CSV row, all or none. Returns the
// IssueBatch response (batch_id, links with tokens: handle with care).
export async function issueInvites({ magiclink, csvText, appUrl, requestId, ttlSeconds }) {
  const recipients = recipientsFromCsv(csvText);
  if (recipients.length === 0) throw new Error('CSV: no recipients');
  return magiclink.issueBatch({
    recipients,
    purpose: 'invite',
    redirect_url: new URL('/welcome', appUrl).toString(),
    ttl: { seconds: String(ttlSeconds ?? 7 * 24 * 3600) },
    request_id: requestId ||
      `invites-${crypto.createHash('sha256').update(csvText).digest('hex').slice(0, 32)}`,
  });
}

async function main() {
  const { values } = parseArgs({
    options: {
      csv: { type: 'string' }, out: { type: 'string' }, 'app-url': { type: 'string' },
      'request-id': { type: 'string' }, 'ttl-hours': { type: 'string' },
    },
  });
  if (!values.csv || !values.out) {
    console.error('usage: node src/invite.js --csv FILE --out LINKS.jsonl [--app-url URL] ' +
                  '[--request-id ID] [--ttl-hours N]');
    process.exit(1);
  }
  const magiclink = connectMagiclink({
    address: process.env.MAGICLINK_ADDRESS || '127.0.0.1:50051', apiKey: process.env.MAGICLINK_API_KEY,
    deadlineMs: 30000,
  });
  let out;
  try {
    // Opened first, so that an existing file stops the run before any link is issued.
    out = fs.openSync(values.out, 'wx', 0o600);
    const response = await issueInvites({
      magiclink,
      csvText: fs.readFileSync(values.csv, 'utf8'),
      appUrl: values['app-url'] || 'http://localhost:3000',
      requestId: values['request-id'],
      ttlSeconds: values['ttl-hours'] ? Math.round(Number(values['ttl-hours']) * 3600) : undefined,
    });
    const lines = response.links.map((l) => JSON.stringify({
      email: l.email, url: l.url, expires_at: new Date(Number(l.expires_at.seconds) * 1000).toISOString(),
    }));
    fs.writeFileSync(out, lines.map((l) => `${l}\n`).join(''));
    console.error(`batch ${response.batch_id}: ${response.links.length} links written to ${values.out}` +
                  `${response.replayed ? ' (replayed: the same links as the first run)' : ''}`);
  } catch (error) {
    // A gRPC error's details name the field and recipient (never a token).
    console.error(`invite: ${error.metadata ? `${errorReason(error)}: ${error.details}` : error.message}`);
    process.exitCode = 1;
  } finally {
    if (out !== undefined) fs.closeSync(out);
    if (process.exitCode && out !== undefined) fs.rmSync(values.out, { force: true });
    magiclink.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
