// The app's HTML pages. Every dynamic value goes through escapeHtml; no page
// shows a token, and the only one that holds it (the landing page's form)
// keeps it in a hidden field.
import { FORM_EXPIRED } from './invite-plugin.js';

export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function layout(title, body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; background: #f4f5f7; color: #1d2330; margin: 0; }
  main { max-width: 34rem; margin: 4rem auto; background: #fff; border-radius: 12px; padding: 2rem 2.5rem;
         box-shadow: 0 1px 3px rgba(0, 0, 0, .12); }
  h1 { font-size: 1.5rem; margin-top: 0; }
  .email { font-weight: 600; }
  button { font: inherit; font-weight: 600; color: #fff; background: #2456d3; border: 0; border-radius: 8px;
           padding: .7rem 1.4rem; cursor: pointer; }
  .muted { color: #5b6475; font-size: .9rem; }
  .next { background: #f4f5f7; border-radius: 8px; padding: .75rem 1rem; }
</style>
</head>
<body><main>
${body}
</main></body>
</html>
`;
}

// GET /welcome with a valid link: what the invitation is for and one button.
// `acceptedHere` is true when this browser already accepted it within the
// grace window (it came back, e.g. with the back button).
export function landingPage({ email, token, csrf, acceptedHere }) {
  const heading = acceptedHere
    ? `You accepted the invitation for <span class="email">${escapeHtml(email)}</span>`
    : `Accept the invitation for <span class="email">${escapeHtml(email)}</span>`;
  return layout('Accept your invitation', `<h1>${heading}</h1>
<p>${acceptedHere ? 'Continue to your account.' : 'Accepting signs you in. Nothing happens until you press the button.'}</p>
<form method="post" action="/api/auth/invite/accept">
  <input type="hidden" name="token" value="${escapeHtml(token)}">
  <input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
  <button type="submit" id="accept">${acceptedHere ? 'Continue' : 'Accept invitation'}</button>
</form>
<p class="muted">Not ${escapeHtml(email)}? Close this page; the invitation stays unused.</p>`);
}

// GET /home for a signed-in browser.
export function signedInPage({ email }) {
  return layout('Welcome', `<h1>Welcome!</h1>
<p>You are signed in as <span class="email" id="signed-in-email">${escapeHtml(email)}</span>.</p>
<p class="muted">Your invitation is used up; next time, sign in the way your team set up.</p>`);
}

export function notSignedInPage() {
  return layout('Not signed in', `<h1>You are not signed in</h1>
<p class="next">Open the invitation link from your email to accept it and sign in.</p>`);
}

// One page per ErrorInfo reason: what happened and what to do next.
const PROBLEMS = {
  TOKEN_ALREADY_USED: {
    status: 410, id: 'already-used', title: 'This invitation has already been used',
    text: 'Each invitation link works once, and this one has been accepted.',
    next: 'If you accepted it yourself, you are already set up: sign in as usual. If you did not, ' +
          'ask the person who invited you for a new invitation.',
  },
  TOKEN_EXPIRED: {
    status: 410, id: 'expired', title: 'This invitation has expired',
    text: 'Invitation links stop working after a while to keep your account safe.',
    next: 'Ask the person who invited you to send a new invitation.',
  },
  TOKEN_REVOKED: {
    status: 410, id: 'revoked', title: 'This invitation was withdrawn',
    text: 'The sender cancelled this invitation, often because a newer one replaced it.',
    next: 'Look for a newer invitation in your inbox, or ask the person who invited you.',
  },
  TOKEN_NOT_FOUND: {
    status: 404, id: 'unknown', title: 'We do not recognise this link',
    text: 'The link may be incomplete: some mail programs break long links across lines.',
    next: 'Open the link straight from the email, or copy all of it into the address bar. If it still ' +
          'does not work, ask for a new invitation.',
  },
  [FORM_EXPIRED]: {
    status: 403, id: 'form-expired', title: 'Please open your invitation again',
    text: 'We could not confirm that this request came from the invitation page in this browser ' +
          '(cookies may be blocked, or the page was open for too long).',
    next: 'Open the invitation link from your email again and press the button. Your invitation is unused.',
  },
  UNAVAILABLE: {
    status: 503, id: 'unavailable', title: 'We cannot check your invitation right now',
    text: 'Something on our side is temporarily unavailable. Your invitation has not been used.',
    next: 'Try the link again in a minute.',
  },
};
// A malformed token (INVALID_REQUEST) or one for another purpose is, to the
// person holding it, a link we do not recognise.
const ALIASES = { INVALID_REQUEST: 'TOKEN_NOT_FOUND', PURPOSE_MISMATCH: 'TOKEN_NOT_FOUND',
                  DEADLINE_EXCEEDED: 'UNAVAILABLE', STORE_UNAVAILABLE: 'UNAVAILABLE' };
const FALLBACK = {
  status: 500, id: 'error', title: 'Something went wrong',
  text: 'We could not accept this invitation.',
  next: 'Try the link again later; if it keeps failing, ask the person who invited you.',
};

// The problem for a reason, so callers can use its HTTP status.
export function problemFor(reason) {
  return PROBLEMS[reason] || PROBLEMS[ALIASES[reason]] || FALLBACK;
}

export function problemPage(reason, { signedInEmail } = {}) {
  const p = problemFor(reason);
  const signedIn = signedInEmail
    ? `<p class="muted">This browser is signed in as ${escapeHtml(signedInEmail)}: <a href="/home">go to your account</a>.</p>`
    : '';
  return layout(p.title, `<h1 id="problem-${p.id}">${escapeHtml(p.title)}</h1>
<p>${escapeHtml(p.text)}</p>
<p class="next"><strong>What to do next:</strong> ${escapeHtml(p.next)}</p>
${signedIn}`);
}

export function indexPage() {
  return layout('Invitations', `<h1>Invitations</h1>
<p class="next">Open the invitation link from your email to accept it.</p>`);
}
