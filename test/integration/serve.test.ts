// `crewvault serve` as a process: one line with the URL, 127.0.0.1 only, and a clean stop on
// SIGTERM or SIGINT with the vault closed (its WAL folded in and removed).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVault } from '../../electron/vault/vault';
import { FAST_KDF, OWNER, PASSWORD, tempVaultPath } from '../support/vault';

const BIN = path.resolve(import.meta.dirname, '../../bin/crewvault.mjs');

async function serveUntil(signal: NodeJS.Signals) {
  const vault = tempVaultPath();
  (await createVault(vault, { owner: OWNER, password: PASSWORD, kdf: FAST_KDF })).close();
  const config = path.join(path.dirname(vault), 'config.json');
  const child = spawn(process.execPath, [BIN, 'serve', '--vault', vault, '--no-open'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CREWVAULT_CONFIG: config } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      const match = /^Crewvault is at (http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}) \(Ctrl\+C to stop\)\n$/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`exited early with ${code}: ${stderr}`)));
  });
  // Open the vault through the door, so there is a WAL to fold in at the stop.
  const port = new URL(url).port;
  const token = new URL(url).hash.replace('#token=', '');
  const reply = await fetch(`http://127.0.0.1:${port}/rpc/session.signIn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-crewvault-token': token },
    body: JSON.stringify({ username: OWNER, password: PASSWORD }),
  });
  expect(((await reply.json()) as { ok: boolean }).ok).toBe(true);
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
    expect(stderr).toBe('Crewvault stopped; the vault is closed.\n');
    expect(existsSync(`${vault}-wal`)).toBe(false);
  });

  it('remembers the last vault the UI opened, and starts there without --vault', async () => {
    const { vault } = await serveUntil('SIGTERM');
    const config = path.join(path.dirname(vault), 'config.json');
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({ lastVault: vault });
    const child = spawn(process.execPath, [BIN, 'serve', '--no-open', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CREWVAULT_CONFIG: config, CREWVAULT_VAULT: '' } });
    const url = await new Promise<string>((resolve) => child.stdout.on('data', (c: Buffer) => resolve(/(http:\S+)/.exec(c.toString('utf8'))?.[1] ?? '')));
    const token = new URL(url).hash.replace('#token=', '');
    const reply = await fetch(`http://127.0.0.1:${new URL(url).port}/rpc/session.state`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-crewvault-token': token }, body: '{}' });
    expect(((await reply.json()) as { value: { vault: { path: string } } }).value.vault.path).toBe(vault);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
  });
});
