/**
 * ClickSend (REST v3): `POST /v3/sms/send` with HTTP Basic authentication (the API user name
 * and API key) and `{ messages: [{ source, from, to, body }] }`; it answers 200 with
 * `response_code: "SUCCESS"` and each message's own `status` ("SUCCESS" when queued).
 * https://developers.clicksend.com/docs/rest/v3/ (SMS, Send an SMS).
 */
import { z } from 'zod';
import { postJson, providerRefused, type SmsAdapter } from './provider';

const answer = z.object({
  response_code: z.string(),
  data: z.object({ messages: z.array(z.object({ status: z.string() })).min(1) }),
});

export const clickSend: SmsAdapter = {
  defaultBaseUrl: 'https://rest.clicksend.com',
  async send(account, message) {
    const basic = Buffer.from(`${account.username}:${account.apiKey}`, 'utf8').toString('base64');
    const { status, json } = await postJson(`${account.baseUrl}/v3/sms/send`, { authorization: `Basic ${basic}` }, {
      messages: [{ source: 'crewvault', from: account.senderNumber, to: message.to, body: message.text }],
    });
    const parsed = answer.safeParse(json);
    if (status !== 200 || !parsed.success || parsed.data.response_code !== 'SUCCESS' || parsed.data.data.messages[0]?.status !== 'SUCCESS') {
      throw providerRefused(status);
    }
  },
};
