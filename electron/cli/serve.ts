/**
 * `crewvault serve`: the browser host. Prints one line, the URL with its token, and runs
 * until SIGINT/SIGTERM, then closes the vault (WAL checkpointed) and exits 0.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CrewvaultError } from '../../shared/errors';
import { keychainDeviceStore } from '../devices';
import { startHost } from '../host/server';
import { Router } from '../router';
import { UsageError, type CliCommand, type CliIo } from './io';
import { SERVE_SUMMARY, SERVE_USAGE } from './serve-usage';
import { VAULT_OPTIONS } from './signin';
import { configPath, uiVaultPath, writeConfig } from '../config';

// dist/cli.mjs and its chunks sit beside dist/renderer/ (scripts/build.mjs).
const STATIC_ROOT = fileURLToPath(new URL('./renderer/', import.meta.url));
const IDLE_CHECK_MS = 15_000;

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
  const router = new Router({
    vaultPath: values.vault ?? uiVaultPath(config, io.env),
    onVaultOpened: (file) => writeConfig(config, { lastVault: file }),
    clock: { now: io.now },
    clipboard: { kind: 'page' },
    log: (line) => io.err(`${line}\n`),
    // The browser host runs on the user's own computer, so it trusts computers through the
    // same OS keychain as the desktop app.
    devices: keychainDeviceStore(),
    deviceLabel: `${hostname()} (browser)`,
  });
  const host = await startHost({ router, staticRoot: STATIC_ROOT, port });
  const idle = setInterval(() => router.checkIdle(), IDLE_CHECK_MS);
  io.out(`Crewvault is at ${host.url} (Ctrl+C to stop)\n`);
  if (!values['no-open']) openInBrowser(host.url);

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  clearInterval(idle);
  await host.close();
  router.close();
  io.err('Crewvault stopped; the vault is closed.\n');
  return 0;
}

export const serveCommand: CliCommand = { summary: SERVE_SUMMARY, usage: SERVE_USAGE, run };
