// `crewvault serve` as a process: one line with the launch URL, the launch reported on stderr,
// 127.0.0.1 only, and a clean stop on SIGTERM or SIGINT with the vault closed (its WAL folded
// in and removed).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVault } from '../../electron/vault/vault';
import { LAUNCH_URL } from '../support/launch-url';
import { FAST_KDF, OWNER, PASSWORD, tempVaultPath } from '../support/vault';

const BIN = path.resolve(import.meta.dirname, '../../bin/crewvault.mjs');
const LAUNCH_LINE = new RegExp(`^Crewvault is at ${LAUNCH_URL.source} \\(works once, within 2 minutes; Ctrl\\+C to stop\\)\\n$`);

/** Opens the launch URL as the page's first load does, and returns the session cookie it set. */
async function launch(url: string): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' });
  expect(response.status).toBe(303);
  const cookie = response.headers.getSetCookie()[0] ?? '';
  expect(cookie).toMatch(/^crewvault-\d+=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/$/);
  return cookie.split(';')[0] ?? '';
}

async function rpc(url: string, method: string, input: unknown, cookie: string): Promise<Response> {
  return fetch(`${new URL(url).origin}/rpc/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify(input) });
}

async function serveUntil(signal: NodeJS.Signals) {
  const vault = tempVaultPath();
  await (await createVault(vault, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF })).close();
  const config = path.join(path.dirname(vault), 'config.json');
  const child = spawn(process.execPath, [BIN, 'serve', '--vault', vault, '--no-open'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CREWVAULT_CONFIG: config } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      const match = LAUNCH_LINE.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`exited early with ${code}: ${stderr}`)));
  });
  // Open the vault through the door, so there is a WAL to fold in at the stop.
  const cookie = await launch(url);
  const reply = await rpc(url, 'session.signIn', { username: OWNER, password: PASSWORD }, cookie);
  expect(((await reply.json()) as { ok: boolean }).ok).toBe(true);
  // The secret the URL was traded for is nowhere in what was printed.
  expect(stdout).not.toContain(cookie.split('=')[1]);
  expect(existsSync(`${vault}-wal`)).toBe(true);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill(signal);
  return { code: await exited, stdout, stderr, vault };
}

describe('crewvault serve', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('stops cleanly on %s with the vault closed', async (signal) => {
    const { code, stdout, stderr, vault } = await serveUntil(signal);
    expect(code).toBe(0);
    expect(stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect(stderr).toMatch(/^The launch link was used and is now dead\. If that was not your browser, stop this server \(Ctrl\+C\)\. A closed tab comes back at http:\/\/127\.0\.0\.1:\d+\/ in the same browser\.\nCrewvault stopped; the vault is closed\.\n$/);
    expect(existsSync(`${vault}-wal`)).toBe(false);
  });

  it('remembers the last vault the UI opened, and starts there without --vault', async () => {
    const { vault } = await serveUntil('SIGTERM');
    const config = path.join(path.dirname(vault), 'config.json');
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({ lastVault: vault });
    const child = spawn(process.execPath, [BIN, 'serve', '--no-open', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CREWVAULT_CONFIG: config, CREWVAULT_VAULT: '' } });
    const url = await new Promise<string>((resolve) => child.stdout.on('data', (c: Buffer) => resolve(LAUNCH_URL.exec(c.toString('utf8'))?.[1] ?? '')));
    const reply = await rpc(url, 'session.state', {}, await launch(url));
    expect(((await reply.json()) as { value: { vault: { path: string } } }).value.vault.path).toBe(vault);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
  });

  it('says on stderr when its launch link is used again, so a race with another local user shows', async () => {
    const vault = tempVaultPath();
    const child = spawn(process.execPath, [BIN, 'serve', '--vault', vault, '--no-open'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CREWVAULT_CONFIG: path.join(path.dirname(vault), 'config.json') } });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
    const url = await new Promise<string>((resolve) => child.stdout.on('data', (c: Buffer) => resolve(LAUNCH_LINE.exec(c.toString('utf8'))?.[1] ?? '')));
    const cookie = await launch(url);
    const again = await fetch(url, { redirect: 'manual' });
    expect(again.status).toBe(401);
    expect(await again.text()).toContain('already used');
    expect((await rpc(url, 'session.state', {}, `${cookie.split('=')[0] ?? ''}=nope`)).status).toBe(401);
    expect((await rpc(url, 'session.state', {}, cookie)).status).toBe(200);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    expect(stderr).toContain('The launch link was presented again and refused. If your browser shows that refusal, someone else used it first: stop this server (Ctrl+C).\n');
  });
});
