/**
 * Review round twelve (a) probes that held: custom roles, settings and the MFA policy as synced
 * records (#15 task 15), attacked through a real team server (server/main.ts on PGlite over
 * loopback HTTP), real vault files and the CLI's sync. An admin's policy record changing the owner
 * role's level (an owner's alone) is refused by the server (FORBIDDEN) and set aside by the owner's
 * desktop; named in other capitals ("OWNER") it is no record at all since the owner role is written
 * only as its id (records.ts): refused by the server and by the desktop's parse (INVALID_INPUT); an admin's role record under a built-in name in any spelling the
 * desktops fold ("ADMIN", "owner ", "Codes-Only") is refused by the server; an older policy record
 * played back to a desktop that agreed a newer one changes nothing there.
 * Must never put a password in a process argument (answers go on the scripted stdin), and never pass
 * with the owner-level check or the built-in-name check off (each refusal below is asserted).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { signBytes } from '../../electron/vault/signing';
import { recordSigningText, REPLICA_FORMAT, vaultObjectId, type MfaPolicyRecord, type ReplicaRecord, type RoleRecord, type Unsigned } from '../../shared/sync/records';
import { signerOf } from '../support/desktop-copies';
import { BOB, useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 9, 0, 0));
const team = useTeamDesktops('crewvault-r12-roles', clock);
const { a, b, onDesktop, sync, teamClient } = team;
const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

const ok = async (d: typeof a): Promise<void> => {
  const out = await sync(d);
  expect(out.code, `${d.name}: ${out.stderr}`).toBe('ok');
};

/** Records as bob's desktop signs them (his vault user and signing key), built by hand. */
async function signedByBob(build: (vault: string, by: { author: string; signerKey: string }) => Array<Unsigned<MfaPolicyRecord | RoleRecord>>): Promise<{ vault: string; records: ReplicaRecord[] }> {
  return onDesktop(b, async (s) => {
    const vault = await s.replica.vaultId();
    const page = await (await teamClient(b)).call('syncPull', { vault, since: 0 });
    const bob = page.records.map((r) => r.record).find((r) => r.kind === 'user' && r.name === BOB);
    if (bob === undefined) throw new Error('bob is not in the pull');
    const signer = signerOf(s);
    const records: ReplicaRecord[] = build(vault, { author: bob.id, signerKey: uidText(signer.keyUid) }).map((unsigned) => ({
      ...unsigned, signature: signBytes(signer.privateKey, Buffer.from(recordSigningText(vault, unsigned), 'utf8')).toString('base64url'),
    }));
    return { vault, records };
  });
}

describe('review round twelve (a): roles, settings and the MFA policy held', () => {
  it('an admin\'s policy changing the owner role\'s level is refused by the server and set aside by the owner\'s desktop, as "OWNER" refused by both', async () => {
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'admin', await s.team.userRevision(BOB)));
    await onDesktop(a, async (s) => s.mfa.setPolicy('optional', 'owner', (await s.mfa.policy()).revision));
    await ok(a);
    await ok(b);
    const held = await onDesktop(b, async (s) => (await s.mfa.policy()).revision);
    const forge = (role: string) => signedByBob((vault, by) => [{
      kind: 'mfa_policy', id: vaultObjectId(vault, 'mfa_policy', sha256Hex), revision: held + 1, base: held, global: 'optional', roles: [[role, 'off']], ...by,
    }]);
    const forged = await forge('owner');
    await expect((await teamClient(b)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault: forged.vault, records: forged.records } })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const taken = await onDesktop(a, (s) => s.replica.apply({ format: REPLICA_FORMAT, vault: forged.vault, records: forged.records }, { hold: true }));
    expect(taken.held.map((h) => h.reason).join(' ')).toMatch(/owner role's MFA level/);
    const shouted = await forge('OWNER');
    await expect((await teamClient(b)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault: shouted.vault, records: shouted.records } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(onDesktop(a, (s) => s.replica.apply({ format: REPLICA_FORMAT, vault: shouted.vault, records: shouted.records }, { hold: true }))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await onDesktop(a, async (s) => (await s.mfa.policy()).roles)).toEqual({ owner: 'optional' });
  });

  it('an admin\'s role record under a built-in name in any folded spelling is refused by the server', async () => {
    for (const name of ['ADMIN', 'owner ', 'Codes-Only', 'team_Lead']) {
      const forged = await signedByBob((vault, by) => [{ kind: 'role', id: vaultObjectId(vault, 'role', sha256Hex, name), revision: 1, base: 0, name, permissions: ['entries.view'], ...by }]);
      await expect((await teamClient(b)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault: forged.vault, records: forged.records } }), name).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
  });

  it('an older policy record played back to a desktop that agreed a newer one changes nothing there', async () => {
    await onDesktop(a, async (s) => s.mfa.setPolicy('optional', 'technician', (await s.mfa.policy()).revision));
    await ok(a);
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const older = (await (await teamClient(a)).call('syncPull', { vault, since: 0, kinds: ['mfa_policy'] })).records.map((r) => r.record).find((r) => r.kind === 'mfa_policy');
    expect(older).toBeDefined();
    await onDesktop(a, async (s) => s.mfa.setPolicy('required', 'technician', (await s.mfa.policy()).revision));
    await ok(a);
    await ok(b);
    expect(await onDesktop(b, async (s) => (await s.mfa.policy()).roles['technician'])).toBe('required');
    const replayed = await onDesktop(b, (s) => s.replica.apply({ format: REPLICA_FORMAT, vault, records: older === undefined ? [] : [older] }, { hold: true }));
    expect(replayed.held).toEqual([]);
    expect(await onDesktop(b, async (s) => (await s.mfa.policy()).roles['technician'])).toBe('required');
  });
});
