/**
 * What a desktop's hand-over of server-computed codes' keys removes (electron/team/server-codes.ts handOverServerCodes),
 * now that its memory holds every key the server said it holds (POST /v1/codes/keys/held), not only those it handed
 * (hostile review of the held route, 8 December). A tombstone goes only for an entry still in a group set so, without a
 * TOTP key (removed, or made HOTP), naming the group it is in now: the server cannot see that. Every other way out (the
 * group turned off, the entry moved to a group not set so, or deleted) the server ended at the push that made it, and a
 * group the person left keeps its keys. Before, a tombstone for each key that left the desktop's view, from what it
 * once handed or was told held: pulled between an owner turning a group off and on again (or an entry moved out and on),
 * it deleted the seals another desktop had just made; and once the person left a group, the server refused it as not
 * theirs, and with it every hand-over of the process. Real server over HTTP, the desktop's real TeamClient, PostgreSQL
 * and PGlite. Must never print a key or a code.
 */
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { TeamClient } from '../../electron/team/client';
import { handOverServerCodes, nothingHandedOver, sealCodeKeyForServer, serverCodePublicKey, type ServerCodeKeysSource } from '../../electron/team/server-codes';
import type { ServerCodeKeyOut, ServerCodeKeysView } from '../../electron/vault/codes-service';
import { encodeSecret } from '../../shared/otp';
import { serverCodeKeyDigest, serverCodeKeySchema } from '../../shared/sync/server-codes';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, groupRecord, memberRecord, pushOf, serverWithPeople, twoGroupVaultCodesOn, type TwoGroupVault } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();

/** The desktop's view of the vault, as its vault session would give it (VaultSession.serverCodeKeys): set by the test. */
function viewOf(vault: string): ServerCodeKeysSource & { keys: ServerCodeKeyOut[]; keyless: Array<ServerCodeKeysView['keyless'][number]>; groupsOff: string[] } {
  const view = {
    keys: [] as ServerCodeKeyOut[],
    keyless: [] as Array<ServerCodeKeysView['keyless'][number]>,
    groupsOff: [] as string[],
    serverCodeKeys: () => Promise.resolve({ vault, keys: view.keys, keyless: view.keyless, groupsOff: view.groupsOff }),
  };
  return view;
}

describe.each(DATABASE_KINDS)('tombstones of a desktop that holds what the server said it holds, on %s', (kind) => {
  let server: TestServer;
  let owner: Person;
  let tech: Person;
  let w: TwoGroupVault;
  let revision = 2;
  const setServerCodes = async (on: boolean): Promise<void> => {
    revision += 1;
    await owner.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.u.owner, { id: w.g, keyVersion: 1, revision, serverCodes: on })]));
  };
  const sealedIn = async (entry: string): Promise<string | undefined> => {
    const [row] = await server.db.query('SELECT group_id FROM server_code_keys WHERE vault_id = $1 AND entry_id = $2', [w.vault, entry]);
    return row === undefined ? undefined : String(row.group_id);
  };
  const desktopOf = (person: Person): TeamClient => {
    const client = new TeamClient(new URL(server.url), { kind: 'loopback' }, person.client.deviceId);
    client.tokens = person.client.tokens;
    return client;
  };

  beforeAll(async () => {
    let other: Person;
    ({ server, owner, people: { tech, other } } = await serverWithPeople(await databases.open(kind), ['tech', 'other']));
    w = await twoGroupVaultCodesOn({ owner, tech, other });
  }, 120_000);

  /** A new entry of `who`'s (vault user `author`) in G, its TOTP key handed over by their desktop (sealed: 1): where each case starts. */
  const handedEntry = async (who: Person, author: string) => {
    const entry = entryIn(author, w.g);
    await who.client.ok('syncPush', pushOf(w.vault, [entry]));
    const params = { kind: 'totp' as const, secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1' as const, digits: 6, period: 30, counter: 0 };
    const desktop = desktopOf(who);
    const view = viewOf(w.vault);
    const handed = nothingHandedOver();
    view.keys = [{ entry: entry.id, group: w.g, keyVersion: 1, params }];
    expect(await handOverServerCodes(desktop, view, handed)).toEqual({ sealed: 1, removed: 0 });
    return { entry, params, desktop, view, handed };
  };

  /** `params` sealed for `entry` in `group` by the owner's other desktop (codesSeal), as a desktop hands it. */
  const sealedByOwner = async (entry: string, group: string, params: ServerCodeKeyOut['params']): Promise<void> => {
    const codeKey = serverCodePublicKey((await owner.client.ok('codesKey', undefined)).publicKey);
    const place = { entry, group, keyVersion: 1 };
    await owner.client.ok('codesSeal', { vault: w.vault, records: [{ kind: 'server_code', ...place, sealed: sealCodeKeyForServer(codeKey, { vault: w.vault, ...place }, params) }] });
  };

  it('sends none for a group it holds as off, so seals made again after the setting came back on stay', async () => {
    // The desktop hands the key; its next round asks and is told it is held.
    const { entry, params, desktop, view, handed } = await handedEntry(tech, w.u.tech);
    const key = view.keys[0];
    expect(await handOverServerCodes(desktop, view, handed)).toEqual({ sealed: 0, removed: 0 });
    expect(await sealedIn(entry.id)).toBe(w.g);

    // The owner turns the group off (its seals go at that push), the desktop pulls that, the owner turns it on again and
    // their desktop seals the key again, all before this desktop's hand-over runs.
    await setServerCodes(false);
    expect(await sealedIn(entry.id)).toBeUndefined();
    view.keys = [];
    view.groupsOff = [w.g];
    await setServerCodes(true);
    await sealedByOwner(entry.id, w.g, params);

    // This desktop's hand-over from the view it pulled: the owner's new seal stays (the server holds the group on, so
    // groupsOff drops nothing either). Before, its tombstone deleted it.
    expect(await handOverServerCodes(desktop, view, handed)).toEqual({ sealed: 0, removed: 0 });
    expect(await sealedIn(entry.id)).toBe(w.g);

    // It pulls the setting on again: the key is held as it is, nothing is sealed again.
    view.keys = key === undefined ? [] : [key];
    view.groupsOff = [];
    expect(await handOverServerCodes(desktop, view, handed)).toEqual({ sealed: 0, removed: 0 });
    expect(await sealedIn(entry.id)).toBe(w.g);
  });

  it('still removes a key taken off an entry that stays in its group', async () => {
    const { entry, params, desktop, view, handed } = await handedEntry(tech, w.u.tech);
    // The key removed (or made HOTP) on this desktop, the entry still in G: only a tombstone tells the server, which cannot see it.
    view.keys = [];
    view.keyless = [{ entry: entry.id, group: w.g, keyVersion: 1 }];
    expect(await handOverServerCodes(desktop, view, handed)).toEqual({ sealed: 0, removed: 1 });
    expect(await sealedIn(entry.id)).toBeUndefined();
    // Never a key or a code in the server's logs.
    expect(server.logs.join('\n')).not.toContain(params.secret);
  });
  it('sends none for an entry moved where this desktop does not see it qualify, so a seal made in its new group stays', async () => {
    // H is off; the owner's desktop hands an entry's key in G and is told it holds it.
    const { entry, params, desktop, view, handed } = await handedEntry(owner, w.u.owner);
    // The entry is moved to H (off: its seal goes at that push); this desktop pulls that. Then H is turned on and
    // another desktop seals the key in H, before this desktop's hand-over runs.
    await owner.client.ok('syncPush', pushOf(w.vault, [{ ...entry, revision: 2, base: 1, group: w.h }]));
    expect(await sealedIn(entry.id)).toBeUndefined();
    view.keys = [];
    view.groupsOff = [w.h];
    await owner.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.u.owner, { id: w.h, keyVersion: 1, revision: 2, serverCodes: true })]));
    await sealedByOwner(entry.id, w.h, params);
    await handOverServerCodes(desktop, view, handed);
    expect(await sealedIn(entry.id)).toBe(w.h);
  });

  it('OPEN ITEM (SECURITY.md Known limits): a desktop whose view lags seals its older key over a newer seal, each round, until it pulls', async () => {
    const entry = entryIn(w.u.tech, w.g);
    await tech.client.ok('syncPush', pushOf(w.vault, [entry]));
    const older = { kind: 'totp' as const, secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1' as const, digits: 6, period: 30, counter: 0 };
    const newer = { ...older, secret: encodeSecret(randomBytes(20)) };
    const lagging = viewOf(w.vault);
    lagging.keys = [{ entry: entry.id, group: w.g, keyVersion: 1, params: older }];
    const lagged = nothingHandedOver();
    expect((await handOverServerCodes(desktopOf(tech), lagging, lagged)).sealed).toBe(1);
    // The owner edits the key (a new revision of the entry) and their desktop seals it.
    await owner.client.ok('syncPush', pushOf(w.vault, [{ ...entry, author: w.u.owner, signerKey: w.u.owner, revision: 2, base: 1 }]));
    const current = viewOf(w.vault);
    current.keys = [{ entry: entry.id, group: w.g, keyVersion: 1, params: newer }];
    expect((await handOverServerCodes(desktopOf(owner), current, nothingHandedOver())).sealed).toBe(1);
    // tech's desktop has not pulled the edit: told its key is needed, it seals the older key over the newer. Before the
    // held route its memory said it was handed and it sealed nothing. The seal carries no entry revision the server could
    // refuse an older one by; the owner's next round seals the newer again.
    expect((await handOverServerCodes(desktopOf(tech), lagging, lagged)).sealed).toBe(1);
    const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
    const digestOf = (params: typeof older): string => serverCodeKeyDigest({ vault: w.vault, entry: entry.id, group: w.g, keyVersion: 1 }, serverCodeKeySchema.parse({ kind: params.kind, secret: params.secret, algorithm: params.algorithm, digits: params.digits, period: params.period }), sha256);
    expect((await owner.client.ok('codesHeld', { vault: w.vault, keys: [{ entry: entry.id, group: w.g, digest: digestOf(older) }] })).needed).toEqual([]);
  });
  it('goes on handing over after this person left a group whose keys it held (no tombstone the server must refuse)', async () => {
    const { entry, desktop, view, handed } = await handedEntry(tech, w.u.tech);
    // tech leaves G: the desktop no longer holds G's key, so G's keys leave its view; the entry stays in G, its codes too.
    await owner.client.ok('syncPush', pushOf(w.vault, [memberRecord(w.u.owner, { group: w.g, user: w.u.tech, keyVersion: 1, revoked: true, revision: 2 })]));
    view.keys = [];
    expect(await handOverServerCodes(desktop, view, handed)).toEqual({ sealed: 0, removed: 0 });
    expect(await sealedIn(entry.id)).toBe(w.g);
  });
});
