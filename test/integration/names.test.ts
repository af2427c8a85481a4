// Names people compare by eye (issue #10, low findings): user, group and customer names are
// stored in one Unicode form and refuse invisible and direction-changing characters; the
// customer list shows only customers with an entry the person can see (owners: all).
import { describe, expect, it } from 'vitest';
import { Vault } from '../../electron/vault/vault';
import { FAST_KDF, manualClock, newVault } from '../support/vault';

const INVISIBLES = [
  ['zero-width space', '\u200B'],
  ['zero-width joiner', '\u200D'],
  ['right-to-left override', '\u202E'],
  ['left-to-right isolate', '\u2066'],
  ['byte order mark', '\uFEFF'],
  ['C1 control', '\u0085'],
  ['soft hyphen', '\u00AD'],
  ['Hangul filler', '\u3164'],
  ['tag character', '\u{E0041}'],
  ['line separator', '\u2028'],
] as const;

describe('look-alike names', () => {
  it.each(INVISIBLES)('refuses a %s in user, group and customer names, naming the code point and changing nothing', async (_label, char) => {
    const { session } = await newVault();
    const point = `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    const refused = (attempt: Promise<unknown>) => expect(attempt).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining(point) as unknown }) as unknown);
    await expect(session.createUser(`bo${char}b`, 'technician', 'bob password', FAST_KDF)).rejects.toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }) as unknown);
    await refused(session.team.createGroup(`Acme${char} team`));
    await refused(session.createEntry({ customer: `Ac${char}me`, title: 'VPN' }));
    expect((await session.team.listUsers()).map((u) => u.name)).toEqual(['alice']);
    expect((await session.team.listGroups()).map((g) => g.name)).toEqual(['Default']);
    expect(await session.listCustomers()).toEqual([]);
  });

  it('stores names in NFC: the same name typed decomposed is the same user, group and customer', async () => {
    const { file, session, clock } = await newVault();
    const composed = 'Jos\u00E9';
    const decomposed = 'Jose\u0301';
    await session.createUser(composed, 'technician', 'jose password', FAST_KDF);
    await expect(session.createUser(decomposed, 'technician', 'jose password', FAST_KDF)).rejects.toThrow(expect.objectContaining({ code: 'ALREADY_EXISTS' }) as unknown);
    const vault = Vault.open(file, clock);
    expect((await vault.signIn(decomposed, 'jose password')).user.name).toBe(composed);
    await session.team.createGroup(`Caf\u00E9 team`);
    await expect(session.team.createGroup('Cafe\u0301 team')).rejects.toThrow(expect.objectContaining({ code: 'ALREADY_EXISTS' }) as unknown);
    await session.createEntry({ customer: composed, title: 'A' });
    await session.createEntry({ customer: decomposed, title: 'B' });
    expect((await session.listCustomers()).map((c) => [c.name, c.entryCount])).toEqual([[composed, 2]]);
    await vault.close();
  });
});

describe('the customer list', () => {
  it('shows a technician only the customers of entries they can see; owners see all', async () => {
    const clock = manualClock();
    const { file, session: owner } = await newVault(clock);
    await owner.createUser('tom', 'technician', 'tom password', FAST_KDF);
    const secret = await owner.team.createGroup('Secret team');
    await owner.createEntry({ customer: 'Acme', title: 'VPN' });
    await owner.createEntry({ customer: 'Hidden Bank', title: 'Core', groupId: secret.id });
    const tom = await Vault.open(file, clock).signIn('tom', 'tom password');
    await tom.changePassword('tom password', 'tom password!', FAST_KDF);
    expect((await tom.listCustomers()).map((c) => c.name)).toEqual(['Acme']);
    expect((await owner.listCustomers()).map((c) => c.name)).toEqual(['Acme', 'Hidden Bank']);
  });
});
