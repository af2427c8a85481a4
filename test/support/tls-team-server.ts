/**
 * A real team server (server/main.ts on PGlite) over TLS with a certificate openssl made for
 * 127.0.0.1, sessions in a private Secret Service, and desktops as routers over real vault files
 * whose confirmation port the test chooses: the set-up the door's-confirmation tests share
 * (trust-confirm, review-round-eight-holes-sync). Registers its own beforeAll/afterAll; what it
 * holds is filled in by beforeAll, so read `server` and `fingerprint` inside a test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { TrustConfirmations, TrustQuestion } from '../../electron/team/confirm';
import { serverPlace } from '../../electron/team/sign-in';
import { Router } from '../../electron/router';
import { startServer, type RunningServer } from '../../server/main';
import { testClock } from '../server/support';
import { startPrivateKeyring, type PrivateKeyring } from './keyring';
import { ok } from './router';
import { FAST_KDF, manualClock, OWNER, PASSWORD } from './vault';

export const SERVER_PASSWORD = 'alice on the team server 1';

export interface TlsTeamServer {
  readonly server: RunningServer;
  /** The certificate's SHA-256 fingerprint, as openssl prints it. */
  readonly fingerprint: string;
  /** Every line the server logged. */
  readonly logs: string[];
  /** A new desktop with its own vault (made, signed in as OWNER) and config folder; `confirm` is the door's port. */
  readonly desktop: (confirm: TrustConfirmations | undefined) => Promise<{ readonly router: Router; readonly servers: string; readonly file: string }>;
}

export function useTlsTeamServer(): TlsTeamServer {
  let keyring: PrivateKeyring | undefined;
  let home = '';
  let fingerprint = '';
  let server: RunningServer | undefined;
  const logs: string[] = [];
  let desktops = 0;

  beforeAll(async () => {
    keyring = startPrivateKeyring();
    Object.assign(process.env, keyring.env);
    home = mkdtempSync(path.join(tmpdir(), 'crewvault-trust-confirm-'));
    const cert = path.join(home, 'server.pem');
    const key = path.join(home, 'server.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
      '-days', '2', '-subj', '/CN=crewvault test', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
    fingerprint = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', cert], { encoding: 'utf8' }).trim().split('=')[1] ?? '';
    server = await startServer({ dataDir: path.join(home, 'server'), listen: '127.0.0.1:0', tlsCert: cert, tlsKey: key, now: testClock().now, version: 'test', log: { write: (line) => { logs.push(line); } } });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    keyring?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  return {
    get server() {
      if (server === undefined) throw new Error('the TLS team server has not started');
      return server;
    },
    get fingerprint() {
      return fingerprint;
    },
    logs,
    desktop: async (confirm) => {
      const dir = path.join(home, `desktop-${desktops++}`);
      const router = new Router({
        vaultPath: path.join(dir, 'vault.crewvault'), clock: manualClock(), clipboard: { kind: 'page' }, kdf: FAST_KDF,
        team: { place: serverPlace({ CREWVAULT_KEYCHAIN_SERVICE: `crewvault-trust-confirm-${desktops}` }, path.join(dir, 'config')), ...(confirm ? { confirm } : {}) },
      });
      ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
      return { router, servers: path.join(dir, 'config', 'servers.json'), file: path.join(dir, 'vault.crewvault') };
    },
  };
}

/** A port whose answer the test sets, keeping every question it was asked. */
export function confirmationPort(answer: boolean): TrustConfirmations & { answer: boolean; readonly asked: TrustQuestion[] } {
  const asked: TrustQuestion[] = [];
  const held = { answer, asked, confirm: (q: TrustQuestion) => { asked.push(q); return Promise.resolve(held.answer); } };
  return held;
}
