/**
 * Finding C1: same-named customers created offline on two desktops stayed two. The server now
 * refuses a second customer of a name (a CONFLICT naming the first), and a desktop folds its own
 * unsent customer into the team's of the same name — when its pull brings that one first, and in
 * the conflict round after the server refused its push — keeping its row id (audit hashes and
 * anchor), its entries' list lines sealed again under the team's customer, and its own events
 * signed again. A real team server (PGlite, loopback HTTP), the owner's desktop and a technician's
 * (test/support/team-desktops.ts), the CLI's sync, and the sync itself on the technician's
 * desktop where the other desktop's sync (another process) is driven in just before its push.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { TeamClient } from '../../electron/team/client';
import { ServerProfiles } from '../../electron/team/profiles';
import { syncOnce } from '../../electron/team/sync';
import { auditActionsIn, customerSeenOn, type CustomerSeen } from '../support/customer-seen';
import { useTeamDesktops, type Desktop } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
const team = useTeamDesktops('crewvault-same-customers', clock);
const { a, b, c, onDesktop, sync, teamClient } = team;

async function synced(d: Desktop): Promise<void> {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
}

/** Adds an entry under `customer` on a desktop (offline: nothing synced). */
async function addEntry(d: Desktop, customer: string, title: string, password: string): Promise<void> {
  clock.advance(1_000);
  await onDesktop(d, (s) => s.createEntries([{ customer, title, password }]));
}

const seenOn = (d: Desktop, customer: string): Promise<CustomerSeen> => customerSeenOn(team, clock, d, customer);
/** How many folds a file's audit log records. */
const foldsIn = (file: string): number => auditActionsIn(file, 'customer.folded', true);

describe('same-named customers made offline on two desktops', () => {
  it('the second desktop pulls the first one\'s customer before it pushes: one customer with both entries on both, audit intact', async () => {
    await addEntry(a, 'Contoso', 'Portal', 'portal-a');
    await addEntry(b, 'Contoso', 'VPN', 'vpn-b');
    await synced(a);
    await synced(b);
    await synced(a);
    for (const d of [a, b]) expect(await seenOn(d, 'Contoso'), d.name).toEqual({ customers: 1, titles: ['Portal=portal-a', 'VPN=vpn-b'], auditOk: true });
    // The fold, which signed bob's events again, is in his log and reached the owner's (hostile review of C1: it was not audited).
    expect(foldsIn(b.file)).toBe(1);
    expect(foldsIn(a.file)).toBe(1);
    // Later writes under it go on as one customer.
    await addEntry(b, 'Contoso', 'Mail', 'mail-b');
    await synced(b);
    await synced(a);
    expect(await seenOn(a, 'Contoso')).toEqual({ customers: 1, titles: ['Mail=mail-b', 'Portal=portal-a', 'VPN=vpn-b'], auditOk: true });
  });

  it('the first desktop pushes between the second one\'s pull and push: the refused push folds in the conflict round', async () => {
    await addEntry(a, 'Fabrikam', 'Portal', 'portal-a');
    await addEntry(b, 'Fabrikam', 'VPN', 'vpn-b');
    const client: TeamClient = await teamClient(b);
    client.serverKey = new ServerProfiles(b.env.CREWVAULT_CONFIG ?? '').get(team.server.url)?.serverKey; // the server's identity, as the CLI's kept session gives it
    const call = client.call.bind(client);
    let raced = false;
    const pushes: unknown[] = [];
    // The other desktop's sync, a process of its own, runs to its end just before this one's first push.
    client.call = async (name, input, sent) => {
      if (name === 'syncPush' && !raced) {
        raced = true;
        await synced(a);
      }
      const reply = await call(name, input, sent);
      if (name === 'syncPush') pushes.push(reply);
      return reply;
    };
    await onDesktop(b, (s) => syncOnce(client, s.replica));
    expect(raced).toBe(true);
    // Its first push refused, naming the other desktop's customer; the next, after the fold, stored.
    expect(pushes).toMatchObject([{ accepted: 0, conflicts: [{ revision: 1 }] }, { conflicts: [] }]);
    await synced(a);
    for (const d of [a, b]) expect(await seenOn(d, 'Fabrikam'), d.name).toEqual({ customers: 1, titles: ['Portal=portal-a', 'VPN=vpn-b'], auditOk: true });
  });

  it('a customer that cannot fold (another person\'s event of it on that desktop) is set aside: one line naming it, the rest still synced', async () => {
    await addEntry(a, 'Northwind', 'Portal', 'portal-a');
    await synced(a);
    // On carol's desktop, the owner adds an entry under the same name, then carol another.
    clock.advance(1_000);
    await onDesktop({ ...c, person: 'alice' }, (s) => s.createEntries([{ customer: 'Northwind', title: 'Router', password: 'router-alice-on-c' }]));
    await addEntry(c, 'Northwind', 'Wiki', 'wiki-c');
    const out = await sync(c);
    // Held back with its entries, told in one line; the rest goes (hostile review of C1: before, the sync ended CONFLICT with nothing sent).
    expect(out.code, out.stderr).toBe('ok');
    const line = (JSON.parse(out.stdout) as { customerHeldBack?: string }).customerHeldBack;
    expect(line).toMatch(/^A customer made here \("Northwind"\) stays on this desktop unsent, with 2 changes of its entries: the team's customer of its name was refused here \(.*A customer made here and not yet sent .*another person's audit event of it on this desktop cannot be signed again\. It is kept here unsent\)\. Your other changes were sent\.$/);
    // The line names it; the reason kept with the set-aside record in the file does not (a name is only sealed there).
    const file = new Database(c.file, { readonly: true });
    try {
      const reasons = file.prepare<[], { reason: string }>('SELECT reason FROM replica_held').all().map((r) => r.reason);
      expect(reasons.length).toBeGreaterThan(0);
      expect(reasons.join('\n')).not.toMatch(/Northwind/i);
    } finally {
      file.close();
    }
    expect(await seenOn(c, 'Northwind')).toMatchObject({ customers: 1, auditOk: true });
  });
});
