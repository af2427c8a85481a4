/**
 * A loopback HTTP server that answers as the two SMS providers' documented send endpoints
 * do, for the server tests: ClickSend's `POST /v3/sms/send` (HTTP Basic with the API user name
 * and key; `{ messages: [{ source, from, to, body }] }`; 200 with `response_code: "SUCCESS"`)
 * and TextMagic's `POST /api/v2/messages` (`X-TM-Username` and `X-TM-Key`; `{ text, phones,
 * from }` with phones without the plus; 201 with the message id). It refuses a wrong key or a
 * malformed body as the provider would, and records every message it accepted.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';

export interface SentSms {
  readonly service: 'clicksend' | 'textmagic';
  readonly from: string | undefined;
  /** As the provider got it (TextMagic: without the plus). */
  readonly to: string;
  readonly text: string;
}

export interface SmsProvider {
  readonly baseUrl: string;
  readonly username: string;
  readonly apiKey: string;
  readonly sent: SentSms[];
  /** Requests refused (wrong credentials or body), by status. */
  readonly refused: number[];
  /** The six-digit code in the newest message to `to` (with or without the plus). */
  codeFor(to: string): string;
  close(): Promise<void>;
}

const clickSendBody = z.strictObject({
  messages: z.array(z.strictObject({ source: z.string().optional(), from: z.string().optional(), to: z.string().regex(/^\+?[0-9]+$/), body: z.string().min(1) })).min(1),
});
const textMagicBody = z.strictObject({ text: z.string().min(1), phones: z.string().regex(/^[0-9]+(,[0-9]+)*$/), from: z.string().regex(/^[0-9A-Za-z]+$/).optional() });

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export async function startSmsProvider(): Promise<SmsProvider> {
  const username = 'crewvault-sms';
  const apiKey = `key-${randomBytes(12).toString('hex')}`;
  const sent: SentSms[] = [];
  const refused: number[] = [];
  let nextId = 1000;
  const refuse = (res: ServerResponse, status: number, body: unknown): void => {
    refused.push(status);
    reply(res, status, body);
  };
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readJson(req);
      if (req.method === 'POST' && req.url === '/v3/sms/send') {
        const expected = `Basic ${Buffer.from(`${username}:${apiKey}`).toString('base64')}`;
        if (req.headers.authorization !== expected) {
          refuse(res, 401, { http_code: 401, response_code: 'UNAUTHORIZED', response_msg: 'Invalid credentials', data: null });
          return;
        }
        const parsed = clickSendBody.safeParse(body);
        if (!parsed.success || req.headers['content-type'] !== 'application/json') {
          refuse(res, 400, { http_code: 400, response_code: 'BAD_REQUEST', response_msg: 'Invalid body', data: null });
          return;
        }
        const messages = parsed.data.messages.map((m) => {
          sent.push({ service: 'clicksend', from: m.from, to: m.to, text: m.body });
          return { ...m, message_id: `cs-${nextId++}`, status: 'SUCCESS' };
        });
        reply(res, 200, { http_code: 200, response_code: 'SUCCESS', response_msg: 'Messages queued for delivery.', data: { total_count: messages.length, queued_count: messages.length, messages } });
        return;
      }
      if (req.method === 'POST' && req.url === '/api/v2/messages') {
        if (req.headers['x-tm-username'] !== username || req.headers['x-tm-key'] !== apiKey) {
          refuse(res, 401, { code: 401, message: 'Unauthorized' });
          return;
        }
        const parsed = textMagicBody.safeParse(body);
        if (!parsed.success) {
          refuse(res, 400, { code: 400, message: 'Validation Failed', errors: { fields: {} } });
          return;
        }
        for (const phone of parsed.data.phones.split(',')) sent.push({ service: 'textmagic', from: parsed.data.from, to: phone, text: parsed.data.text });
        const id = nextId++;
        reply(res, 201, { id, href: `/api/v2/sessions/${id}`, type: 'session', sessionId: id, bulkId: null, messageId: id, scheduleId: null });
        return;
      }
      refuse(res, 404, { code: 404, message: 'Not found' });
    })();
  });
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the SMS provider has no address');
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    username, apiKey, sent, refused,
    codeFor(to) {
      const bare = to.replace(/^\+/, '');
      const message = sent.filter((m) => m.to.replace(/^\+/, '') === bare).at(-1);
      const match = /sign-in code is ([0-9]{6})\b/.exec(message?.text ?? '');
      if (match?.[1] === undefined) throw new Error(`no code was texted to ${to}`);
      return match[1];
    },
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); }),
  };
}
