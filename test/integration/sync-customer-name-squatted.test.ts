/**
 * Hostile review of C1 (the server refuses a second customer of a name index): a member with a
 * valid account (carol, a technician) stores a customer under the keyed index of a name ("Globex")
 * whose sealed name does not open, signed by her own key. The server cannot tell (it opens nothing)
 * and now names that record as the conflict of every later push adding a customer "Globex". Bob
 * adds an entry under "Globex" and changes an entry elsewhere; his desktop refuses carol's record
 * (its name does not open). His other change must still reach the team.
 * Real files, a real team server on PGlite over loopback HTTP, the CLI's sync; carol's record is
 * her desktop's own, its sealed name replaced and signed again with her key.
 * Must never put a password in a process argument.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { uidText } from '../../electron/vault/ids';
import { signBytes } from '../../electron/vault/signing';
import { recordSigningText, REPLICA_FORMAT, type CustomerRecord } from '../../shared/sync/records';
import { signerOf } from '../support/desktop-copies';
import { useTeamDesktops } from '../support/team-desktops';
import { manualClock } from '../support/vault';

const clock = manualClock(Date.UTC(2026, 11, 6, 5, 0, 0));
const team = useTeamDesktops('crewvault-c1-squatted', clock);
const { a, b, c, onDesktop, sync, setPassword, teamClient } = team;

describe('a customer name squatted by a member with a record whose name does not open (C1 hostile review)', () => {
  it('holds back only the customer that cannot join: the desktop\'s other changes still go', async () => {
    // Carol's desktop makes "Globex" (never synced); its record goes to the server with a sealed name that opens nowhere.
    clock.advance(1_000);
    const forged = await onDesktop(c, async (s) => {
      await s.createEntries([{ customer: 'Globex', title: 'Decoy', password: 'decoy-1' }]);
      const out = await s.replica.outgoing(false, true);
      const mine = out.batch.records.find((r): r is CustomerRecord => r.kind === 'customer');
      if (mine === undefined) throw new Error('carol\'s desktop sends no customer');
      const sealed = Buffer.from(mine.sealedName, 'base64url');
      const garbled = Buffer.concat([sealed.subarray(0, sealed.length - 16), randomBytes(16)]).toString('base64url');
      const signer = signerOf(s);
      const unsigned = { kind: 'customer' as const, id: mine.id, revision: mine.revision, base: mine.base, sealedName: garbled, nameIndex: mine.nameIndex, createdAt: mine.createdAt, author: mine.author, signerKey: uidText(signer.keyUid) };
      const signature = signBytes(signer.privateKey, Buffer.from(recordSigningText(out.batch.vault, unsigned), 'utf8')).toString('base64url');
      return { vault: out.batch.vault, record: { ...unsigned, signature } satisfies CustomerRecord };
    });
    const stored = await (await teamClient(c)).call('syncPush', { batch: { format: REPLICA_FORMAT, vault: forged.vault, records: [forged.record] } });
    expect(stored.conflicts).toEqual([]);

    // Bob, offline: an entry under "Globex", and Printer (the default group) changed.
    clock.advance(1_000);
    await onDesktop(b, (s) => s.createEntries([{ customer: 'Globex', title: 'VPN', password: 'vpn-bob' }]));
    await setPassword(b, 'Acme/Printer', 'p-bob');
    const out = await sync(b);
    expect(out.stdout + out.stderr).not.toMatch(/vpn-bob|p-bob/);
    expect(out.code, out.stderr).toBe('ok');
    expect((JSON.parse(out.stdout) as { customerHeldBack?: string }).customerHeldBack).toMatch(/^A customer made here stays on this desktop unsent, with 1 change of its entry: the team's customer of its name was refused here \(.*does not open.*\)\. Your other changes were sent\.$/);
    // Globex and its entry stay on bob's desktop as he made them.
    expect(await onDesktop(b, async (s) => s.revealPassword((await s.resolvePath('Globex/VPN')).id))).toBe('vpn-bob');

    // Printer's change reached the team, whatever became of Globex.
    expect((await sync(a)).code).toBe('ok');
    expect(await onDesktop(a, async (s) => s.revealPassword((await s.resolvePath('Acme/Printer')).id))).toBe('p-bob');
  }, 180_000);
});
