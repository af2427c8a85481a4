/**
 * Tells the unlock agent when the screen locks or the machine suspends, as far as D-Bus says:
 * the session bus's ScreenSaver.ActiveChanged(true) (GNOME, KDE, Xfce, Cinnamon, MATE) read
 * with dbus-monitor, and logind's Session.Lock / PrepareForSleep(true) on the system bus read
 * with gdbus. Without a bus or those tools nothing is watched (SECURITY.md says so); the idle
 * time and `crewvault lock` still end the session. Reads signals only; sends nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const SCREEN_SAVER_RULES = ['org.freedesktop.ScreenSaver', 'org.gnome.ScreenSaver', 'org.mate.ScreenSaver', 'org.cinnamon.ScreenSaver']
  .map((iface) => `type='signal',interface='${iface}',member='ActiveChanged'`);

export interface ScreenWatch {
  /** Resolves once the session-bus watch is listening (or there is nothing to watch). */
  readonly ready: Promise<void>;
  readonly stop: () => void;
}

function quietly(child: ChildProcess): ChildProcess {
  // A missing tool (ENOENT) or a bus that refuses us: nothing to watch, not an error.
  child.on('error', () => undefined);
  return child;
}

/** Calls `onLock` (once per event) when the screen locks or the machine is about to sleep. */
export function watchScreenLock(env: NodeJS.ProcessEnv, onLock: (why: string) => void): ScreenWatch {
  const children: ChildProcess[] = [];
  let ready: Promise<void> = Promise.resolve();
  const stdio: ['ignore', 'pipe', 'ignore'] = ['ignore', 'pipe', 'ignore'];
  if (env.DBUS_SESSION_BUS_ADDRESS) {
    const monitor = quietly(spawn('dbus-monitor', ['--session', ...SCREEN_SAVER_RULES], { stdio, env }));
    children.push(monitor);
    ready = new Promise<void>((resolve) => {
      monitor.once('error', () => resolve());
      monitor.once('exit', () => resolve());
      // dbus-monitor prints its own NameAcquired/NameLost once it is a monitor.
      monitor.stdout?.once('data', () => resolve());
    });
    let member = false;
    if (monitor.stdout) {
      createInterface({ input: monitor.stdout }).on('line', (line) => {
        if (/member=ActiveChanged\b/.test(line)) member = true;
        else if (member && /^\s+boolean true\b/.test(line)) {
          member = false;
          onLock('the screen locked');
        } else if (/^\S/.test(line)) member = false;
      });
    }
  }
  const login = quietly(spawn('gdbus', ['monitor', '--system', '--dest', 'org.freedesktop.login1'], { stdio, env }));
  children.push(login);
  if (login.stdout) {
    createInterface({ input: login.stdout }).on('line', (line) => {
      if (/\.Session\.Lock \(\)/.test(line)) onLock('the screen locked');
      else if (/\.PrepareForSleep \(true\)/.test(line)) onLock('the computer went to sleep');
    });
  }
  for (const child of children) child.unref();
  return {
    ready,
    stop: () => {
      for (const child of children) if (child.exitCode === null) child.kill();
    },
  };
}
