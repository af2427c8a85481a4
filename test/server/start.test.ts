/**
 * Starting a server (server/main.ts and `crewvault server`), on PostgreSQL and on PGlite:
 * plain HTTP only on loopback, TLS elsewhere (refused in one line, exit 2, before anything
 * is written); keys made once with mode 0600 and kept across restarts, a key file others may
 * read refused; the first owner's invite in a 0600 file until someone registers; the real
 * process started, asked, and stopped by SIGTERM.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, chmodSync, statSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CrewvaultError } from '../../shared/errors';
import { checkTlsRule, isLoopbackHost, parseListen } from '../../server/listen';
import { OWNER_INVITE_FILE, startServer, type ServerOptions } from '../../server/main';
import { SERVER_KEYS_FILE } from '../../server/keys';
import { latestSchemaVersion } from '../../server/store/migrate';
import { DATABASE_KINDS, useTestDatabases, type DatabaseKind } from './databases';
import { TestClient, uniquePassword } from './support';

const databases = useTestDatabases();
const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'crewvault-server-test-'));
  folders.push(dir);
  return dir;
}

async function options(kind: DatabaseKind, dataDir: string, extra: Partial<ServerOptions> = {}): Promise<ServerOptions> {
  return { database: kind === 'postgres' ? await databases.postgresUrl() : undefined, dataDir, listen: '127.0.0.1:0', version: 'test', ...extra };
}

function refusal(error: unknown): string {
  expect(error).toBeInstanceOf(CrewvaultError);
  return `${(error as CrewvaultError).code}: ${(error as CrewvaultError).message}`;
}

describe('where the server may listen', () => {
  it('reads HOST:PORT, [v6]:PORT and :PORT', () => {
    expect(parseListen('127.0.0.1:8443')).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen(':9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseListen('vault.example.com:443')).toEqual({ host: 'vault.example.com', port: 443 });
    for (const bad of ['8443', '127.0.0.1', '1.2.3.4:70000', '[nope]:1', 'a:b']) expect(() => parseListen(bad)).toThrow(/--listen/);
  });

  it('counts 127.0.0.0/8, ::1 and localhost as loopback, nothing else', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', '128.0.0.1', 'vault.example.com', '::2']) expect(isLoopbackHost(host)).toBe(false);
  });

  it('needs TLS anywhere but loopback, and both TLS files or neither', () => {
    expect(() => checkTlsRule(parseListen('127.0.0.1:1'), {})).not.toThrow();
    expect(() => checkTlsRule(parseListen('0.0.0.0:1'), { cert: 'c', key: 'k' })).not.toThrow();
    expect(() => checkTlsRule(parseListen('0.0.0.0:443'), {})).toThrow(/TLS is required to listen on 0\.0\.0\.0/);
    expect(() => checkTlsRule(parseListen('127.0.0.1:1'), { cert: 'c' })).toThrow(/go together/);
  });
});

/** A self-signed certificate for 127.0.0.1, made by openssl (it comes with Debian's postgresql). */
function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
  return { cert, key };
}

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { ca, timeout: 20_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}

describe.each(DATABASE_KINDS)('starting a server on %s', (kind) => {
  it('refuses plain HTTP on a non-loopback address before writing anything', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const refused = await startServer(await options(kind, dataDir, { listen: '0.0.0.0:0' })).catch((error: unknown) => error);
    expect(refusal(refused)).toMatch(/^USAGE: TLS is required to listen on 0\.0\.0\.0/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('serves HTTPS with the given certificate', async () => {
    const dir = tempDir();
    const tls = selfSignedCertificate(dir);
    const server = await startServer(await options(kind, path.join(dir, 'data'), { tlsCert: tls.cert, tlsKey: tls.key }));
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const reply = await httpsGet(`${server.url}/health`, readFileSync(tls.cert));
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body)).toMatchObject({ ok: true, value: { status: 'ok' } });
    } finally {
      await server.close();
    }
  });

  it('makes its keys once (0600), keeps them across a restart, and hands the first owner an invite until someone registers', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const opts = await options(kind, dataDir);
    const password = uniquePassword();
    const first = await startServer(opts);
    try {
      expect(statSync(path.join(dataDir, SERVER_KEYS_FILE)).mode & 0o777).toBe(0o600);
      expect(first.ownerInviteFile).toBe(path.join(dataDir, OWNER_INVITE_FILE));
      expect(statSync(path.join(dataDir, OWNER_INVITE_FILE)).mode & 0o777).toBe(0o600);
      const invite = readFileSync(path.join(dataDir, OWNER_INVITE_FILE), 'utf8').trim();
      const { user } = await new TestClient(first.url).register(invite, 'Ada', password);
      expect(user.role).toBe('owner');
    } finally {
      await first.close();
    }
    const keysBefore = readFileSync(path.join(dataDir, SERVER_KEYS_FILE), 'utf8');
    const second = await startServer(opts);
    try {
      expect(readFileSync(path.join(dataDir, SERVER_KEYS_FILE), 'utf8')).toBe(keysBefore);
      expect(second.ownerInviteFile).toBeUndefined();
      expect(existsSync(path.join(dataDir, OWNER_INVITE_FILE))).toBe(false);
      // The same OPAQUE key: the record made before the restart still signs in.
      const { user } = await new TestClient(second.url).login('ada', password);
      expect(user.username).toBe('Ada');
    } finally {
      await second.close();
    }
  });

  it('refuses a key file that others may read', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const opts = await options(kind, dataDir);
    await (await startServer(opts)).close();
    chmodSync(path.join(dataDir, SERVER_KEYS_FILE), 0o644);
    const refused = await startServer({ ...opts, database: kind === 'postgres' ? await databases.postgresUrl() : undefined }).catch((error: unknown) => error);
    expect(refusal(refused)).toMatch(/^FORBIDDEN: .*server-keys\.json may be read by others/);
  });
});

describe('a PostgreSQL the server cannot use', () => {
  it('is refused in one line naming no password: unreachable, or a wrong password', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const unreachable = await startServer({ database: 'postgres://nobody@127.0.0.1:1/none', dataDir, listen: '127.0.0.1:0', version: 'test' }).catch((error: unknown) => error);
    expect(refusal(unreachable)).toBe('VAULT_MISSING: cannot reach the server database (ECONNREFUSED)');
    const url = new URL(await databases.postgresUrl());
    url.password = 'not-the-password-7f3a';
    const wrong = await startServer({ database: url.toString(), dataDir, listen: '127.0.0.1:0', version: 'test' }).catch((error: unknown) => error);
    expect(refusal(wrong)).toMatch(/^VAULT_MISSING: cannot open the server database: password authentication failed/);
    expect(refusal(wrong)).not.toContain('not-the-password-7f3a');
  });
});

const CLI = path.resolve('bin/crewvault.mjs');

describe.each(DATABASE_KINDS)('the crewvault server command on %s', (kind) => {
  it('starts, answers /health, says where the owner invite is, and stops on SIGTERM with exit 0', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const args = ['server', '--data', dataDir, '--listen', '127.0.0.1:0'];
    if (kind === 'postgres') args.push('--database', await databases.postgresUrl());
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    // The request log is written once a turn of the server's event loop (server/log.ts batchedLog), after
    // the reply has gone: a line is awaited as it arrives on the pipe, bounded, never slept on.
    const stdoutHas = (text: string): Promise<void> => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${text} on stdout in 20 s`)), 20_000);
      const look = (): void => {
        if (!stdout.includes(text)) return;
        clearTimeout(timer);
        child.stdout.off('data', look);
        resolve();
      };
      child.stdout.on('data', look);
      look();
    });
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line in 60 s: ${stderr}`)), 60_000);
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          // A fresh server prints three lines: where it listens, its code key's fingerprint (owners
          // compare it with GET /v1/codes/key), then where the owner's invite is.
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)[^\n]*\n[^\n]*code key fingerprint (?:[0-9a-f]{4} ){7}[0-9a-f]{4} [^\n]*\n.*invite in [^\n]*\n/.exec(stderr);
          if (match?.[1] !== undefined) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
        child.once('exit', () => reject(new Error(`exited early: ${stderr}`)));
      });
      const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(20_000) });
      expect(await health.json()).toMatchObject({ ok: true, value: { status: 'ok', schema: latestSchemaVersion() } });
      expect(stderr).toContain(`the first owner registers with the invite in ${path.join(dataDir, OWNER_INVITE_FILE)}`);
      const invite = readFileSync(path.join(dataDir, OWNER_INVITE_FILE), 'utf8').trim();
      expect(stderr + stdout).not.toContain(invite);
      await stdoutHas('"route":"/health"');
      expect(stdout).toContain('"route":"/health"');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toContain('crewvault server: stopped');
  }, 90_000);

  it('refuses plain HTTP on 0.0.0.0 with one line and exit 2', () => {
    const dataDir = path.join(tempDir(), 'data');
    const args = ['server', '--data', dataDir, '--listen', '0.0.0.0:8443'];
    if (kind === 'postgres') args.push('--database', 'postgres://nobody@127.0.0.1:1/none');
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, [CLI, ...args], { stdio: 'pipe', timeout: 60_000 });
    } catch (error) {
      status = (error as { status: number }).status;
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(2);
    expect(stderr).toMatch(/^crewvault: USAGE: TLS is required to listen on 0\.0\.0\.0: give --tls-cert and --tls-key \(plain HTTP is for loopback only\)\n$/);
    expect(existsSync(dataDir)).toBe(false);
  });
});
