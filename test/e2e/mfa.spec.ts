// Two-step sign-in in the UI: enrolling from the key shown on screen (the test computes the
// codes itself), showing the key again after the password, signing in with a code and with a recovery code, five wrong codes ending the
// attempt; an admin setting the policy, issuing an emergency code and resetting a
// technician's authenticator (confirmed with the admin's own password, or own code), and the
// technician setting it up again. Trusted computers need the OS keychain, which
// `crewvault serve` has not here: the router's tests cover them.
import { test, expect, OWNER, PASSWORD } from './fixtures';
import { accountAction, readClipboard, totp } from './helpers';
import {
  addUser, chooseOwnPassword, enrolAtSignIn, enrolInPanel, lock, mfaRow, openMfaAdmin, setPolicy, signInWithCode, submitPassword, wrongCode,
} from './mfa-helpers';

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

const TOM_PASSWORD = 'tom chose this one';

test('enrol from the key shown on screen, then sign in with a code and with a recovery code', async ({ vaultPage: page }) => {
  await accountAction(page, 'Two-step sign-in');
  const panel = page.getByRole('dialog', { name: 'Two-step sign-in' });
  await expect(panel.getByText('Off.')).toBeVisible();
  await panel.getByRole('button', { name: 'Set up authenticator app' }).click();
  await expect(panel.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible();
  const secret = (await panel.getByLabel('Secret key').textContent()) ?? '';
  expect(secret).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
  await panel.getByLabel('Code from the app').fill(wrongCode(secret));
  await panel.getByRole('button', { name: 'Verify and save' }).click();
  await expect(panel.getByRole('alert')).toHaveText('That code is not right (or was already used).');
  // The step before now is within the window, and leaves the current step for signing in.
  await panel.getByLabel('Code from the app').fill(totp(secret, Date.now() - 30_000));
  await panel.getByRole('button', { name: 'Verify and save' }).click();
  const list = panel.getByRole('list', { name: 'Recovery codes' });
  await expect(list.getByRole('listitem')).toHaveCount(10);
  const firstCodes = await list.getByRole('listitem').allTextContents();
  await expect(panel.getByText('On — 10 recovery codes left.')).toBeVisible();
  await expect(panel.getByText('No computers are trusted: every sign-in asks for a code.')).toBeVisible();
  // The key again, for a second phone: only after the password (or a fresh code).
  await panel.getByRole('button', { name: 'Show the key again (another device)' }).click();
  await panel.getByLabel('Your password, or a code from your app').fill('not my password');
  await panel.getByRole('button', { name: 'Show the key' }).click();
  await expect(panel.getByRole('alert')).toHaveText('Your password is wrong.');
  await panel.getByLabel('Your password, or a code from your app').fill(PASSWORD);
  await panel.getByRole('button', { name: 'Show the key' }).click();
  await expect(panel.getByLabel('Secret key')).toHaveText(secret);
  await expect(panel.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible();
  await panel.getByRole('button', { name: 'Hide the key' }).click();
  // New recovery codes also need the password again; the first ten stop working.
  await panel.getByRole('button', { name: 'New recovery codes' }).click();
  await panel.getByLabel('Your password, or a code from your app').fill(PASSWORD);
  await panel.getByRole('button', { name: 'Make new recovery codes' }).click();
  await expect(list.getByRole('listitem').first()).not.toHaveText(firstCodes[0] ?? '');
  const recoveryCodes = await list.getByRole('listitem').allTextContents();
  expect(recoveryCodes).toHaveLength(10);
  expect(recoveryCodes.filter((c) => firstCodes.includes(c))).toEqual([]);
  await panel.getByRole('button', { name: 'Close' }).click();

  await lock(page);
  await submitPassword(page, OWNER, PASSWORD);
  await expect(page.getByRole('heading', { name: 'Two-step sign-in' })).toBeVisible();
  await page.getByLabel('Authentication code').fill(wrongCode(secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('alert')).toHaveText('That code is not right (or was already used).');
  await page.getByLabel('Authentication code').fill(totp(secret, Date.now()));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByLabel('Search')).toBeVisible();

  await lock(page);
  await submitPassword(page, OWNER, PASSWORD);
  await page.getByRole('radio', { name: 'Use a recovery code' }).check();
  await page.getByRole('textbox', { name: 'Recovery code' }).fill(recoveryCodes[0] ?? '');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByLabel('Search')).toBeVisible();
});

test('five wrong codes end the attempt: back to the password, with the reason', async ({ vaultPage: page }) => {
  const secret = await enrolInPanel(page);
  await lock(page);
  await submitPassword(page, OWNER, PASSWORD);
  const field = page.getByLabel('Authentication code');
  for (let attempt = 1; attempt <= 4; attempt++) {
    await field.fill(wrongCode(secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(field).toHaveValue(''); // the answer came: a wrong code is cleared
    await expect(page.getByRole('alert')).toHaveText('That code is not right (or was already used).');
  }
  await field.fill(wrongCode(secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByLabel('Password', { exact: true })).toBeEmpty();
  await expect(page.getByRole('status')).toHaveText('5 wrong codes: sign in with your password again.');
});

test('an admin requires it for technicians, issues an emergency code, then resets it with their password; the technician sets it up again', async ({ vaultPage: page }) => {
  const oneTime = await addUser(page, 'tom', 'technician');
  await openMfaAdmin(page);
  await expect(mfaRow(page, OWNER).getByRole('cell', { name: 'Off', exact: true })).toBeVisible();
  await expect(mfaRow(page, OWNER).locator('time')).toBeVisible();
  await expect(mfaRow(page, 'tom').getByRole('cell', { name: 'Never', exact: true })).toBeVisible();
  await expect(mfaRow(page, 'tom').getByRole('button', { name: 'Reset two-step sign-in' })).toHaveCount(0);
  await setPolicy(page, 'technician', 'Required');
  await expect(page.getByRole('list', { name: 'Current policy' }).getByRole('listitem')).toHaveText(['Everyone: optional', 'technician: required']);
  await expect(page.getByText('For your role (owner) it is optional.')).toBeVisible();
  await page.getByLabel('Trust this computer for (days)').fill('14');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toHaveText('"Trust this computer" now lasts 14 days.');
  await lock(page);

  // Required for his role: the authenticator right after the password, then his own password.
  await submitPassword(page, 'tom', oneTime);
  const firstKey = await enrolAtSignIn(page);
  await chooseOwnPassword(page, oneTime, TOM_PASSWORD);
  await expect(page.getByLabel('Search')).toBeVisible();
  await lock(page);

  await submitPassword(page, OWNER, PASSWORD);
  await openMfaAdmin(page);
  await expect(page.getByLabel('Trust this computer for (days)')).toHaveValue('14');
  const tom = mfaRow(page, 'tom');
  await expect(tom.getByRole('cell', { name: 'On', exact: true })).toBeVisible();
  await expect(tom.locator('time')).toBeVisible();
  await tom.getByRole('button', { name: 'Issue emergency code' }).click();
  const issued = page.getByRole('dialog', { name: 'Emergency code for tom' });
  await expect(issued).toContainText('It works once, in place of a code from their app, and expires in 2 minutes.');
  const shown = issued.getByLabel('Emergency code');
  await expect(shown).toHaveText(/^[A-Z]{6}$/);
  const emergency = (await shown.textContent()) ?? '';
  await issued.getByRole('button', { name: 'Copy' }).click();
  await expect(issued.getByText('Copied')).toBeVisible();
  expect(await readClipboard(page) === emergency, 'the clipboard holds the code shown').toBe(true);
  await issued.getByRole('button', { name: 'Close' }).click();
  await lock(page);

  // The emergency code stands in for his app once.
  await submitPassword(page, 'tom', TOM_PASSWORD);
  await page.getByRole('radio', { name: 'Emergency code' }).check();
  await page.getByRole('textbox', { name: 'Emergency code' }).fill(emergency);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByLabel('Search')).toBeVisible();
  await lock(page);
  await submitPassword(page, 'tom', TOM_PASSWORD);
  await page.getByRole('radio', { name: 'Emergency code' }).check();
  await page.getByRole('textbox', { name: 'Emergency code' }).fill(emergency);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('alert')).toHaveText('That code is not right (or was already used).');
  await page.getByRole('radio', { name: 'App code' }).check();
  await page.getByLabel('Authentication code').fill(totp(firstKey, Date.now()));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByLabel('Search')).toBeVisible();
  await lock(page);

  // The owner has no authenticator: their own password confirms the reset.
  await submitPassword(page, OWNER, PASSWORD);
  await openMfaAdmin(page);
  await tom.getByRole('button', { name: 'Reset two-step sign-in' }).click();
  const reset = page.getByRole('dialog', { name: "Reset tom's two-step sign-in?" });
  await reset.getByLabel('Your password').fill('not the owner password');
  await reset.getByRole('button', { name: 'Reset two-step sign-in' }).click();
  await expect(reset.getByRole('alert')).toBeVisible();
  await expect(tom.getByRole('cell', { name: 'On', exact: true })).toBeVisible();
  await reset.getByLabel('Your password').fill(PASSWORD);
  await reset.getByRole('button', { name: 'Reset two-step sign-in' }).click();
  await expect(reset).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: "tom's two-step sign-in was reset" })).toBeVisible();
  await expect(tom.getByRole('cell', { name: 'Off', exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Audit log', exact: true }).click();
  await expect(page.getByRole('cell', { name: 'mfa.reset', exact: true })).toBeVisible();
  await lock(page);

  // No code asked of him now; his role still requires one, so he sets it up again, with a new key.
  await submitPassword(page, 'tom', TOM_PASSWORD);
  const secondKey = await enrolAtSignIn(page);
  expect(secondKey === firstKey, 'a new key after the reset').toBe(false);
  await expect(page.getByLabel('Search')).toBeVisible();
});

test('an admin with an authenticator confirms a reset with their own code', async ({ vaultPage: page }) => {
  const ownKey = await enrolInPanel(page);
  const oneTime = await addUser(page, 'tom', 'technician');
  await openMfaAdmin(page);
  await setPolicy(page, 'technician', 'Required');
  await lock(page);
  await submitPassword(page, 'tom', oneTime);
  await enrolAtSignIn(page);
  await chooseOwnPassword(page, oneTime, TOM_PASSWORD);
  await expect(page.getByLabel('Search')).toBeVisible();
  await lock(page);

  await signInWithCode(page, OWNER, PASSWORD, ownKey);
  await openMfaAdmin(page);
  await expect(mfaRow(page, OWNER).getByRole('cell', { name: 'On', exact: true })).toBeVisible();
  const tom = mfaRow(page, 'tom');
  await tom.getByRole('button', { name: 'Reset two-step sign-in' }).click();
  const reset = page.getByRole('dialog', { name: "Reset tom's two-step sign-in?" });
  await reset.getByLabel('Your authentication code').fill(wrongCode(ownKey));
  await reset.getByRole('button', { name: 'Reset two-step sign-in' }).click();
  await expect(reset.getByRole('alert')).toHaveText('That code is not right (or was already used).');
  // The current step went into signing in; the next one is within the window and unused.
  await reset.getByLabel('Your authentication code').fill(totp(ownKey, Date.now(), 1));
  await reset.getByRole('button', { name: 'Reset two-step sign-in' }).click();
  await expect(reset).toBeHidden();
  await expect(tom.getByRole('cell', { name: 'Off', exact: true })).toBeVisible();
});
