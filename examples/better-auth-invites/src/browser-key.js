// The browser's own key for accepting an invitation: a random id in an
// HttpOnly cookie, set when the landing page is first shown. Two values are
// derived from it with HMAC under the app's secret:
//
//   consumeKey  sent to magiclink's Verify as consume_key: a repeated CONSUME
//               from this browser (double click, back + resubmit, a retried
//               request) within the server's grace window gets the original
//               success; any other browser gets TOKEN_ALREADY_USED.
//   csrfToken   a hidden field of the accept form (signed double-submit): a
//               POST is accepted only from a page this app rendered for this
//               browser.
//
// Neither reveals the cookie, and the cookie never leaves this app.
import crypto from 'node:crypto';

export const BROWSER_COOKIE = 'invite_browser';
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function derive(secret, label, browserId) {
  return crypto.createHmac('sha256', secret).update(`${label}\0${browserId}`).digest('base64url');
}

// The browser id from a Cookie header, or null when there is none (or it is
// not one this app could have set).
export function browserIdFromCookies(cookieHeader) {
  for (const part of (cookieHeader || '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === BROWSER_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return ID_PATTERN.test(value) ? value : null;
    }
  }
  return null;
}

// A new random browser id (256 bits) and the Set-Cookie header that keeps it
// for the browser session. SameSite=Lax: a cross-site form POST does not
// carry it, so such a POST can neither pass the CSRF check nor borrow this
// browser's consume_key.
export function newBrowserId({ secure }) {
  const id = crypto.randomBytes(32).toString('base64url');
  const cookie = `${BROWSER_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  return { id, cookie };
}

export function consumeKey(secret, browserId) {
  return derive(secret, 'magiclink-consume-key', browserId);
}

export function csrfToken(secret, browserId) {
  return derive(secret, 'invite-accept-csrf', browserId);
}

// True when `token` is the CSRF token of this browser (constant time).
export function csrfTokenMatches(secret, browserId, token) {
  if (!browserId || typeof token !== 'string') return false;
  const want = Buffer.from(csrfToken(secret, browserId));
  const got = Buffer.from(token);
  return want.length === got.length && crypto.timingSafeEqual(want, got);
}
