// Unlocked CLI sessions for tests (review round nine, #11/#13): an unlock agent held in this
// process for a signed-in session, a quiet CLI io, an independent TOTP, a process in a new
// session (setsid). Test support only; must never print a secret.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { afterEach } from 'vitest';
import { agentSocket, currentTerminal } from '../../electron/cli/agent-place';
import { UnlockAgent } from '../../electron/cli/agent';
import type { CliIo } from '../../electron/cli/io';
import { runCli } from '../../electron/cli/main';
import { runUnlocked } from '../../electron/cli/agent-commands';
import { SignInAttempt } from '../../electron/vault/sign-in-flow';
import { Vault } from '../../electron/vault/vault';
import type { VaultSession } from '../../electron/vault/service';
import { decodeSecret, parseOtpUri } from '../../shared/otp';
import { errorCode, newRouter, ok } from './router';
import { FAST_KDF, manualClock, newVault, OWNER, PASSWORD, tempFolder } from './vault';

export const ENTRY_PASSWORD = 'review nine entry password';
export const RFC = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
export const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);

/** RFC 6238 over node:crypto, independent of the engine under test. */
export function code(secret: string, atMs: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(Math.floor(atMs / 30_000)));
  const mac = createHmac('sha1', Buffer.from(decodeSecret(secret.replace(/\s/g, '')))).update(message).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

export const agents: UnlockAgent[] = [];
afterEach(() => {
  for (const agent of agents.splice(0)) agent.stop('test over');
});

export function quietIo(env: NodeJS.ProcessEnv, now: () => number, password?: string) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    out: (text) => { stdout += text; }, err: (text) => { stderr += text; },
    readStdin: () => Promise.resolve(undefined),
    readSecret: () => (password === undefined ? Promise.reject(new Error('no password should be asked')) : Promise.resolve(password)),
    interactive: false, now, env,
  };
  const output = (): { stdout: string; stderr: string } => {
    const both = { stdout, stderr };
    stdout = '';
    stderr = '';
    return both;
  };
  return { io, output };
}

/** An unlock agent in this process holding `session` for this terminal, with the test's clock. */
export async function holdInAgent(vault: Vault, file: string, session: VaultSession, clock: { now(): number }) {
  const runtime = path.join(tempFolder(), 'run');
  mkdirSync(runtime, { mode: 0o700 });
  const env = { XDG_RUNTIME_DIR: runtime };
  const agent = new UnlockAgent(vault, { session, attempt: await SignInAttempt.afterPassword(session, clock) }, {
    vaultPath: file, socket: agentSocket(env, file, currentTerminal()), idleMs: 10 * 60_000, now: () => clock.now(),
    runCli, env, watchScreen: false,
  });
  await agent.listen();
  agents.push(agent);
  return { agent, env, runtime, ...quietIo(env, () => clock.now()) };
}

/** Runs `command args` as a real process and resolves with its standard output once it exits. */
function outputOf(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('error', reject);
    child.once('exit', () => resolve(out));
  });
}

/** Runs a node script as a real process in a NEW session (setsid: another terminal tab, a cron job, a daemon). */
export function inAnotherTerminal(script: string, env: NodeJS.ProcessEnv): Promise<string> {
  return outputOf('setsid', [process.execPath, '-e', script], env);
}

/** Runs a node script as a real process in THIS session (the same terminal, as a command typed there is). */
export function inThisTerminal(script: string, env: NodeJS.ProcessEnv): Promise<string> {
  return outputOf(process.execPath, ['-e', script], env);
}

export { runCli, runUnlocked, SignInAttempt, Vault, parseOtpUri, errorCode, newRouter, ok, FAST_KDF, manualClock, newVault, OWNER, PASSWORD, tempFolder };
export type { CliIo, VaultSession };
