/**
 * What an SMS adapter is: one provider's documented send endpoint, reached at a base URL (the
 * provider's own, or a loopback server in the tests: the only difference), with the account
 * the server's owner configured. One file per provider; `SMS_ADAPTERS` names them.
 *
 * Must never: log or return the API key or a message's text (it carries a code), or pass the
 * provider's answer on in an error (it may quote the request): a failure names the HTTP status.
 */
import { CrewvaultError } from '../../shared/errors';

export interface SmsAccount {
  readonly username: string;
  readonly apiKey: string;
  /** The number (or alphanumeric sender) messages come from. */
  readonly senderNumber: string;
  /** No trailing slash. */
  readonly baseUrl: string;
}

export interface SmsMessage {
  /** E.164, e.g. +447700900123. */
  readonly to: string;
  readonly text: string;
}

export interface SmsAdapter {
  readonly defaultBaseUrl: string;
  send(account: SmsAccount, message: SmsMessage): Promise<void>;
}

const PROVIDER_TIMEOUT_MS = 15_000;

/** POSTs JSON and returns the status and the parsed answer (undefined when it is not JSON). */
export async function postJson(url: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; json: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(body),
      redirect: 'error',
      signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
    });
  } catch {
    throw new CrewvaultError('BUSY', 'The text message could not be sent: the SMS provider could not be reached');
  }
  const raw = await response.text().catch(() => '');
  let json: unknown;
  try {
    json = raw === '' ? undefined : JSON.parse(raw) as unknown;
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
}

export function providerRefused(status: number): CrewvaultError {
  const why = status === 401 || status === 403 ? ': check the user name and API key' : '';
  return new CrewvaultError('BUSY', `The text message could not be sent: the SMS provider answered HTTP ${status}${why}`);
}
