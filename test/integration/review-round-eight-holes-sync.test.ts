// Review round eight HOLE (the move's confirmation, electron/team/desk.ts sync/round): the door asks
// before team.move, but team.sync on a vault never moved pushes every record all the same
// (syncOnce without move: firstSync finds nothing, then outgoing(false) is everything not yet
// agreed, which on a never-moved vault is the whole vault). A compromised page connects (a pin the
// person confirmed, or any authority-vouched / loopback server, which needs no question at all)
// and calls team.sync: the vault's sealed records reach the server the port refused to move to.
// Asserts the SAFE behaviour: a sync of a never-moved vault asks the door as a move does, and with
// its no nothing is pushed (no push request, nothing stored).
// The server, its certificate and the desktops: test/support/tls-team-server.ts (shared with trust-confirm).
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCode, ok } from '../support/router';
import { confirmationPort as port, SERVER_PASSWORD, useTlsTeamServer } from '../support/tls-team-server';

const tls = useTlsTeamServer();
const { logs, desktop } = tls;

describe('HOLE: team.sync moves a vault the door refused to move', () => {
  it('a never-moved vault sends nothing to the server on team.sync when the move was refused', async () => {
    const { server, fingerprint } = tls;
    const url = server.url;
    const invite = readFileSync(server.ownerInviteFile ?? '', 'utf8').trim();
    const asker = port(true);
    const { router, file } = await desktop(asker);
    ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite }));
    ok(await router.call('team.connect', { url, username: 'alice', password: SERVER_PASSWORD, invite, trustFingerprint: fingerprint }));
    ok(await router.call('entries.create', { customer: 'Acme', title: 'Firewall', password: 'fw-1' }));
    asker.answer = false;
    expect(errorCode(await router.call('team.move', { confirm: true }))).toBe('FORBIDDEN');
    expect(await server.database.query('SELECT 1 FROM sync_records')).toHaveLength(0);
    // The server the page chose is the page's (here: a database row saying it holds this vault, as
    // any server that wants the records would answer). The page, refused the move, asks for a sync.
    const db = new Database(file, { readonly: true });
    const vaultId = (db.prepare("SELECT value FROM meta WHERE key = 'vault_id'").get() as { value: string }).value;
    db.close();
    const [alice] = await server.database.query("SELECT id FROM users WHERE username = 'alice'");
    await server.database.query('INSERT INTO sync_vaults (vault_id, seq, created_by, created_at) VALUES ($1, 0, $2, 0)', [vaultId, alice?.id]);
    const pushesBefore = logs.filter((l) => l.includes('/v1/sync/push')).length;
    const synced = await router.call('team.sync', {});
    const stored = await server.database.query('SELECT kind FROM sync_records');
    expect({
      stored: stored.length, pushes: logs.filter((l) => l.includes('/v1/sync/push')).length - pushesBefore, asked: asker.asked.map((q) => q.kind), synced: JSON.stringify(synced).slice(0, 200),
    }).toEqual({ stored: 0, pushes: 0, asked: ['pin-certificate', 'move-vault', 'move-vault'], synced: expect.any(String) as string });
  }, 60_000);
});
