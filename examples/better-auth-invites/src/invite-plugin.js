// A Better Auth plugin that turns an accepted magiclink invitation into a
// Better Auth session. It adds one endpoint to the auth instance the app
// already has (no second instance):
//
//   POST <basePath>/invite/accept   form fields: token, csrf
//
// which checks the form's CSRF token against the browser's own cookie, asks
// magiclink to CONSUME the token (expected_purpose "invite", consume_key
// derived from that cookie), finds or creates the user for the token's email,
// creates a session through Better Auth's internal adapter, sets the session
// cookie and redirects to `successPath`. Any failure redirects to
// `problemPath?reason=<ErrorInfo reason>`; no URL or log line carries the
// token.
//
//   betterAuth({ ..., plugins: [magiclinkInvites({ magiclink, secret })] })
import * as z from 'zod';
import { createAuthEndpoint, formCsrfMiddleware } from 'better-auth/api';
import { setSessionCookie } from 'better-auth/cookies';
import { revokeUnprovenAccountAccess } from 'better-auth/db';
import { browserIdFromCookies, consumeKey, csrfTokenMatches } from './browser-key.js';
import { errorReason } from './magiclink.js';

export const FORM_EXPIRED = 'FORM_EXPIRED';

// Options:
//   magiclink    a client from connectMagiclink() whose caller has the verify scope
//   secret       the app secret the landing page derived the CSRF token with
//   purpose      the purpose the links were issued for (default "invite")
//   successPath  where a signed-in browser goes (default "/home")
//   problemPath  the page that explains a failure (default "/welcome/problem")
export function magiclinkInvites(options) {
  const purpose = options.purpose || 'invite';
  const successPath = options.successPath || '/home';
  const problemPath = options.problemPath || '/welcome/problem';
  const { magiclink, secret } = options;

  return {
    id: 'magiclink-invites',
    endpoints: {
      acceptInvite: createAuthEndpoint('/invite/accept', {
        method: 'POST',
        body: z.object({ token: z.string().max(512), csrf: z.string().max(128) }),
        // Better Auth's own checks for a form that signs someone in: Fetch
        // Metadata (no cross-site navigation) and the Origin header against
        // trustedOrigins.
        use: [formCsrfMiddleware],
        requireHeaders: true,
        // A plain HTML form, so it works without JavaScript.
        metadata: { allowedMediaTypes: ['application/x-www-form-urlencoded'] },
      }, async (ctx) => {
        const problem = (reason) => ctx.redirect(`${problemPath}?reason=${encodeURIComponent(reason)}`);
        const browserId = browserIdFromCookies(ctx.headers.get('cookie'));
        if (!csrfTokenMatches(secret, browserId, ctx.body.csrf)) throw problem(FORM_EXPIRED);

        let claims;
        try {
          claims = await magiclink.verify({
            token: ctx.body.token,
            mode: 'CONSUME',
            expected_purpose: purpose,
            consume_key: consumeKey(secret, browserId),
          });
        } catch (error) {
          throw problem(errorReason(error));
        }

        const user = await findOrCreateUser(ctx, claims);
        const session = await ctx.context.internalAdapter.createSession(user.id);
        if (!session) throw problem('SESSION_NOT_CREATED');
        await setSessionCookie(ctx, { session, user });
        throw ctx.redirect(successPath);
      }),
    },
    // Better Auth's rate limiter (on when NODE_ENV=production): a few accepts
    // per minute and address are plenty for a person, and slow down guessing.
    rateLimit: [{ pathMatcher: (p) => p === '/invite/accept', window: 60, max: 10 }],
  };
}

// The user for the invitation's email, created (email verified: the link
// proved the mailbox) when there is none. An existing account whose email was
// never verified loses whatever access it gained before this proof (Better
// Auth's own rule for magic links). Two accepts racing (a double click) may
// both miss and both create: the loser finds the winner's row.
async function findOrCreateUser(ctx, claims) {
  const adapter = ctx.context.internalAdapter;
  let user = (await adapter.findUserByEmail(claims.email))?.user;
  if (!user) {
    try {
      user = await adapter.createUser({
        email: claims.email, name: claims.metadata?.name || '', emailVerified: true,
      });
    } catch (error) {
      user = (await adapter.findUserByEmail(claims.email))?.user;
      if (!user) throw error;
    }
  }
  if (!user.emailVerified) user = await revokeUnprovenAccountAccess(ctx, user.id);
  return user;
}
