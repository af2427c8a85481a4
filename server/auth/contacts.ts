/**
 * Where the server sends a person's codes: their e-mail address and phone number. People set
 * their own (setting the e-mail from a whole session authorises the device they do it on, so
 * it is not asked at once); someone else's only with `mfa_reset` and fresh proof (owners
 * anyone's, admins with the grant anyone's but an owner's): their codes go there.
 *
 * Must never: put an address in the audit or a log line (the audit says what was set, not to what).
 */
import type { ServerRouteInput, ServerRouteOutput } from '../../shared/api/server-contract';
import { appendAudit } from '../audit';
import type { ServerContext } from '../context';
import { putContact } from '../store/sent-codes';
import { holdSecondStepAuthority, requireSecondStepAuthority } from './admin-grants';
import { authoriseDevice, requireActOn } from './devices';
import type { Authenticated } from './sessions';

const SETTING = 'Setting where someone\'s codes are sent';

export async function setContact(ctx: ServerContext, auth: Authenticated, input: ServerRouteInput<'contactSet'>, source: string): Promise<ServerRouteOutput<'contactSet'>> {
  const userId = input.userId ?? auth.user.id;
  await requireActOn(ctx, auth, userId);
  // Someone else's address or phone is where their codes go: pointing it elsewhere gets whoever
  // reads it past their second step, so it needs what a reset needs.
  const someoneElse = userId !== auth.user.id;
  if (someoneElse) await requireSecondStepAuthority(ctx, auth, SETTING);
  const contact = { email: input.email, phone: input.phone };
  await ctx.db.transaction(async (tx) => {
    if (someoneElse) await holdSecondStepAuthority(tx, auth, SETTING);
    await putContact(tx, userId, contact);
    await appendAudit(tx, ctx, { kind: 'contact.set', actorId: auth.user.id, subjectId: userId, source, detail: { email: contact.email !== null, phone: contact.phone !== null } });
    if (userId === auth.user.id && contact.email !== null) await authoriseDevice(tx, ctx, auth, source);
  });
  return contact;
}
