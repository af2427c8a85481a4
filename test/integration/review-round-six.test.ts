/**
 * Review round six (#15), the hostile probes of a desktop taking who-is-who in that held, between
 * real vault files exchanging records as JSON (as a relay would hand them over):
 * - a technician made an admin only on a forked copy of the file signs a promotion of someone
 *   else there: refused as tampered where he is a technician (users.manage judged by the roles
 *   held here, not by the record), set aside through a server;
 * - a re-wrap of a group this person already holds (a lead made, at the same key version) reaching
 *   their own desktop empties nothing and drops no unsent edit (not taken for a grant).
 * Must never: count a check that cannot fail (each asserts a state the attack would change).
 */
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { LEAD, LEAD_PASSWORD, MEMBER, MEMBER_PASSWORD, newPeopleWorld, OTHER, OWNER, PASSWORD, userRole, wire } from '../support/people-world';

async function setUp() {
  const { clock, files, netId } = await newPeopleWorld({
    people: [{ name: MEMBER, role: 'technician', password: MEMBER_PASSWORD }, { name: OTHER, role: 'technician' }],
    members: [MEMBER],
    desktops: [{ label: 'lead', name: LEAD, password: LEAD_PASSWORD }, { label: 'mo', name: MEMBER, password: MEMBER_PASSWORD }, { label: 'owner-2', name: OWNER, password: PASSWORD }, { label: 'fork', name: OWNER, password: PASSWORD }],
  });
  const [leadFile = '', moFile = '', ownerTwo = '', forkFile = ''] = files;
  return { clock, leadFile, moFile, ownerTwo, forkFile, netId };
}

describe('review six: who-is-who a relay hands a desktop', () => {
  it('refuses a technician\'s record signed as an admin of a forked copy', async () => {
    const { clock, ownerTwo, forkFile } = await setUp();
    // On the fork (never synced), mo is made an admin without a record anyone else takes; there he promotes oz.
    const fork = await Vault.open(forkFile, clock).signIn(OWNER, PASSWORD);
    await fork.team.changeRole(MEMBER, 'admin', await fork.team.userRevision(MEMBER));
    await fork.close();
    const forked = await Vault.open(forkFile, clock).signIn(MEMBER, MEMBER_PASSWORD);
    await forked.team.changeRole(OTHER, 'team_lead', await forked.team.userRevision(OTHER));
    const out = await forked.replica.outgoing();
    await forked.close();
    const users = out.batch.records.filter((r) => r.kind === 'user' && r.name === OTHER);
    // oz's promotion goes out signed by mo.
    expect(users.map((r) => r.kind === 'user' && [r.role, r.author])).toEqual([['team_lead', expect.any(String)]]);

    const two = await Vault.open(ownerTwo, clock).signIn(OWNER, PASSWORD);
    await expect(two.replica.apply(wire(out))).rejects.toMatchObject({ code: 'VAULT_TAMPERED' });
    expect([userRole(ownerTwo, MEMBER), userRole(ownerTwo, OTHER)]).toEqual(['technician', 'technician']);
    // Each alone, through a server: set aside, nothing changed.
    for (const user of users) {
      const held = await two.replica.apply(wire({ ...out, batch: { ...out.batch, records: [user] } }), { hold: true, caughtUp: true });
      expect(held.held.map((h) => h.kind)).toEqual(['user']);
    }
    expect([userRole(ownerTwo, MEMBER), userRole(ownerTwo, OTHER)]).toEqual(['technician', 'technician']);
    await two.close();
  });

  it('takes a re-wrap of a group this person holds (a lead made) as no grant: nothing emptied, no unsent edit dropped', async () => {
    const { clock, leadFile, moFile, netId } = await setUp();
    const lead = await Vault.open(leadFile, clock).signIn(LEAD, LEAD_PASSWORD);
    await lead.team.setLead(netId, MEMBER, true, await lead.team.memberRevision(netId, MEMBER));
    const made = await lead.replica.outgoing();
    await lead.close();
    expect(made.batch.records.filter((r) => r.kind === 'member' && r.lead).length).toBeGreaterThan(0);

    const mo = await Vault.open(moFile, clock).signIn(MEMBER, MEMBER_PASSWORD);
    await mo.createEntries([{ customer: 'Acme', title: 'Edge router', password: 'er-1', groupId: netId }]);
    const outcome = await mo.replica.apply(wire(made), { hold: true, caughtUp: true });
    expect(outcome.accessRemoved).toEqual([]);
    expect((await mo.listEntries()).map((e) => e.title).sort()).toEqual(['Core switch', 'Edge router']);
    expect(await mo.revealPassword((await mo.resolvePath('Acme/Core switch')).id)).toBe('cs-1');
    const unsent = await mo.replica.outgoing();
    expect(unsent.batch.records.filter((r) => r.kind === 'entry')).toHaveLength(1);
    await mo.close();
  });
});
