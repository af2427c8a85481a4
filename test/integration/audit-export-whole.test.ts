// The audit export is the whole log (review round nine hole 4, #11/#13): crewvault audit
// (--json) and the desktop's audit.export read every row, a page at a time from the vault; only
// --last N (and the screen's list) is bounded, and says so. Real vault files and router; the
// injected clock. Must never print a secret (the values below are test values, compared).
import { describe, expect, it } from 'vitest';
import { ENTRY_PASSWORD, T0, quietIo, runCli, Vault, manualClock, newRouter, newVault, ok, OWNER, PASSWORD } from '../support/review-nine';
describe('HOLE 4 (class: the audit export is a bounded page presented as the whole log)', () => {
  it('"crewvault audit --json" returns the newest 1,000 rows of a longer log, with no way to ask for all', async () => {
    const clock = manualClock(T0);
    const { file, session } = await newVault(clock);
    const entry = await session.createEntry({ customer: 'Acme', title: 'Router', username: 'admin', password: ENTRY_PASSWORD });
    for (let i = 0; i < 1_050; i++) await session.revealPassword(entry.id);
    session.lock();
    const total = (await (async () => {
      const v = Vault.open(file, clock);
      try {
        return await v.verifyAudit();
      } finally {
        await v.close();
      }
    })()).rows;
    expect(total).toBeGreaterThan(1_050);
    const { io, output } = quietIo({}, () => clock.now(), PASSWORD);
    expect(await runCli(['audit', '--json', '--vault', file], io)).toBe(0);
    const exported = JSON.parse(output().stdout) as Array<{ action: string }>;
    // Every row, plus the one the command's own sign-in wrote (the reviewer's count left it out).
    expect(exported.length, 'the export left out the oldest rows').toBe(total + 1);
    expect(exported[0]?.action).toBe('vault.create');
    expect(exported[exported.length - 1]?.action).toBe('signin.ok');
  }, 120_000);

  it('--last N is the newest N; the text listing without it is every row too', async () => {
    const clock = manualClock(T0);
    const { file, session } = await newVault(clock);
    const entry = await session.createEntry({ customer: 'Acme', title: 'Router', username: 'admin', password: ENTRY_PASSWORD });
    for (let i = 0; i < 20; i++) await session.revealPassword(entry.id);
    const all = (await session.auditExportPage(0, 5000)).records;
    session.lock();
    const { io, output } = quietIo({}, () => clock.now(), PASSWORD);
    expect(await runCli(['audit', '--json', '--last', '5', '--vault', file], io)).toBe(0);
    const newest = (JSON.parse(output().stdout) as Array<{ id: number }>).map((r) => r.id);
    expect(newest).toHaveLength(5);
    // The sign-in of that command wrote one more row after `all` was read.
    expect(newest.slice(0, 4)).toEqual(all.slice(-4).map((r) => r.id));
    expect(await runCli(['audit', '--vault', file], io)).toBe(0);
    expect(output().stdout.split('\n').filter(Boolean).length).toBe(all.length + 2);
    expect(await runCli(['audit', '--last', '0', '--vault', file], io)).not.toBe(0);
  });

  it('audit.export through the router pages through every row once, oldest first, whatever the page size', async () => {
    const { router } = newRouter();
    ok(await router.call('vault.create', { username: OWNER, password: PASSWORD }));
    const entry = ok(await router.call('entries.create', { customer: 'Acme', title: 'Router', password: ENTRY_PASSWORD })) as { id: number };
    for (let i = 0; i < 25; i++) ok(await router.call('secrets.reveal', { id: entry.id, what: 'password' }));
    const whole = ok(await router.call('audit.export', {})) as { records: Array<{ id: number }>; next: number | null };
    expect(whole.next).toBeNull();
    const ids: number[] = [];
    let after: number | null = 0;
    let pages = 0;
    while (after !== null) {
      const page = ok(await router.call('audit.export', { after, limit: 7 })) as { records: Array<{ id: number }>; next: number | null };
      ids.push(...page.records.map((r) => r.id));
      after = page.next;
      pages += 1;
    }
    expect(ids).toEqual(whole.records.map((r) => r.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThan(25);
    expect(pages).toBe(Math.ceil(ids.length / 7) + (ids.length % 7 === 0 ? 1 : 0));
    // The screen's list stays bounded and is not the export.
    expect((ok(await router.call('audit.list', { limit: 5 })) as unknown[]).length).toBe(5);
  });
});
