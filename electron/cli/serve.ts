/**
 * `crewvault serve`: the browser host. Prints one line, the one-time launch URL, opens it,
 * tells the terminal on stderr whenever the launch link is used or refused, and runs until
 * SIGINT/SIGTERM, then closes the vault (WAL checkpointed) and exits 0.
 *
 * Must never: print or pass on the session secret (it exists only in the browser's cookie
 * and, hashed, in electron/host/launch.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { keychainDeviceStore } from '../devices';
import { LAUNCH_CODE_TTL_MS } from '../host/launch';
import { startHost, type LaunchEvent } from '../host/server';
import { Router } from '../router';
import { terminalConfirmations } from '../team/confirm';
import { untilStopped, UsageError, type CliCommand, type CliIo } from './io';
import { SERVE_SUMMARY, SERVE_USAGE } from './serve-usage';
import { VAULT_OPTIONS } from './signin';
import { configPath, configUiSettings, uiVaultPath, updateConfig } from '../config';

// dist/cli.mjs and its chunks sit beside dist/renderer/ (scripts/build.mjs).
const STATIC_ROOT = fileURLToPath(new URL('./renderer/', import.meta.url));
const IDLE_CHECK_MS = 15_000;

/**
 * What the person needs to hear about their launch link. Only they can tell whether the
 * browser that used it was theirs, so each use is reported the moment it happens.
 */
function launchNotice(event: LaunchEvent, port: number): string {
  switch (event.outcome) {
    case 'exchanged':
      return `The launch link was used and is now dead. If that was not your browser, stop this server (Ctrl+C). A closed tab comes back at http://127.0.0.1:${port}/ in the same browser.\n`;
    case 'used':
      return 'The launch link was presented again and refused. If your browser shows that refusal, someone else used it first: stop this server (Ctrl+C).\n';
    case 'expired':
      return 'An expired launch link was refused: stop this server (Ctrl+C) and start it again for a new one.\n';
    case 'wrong':
      return 'A wrong launch code was refused.\n';
  }
}

/**
 * The URL goes on the opener's command line, which every local user can read in
 * /proc/PID/cmdline (as they could the old session token). That is acceptable because the
 * launch code is worthless once read: it dies at the first load, used or refused, and after
 * LAUNCH_CODE_TTL_MS, so the old attack (wait until the person has signed in, then call in
 * with the token) is gone. What remains is a race before the browser's first load, which
 * nothing sent through an opener's arguments can close: whoever wins it holds the only
 * session, on a vault still locked (its entries still take a user's password), and the
 * person's own browser is refused at once with a page saying why, as is the terminal; they
 * stop the server, so the winner never sees the vault unlocked.
 */
function openInBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No browser opener here: the printed URL is enough.
  }
}

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { vault: VAULT_OPTIONS.vault, port: { type: 'string' }, 'no-open': { type: 'boolean' } },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0–65535');
  if (!existsSync(STATIC_ROOT)) throw new CrewvaultError('NOT_FOUND', 'The UI is not built: run "npm run build".');

  // The UI remembers the last vault it opened; an explicit --vault still wins.
  const config = configPath(io.env);
  // Pinning a certificate or moving the vault is confirmed on this terminal, which the page cannot reach (team/confirm.ts).
  const confirmations = terminalConfirmations(process.stdin, (text) => io.err(text));
  const router = new Router({
    vaultPath: values.vault ?? uiVaultPath(config, io.env),
    onVaultOpened: (file) => void updateConfig(config, { lastVault: file }),
    ui: configUiSettings(config),
    clock: { now: io.now },
    clipboard: { kind: 'page' },
    log: (line) => io.err(`${line}\n`),
    // The browser host runs on the user's own computer, so it trusts computers through the
    // same OS keychain as the desktop app.
    devices: keychainDeviceStore(),
    deviceLabel: `${hostname()} (browser)`,
    team: { confirm: confirmations },
  });
  const host = await startHost({
    router,
    staticRoot: STATIC_ROOT,
    port,
    clock: { now: io.now },
    onLaunch: (event) => io.err(launchNotice(event, host.port)),
  });
  // A check that cannot read the vault's settings locks: better locked than left open.
  const idle = setInterval(() => void router.checkIdle().catch(() => router.lock()), IDLE_CHECK_MS);
  io.out(`Crewvault is at ${host.launchUrl} (works once, within ${LAUNCH_CODE_TTL_MS / 60_000} minutes; Ctrl+C to stop)\n`);
  if (!values['no-open']) openInBrowser(host.launchUrl);

  await untilStopped();
  clearInterval(idle);
  await host.close();
  await router.close();
  confirmations.close();
  io.err('Crewvault stopped; the vault is closed.\n');
  return 0;
}

export const serveCommand: CliCommand = { summary: SERVE_SUMMARY, usage: SERVE_USAGE, run };
