/**
 * Custom roles, the vault settings and the MFA policy synced between desktops through a real team
 * server (#15 task 15: server/main.ts on PGlite over loopback HTTP, real vault files, the CLI's
 * sync): a role defined on the owner's desktop A and given to bob is taken by bob's desktop B, and
 * his edit it allows is stored by the server and taken by A; the role narrowed on A, bob's next
 * write is refused by the server; settings and the MFA policy changed on A are B's after a sync (the
 * policy, required of his role, then asks bob to set up an authenticator at his next command, as admitSession does); a
 * member's records forged from a copy where he was made admin are refused by the server and set
 * aside by A; a stale desktop's settings change meets CONFLICT and gives way to the team's.
 * Must never put a password in a process argument (answers go on the scripted stdin).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mustSetUpAuthenticator } from '../../electron/vault/sign-in-flow';
import { Vault } from '../../electron/vault/vault';
import { REPLICA_FORMAT } from '../../shared/sync/records';
import { copyAsNewDesktop } from '../support/replica';
import { BOB, BOB_PASSWORD, useTeamDesktops } from '../support/team-desktops';
import { manualClock, OWNER, PASSWORD } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 9, 0, 0));
const { a, a2, b, onDesktop, sync, teamClient, setPassword } = useTeamDesktops('crewvault-t15-objects', clock);
const scratch = mkdtempSync(path.join(tmpdir(), 'crewvault-t15-forged-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const HELPDESK = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.create', 'entries.edit'];
const ok = async (d: typeof a): Promise<unknown> => {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
  return JSON.parse(out.stdout) as unknown;
};

describe('custom roles, settings and the MFA policy between desktops', () => {
  it('a role defined on A and given to bob lets his edit through the server to A; narrowed, his next write is refused', async () => {
    await onDesktop(a, async (s) => {
      await s.team.defineRole('Helpdesk', HELPDESK, 0);
      await s.team.changeRole(BOB, 'Helpdesk', await s.team.userRevision(BOB));
    });
    await ok(a);
    await ok(b);
    expect(await onDesktop(b, async (s) => (await s.team.listRoles()).find((r) => r.name === 'Helpdesk')?.permissions)).toEqual(HELPDESK);
    await setPassword(b, 'Acme/Switch', 's-helpdesk');
    await ok(b);
    await ok(a);
    expect(await onDesktop(a, async (s) => s.revealPassword((await s.resolvePath('Acme/Switch')).id))).toBe('s-helpdesk');

    // Narrowed on A (no entries.edit); bob's desktop, not synced since, pushes an edit as it stands.
    await onDesktop(a, async (s) => s.team.defineRole('Helpdesk', ['entries.view', 'passwords.reveal', 'otp.view'], await s.team.roleRevision('Helpdesk')));
    await ok(a);
    await setPassword(b, 'Acme/Switch', 's-after-narrowing');
    const bobs = await onDesktop(b, (s) => s.replica.outgoing());
    expect(bobs.batch.records.some((r) => r.kind === 'entry')).toBe(true);
    await expect((await teamClient(b)).call('syncPush', { batch: bobs.batch })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Bob's desktop takes the narrowed role at its next sync: his own edit is no longer vouched for.
    await ok(b);
    expect(await onDesktop(b, async (s) => (await s.team.listRoles()).find((r) => r.name === 'Helpdesk')?.permissions)).toEqual(['entries.view', 'passwords.reveal', 'otp.view']);
  });

  it('settings and the MFA policy changed on A are B\'s after a sync; bob is then asked to set up an authenticator', async () => {
    await onDesktop(a, async (s) => {
      await s.vaultSettings.update({ idleLockMinutes: 3, trustDeviceDays: 0 }, (await s.vaultSettings.read()).revision);
      // Required of bob's role (the owner, without an authenticator here, keeps signing in).
      await s.mfa.setPolicy('required', 'Helpdesk', (await s.mfa.policy()).revision);
    });
    expect(await onDesktop(b, (s) => mustSetUpAuthenticator(s))).toBe(false);
    await ok(a);
    await ok(b);
    const seen = await onDesktop(b, async (s) => ({ settings: await s.vaultSettings.read(), policy: await s.mfa.policy(), enrol: await mustSetUpAuthenticator(s) }));
    expect(seen.settings).toMatchObject({ idleLockMinutes: 3, trustDeviceDays: 0, clipboardClearSeconds: 30 });
    expect(seen.policy).toMatchObject({ global: 'optional', roles: { Helpdesk: 'required' }, mine: 'required' });
    expect(seen.enrol).toBe(true);
  });

  it('hands an old desktop (a pull or snapshot naming no kinds, as desktops before task 15 send) none of the three kinds: its strict schema never meets one', async () => {
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const client = await teamClient(a);
    const OLD_KINDS = ['customer', 'entry', 'signing_key', 'event', 'user', 'group', 'member'];
    const old = await client.call('syncPull', { vault, since: 0 });
    expect(old.records.length).toBeGreaterThan(0);
    expect(old.records.every((r) => OLD_KINDS.includes(r.record.kind))).toBe(true);
    const snapshot = await client.call('syncSnapshot', { vault, part: 'state', after: 0 });
    expect(snapshot.records.every((r) => OLD_KINDS.includes(r.record.kind))).toBe(true);
    const now = await client.call('syncPull', { vault, since: 0, kinds: ['role', 'settings', 'mfa_policy'] });
    expect(new Set(now.records.map((r) => r.record.kind))).toEqual(new Set([...OLD_KINDS.filter((k) => old.records.some((r) => r.record.kind === k)), 'role', 'settings', 'mfa_policy']));
  });

  it('a stale desktop\'s settings change meets CONFLICT and gives way to the team\'s, told as crossed', async () => {
    // a2 (alice's second desktop) catches up, then A changes the settings first.
    await ok(a2);
    await onDesktop(a, async (s) => s.vaultSettings.update({ clipboardClearSeconds: 45 }, (await s.vaultSettings.read()).revision));
    await ok(a);
    await onDesktop(a2, async (s) => s.vaultSettings.update({ clipboardClearSeconds: 90 }, (await s.vaultSettings.read()).revision));
    // Straight to the server as it stands: the base a2 holds is stale.
    const stale = await onDesktop(a2, (s) => s.replica.outgoing());
    const settingsRecord = stale.batch.records.find((r) => r.kind === 'settings');
    expect(settingsRecord).toBeDefined();
    const reply = await (await teamClient(a2)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault: stale.batch.vault, records: settingsRecord === undefined ? [] : [settingsRecord] } });
    expect(reply).toMatchObject({ accepted: 0, conflicts: [{ id: settingsRecord?.id }] });
    const out = await sync(a2);
    expect(out.code, out.stderr).toBe('ok');
    expect(out.stdout).toContain('Vault settings: changed here and not sent');
    expect(await onDesktop(a2, async (s) => (await s.vaultSettings.read()).clipboardClearSeconds)).toBe(45);
  });

  it('a member\'s role, settings and policy records (signed on a copy where he was made admin) are refused by the server and set aside by A', async () => {
    const forgedFile = path.join(scratch, 'forged.crewvault');
    await copyAsNewDesktop(a.file, forgedFile, clock);
    const owner = await Vault.open(forgedFile, clock).signIn(OWNER, PASSWORD);
    await owner.team.changeRole(BOB, 'admin', await owner.team.userRevision(BOB));
    await owner.close();
    const bob = await Vault.open(forgedFile, clock).signIn(BOB, BOB_PASSWORD);
    await bob.team.defineRole('Helpdesk', [...HELPDESK, 'entries.delete'], await bob.team.roleRevision('Helpdesk'));
    await bob.vaultSettings.update({ idleLockMinutes: 0 }, (await bob.vaultSettings.read()).revision);
    await bob.mfa.setPolicy('off', undefined, (await bob.mfa.policy()).revision);
    const out = await bob.replica.outgoing();
    await bob.close();
    const forged = out.batch.records.filter((r) => r.kind === 'role' || r.kind === 'settings' || r.kind === 'mfa_policy');
    expect(forged.map((r) => r.kind).sort()).toEqual(['mfa_policy', 'role', 'settings']);
    for (const record of forged) {
      await expect((await teamClient(b)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault: out.batch.vault, records: [record] } })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    // Reaching A all the same (a relay that let them through): set aside, one line each, nothing changed.
    const taken = await onDesktop(a, (s) => s.replica.apply({ format: REPLICA_FORMAT, vault: out.batch.vault, records: forged }, { hold: true }));
    expect(taken.held.map((h) => h.kind).sort()).toEqual(['mfa_policy', 'role', 'settings']);
    for (const h of taken.held) expect(h.reason).toMatch(/its sender may not/);
    const after = await onDesktop(a, async (s) => ({ policy: (await s.mfa.policy()).roles, idle: (await s.vaultSettings.read()).idleLockMinutes }));
    expect(after).toEqual({ policy: { Helpdesk: 'required' }, idle: 3 });
  });
});
