// The invitation web tier end to end, as a person and a mail scanner use it:
// a real magiclinkd (SQLite, free port), the example app
// (examples/better-auth-invites: Better Auth on SQLite) and Debian's
// chromium driven by playwright-core. tests/web/run.sh prepares the app's
// node_modules and runs this file with node --test; every process is
// started here and stopped at the end.
//
// Environment (set by run.sh):
//   MAGICLINKD            the magiclinkd binary
//   INVITES_APP_DIR       examples/better-auth-invites, its node_modules installed
//   SCREENSHOT_DIR        where the landing, signed-in and already-used PNGs go
//   CHROMIUM              optional, default /usr/bin/chromium
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

const APP_DIR = process.env.INVITES_APP_DIR;
const MAGICLINKD = process.env.MAGICLINKD;
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
for (const [name, value] of Object.entries({ INVITES_APP_DIR: APP_DIR, MAGICLINKD, SCREENSHOT_DIR })) {
  if (!value) throw new Error(`${name} is not set (run tests/web/run.sh)`);
}

// The example's own modules and packages, from its installed copy.
const appRequire = createRequire(path.join(APP_DIR, 'package.json'));
const { chromium } = appRequire('playwright-core');
const Database = appRequire('better-sqlite3');
const { connectMagiclink } = await import(path.join(APP_DIR, 'src/magiclink.js'));
const { issueInvites } = await import(path.join(APP_DIR, 'src/invite.js'));

// Chromium as this machine runs it: no sandbox as root, and nothing that
// reaches for Google's servers through the closed network. Playwright gives
// every launch a fresh, empty --user-data-dir of its own.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'magiclink-web-'));
const processes = [];
const tokens = [];  // every token issued, to check that no log or page shows one
let inviter;        // magiclink client of the "inviter" caller (issue, revoke, read)
let browser;
let appUrl;
let batch;          // the main invitation batch: ann, bob, carl, dora
let expiring;       // a batch of one link with a one-second ttl: eve

const randomKey = () => crypto.randomBytes(32).toString('base64url');
const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');
const linkOf = (response, email) => response.links.find((l) => l.email === email);

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Starts a process with its output in scratch/<name>.log and waits (bounded)
// until it writes its port to `portFile`.
async function startProcess(name, command, args, env, portFile) {
  const log = fs.openSync(path.join(scratch, `${name}.log`), 'w');
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', log, log] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  processes.push({ name, child, exited });
  for (let i = 0; i < 300; i++) {
    const text = fs.existsSync(portFile) ? fs.readFileSync(portFile, 'utf8').trim() : '';
    if (/^\d+$/.test(text)) return Number(text);
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} did not start:\n${redact(readLog(name))}`);
}

// A form POST with exactly these headers (fetch would add Fetch Metadata).
function postForm(url, form, headers = {}) {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: {
      'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body), ...headers,
    } }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode, location: response.headers.location }));
    });
    request.once('error', reject);
    request.end(body);
  });
}

const readLog = (name) => fs.readFileSync(path.join(scratch, `${name}.log`), 'utf8');
const redact = (text) => text.replace(/[A-Za-z0-9_-]{43}/g, '<redacted>');

async function linkState(batchId, email) {
  const page = await inviter.listLinks({ batch_id: batchId, page_size: 100 });
  return page.links.find((l) => l.email === email).state;
}

// A browser context of its own (cookies, storage) and one page in it, which
// records the status of every page it navigates to.
async function newBrowserPage() {
  const context = await browser.newContext({ viewport: { width: 900, height: 560 } });
  context.setDefaultTimeout(10000);
  const page = await context.newPage();
  page.navigations = [];
  page.on('response', (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) {
      page.navigations.push({ url: new URL(r.url()).pathname, status: r.status() });
    }
  });
  return { context, page };
}

async function sessionOf(context) {
  const response = await context.request.get(`${appUrl}/api/auth/get-session`);
  assert.equal(response.status(), 200);
  return response.json();
}

function sessionsInDatabase(email) {
  const db = new Database(path.join(scratch, 'auth.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT count(*) AS n FROM session JOIN user ON user.id = session.userId WHERE user.email = ?')
      .get(email).n;
  } finally {
    db.close();
  }
}

async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, name);
  await page.screenshot({ path: file });
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.subarray(1, 4).toString(), 'PNG', `${file} is a PNG`);
  console.log(`screenshot: ${file}`);
}

// The page shows this problem (h1 id), says what to do next, and holds no token.
async function expectProblem(page, id, status) {
  await assert.doesNotReject(page.locator(`h1#problem-${id}`).waitFor({ timeout: 5000 }), `page ${id}`);
  assert.match(await page.locator('.next').innerText(), /What to do next:/);
  assert.equal(page.navigations.at(-1).status, status);
  const html = await page.content();
  for (const token of tokens) assert.ok(!html.includes(token), 'a problem page shows a token');
}

before(async () => {
  const webKey = randomKey();
  const inviterKey = randomKey();
  const appPort = await freePort();
  appUrl = `http://127.0.0.1:${appPort}`;
  // Least privilege, as docs/security.md recommends: the web tier may only
  // verify invites, the inviter only issue, revoke and read.
  const config = {
    allowed_redirect_prefixes: [`${appUrl}/welcome`],
    callers: [
      { name: 'web', api_key_sha256: [sha256(webKey)], scopes: ['verify'], allowed_purposes: ['invite'] },
      { name: 'inviter', api_key_sha256: [sha256(inviterKey)], scopes: ['issue', 'revoke', 'read'] },
    ],
  };
  fs.writeFileSync(path.join(scratch, 'magiclinkd.json'), JSON.stringify(config), { mode: 0o600 });
  const magiclinkPort = await startProcess('magiclinkd', MAGICLINKD, [
    `--config=${path.join(scratch, 'magiclinkd.json')}`, `--data_dir=${path.join(scratch, 'data')}`,
    '--listen=127.0.0.1:0', `--port_file=${path.join(scratch, 'magiclinkd.port')}`,
  ], {}, path.join(scratch, 'magiclinkd.port'));
  const magiclinkAddress = `127.0.0.1:${magiclinkPort}`;

  await startProcess('app', process.execPath, [path.join(APP_DIR, 'src/server.js')], {
    HOST: '127.0.0.1', PORT: String(appPort), APP_URL: appUrl, BETTER_AUTH_SECRET: randomKey(),
    AUTH_DATABASE: path.join(scratch, 'auth.sqlite'), MAGICLINK_ADDRESS: magiclinkAddress,
    MAGICLINK_API_KEY: webKey, PORT_FILE: path.join(scratch, 'app.port'),
  }, path.join(scratch, 'app.port'));

  inviter = connectMagiclink({ address: magiclinkAddress, apiKey: inviterKey });
  // The expiring link first, so that it has expired by the time case 5 runs.
  expiring = await issueInvites({ magiclink: inviter, csvText: 'email\neve@example.com\n', appUrl, ttlSeconds: 1 });
  batch = await issueInvites({
    magiclink: inviter, appUrl, requestId: 'web-tier-test',
    csvText: 'email,name\nann@example.com,Ann\nbob@example.com,Bob\ncarl@example.com,Carl\ndora@example.com,Dora\n',
  });
  for (const link of [...expiring.links, ...batch.links]) tokens.push(link.token);
  assert.ok(linkOf(batch, 'ann@example.com').url.startsWith(`${appUrl}/welcome?token=`));

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, chromiumSandbox: false });
});

after(async () => {
  await browser?.close();
  inviter?.close();
  const failures = [];
  for (const { name, child, exited } of processes.reverse()) {
    if (child.exitCode === null) child.kill('SIGTERM');
    const { code, signal } = await exited;
    if (code !== 0) failures.push(`${name} exited with ${code ?? signal}`);
  }
  // No token in any log.
  for (const { name } of processes) {
    const log = readLog(name);
    for (const token of tokens) if (log.includes(token)) failures.push(`a token appears in ${name}.log`);
  }
  if (failures.length) {
    for (const { name } of processes) console.log(`--- ${name}.log\n${redact(readLog(name))}`);
    fs.rmSync(scratch, { recursive: true, force: true });
    throw new Error(failures.join('; '));
  }
  fs.rmSync(scratch, { recursive: true, force: true });
});

let annContext;  // the browser that accepted Ann's invitation (cases 1-3)
let annPage;

test('1. a mail scanner GETs and HEADs the link (and forged POSTs fail); the token stays outstanding and the browser sees the accept page',
  async () => {
    const link = linkOf(batch, 'ann@example.com');
    // A scanner: plain HTTP, no cookies, no JavaScript, following nothing.
    const get = await fetch(link.url, { redirect: 'manual' });
    assert.equal(get.status, 200);
    const html = await get.text();
    assert.match(html, /Accept the invitation for <span class="email">ann@example.com<\/span>/);
    const head = await fetch(link.url, { method: 'HEAD', redirect: 'manual' });
    assert.equal(head.status, 200);
    // Forged accepts: another site's form (Better Auth refuses the cross-site
    // navigation) and a POST without this browser's cookie (no CSRF match).
    const accept = `${appUrl}/api/auth/invite/accept`;
    const form = { token: link.token, csrf: 'forged' };
    const crossSite = await postForm(accept, form,
      { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate' });
    assert.equal(crossSite.status, 403);
    const noCookie = await postForm(accept, form);
    assert.deepEqual(noCookie, { status: 302, location: '/welcome/problem?reason=FORM_EXPIRED' });
    assert.equal(await linkState(batch.batch_id, 'ann@example.com'), 'OUTSTANDING');

    ({ context: annContext, page: annPage } = await newBrowserPage());
    await annPage.goto(link.url);
    assert.equal(await annPage.locator('h1').innerText(), 'Accept the invitation for ann@example.com');
    assert.equal(await linkState(batch.batch_id, 'ann@example.com'), 'OUTSTANDING');
    assert.equal(sessionsInDatabase('ann@example.com'), 0);
    await screenshot(annPage, 'web-tier-landing.png');
  });

test('2. accepting signs the invitee in: the signed-in page shows the email and Better Auth has the session',
  async () => {
    await Promise.all([annPage.waitForURL(`${appUrl}/home`), annPage.click('#accept')]);
    assert.equal(await annPage.locator('#signed-in-email').innerText(), 'ann@example.com');
    const session = await sessionOf(annContext);
    assert.equal(session?.user?.email, 'ann@example.com');
    assert.equal(session.user.name, 'Ann');
    assert.equal(session.user.emailVerified, true);
    assert.equal(sessionsInDatabase('ann@example.com'), 1);
    assert.equal(await linkState(batch.batch_id, 'ann@example.com'), 'CONSUMED');
    await screenshot(annPage, 'web-tier-signed-in.png');
  });

test('3. a double submit and back + resubmit from the same browser stay signed in, with no error page',
  async () => {
    // Back to Ann's landing page, then the form again: within the grace
    // window her browser's consume_key gets the original success.
    await annPage.goBack();
    assert.equal(new URL(annPage.url()).pathname, '/welcome');
    assert.equal(await annPage.locator('h1').innerText(), 'You accepted the invitation for ann@example.com');
    await Promise.all([annPage.waitForURL(`${appUrl}/home`), annPage.click('#accept')]);
    assert.equal(await annPage.locator('#signed-in-email').innerText(), 'ann@example.com');
    assert.equal((await sessionOf(annContext))?.user?.email, 'ann@example.com');

    // Bob double-clicks: two POSTs of his form race, sent with his browser's
    // cookies (the context's request client shares its cookie jar), then the
    // page itself submits the form twice in a row.
    const { context, page } = await newBrowserPage();
    await page.goto(linkOf(batch, 'bob@example.com').url);
    const form = {
      token: await page.locator('input[name=token]').inputValue(),
      csrf: await page.locator('input[name=csrf]').inputValue(),
    };
    const racing = await Promise.all([1, 2].map(() => context.request.post(`${appUrl}/api/auth/invite/accept`,
      { form, headers: { Origin: appUrl }, maxRedirects: 0 })));
    assert.deepEqual(racing.map((r) => [r.status(), r.headers().location]), [[302, '/home'], [302, '/home']]);
    await Promise.all([
      page.waitForURL(`${appUrl}/home`),
      // Submitted after evaluate returns, so the navigation cannot cut it short.
      page.evaluate(() => setTimeout(() => {
        const form = document.querySelector('form');
        form.requestSubmit();
        form.requestSubmit();
      }, 0)),
    ]);
    assert.equal(await page.locator('#signed-in-email').innerText(), 'bob@example.com');
    assert.equal((await sessionOf(context))?.user?.email, 'bob@example.com');
    for (const p of [annPage, page]) {
      const errors = p.navigations.filter((n) => n.status >= 400 || n.url.startsWith('/welcome/problem'));
      assert.deepEqual(errors, [], 'no error page on the way');
    }
    // One user per invitee however many accepts raced.
    const db = new Database(path.join(scratch, 'auth.sqlite'), { readonly: true });
    assert.equal(db.prepare("SELECT count(*) AS n FROM user WHERE email = 'bob@example.com'").get().n, 1);
    db.close();
    assert.equal(await linkState(batch.batch_id, 'bob@example.com'), 'CONSUMED');
    await context.close();
  });

test('4. the used link in a fresh browser shows "already used" and signs no one in', async () => {
  const { context, page } = await newBrowserPage();
  const sessionsBefore = sessionsInDatabase('ann@example.com');
  await page.goto(linkOf(batch, 'ann@example.com').url);
  await expectProblem(page, 'already-used', 410);
  assert.equal(await sessionOf(context), null);
  assert.equal(sessionsInDatabase('ann@example.com'), sessionsBefore);
  await screenshot(page, 'web-tier-already-used.png');
  await context.close();
});

test('5. revoked, expired and tampered links show their own pages', async () => {
  const { context, page } = await newBrowserPage();

  const carl = linkOf(batch, 'carl@example.com');
  assert.equal((await inviter.revoke({ token: carl.token })).revoked_count, '1');
  await page.goto(carl.url);
  await expectProblem(page, 'revoked', 410);

  // Eve's link had a one-second ttl: wait (bounded) until magiclink itself
  // says it is expired, then open it.
  const eve = expiring.links[0];
  for (let i = 0; i < 50 && (await linkState(expiring.batch_id, 'eve@example.com')) !== 'EXPIRED'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(await linkState(expiring.batch_id, 'eve@example.com'), 'EXPIRED');
  await page.goto(eve.url);
  await expectProblem(page, 'expired', 410);

  // Dora's token with one character changed, and a token cut short.
  const dora = linkOf(batch, 'dora@example.com');
  const last = dora.token.at(-1);
  const tampered = dora.token.slice(0, -1) + (last === 'A' ? 'B' : 'A');
  await page.goto(`${appUrl}/welcome?token=${tampered}`);
  await expectProblem(page, 'unknown', 404);
  assert.ok(!(await page.content()).includes(tampered));
  await page.goto(`${appUrl}/welcome?token=${dora.token.slice(0, 20)}`);
  await expectProblem(page, 'unknown', 404);
  assert.equal(await linkState(batch.batch_id, 'dora@example.com'), 'OUTSTANDING');

  assert.equal(await sessionOf(context), null);
  await context.close();
});

test('6. the screenshots of the landing, signed-in and already-used pages were written', () => {
  for (const name of ['web-tier-landing.png', 'web-tier-signed-in.png', 'web-tier-already-used.png']) {
    const file = path.join(SCREENSHOT_DIR, name);
    assert.ok(fs.statSync(file).size > 1000, `${file} has content`);
  }
});
