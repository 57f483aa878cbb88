// The invitation web tier: Better Auth for sessions, magiclink for the links.
//
//   GET  /welcome?token=...        landing page: Verify PEEK, then a button (never consumes)
//   POST /api/auth/invite/accept   the plugin: Verify CONSUME, session, redirect to /home
//   GET  /welcome/problem?reason=  what went wrong and what to do next
//   GET  /home                     the signed-in page
//   *    /api/auth/*               Better Auth
//
// Configuration (environment):
//   BETTER_AUTH_SECRET   required, at least 32 characters
//   APP_URL              the app's public origin (default http://localhost:$PORT)
//   HOST, PORT           where to listen (default 127.0.0.1:3000; PORT=0 picks a free port)
//   AUTH_DATABASE        Better Auth's SQLite file (default ./data/auth.sqlite)
//   MAGICLINK_ADDRESS    magiclinkd (default 127.0.0.1:50051)
//   MAGICLINK_API_KEY    a key of a magiclink caller with the verify scope
//   MAGICLINK_PROTO_DIR  the repository's proto/ (default: found from this file)
//   PORT_FILE            optional: the bound port is written there once listening
import fs from 'node:fs';
import http from 'node:http';
import { toNodeHandler, fromNodeHeaders } from 'better-auth/node';
import { createAuth, inviteSecret } from './auth.js';
import { browserIdFromCookies, consumeKey, csrfToken, newBrowserId } from './browser-key.js';
import { connectMagiclink, errorReason } from './magiclink.js';
import { indexPage, landingPage, notSignedInPage, problemFor, problemPage, signedInPage } from './pages.js';

const PURPOSE = 'invite';

function send(res, status, html, extraHeaders = {}) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    // The landing page's URL holds the token: never cache it, never send it
    // on as a Referer.
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    ...extraHeaders,
  });
  res.end(html);
}

export async function startServer(env = process.env) {
  const secret = env.BETTER_AUTH_SECRET;
  if (!secret || secret.length < 32) throw new Error('BETTER_AUTH_SECRET must be at least 32 characters');
  const host = env.HOST || '127.0.0.1';
  const port = Number(env.PORT ?? 3000);
  const baseURL = env.APP_URL || `http://localhost:${port}`;
  const secureCookies = baseURL.startsWith('https:');
  const magiclink = connectMagiclink({
    address: env.MAGICLINK_ADDRESS || '127.0.0.1:50051',
    apiKey: env.MAGICLINK_API_KEY,
    protoDir: env.MAGICLINK_PROTO_DIR,
  });
  const { auth } = await createAuth({
    baseURL, secret, databasePath: env.AUTH_DATABASE || 'data/auth.sqlite', magiclink,
  });
  const keySecret = inviteSecret(secret);
  const authHandler = toNodeHandler(auth);

  const sessionOf = (req) => auth.api.getSession({ headers: fromNodeHeaders(req.headers) });

  // GET (and HEAD) /welcome?token=...: PEEK only. Mail scanners and link
  // previews fetch every link; they see this page, and the token stays
  // unused until a person presses the button.
  async function welcome(req, res, url) {
    let browserId = browserIdFromCookies(req.headers.cookie);
    const headers = {};
    if (!browserId) {
      const fresh = newBrowserId({ secure: secureCookies });
      browserId = fresh.id;
      headers['Set-Cookie'] = fresh.cookie;
    }
    const token = url.searchParams.get('token') || '';
    let claims;
    try {
      // The consume_key lets this browser see the invitation it accepted a
      // moment ago (back button) within the grace window; others get
      // TOKEN_ALREADY_USED.
      claims = await magiclink.verify({
        token, mode: 'PEEK', expected_purpose: PURPOSE, consume_key: consumeKey(keySecret, browserId),
      });
    } catch (error) {
      const reason = errorReason(error);
      const session = await sessionOf(req).catch(() => null);
      return send(res, problemFor(reason).status,
        problemPage(reason, { signedInEmail: session?.user?.email }), headers);
    }
    send(res, 200, landingPage({
      email: claims.email, token, csrf: csrfToken(keySecret, browserId),
      acceptedHere: Boolean(claims.consumed_at),
    }), headers);
  }

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, baseURL);
      if (url.pathname.startsWith('/api/auth/')) return await authHandler(req, res);
      const isGet = req.method === 'GET' || req.method === 'HEAD';
      if (!isGet) return send(res, 405, problemPage('METHOD_NOT_ALLOWED'), { Allow: 'GET, HEAD' });
      switch (url.pathname) {
        case '/':
          return send(res, 200, indexPage());
        case '/welcome':
          return await welcome(req, res, url);
        case '/welcome/problem': {
          const reason = url.searchParams.get('reason') || '';
          const session = await sessionOf(req).catch(() => null);
          return send(res, problemFor(reason).status,
            problemPage(reason, { signedInEmail: session?.user?.email }));
        }
        case '/home': {
          const session = await sessionOf(req);
          if (!session) return send(res, 401, notSignedInPage());
          return send(res, 200, signedInPage({ email: session.user.email }));
        }
        default:
          return send(res, 404, notSignedInPage());
      }
    } catch (error) {
      // The message only: an error object may hold the request, and with it a token.
      console.error(`request failed: ${error?.name}: ${errorReason(error)}`);
      if (!res.headersSent) send(res, 500, problemPage('INTERNAL'));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const bound = server.address().port;
  if (env.PORT_FILE) fs.writeFileSync(env.PORT_FILE, `${bound}\n`);
  console.error(`invites app listening on http://${host}:${bound} (public URL ${baseURL})`);
  const close = () => new Promise((resolve) => {
    server.close(() => { magiclink.close(); resolve(); });
    server.closeAllConnections();
  });
  return { server, port: bound, close };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = await startServer();
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, async () => { await app.close(); process.exit(0); });
  }
}
