/**
 * TextMagic (REST v2): `POST /api/v2/messages` with the headers `X-TM-Username` and
 * `X-TM-Key` (the account's user name and an API key) and `{ text, phones, from }`, phones
 * being international numbers without the plus; it answers 201 with the message's `id`.
 * https://docs.textmagic.com/ (Messages, Send message).
 */
import { z } from 'zod';
import { postJson, providerRefused, type SmsAdapter } from './provider';

const answer = z.object({ id: z.union([z.number(), z.string()]) });

export const textMagic: SmsAdapter = {
  defaultBaseUrl: 'https://rest.textmagic.com',
  async send(account, message) {
    const { status, json } = await postJson(`${account.baseUrl}/api/v2/messages`, { 'x-tm-username': account.username, 'x-tm-key': account.apiKey }, {
      text: message.text, phones: message.to.replace(/^\+/, ''), from: account.senderNumber.replace(/^\+/, ''),
    });
    if (status !== 201 || !answer.safeParse(json).success) throw providerRefused(status);
  },
};
