/**
 * A private Secret Service for tests: its own D-Bus session bus and gnome-keyring-daemon,
 * with a throwaway keyring in a temp folder, so keytar talks to a real keychain without
 * touching the machine's. Debian packages: dbus-daemon, gnome-keyring (scripts/env.sh).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PrivateKeyring {
  /** The variables keytar (libsecret) reads to find this bus. */
  readonly env: { readonly DBUS_SESSION_BUS_ADDRESS: string; readonly XDG_DATA_HOME: string; readonly XDG_RUNTIME_DIR: string };
  stop(): void;
}

export function startPrivateKeyring(): PrivateKeyring {
  const home = mkdtempSync(path.join(tmpdir(), 'crewvault-keyring-'));
  const runtime = path.join(home, 'run');
  const data = path.join(home, 'data');
  execFileSync('mkdir', ['-m', '0700', '-p', runtime, data]);
  const [address = '', pid = ''] = execFileSync('dbus-daemon', ['--session', '--fork', '--nopidfile', '--print-address=1', '--print-pid=1'], { encoding: 'utf8' }).trim().split('\n');
  const env = { DBUS_SESSION_BUS_ADDRESS: address.trim(), XDG_DATA_HOME: data, XDG_RUNTIME_DIR: runtime };
  const daemonEnv = { ...process.env, ...env };
  // --unlock reads the new login keyring's password from stdin; the daemon forks into the background.
  const started = spawnSync('gnome-keyring-daemon', ['--unlock', '--components=secrets'], { input: 'test keyring password', env: daemonEnv, encoding: 'utf8' });
  if (started.status !== 0) throw new Error(`gnome-keyring-daemon failed to start: ${started.stderr}`);
  return {
    env,
    stop: () => {
      // gnome-keyring-daemon exits when its bus goes away.
      if (pid) process.kill(Number(pid.trim()));
      rmSync(home, { recursive: true, force: true });
    },
  };
}
