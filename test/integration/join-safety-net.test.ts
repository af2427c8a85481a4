/**
 * The join's safety net (#15, electron/team/owner-anchor.ts anchorOwner): a fresh desktop joining
 * from the server alone trusts the owner the pinned key names only while the records it is handed
 * still say that person is the vault's owner. A real server (server/main.ts, real HTTP on loopback)
 * on PostgreSQL and on PGlite, the owner's vault file moved with the real CLI code (`crewvault sync
 * --move`, which prints the key to hand over), a technician's account bound by the owner; the
 * technician's pull is then handed to the anchor as it came and as a relay could change it: the
 * owner's record replaced by another owner's disable or demotion, the owner's old record handed
 * beside the newer one, a second owner record claiming the key, a key record under the pinned id
 * naming someone else, the owner's record changed under the pinned id. Each is refused with one line.
 * Must never: put a password in a process argument (answers go on stdin).
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrewvaultError } from '../../shared/errors';
import type { TeamClient } from '../../electron/team/client';
import { anchorOwner, type OwnerKey } from '../../electron/team/owner-anchor';
import { startServer, type RunningServer } from '../../server/main';
import { recordSigningText, type ReplicaRecord, type SigningKeyRecord, type Unsigned, type UserRecord } from '../../shared/sync/records';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring';
import { startTestPostgres, type TestPostgres } from '../support/postgres';
import { runScripted, type CliOutcome } from '../support/scripted-cli';
import { signedInTeamClient, techJoinsMovedVault } from '../support/team-join';
import { manualClock, OWNER } from '../support/vault';

const TECH = 'tech';
const SERVER_PASSWORD = { alice: 'alice on the team server 1', tech: 'tech on the team server 22' } as const;
const clock = manualClock(Date.UTC(2026, 10, 30, 9, 0, 0));

let keyring: PrivateKeyring;
let cluster: TestPostgres;

beforeAll(async () => {
  keyring = startPrivateKeyring();
  Object.assign(process.env, keyring.env);
  cluster = await startTestPostgres();
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  keyring?.stop();
});

describe.each(['PostgreSQL', 'PGlite'] as const)('the join refuses an owner the records no longer vouch for (%s)', (database) => {
  let server: RunningServer;
  let home: string;
  let vault: string;
  let pinned: OwnerKey;
  let pulled: ReplicaRecord[];
  const env = (who: 'alice' | 'tech'): NodeJS.ProcessEnv => ({ CREWVAULT_CONFIG: path.join(home, `config-${who}`), CREWVAULT_KEYCHAIN_SERVICE: `crewvault-net-${database}-${who}` });

  async function cli(who: 'alice' | 'tech', args: readonly string[], answers: readonly string[]): Promise<CliOutcome> {
    const out = await runScripted(args, answers, clock, env(who));
    expect(out.code, `${who}: crewvault ${args[0] ?? ''}: ${out.stderr}`).toBe('ok');
    return out;
  }

  const teamClient = (who: 'alice' | 'tech'): Promise<TeamClient> => signedInTeamClient(server.url, who, env(who));

  beforeAll(async () => {
    home = mkdtempSync(path.join(tmpdir(), 'crewvault-net-'));
    const dataDir = path.join(home, 'server');
    const url = database === 'PostgreSQL' ? { database: await cluster.createDatabase() } : {};
    server = await startServer({ dataDir, ...url, listen: '127.0.0.1:0', now: () => clock.now(), version: 'test' });
    ({ vault, pinned } = await techJoinsMovedVault({ serverUrl: server.url, dataDir, home, clock, tech: TECH, serverPassword: SERVER_PASSWORD, cli, teamClient }));
    const client = await teamClient('tech');
    pulled = [];
    for (let since = 0; ;) {
      const page = await client.call('syncPull', { vault, since });
      pulled.push(...page.records.map((r) => r.record));
      if (!page.more) break;
      since = page.upTo;
    }
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  /** The owner's record as the server handed it. */
  function ownerRecord(): UserRecord {
    const owner = pulled.find((r): r is UserRecord => r.kind === 'user' && r.name === OWNER);
    if (owner === undefined) throw new Error('the pull names no owner');
    return owner;
  }

  /** `record` signed with a key of someone else's (another owner, or the server's own). */
  function signedByAnother(record: Unsigned<UserRecord>): UserRecord {
    const other = generateKeyPairSync('ed25519');
    return { ...record, signature: sign(null, Buffer.from(recordSigningText(vault, record), 'utf8'), other.privateKey).toString('base64url') };
  }

  const replaced = (record: UserRecord): ReplicaRecord[] => pulled.map((r) => (r.kind === 'user' && r.id === record.id ? record : r));

  /** The anchor's refusal of `records`: its code, one line, and that its message says `why`. */
  function refused(records: readonly ReplicaRecord[], code: string, why: RegExp): void {
    let caught: unknown;
    try {
      anchorOwner(vault, records, pinned);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CrewvaultError);
    const e = caught as CrewvaultError;
    expect(e.code).toBe(code);
    expect(e.message).toMatch(why);
    expect(e.message.split('\n')).toHaveLength(1);
  }

  function unsignedOf(record: UserRecord): Unsigned<UserRecord> {
    const { signature, ...unsigned } = record;
    expect(signature).not.toBe('');
    return unsigned;
  }

  it('takes the owner the records vouch for', () => {
    expect(anchorOwner(vault, pulled, pinned)).toMatchObject({ name: OWNER, role: 'owner', disabledAt: null });
  });

  it('refuses an owner another owner disabled or demoted since', () => {
    const owner = ownerRecord();
    const unsigned = unsignedOf(owner);
    const by = { author: randomUUID(), signerKey: randomUUID(), revision: owner.revision + 1 };
    const disabled = signedByAnother({ ...unsigned, ...by, disabledAt: clock.now() });
    refused(replaced(disabled), 'OWNER_KEY_CHANGED', /was last set by someone else/);
    const demoted = signedByAnother({ ...unsigned, ...by, role: 'admin' });
    refused(replaced(demoted), 'OWNER_KEY_CHANGED', /was last set by someone else/);
    // The disable handed beside the owner's own older record, in either order (a server keeps one record an object: two are a relay's doing).
    refused([disabled, ...pulled], 'VAULT_TAMPERED', /holds 2 records of the owner/);
    refused([...pulled, disabled], 'VAULT_TAMPERED', /holds 2 records of the owner/);
  });

  it('refuses the owner\'s record changed under the pinned key\'s id (disabled or demoted, the signature no longer holding)', () => {
    const owner = ownerRecord();
    const others = pulled.filter((r) => !(r.kind === 'user' && r.id === owner.id));
    refused([...others, { ...owner, disabledAt: clock.now() }], 'OWNER_KEY_CHANGED', /does not hold under that key/);
    refused([...others, { ...owner, role: 'admin' }], 'OWNER_KEY_CHANGED', /does not hold under that key/);
  });

  it('refuses records that make the pinned key ambiguous', () => {
    const owner = ownerRecord();
    const unsigned = unsignedOf(owner);
    // A second owner record claiming the key, under another id.
    const id = randomUUID();
    refused([...pulled, signedByAnother({ ...unsigned, id, name: 'mallory', author: id, signerKey: pinned.id })], 'OWNER_KEY_CHANGED', /does not hold under that key/);
    // A key record under the pinned key's id naming someone else.
    const key: SigningKeyRecord = {
      kind: 'signing_key', id: pinned.id, user: randomUUID(), publicKey: pinned.publicKey.toString('base64url'), createdAt: clock.now(), certifiedBy: null, certificate: null, binding: null,
    };
    refused([...pulled, key], 'VAULT_TAMPERED', /signing key record under the id/);
    // The owner's record signed under the pinned id by another key (the server's own).
    refused(replaced(signedByAnother(unsigned)), 'OWNER_KEY_CHANGED', /does not hold under that key/);
  });
});
