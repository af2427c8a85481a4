/**
 * Review round fourteen, hole 1 (class: the desktop acts on a removal nothing signed by a person
 * vouches for). Since schema 25 a pull told a member the ids of entries that left a group they
 * held, and the desktop dropped each on the server's word: a dishonest server could take any
 * entry off carol's desktop by naming it. Since schema 27 the server hands the signed record that
 * moved each (server/store/left-reach.ts) and the desktop drops an entry only when that record
 * holds (electron/vault/replica-left-reach.ts). Here the server is made dishonest the way it
 * could be: rows written straight into its own sync_left_reach (under an id of no entry, so its
 * honest query hands them whatever the entry's record says), and an old server played by setting
 * its schema back. A forged marker, an old record played back, a record whose signature (or its
 * batch's) does not hold, and an id alone each leave the entry, and her unsent edit of it, where
 * they are, told in one line; the owner's honest move still takes the entry off.
 * A real team server (PGlite, loopback HTTP), real vault files, the CLI's sync
 * (test/support/team-desktops.ts). Must never put a password in a process argument.
 */
import { createHash, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { batchSigningText } from '../../shared/sync/record-batches';
import { entryRecordSchema, recordSigningText, type EntryRecord, type Unsigned } from '../../shared/sync/records';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 6, 0, 0));
const team = useTeamDesktops('crewvault-left-signed', clock);
const { a, c, onDesktop, sync, setPassword } = team;

interface Told {
  readonly leftReach?: string;
  readonly leftUnverified?: string;
}

/** carol's sync, which must answer ok: the lines it told of entries leaving her reach. */
async function carolSyncs(): Promise<Told> {
  const out = await sync(c);
  expect(out.code, out.stderr).toBe('ok');
  const told = JSON.parse(out.stdout) as Told;
  return { ...(told.leftReach === undefined ? {} : { leftReach: told.leftReach }), ...(told.leftUnverified === undefined ? {} : { leftUnverified: told.leftUnverified }) };
}

async function ownerSyncs(): Promise<void> {
  const out = await sync(a);
  expect(out.code, out.stderr).toBe('ok');
}

/** Every entry a desktop lists, as title=password. */
const entries = (d: Desktop): Promise<string[]> => onDesktop(d, async (s) => {
  const out: string[] = [];
  for (const e of await s.listEntries()) out.push(`${e.title}=${await s.revealPassword(e.id)}`);
  return out.sort();
});

const db = (): typeof team.server.database => team.server.database;

/** The record the server holds of the owner's entry Acme/`title` (found by its global id, read from the owner's file). */
async function storedRecord(title: string): Promise<EntryRecord> {
  const localId = await onDesktop(a, async (s) => (await s.resolvePath(`Acme/${title}`)).id);
  const file = new Database(a.file, { readonly: true });
  const uid = (() => {
    try {
      return file.prepare('SELECT uid FROM entries WHERE id = ?').get(localId) as { uid: Buffer } | undefined;
    } finally {
      file.close();
    }
  })();
  const id = uid === undefined ? '' : uidText(uid.uid);
  const [row] = await db().query("SELECT body::text AS body FROM sync_records WHERE record_id = $1 AND kind = 'entry'", [id]);
  return entryRecordSchema.parse(JSON.parse(String(row?.body)));
}

/**
 * What a dishonest server writes: a note that `record`'s entry left `fromGroup` at the vault's
 * current sequence (the owner's last push: carol's next pull reads up to it), under an id of no
 * entry so that its honest query hands it whatever the entry's own record says.
 */
async function forgeLeft(record: EntryRecord, fromGroup: string): Promise<void> {
  const [vault] = await db().query('SELECT vault_id, seq FROM sync_vaults');
  await db().query('INSERT INTO sync_left_reach (vault_id, record_id, from_group, seq, body) VALUES ($1, $2, $3, $4, $5::jsonb)',
    [vault?.vault_id, randomUUID(), fromGroup, vault?.seq, JSON.stringify(record)]);
}

/** `record` without what vouches for it (its signature, or its batch and index). */
function unvouched(record: EntryRecord): Unsigned<EntryRecord> {
  const { kind, id, revision, base, customer, group, keyVersion, lookup, sealedSummary, sealedDetails, createdAt, updatedAt, deletedAt, author, signerKey } = record;
  return { kind, id, revision, base, customer, group, keyVersion, lookup, sealedSummary, sealedDetails, createdAt, updatedAt, deletedAt, author, signerKey };
}

/** A push of the owner's that carol's pull reads past (an entry of Ops, which she does not hold): her next pull's range ends at it. */
async function ownerPushesElsewhere(title: string): Promise<void> {
  await onDesktop(a, (s) => s.createEntry({ customer: 'Acme', title, password: `${title}-1`, groupId: team.opsId }));
  await ownerSyncs();
}

describe('a "left your reach" marker that nothing signed vouches for', () => {
  let defaultGroup = '';
  let ops = '';
  let switchInOps: EntryRecord | undefined;

  it('a forged marker naming an entry still in her group leaves it and her unsent edit alone', async () => {
    defaultGroup = (await storedRecord('Printer')).group;
    switchInOps = await storedRecord('Switch');
    ops = switchInOps.group;
    expect(ops).not.toBe(defaultGroup);
    await setPassword(c, 'Acme/Printer', 'p-carol');
    await ownerPushesElsewhere('Router');
    await forgeLeft(await storedRecord('Printer'), defaultGroup);
    expect(await carolSyncs()).toEqual({
      leftUnverified: '1 entry the server said left your reach stays on this desktop, as nothing signed by someone who may move it says so: the record handed puts it in a group you hold.',
    });
    expect(await entries(c)).toEqual(['Printer=p-carol']);
    // Her edit went with that sync, as any other.
    await ownerSyncs();
    expect(await entries(a)).toContain('Printer=p-carol');
  });

  it('an older record of an entry, from when it was in another group, played back removes nothing', async () => {
    await onDesktop(a, async (s) => {
      const e = await s.resolvePath('Acme/Switch');
      await s.team.moveEntry(e.id, (await s.team.listGroups()).find((g) => g.id !== team.opsId)?.id ?? -1, e.revision ?? -1);
    });
    await ownerSyncs();
    expect(await carolSyncs()).toEqual({});
    expect(await entries(c)).toEqual(['Printer=p-carol', 'Switch=s-1']);
    if (switchInOps === undefined) throw new Error('Switch was not read');
    expect(switchInOps.group).toBe(ops);
    await ownerPushesElsewhere('Modem');
    await forgeLeft(switchInOps, defaultGroup);
    expect(await carolSyncs()).toEqual({
      leftUnverified: '1 entry the server said left your reach stays on this desktop, as nothing signed by someone who may move it says so: the record handed is no newer than the version agreed here (an old record played back).',
    });
    expect(await entries(c)).toEqual(['Printer=p-carol', 'Switch=s-1']);
  });

  it('a move record whose signature, or whose batch\'s, does not hold removes nothing', async () => {
    await setPassword(c, 'Acme/Switch', 's-carol');
    await ownerPushesElsewhere('Gateway');
    // Printer "moved" into Ops under a batch the server made up: its digest is right, its signature is not alice's.
    const printer = await storedRecord('Printer');
    const moved = unvouched({ ...printer, group: ops, revision: printer.revision + 1, base: printer.revision });
    const [vault] = await db().query('SELECT vault_id FROM sync_vaults');
    const vaultId = String(vault?.vault_id);
    const head = { id: randomUUID(), author: moved.author, signerKey: moved.signerKey, digests: [createHash('sha256').update(recordSigningText(vaultId, moved), 'utf8').digest('base64url')] };
    const forgedBatch = { ...head, signature: Buffer.alloc(64, 7).toString('base64url') };
    expect(batchSigningText(vaultId, head)).toContain(head.digests[0]);
    await db().query('INSERT INTO sync_batches (vault_id, batch_id, body) VALUES ($1, $2, $3)', [vaultId, head.id, JSON.stringify(forgedBatch)]);
    await forgeLeft({ ...moved, batch: head.id, index: 0 }, defaultGroup);
    // Switch "moved" into Ops carrying a signature of its own that does not hold.
    const switchNow = await storedRecord('Switch');
    await forgeLeft({ ...unvouched(switchNow), group: ops, revision: switchNow.revision + 1, base: switchNow.revision, signature: Buffer.alloc(64, 9).toString('base64url') }, defaultGroup);
    expect(await carolSyncs()).toEqual({
      leftUnverified: '2 entries the server said left your reach stay on this desktop, as nothing signed by someone who may move them says so: the record handed does not hold under a key of its author in force here, or its author is disabled or unknown here.',
    });
    expect(await entries(c)).toEqual(['Printer=p-carol', 'Switch=s-carol']);
    await ownerSyncs();
    expect(await entries(a)).toEqual(expect.arrayContaining(['Printer=p-carol', 'Switch=s-carol']));
  });

  it('the owner\'s honest move still takes the entry off, told in one line', async () => {
    await onDesktop(a, async (s) => {
      const e = await s.resolvePath('Acme/Printer');
      await s.team.moveEntry(e.id, team.opsId, e.revision ?? -1);
    });
    await ownerSyncs();
    expect(await carolSyncs()).toEqual({ leftReach: '1 entry left your reach (moved into an access group you do not hold) and was taken off this desktop.' });
    expect(await entries(c)).toEqual(['Switch=s-carol']);
  });

  it('a server of schema 26, which names ids alone, takes nothing off', async () => {
    await db().query('UPDATE crewvault_schema SET version = 26');
    try {
      await onDesktop(a, async (s) => {
        const e = await s.resolvePath('Acme/Switch');
        await s.team.moveEntry(e.id, team.opsId, e.revision ?? -1);
      });
      await ownerSyncs();
      expect(await carolSyncs()).toEqual({
        leftUnverified: '1 entry the server said left your reach stays on this desktop, as nothing signed by someone who may move it says so: the server named it alone, with no signed record of the move (a server older than schema 27: ask its administrator to upgrade it).',
      });
      expect(await entries(c)).toEqual(['Switch=s-carol']);
    } finally {
      await db().query('UPDATE crewvault_schema SET version = 27');
    }
  });
});
