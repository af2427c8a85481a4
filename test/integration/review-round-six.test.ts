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
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Outgoing } from '../../electron/vault/replica-service';
import { Vault } from '../../electron/vault/vault';
import { copyAsNewDesktop } from '../support/replica';
import { FAST_KDF, newVault, OWNER, PASSWORD, tempFolder } from '../support/vault';

const LEAD = 'lena';
const LEAD_PASSWORD = 'lena leads the network team';
const MEMBER = 'mo';
const MEMBER_PASSWORD = 'mo fixes the network';
const OTHER = 'oz';

function wire(out: Outgoing): unknown {
  return JSON.parse(JSON.stringify(out.batch)) as unknown;
}

function userRole(file: string, name: string): string | undefined {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT role FROM users WHERE name = ?').get(name) as { role: string } | undefined)?.role;
  } finally {
    db.close();
  }
}

async function setUp() {
  const { file, session, clock } = await newVault();
  await session.createUser(LEAD, 'team_lead', 'a one-time password for lena', FAST_KDF);
  await session.createUser(MEMBER, 'technician', 'a one-time password for mo', FAST_KDF);
  await session.createUser(OTHER, 'technician', 'a one-time password for oz', FAST_KDF);
  await session.close();
  for (const [who, once, pw] of [[LEAD, 'a one-time password for lena', LEAD_PASSWORD], [MEMBER, 'a one-time password for mo', MEMBER_PASSWORD]] as const) {
    const s = await Vault.open(file, clock).signIn(who, once);
    await s.changePassword(once, pw, FAST_KDF);
    await s.close();
  }
  const lena = await Vault.open(file, clock).signIn(LEAD, LEAD_PASSWORD);
  const net = await lena.team.createGroup('Network');
  await lena.team.grant(net.id, MEMBER);
  await lena.createEntries([{ customer: 'Acme', title: 'Core switch', password: 'cs-1', groupId: net.id }]);
  await lena.close();
  const copies = ['lead', 'mo', 'owner-2', 'fork'].map((name) => path.join(tempFolder(), `desktop-${name}.crewvault`));
  for (const copy of copies) await copyAsNewDesktop(file, copy, clock);
  const [leadFile = '', moFile = '', ownerTwo = '', forkFile = ''] = copies;
  for (const [f, who, pw] of [[leadFile, LEAD, LEAD_PASSWORD], [moFile, MEMBER, MEMBER_PASSWORD], [ownerTwo, OWNER, PASSWORD], [forkFile, OWNER, PASSWORD]] as const) {
    const s = await Vault.open(f, clock).signIn(who, pw);
    await s.replica.agreeAll();
    await s.close();
  }
  return { clock, leadFile, moFile, ownerTwo, forkFile, netId: net.id };
}

describe('review six: who-is-who a relay hands a desktop', () => {
  it('refuses a technician\'s record signed as an admin of a forked copy', async () => {
    const { clock, ownerTwo, forkFile } = await setUp();
    // On the fork (never synced), mo is made an admin without a record anyone else takes; there he promotes oz.
    const fork = await Vault.open(forkFile, clock).signIn(OWNER, PASSWORD);
    await fork.team.changeRole(MEMBER, 'admin');
    await fork.close();
    const forked = await Vault.open(forkFile, clock).signIn(MEMBER, MEMBER_PASSWORD);
    await forked.team.changeRole(OTHER, 'team_lead');
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
    await lead.team.setLead(netId, MEMBER, true);
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
