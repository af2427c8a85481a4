/**
 * Review round thirteen (a), hole 3 (class: a desktop taking in a rotation that wraps it the list
 * key but no longer the secret key, while it held the secret key before, re-seals its entries under
 * a key without a secret part: replica-people-in.ts rotateIn takes `old.secret` for "may re-seal",
 * resealEntry's sealDetails then throws FORBIDDEN "Your role holds no key to this entry's secrets",
 * and the whole pull rolls back at every sync, for good. Such a desktop keeps the vault as it stood
 * before the demotion (its person still a technician in the file, the old secret key, the old OTP
 * keys) and takes nothing more of anyone. Any demotion to a role that keeps the list key only does
 * it: codes_only in a group whose codes the server computes, an auditor anywhere.)
 * Case 2 (cases 1 and 3: secret-key-lost.test.ts; further paths: secret-key-lost-paths.test.ts), a technician demoted to codes-only while their desktop holds
 * the secret key of a group set to "server computes codes". The owner turns Ops to server codes
 * (bob, a technician, keeps its secret key), gives Firewall an OTP key, bob's desktop computes its
 * code itself; the owner demotes bob to codes_only (a rotation without his secret key) and then
 * changes Firewall's OTP key. After bob's next sync, his desktop must not compute the new key's
 * code itself (it asks the team server), his file wraps no secret key of Ops at its current
 * version, and his pull hands him no member record with a secret key at that version.
 * Real server on PGlite, real vault files, real `crewvault sync`. Must never print a key or a code.
 */
import { describe, expect, it } from 'vitest';
import { totpCode } from '../../shared/otp';
import { BOB, CAROL, useTeamDesktops } from '../support/team-desktops';
import { freshTotp as totp, wrapIn } from '../support/group-wraps';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 1, 3, 0, 0));
const desktops = useTeamDesktops('crewvault-r13a-demote', clock);
const { a, b, c, onDesktop, sync, teamClient } = desktops;

describe('a technician demoted to codes-only in a group whose codes the server computes', () => {
  it('no longer computes codes of keys set after the demotion, and holds no secret key of the new version', async () => {
    const opsId = desktops.opsId;
    expect((await sync(a)).code).toBe('ok');
    await onDesktop(a, async (s) => s.team.setServerCodes(opsId, true, await s.team.groupRevision(opsId)));
    const first = totp();
    await onDesktop(a, async (s) => {
      const fw = await s.resolvePath('Acme/Firewall');
      await s.updateEntry(fw.id, { otp: { params: first } }, fw.revision ?? -1);
    });
    expect((await sync(a)).code).toBe('ok');
    expect((await sync(b)).code).toBe('ok');
    // Control: bob, a technician, holds the key and computes the code himself.
    const asked: string[] = [];
    const viaServer = async (vault: string, entry: string) => {
      asked.push(entry);
      return (await teamClient(b)).call('codes', { vault, entry });
    };
    const before = await onDesktop(b, async (s) => s.otpCode((await s.resolvePath('Acme/Firewall')).id, undefined, 'view', viaServer));
    expect({ code: before.code, asked: asked.length }).toEqual({ code: totpCode(first, clock.now()).code, asked: 0 });

    // The demotion (rotating Ops without bob's secret key), then a new OTP key on Firewall.
    await onDesktop(a, async (s) => s.team.changeRole(BOB, 'codes_only', await s.team.userRevision(BOB)));
    expect((await sync(a)).code).toBe('ok');
    const second = totp();
    await onDesktop(a, async (s) => {
      const fw = await s.resolvePath('Acme/Firewall');
      await s.updateEntry(fw.id, { otp: { params: second } }, fw.revision ?? -1);
    });
    expect((await sync(a)).code).toBe('ok');
    const bobSync = await sync(b);
    expect(bobSync.code, bobSync.stderr).toBe('ok');

    const wrap = wrapIn(b.file, BOB, desktops.opsId);
    const serverVersion = wrapIn(a.file, BOB, desktops.opsId).version;
    expect(wrap).toEqual({ version: serverVersion, secret: false });
    // His desktop does not compute the new key's code: it asks the server.
    const after = await onDesktop(b, async (s) => {
      try {
        return { code: (await s.otpCode((await s.resolvePath('Acme/Firewall')).id, undefined, 'view', viaServer)).code };
      } catch (error) {
        return { error: (error as { code?: string }).code };
      }
    });
    // Asked the server once, computed nothing itself: the code is the server's (the owner's `crewvault sync` handed it the new key).
    expect({ asked: asked.length, serverCode: after.code === totpCode(second, clock.now()).code }).toEqual({ asked: 1, serverCode: true });
    // What the server hands bob: no member record of Ops with a secret key at the current version.
    const vault = await onDesktop(a, (s) => s.replica.vaultId());
    const pulled = (await (await teamClient(b)).call('syncPull', { vault, since: 0 })).records;
    const bobId = pulled.find((r) => r.record.kind === 'user' && r.record.name === BOB)?.record.id;
    const secretsForBob = pulled.filter((r) => r.record.kind === 'member' && r.record.user === bobId && r.record.keyVersion === serverVersion && r.record.wrappedSecretKey !== null);
    expect(secretsForBob).toEqual([]);
  }, 180_000);

  it('an auditor: a technician demoted to auditor (the default group rotated without their secret key) still syncs', async () => {
    await onDesktop(a, async (s) => s.team.changeRole(CAROL, 'auditor', await s.team.userRevision(CAROL)));
    expect((await sync(a)).code).toBe('ok');
    const carolSync = await sync(c);
    expect(carolSync.code, carolSync.stderr).toBe('ok');
  }, 120_000);
});
