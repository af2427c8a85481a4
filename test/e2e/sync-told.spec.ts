// The lines a sync round tells beside its counts, on the Team server screen as `crewvault sync`
// prints them (#15; electron/team/sync-told.ts), end to end: Chromium through `crewvault serve` on
// desktop A of a team vault, a real team server (PGlite). Desktop B (in this process) moves the
// vault onto the server with the vault settings changed there; desktop A changed them too, not
// sent. Signing A in to the server turns live sync on; its first round takes the team's settings
// and tells the crossing in one line of its own under "Last sync". The screen passes axe. Nothing
// waits on the wall clock: each step waits for what the page shows.
import { syncOnce } from '../../electron/team/sync';
import { Vault } from '../../electron/vault/vault';
import { seriousViolations } from './axe';
import { expect, OWNER, PASSWORD, test } from './fixtures';
import { ownerSignedIn, servedAndSynced, startTeamWorld } from './team-server-helpers';


test('a round that crossed a change made here tells it on the Team server screen, one line as the CLI words it', async ({ page }) => {
  test.setTimeout(120_000);
  const world = await startTeamWorld();
  const vaultClock = { now: () => Date.now() };
  let stopServe: (() => Promise<void>) | undefined;
  try {
    const [a, b] = world.desktops;
    // Desktop A changes the vault settings and does not sync.
    const here = await Vault.open(a.file, vaultClock).signIn(OWNER, PASSWORD);
    await here.vaultSettings.update({ clipboardClearSeconds: 45 }, (await here.vaultSettings.read()).revision);
    await here.close();
    // Desktop B changes them otherwise and moves the vault onto the server: the team's settings.
    const there = await Vault.open(b.file, vaultClock).signIn(OWNER, PASSWORD);
    await there.vaultSettings.update({ clipboardClearSeconds: 90 }, (await there.vaultSettings.read()).revision);
    await syncOnce(await ownerSignedIn(world, 'e2e-sync-told-desktop-b-01'), there.replica, { move: true });
    await there.close();

    const { serve, told } = await servedAndSynced(page, world);
    stopServe = () => serve.stop();
    await expect(told.getByRole('listitem')).toHaveText(['Vault settings: changed here and not sent; the team\'s, stored first, are kept.']);
    expect(await seriousViolations(page)).toEqual([]);
  } finally {
    await stopServe?.();
    await world.stop();
  }
});
