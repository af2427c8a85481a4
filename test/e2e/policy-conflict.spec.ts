// Two writers on the vault's MFA policy and its settings (#13): the two-step sign-in tab sends the
// revision of what it showed, so a change after someone else's is refused with CONFLICT, said in
// one line (the Groups screen's words), the other change kept and the form loaded again as it is
// now; doing it again then works. In Chromium against a real `crewvault serve`, the other writer
// a second client of the same door. Never types or prints a secret beyond the test owner's.
import { expect, test } from './fixtures';
import { openMfaAdmin } from './mfa-helpers';

test('setting the policy or the trusted-computer days someone else changed since shown says so, reloads and keeps theirs', async ({ vaultPage: page, host }) => {
  await openMfaAdmin(page);
  const current = page.getByRole('list', { name: 'Current policy' });
  await expect(current.getByRole('listitem')).toHaveText(['Everyone: optional']);
  await expect(page.getByLabel('Trust this computer for (days)')).toHaveValue('30');
  await page.getByLabel('Applies to').selectOption({ label: 'technician' });
  await page.getByLabel('Level').selectOption({ label: 'Required' });

  // Someone else sets the auditors' level meanwhile, from the revision of now.
  const policy = await (await page.request.post(`${host.origin}/rpc/mfa.policy`, { data: {} })).json() as { value: { revision: number } };
  const other = await page.request.post(`${host.origin}/rpc/mfa.setPolicy`, { data: { level: 'off', role: 'auditor', baseRevision: policy.value.revision } });
  expect(await other.json()).toMatchObject({ ok: true });

  await page.getByRole('button', { name: 'Set policy' }).click();
  await expect(page.getByRole('alert')).toHaveText('Someone else changed this policy since it was shown: it has been loaded again as it is now. Check it, then redo your change.');
  await expect(current.getByRole('listitem')).toHaveText(['Everyone: optional', 'auditor: off']);
  // Redone on what it is now: taken, and theirs kept.
  await page.getByRole('button', { name: 'Set policy' }).click();
  await expect(page.getByRole('status')).toHaveText(/^Two-step sign-in is now required for the role technician\./);
  await expect(current.getByRole('listitem')).toHaveText(['Everyone: optional', 'auditor: off', 'technician: required']);

  // The same for the settings: someone else changes the trusted-computer days meanwhile.
  await page.getByLabel('Trust this computer for (days)').fill('7');
  const state = await (await page.request.post(`${host.origin}/rpc/session.state`, { data: {} })).json() as { value: { settings: { revision: number } } };
  const days = await page.request.post(`${host.origin}/rpc/settings.update`, { data: { trustDeviceDays: 14, baseRevision: state.value.settings.revision } });
  expect(await days.json()).toMatchObject({ ok: true, value: { trustDeviceDays: 14 } });
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Someone else changed this setting since it was shown: it has been loaded again as it is now. Check it, then redo your change.');
  await expect(page.getByLabel('Trust this computer for (days)')).toHaveValue('14');
  await page.getByLabel('Trust this computer for (days)').fill('7');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('"Trust this computer" now lasts 7 days.');
});
