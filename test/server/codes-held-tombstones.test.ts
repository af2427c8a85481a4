/**
 * What a desktop's hand-over of server-computed codes' keys removes (electron/team/server-codes.ts handOverServerCodes),
 * now that its memory holds every key the server said it holds (POST /v1/codes/keys/held) and not only those it handed
 * (hostile review of the held route, 8 December). A group this desktop holds as turned off gets no tombstone per key:
 * the group's off record dropped its seals on the server at its push, and `groupsOff` drops what is left only where the
 * server too holds it off. Before, a desktop that pulled the setting off between an owner turning it off and on again
 * sent a tombstone per key of the group after another desktop had sealed them again, and the server deleted those
 * fresh seals (the group's codes stopped until some desktop's next round). A key removed from an entry still in its
 * group still goes as a tombstone. Real server over HTTP, the desktop's real TeamClient, PostgreSQL and PGlite.
 * Must never print a key or a code.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { TeamClient } from '../../electron/team/client';
import { handOverServerCodes, nothingHandedOver, sealCodeKeyForServer, serverCodePublicKey, type ServerCodeKeysSource } from '../../electron/team/server-codes';
import type { ServerCodeKeyOut } from '../../electron/vault/codes-service';
import { encodeSecret } from '../../shared/otp';
import { DATABASE_KINDS, useTestDatabases } from './databases';
import { entryIn, groupRecord, pushOf, serverWithPeople, twoGroupVaultPushed, type TwoGroupVault } from './people';
import type { Person, TestServer } from './support';

const databases = useTestDatabases();

/** The desktop's view of the vault, as its vault session would give it (VaultSession.serverCodeKeys): set by the test. */
function viewOf(vault: string): ServerCodeKeysSource & { keys: ServerCodeKeyOut[]; groupsOff: string[] } {
  const view = {
    keys: [] as ServerCodeKeyOut[],
    groupsOff: [] as string[],
    serverCodeKeys: () => Promise.resolve({ vault, keys: view.keys, groupsOff: view.groupsOff }),
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
    w = await twoGroupVaultPushed({ owner, tech, other });
    await owner.client.ok('syncPush', pushOf(w.vault, [groupRecord(w.u.owner, { id: w.g, keyVersion: 1, revision: 2, serverCodes: true })]));
  }, 120_000);

  it('sends none for a group it holds as off, so seals made again after the setting came back on stay', async () => {
    const entry = entryIn(w.u.tech, w.g);
    await tech.client.ok('syncPush', pushOf(w.vault, [entry]));
    const params = { kind: 'totp' as const, secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1' as const, digits: 6, period: 30, counter: 0 };
    const key: ServerCodeKeyOut = { entry: entry.id, group: w.g, keyVersion: 1, params };
    const desktop = desktopOf(tech);
    const view = viewOf(w.vault);
    const handed = nothingHandedOver();

    // The desktop hands the key; its next round asks and is told it is held.
    view.keys = [key];
    expect(await handOverServerCodes(desktop, view, handed)).toEqual({ sealed: 1, removed: 0 });
    expect(await handOverServerCodes(desktop, view, handed)).toEqual({ sealed: 0, removed: 0 });
    expect(await sealedIn(entry.id)).toBe(w.g);

    // The owner turns the group off (its seals go at that push), the desktop pulls that, the owner turns it on again and
    // their desktop seals the key again, all before this desktop's hand-over runs.
    await setServerCodes(false);
    expect(await sealedIn(entry.id)).toBeUndefined();
    view.keys = [];
    view.groupsOff = [w.g];
    await setServerCodes(true);
    const codeKey = serverCodePublicKey((await owner.client.ok('codesKey', undefined)).publicKey);
    const place = { entry: entry.id, group: w.g, keyVersion: 1 };
    await owner.client.ok('codesSeal', { vault: w.vault, records: [{ kind: 'server_code', ...place, sealed: sealCodeKeyForServer(codeKey, { vault: w.vault, ...place }, params) }] });

    // This desktop's hand-over from the view it pulled: the owner's new seal stays (the server holds the group on, so
    // groupsOff drops nothing either). Before, its tombstone deleted it.
    expect(await handOverServerCodes(desktop, view, handed)).toEqual({ sealed: 0, removed: 0 });
    expect(await sealedIn(entry.id)).toBe(w.g);

    // It pulls the setting on again: the key is held as it is, nothing is sealed again.
    view.keys = [key];
    view.groupsOff = [];
    expect(await handOverServerCodes(desktop, view, handed)).toEqual({ sealed: 0, removed: 0 });
    expect(await sealedIn(entry.id)).toBe(w.g);
  });

  it('still removes a key taken off an entry that stays in its group', async () => {
    const entry = entryIn(w.u.tech, w.g);
    await tech.client.ok('syncPush', pushOf(w.vault, [entry]));
    const params = { kind: 'totp' as const, secret: encodeSecret(randomBytes(20)), algorithm: 'SHA1' as const, digits: 6, period: 30, counter: 0 };
    const desktop = desktopOf(tech);
    const view = viewOf(w.vault);
    const handed = nothingHandedOver();
    view.keys = [{ entry: entry.id, group: w.g, keyVersion: 1, params }];
    expect((await handOverServerCodes(desktop, view, handed)).sealed).toBe(1);
    // The key removed (or made HOTP) on this desktop: only a tombstone tells the server, which cannot see it.
    view.keys = [];
    expect(await handOverServerCodes(desktop, view, handed)).toEqual({ sealed: 0, removed: 1 });
    expect(await sealedIn(entry.id)).toBeUndefined();
    // Never a key or a code in the server's logs.
    expect(server.logs.join('\n')).not.toContain(params.secret);
  });
});
