// A key change owed, told and made in the UI (#15; docs/SYNC.md "A key change owed"), end to end:
// Chromium through `crewvault serve` on desktop A of a team vault, a real team server (PGlite).
// Desktop B (in this process) makes the group Ops with bob in it, moves the vault onto the server,
// then removes bob: its push stores the removal (bob cut off on the server) and loses the key
// change on the way, and B is never synced again. Desktop A's first round takes Ops, bob and his
// removal in one pull (a pair it never held) and tells, under "Last sync", that the key is owed a
// change. The Groups screen's "Change key" asks first, makes it, and the audit log has its
// `group.key_rotated` row; the next round sends it and no longer tells it. The screen and the
// dialog pass axe. Nothing waits on the wall clock: each step waits for what the page shows.
import Database from 'better-sqlite3';
import type { TeamClient } from '../../electron/team/client';
import { syncOnce } from '../../electron/team/sync';
import { uidText } from '../../electron/vault/ids';
import { Vault } from '../../electron/vault/vault';
import { getGroup, getMembership } from '../../server/store/membership';
import { CrewvaultError } from '../../shared/errors';
import type { ServerRouteInput, ServerRouteName, ServerRouteOutput } from '../../shared/api/server-contract';
import { seriousViolations } from './axe';
import { expect, OWNER, PASSWORD, test } from './fixtures';
import { openTeamServer } from './helpers';
import { ownerSignedIn, servedAndSynced, startTeamWorld } from './team-server-helpers';

/** Cheap key stretching for bob's password in the test's vault file. */
const FAST_KDF = { memory: 1024, iterations: 1, parallelism: 1 };
const OWED = 'bob was removed from Ops on the server, but its key has not been changed since: what is written there stays under the key bob held. Change it: crewvault group rotate Ops (or the Groups screen).';

/** `client`, whose pushes carrying a group record (the key change's part) are lost on the way: nothing of them reaches the server. */
function losingKeyChanges(client: TeamClient): TeamClient {
  const call = client.call.bind(client);
  client.call = async <N extends ServerRouteName>(name: N, input: ServerRouteInput<N>, sent?: () => void): Promise<ServerRouteOutput<N>> => {
    if (name === 'syncPush' && (input as ServerRouteInput<'syncPush'>).batch.records.some((r) => r.kind === 'group')) throw new CrewvaultError('SERVER_UNREACHABLE', 'The team server could not be reached.');
    return call(name, input, sent);
  };
  return client;
}

/** A row's global id as the vault file at `file` holds it (`table` is the test's own: access_groups or users). */
function uidIn(file: string, table: 'access_groups' | 'users', where: string, value: number | string): string {
  const db = new Database(file, { readonly: true });
  try {
    return uidText((db.prepare(`SELECT uid FROM ${table} WHERE ${where} = ?`).get(value) as { uid: Buffer }).uid);
  } finally {
    db.close();
  }
}

test('a key change owed is told under the last sync, made by Change key on the Groups screen, and no longer told', async ({ page }) => {
  test.setTimeout(150_000);
  const world = await startTeamWorld();
  const vaultClock = { now: () => Date.now() };
  let stopServe: (() => Promise<void>) | undefined;
  try {
    const [, b] = world.desktops;
    // Desktop B: bob, a technician, in Ops, which holds an entry; the vault moved onto the server.
    const there = await Vault.open(b.file, vaultClock).signIn(OWNER, PASSWORD);
    await there.createUser('bob', 'technician', 'a one-time password for bob', FAST_KDF);
    const ops = await there.team.createGroup('Ops');
    await there.team.grant(ops.id, 'bob', false, await there.team.groupRevision(ops.id));
    await there.createEntries([{ customer: 'Acme', title: 'Core switch', password: 'cs-1', groupId: ops.id }]);
    const client = await ownerSignedIn(world, 'e2e-key-change-owed-desktop-b-01');
    await syncOnce(client, there.replica, { move: true });
    // B removes bob; the removal is stored, the key change is lost, and B is never synced again.
    await there.team.revoke(ops.id, 'bob', await there.team.memberRevision(ops.id, 'bob'));
    const lost = await syncOnce(losingKeyChanges(client), there.replica).then(() => 'ok', (error: unknown) => (error instanceof CrewvaultError ? error.code : String(error)));
    expect(lost).toBe('SERVER_UNREACHABLE');
    const vault = await there.replica.vaultId();
    await there.close();
    const opsUid = uidIn(b.file, 'access_groups', 'id', ops.id);
    const bobUid = uidIn(b.file, 'users', 'name', 'bob');
    /** Ops as the server holds it: its key version, and whether bob is still a member there. */
    const opsOnServer = () => world.server.database.transaction(async (tx) => ({
      version: (await getGroup(tx, vault, opsUid))?.keyVersion,
      bob: (await getMembership(tx, vault, opsUid, bobUid)) !== undefined,
    }));
    expect(await opsOnServer()).toEqual({ version: 1, bob: false });

    const { serve, told } = await servedAndSynced(page, world);
    stopServe = () => serve.stop();
    await expect(told.getByRole('listitem').filter({ hasText: OWED })).toHaveCount(1);

    // The Groups screen: Change key asks first, naming the group; Cancel changes nothing.
    await page.getByRole('button', { name: 'Back to the vault' }).click();
    await page.getByRole('button', { name: 'Groups', exact: true }).click();
    await page.getByRole('navigation', { name: 'Access groups' }).getByRole('button', { name: /^Ops / }).click();
    await page.getByRole('button', { name: 'Change key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Change the key of Ops?' });
    await expect(dialog).toContainText('Nobody is removed. Ops gets a new key, its entry is sealed again under it');
    expect(await seriousViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toBeHidden();
    await page.getByRole('button', { name: 'Change key' }).click();
    await dialog.getByRole('button', { name: 'Change key' }).click();
    await expect(page.getByRole('status')).toHaveText('Ops has a new key; its entries are sealed under it.');
    expect(await seriousViolations(page)).toEqual([]);

    // The next round sends it, and the line is no longer told.
    await openTeamServer(page);
    await page.getByRole('button', { name: 'Sync now' }).click();
    await expect(page.getByLabel('Last sync')).toContainText('Synced at', { timeout: 60_000 });
    await expect(page.getByText(OWED)).toHaveCount(0, { timeout: 60_000 });
    await expect.poll(opsOnServer, { timeout: 60_000 }).toEqual({ version: 2, bob: false });

    // The audit log has the key change (version 2: Ops was made at 1).
    await page.getByRole('button', { name: 'Back to the vault' }).click();
    await page.getByRole('button', { name: 'Audit log', exact: true }).click();
    await expect(page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'group.key_rotated' }) })).toContainText('Ops (key version 2)');
  } finally {
    await stopServe?.();
    await world.stop();
  }
});
