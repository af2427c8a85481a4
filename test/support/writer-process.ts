/**
 * The parent's side of the vault-writer child (dist/test/vault-writer.mjs): spawns it, reads
 * its lines as they come, and can SIGKILL it the moment it has reported k commits — a moment
 * measured in the child's own progress, never in wall-clock time. inspectVault then checks the
 * vault against everything the children reported committed.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import type { Clock } from '../../electron/vault/service';
import type { AuditVerification } from '../../electron/vault/store-audit';
import { Vault } from '../../electron/vault/vault';
import { WRITER_LINES, writerEntry, type WriterJob } from './writer-protocol';

export const WRITER_SCRIPT = path.resolve(import.meta.dirname, '../../dist/test/vault-writer.mjs');

export interface WriterExit {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** When to SIGKILL: right after "opened" (inside sign-in), or after `commits` committed lines
 * (0: right after "ready", inside the first write). */
export type KillPoint = { readonly afterOpened: true } | { readonly commits: number };

export class WriterProcess {
  readonly job: WriterJob;
  /** Titles in the order the child reported them committed. */
  readonly committed: string[] = [];
  /** "CODE message" of a CrewvaultError the child stopped on. */
  readonly errors: string[] = [];
  readonly lines: string[] = [];
  readonly exited: Promise<WriterExit>;
  readonly ready: Promise<void>;
  private readonly child: ChildProcessWithoutNullStreams;
  private stderrText = '';
  private pending = '';
  private killPoint: KillPoint | undefined;

  constructor(job: WriterJob, killPoint?: KillPoint) {
    this.job = job;
    this.killPoint = killPoint;
    this.child = spawn(process.execPath, [WRITER_SCRIPT, JSON.stringify(job)], { stdio: 'pipe' });
    let markReady = (): void => undefined;
    this.ready = new Promise((resolve) => {
      markReady = resolve;
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      const parts = (this.pending + chunk).split('\n');
      // Only whole lines count: a line is complete once its newline has arrived.
      this.pending = parts.pop() ?? '';
      for (const line of parts) this.onLine(line, markReady);
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      this.stderrText += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (status, signal) => {
        markReady(); // a child that died early never says "ready": do not leave waiters hanging
        resolve({ status, signal });
      });
    });
    // A child killed before it reads its stdin closes the pipe under us: that is expected.
    this.child.stdin.on('error', () => undefined);
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** Lets a gated child start writing. */
  go(): void {
    this.child.stdin.end('go\n');
  }

  kill(): void {
    this.killPoint = undefined;
    this.child.kill('SIGKILL');
  }

  private onLine(line: string, markReady: () => void): void {
    this.lines.push(line);
    if (line.startsWith(WRITER_LINES.committed)) this.committed.push(line.slice(WRITER_LINES.committed.length));
    else if (line.startsWith(WRITER_LINES.error)) this.errors.push(line.slice(WRITER_LINES.error.length));
    else if (line === WRITER_LINES.ready) markReady();
    const point = this.killPoint;
    if (point === undefined) return;
    const due = 'afterOpened' in point
      ? line === WRITER_LINES.opened
      : (line === WRITER_LINES.ready || line.startsWith(WRITER_LINES.committed)) && this.committed.length >= point.commits;
    if (due) this.kill();
  }
}

export interface VaultFacts {
  /** PRAGMA integrity_check's answer: "ok" when the file is sound. */
  readonly integrity: string;
  readonly audit: AuditVerification;
  readonly entryRows: number;
  /** entry.create rows in the audit log: equal to entryRows when every write and its audit
   * row were committed together. */
  readonly createAudits: number;
  /** Entries listEntries() opened: every row's sealed summary opened. */
  readonly listed: number;
  /** Paths reported committed that the vault cannot find, or finds with other fields. */
  readonly lost: string[];
}

/** Opens the vault in this process and checks it against what the children reported. */
export async function inspectVault(file: string, clock: Clock, user: string, password: string, writers: readonly WriterProcess[]): Promise<VaultFacts> {
  const vault = Vault.open(file, clock);
  try {
    // The file looked at directly (a test's own SQL, through the store's read handle).
    const { integrity, entryRows, createAudits } = await vault.store.read((r) => {
      const count = (sql: string): number => r.prepare<[], { n: number }>(sql).get()?.n ?? -1;
      return {
        integrity: String(r.pragma('integrity_check', { simple: true })),
        entryRows: count('SELECT count(*) AS n FROM entries'),
        createAudits: count("SELECT count(*) AS n FROM audit_log WHERE action = 'entry.create'"),
      };
    });
    const audit = await vault.verifyAudit();
    const session = await vault.signIn(user, password);
    const listed = (await session.listEntries()).length;
    const lost: string[] = [];
    for (const writer of writers) {
      for (const [i, title] of writer.committed.entries()) {
        const expected = writerEntry(writer.job.prefix, i);
        const where = `${expected.customer}/${expected.title}`;
        const found = title === expected.title ? (await session.findByPath(where)) : [];
        if (found.length !== 1 || found[0]?.username !== expected.username || found[0].customer !== expected.customer) lost.push(where);
      }
    }
    session.lock();
    return { integrity, audit, entryRows, createAudits, listed, lost };
  } finally {
    await vault.close();
  }
}
