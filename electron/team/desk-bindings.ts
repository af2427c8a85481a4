/**
 * Which vault user a server session signed in from the desktop belongs to: the Team server
 * screen signs in as one vault user (vault id, user id), and only that user's vault session may
 * see, sync, move over, watch or sign out that server session. One desktop may be shared by
 * several vault users under one OS account, and the server binds an account to the first vault
 * user whose records it pushes, so another user syncing through someone else's session would
 * take in what that account may read and claim the account for themselves. A session made by
 * `crewvault login` belongs to no vault user here until it is signed in again from the screen.
 * Kept next to servers.json (desktop-sessions.json, 0600 in a 0700 folder, checked as that is).
 * Must never: hold a token, password or code (names and ids only), or believe a file that is a
 * link, someone else's, or writable by others.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { CrewvaultError } from '../../shared/errors';
import { checkOwnership } from './profiles';

const FILE = 'desktop-sessions.json';

/** Who signed in to a server from this desktop: the server's user name, and the vault user it is for. */
export interface DeskBinding {
  readonly username: string;
  readonly vaultId: string;
  readonly userId: number;
}

const bindingSchema = z.strictObject({ username: z.string().min(1).max(64), vaultId: z.string().min(1).max(128), userId: z.number().int() });
const fileSchema = z.strictObject({ version: z.literal(1), servers: z.record(z.string(), bindingSchema) });
type BindingsFile = z.infer<typeof fileSchema>;

export class DeskBindings {
  private readonly file: string;

  constructor(private readonly dir: string) {
    this.file = path.join(dir, FILE);
  }

  private read(): BindingsFile {
    checkOwnership(this.dir, 'the config folder');
    checkOwnership(this.file, 'the desktop session list');
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, servers: {} };
      throw new CrewvaultError('INVALID_INPUT', `cannot read ${this.file}`);
    }
    try {
      return fileSchema.parse(JSON.parse(text));
    } catch {
      // Unreadable: no session is anyone's here until signed in again from the screen.
      return { version: 1, servers: {} };
    }
  }

  private write(data: BindingsFile): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    checkOwnership(this.dir, 'the config folder');
    const temp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(temp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, this.file);
  }

  get(origin: string): DeskBinding | undefined {
    return this.read().servers[origin];
  }

  set(origin: string, binding: DeskBinding): void {
    const data = this.read();
    this.write({ version: 1, servers: { ...data.servers, [origin]: binding } });
  }

  remove(origin: string): void {
    const data = this.read();
    if (!(origin in data.servers)) return;
    const servers = { ...data.servers };
    delete servers[origin];
    this.write({ version: 1, servers });
  }
}

/** The session is this vault user's: the same server user, vault and vault user. */
export function boundTo(binding: DeskBinding | undefined, username: string, vaultId: string, userId: number): boolean {
  return binding !== undefined && binding.username.toLowerCase() === username.toLowerCase() && binding.vaultId === vaultId && binding.userId === userId;
}
