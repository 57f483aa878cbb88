// The app's one Better Auth instance: SQLite through better-sqlite3 (v12;
// v13 needs Node 22 and crashes Node 20), sessions only, plus the
// magiclink-invites plugin. Its tables are created or updated at start-up with
// Better Auth's own migrations.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { magiclinkInvites } from './invite-plugin.js';

// The key the invite pages derive the browser's consume_key and CSRF token
// with: a sub-key of Better Auth's secret, so one secret configures the app.
export function inviteSecret(betterAuthSecret) {
  return crypto.createHmac('sha256', betterAuthSecret).update('magiclink-invites').digest();
}

// Creates (and migrates) the Better Auth instance.
//   baseURL        the app's origin, e.g. http://localhost:3000 (also the one trusted origin)
//   secret         BETTER_AUTH_SECRET (at least 32 characters)
//   databasePath   the SQLite file (its folder is created)
//   magiclink      a magiclink client with the verify scope
export async function createAuth({ baseURL, secret, databasePath, magiclink }) {
  fs.mkdirSync(path.dirname(databasePath), { recursive: true });
  const database = new Database(databasePath);
  database.pragma('journal_mode = WAL');
  const options = {
    baseURL,
    secret,
    database,
    trustedOrigins: [new URL(baseURL).origin],
    telemetry: { enabled: false },
    plugins: [magiclinkInvites({ magiclink, secret: inviteSecret(secret) })],
  };
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  return { auth: betterAuth(options), database };
}
