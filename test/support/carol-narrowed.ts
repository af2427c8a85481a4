/**
 * What the tests of a technician whose custom role narrows while her changes wait share (held-change-events-go,
 * held-customer-events-go, held-customer-named-here-after, directory-rotation-customers-open-item): carol given the
 * custom role Tech and the owner's entry Router, and what they read of a desktop afterwards (carol's audit events, a
 * password, the customers listed, the file's whole audit history). Before, each file wrote these word for word.
 * Must never put a password in a process argument.
 */
import type { Clock } from '../../electron/vault/service';
import { Vault } from '../../electron/vault/vault';
import { CAROL, type Desktop, type TeamDesktops } from './team-desktops';

/** A technician's permissions: may add and edit entries. */
export const TECH = ['entries.view', 'passwords.reveal', 'otp.view', 'entries.create', 'entries.edit'];
/** Neither entries.create nor entries.edit: a customer she sends is set aside on every desktop. */
export const VIEW = ['entries.view', 'passwords.reveal', 'otp.view'];

/** The steps and reads, for `team` on `clock`. */
export function carolNarrowed(team: TeamDesktops, clock: Clock & { advance(ms: number): void }) {
  const { a, b, c, onDesktop, answer } = team;
  return {
    /** The owner defines Tech (TECH), gives it to carol and makes Router under Acme; the owner's, carol's and bob's desktops sync. */
    carolTech: async (): Promise<void> => {
      await onDesktop(a, async (s) => {
        await s.team.defineRole('Tech', TECH, 0);
        await s.team.changeRole(CAROL, 'Tech', await s.team.userRevision(CAROL));
        await s.createEntry({ customer: 'Acme', title: 'Router', password: 'r-1' });
      });
      if (await answer(a) !== 'ok') throw new Error('the owner did not sync');
      for (const d of [c, b]) if (await answer(d) !== 'ok') throw new Error(`${d.name} did not sync`);
    },

    /** A second on, carol makes `title` (its password `password`) under `customer`; before she syncs, the owner redefines Tech as `permissions`; the owner and carol sync. */
    carolMakesThenNarrowed: async (customer: string, title: string, password: string, permissions: readonly string[]): Promise<void> => {
      clock.advance(1_000);
      await onDesktop(c, (s) => s.createEntry({ customer, title, password }));
      await onDesktop(a, async (s) => s.team.defineRole('Tech', [...permissions], await s.team.roleRevision('Tech')));
      for (const d of [a, c]) if (await answer(d) !== 'ok') throw new Error(`${d.name} did not sync`);
    },

    /** A second on, carol reveals Router's password on her desktop (an act after the change that waits), and syncs. */
    carolRevealsRouter: async (): Promise<void> => {
      clock.advance(1_000);
      const router = (await onDesktop(c, (s) => s.listEntries())).find((e) => e.title === 'Router');
      if (router === undefined || await onDesktop(c, (s) => s.revealPassword(router.id)) !== 'r-1') throw new Error('carol does not read Router');
      if (await answer(c) !== 'ok') throw new Error('carol did not sync');
    },

    /** Carol's audit events of `title` with `action` in the log of `d`. */
    carolsEvents: async (d: Desktop, action: string, title: string): Promise<number> => {
      return onDesktop(d, async (s) => (await s.auditLog()).filter((r) => r.actor === CAROL && r.action === action && r.detail.includes(title)).length);
    },

    /** The password of the entry titled `title` on `d`, revealed there (undefined: no such entry listed). */
    passwordOn: async (d: Desktop, title: string): Promise<string | undefined> => {
      return onDesktop(d, async (s) => {
        const entry = (await s.listEntries()).find((e) => e.title === title);
        return entry === undefined ? undefined : s.revealPassword(entry.id);
      });
    },

    /** The customers `d` lists, by name, sorted. */
    customersOn: async (d: Desktop): Promise<string[]> => {
      return onDesktop(d, async (s) => (await s.listCustomers()).map((customer) => customer.name).sort());
    },

    /** The file's whole audit history checked as its vault verifies it (signatures under their authors' keys, device chains, the hash chain), no session asked. */
    historyOf: async (d: Desktop): Promise<Awaited<ReturnType<Vault['verifyAudit']>>> => {
      const vault = Vault.open(d.file, clock);
      try {
        return await vault.verifyAudit();
      } finally {
        await vault.close();
      }
    },
  };
}
