/**
 * A real SMTP server on 127.0.0.1 (`smtp-server`) for the server tests: it takes mail only
 * after AUTH with its own user name and password (over plain SMTP, which the Crewvault server
 * allows to loopback only), keeps every message whole, and lets a test read the code a
 * message carries, as a person would read it in their mailbox.
 */
import { randomBytes } from 'node:crypto';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  /** The message as it arrived: headers and body. */
  readonly raw: string;
}

export interface Mailbox {
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly messages: ReceivedMail[];
  /** Sign-ins refused because of a wrong user name or password. */
  readonly refusedLogins: number;
  /** The newest message to `to`. */
  lastTo(to: string): ReceivedMail | undefined;
  /** The six-letter code in the newest message to `to`. */
  codeFor(to: string): string;
  close(): Promise<void>;
}

export async function startMailbox(): Promise<Mailbox> {
  const username = 'crewvault-mailer';
  const password = `smtp-${randomBytes(12).toString('base64url')}`;
  const messages: ReceivedMail[] = [];
  let refusedLogins = 0;
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === username && auth.password === password) {
        callback(null, { user: username });
        return;
      }
      refusedLogins += 1;
      callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        messages.push({ from, to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the mailbox has no address');
  const lastTo = (to: string): ReceivedMail | undefined => messages.filter((m) => m.to.includes(to)).at(-1);
  return {
    port: address.port, username, password, messages,
    get refusedLogins() { return refusedLogins; },
    lastTo,
    codeFor(to) {
      const match = /sign-in code is ([A-Z]{6})\b/.exec(lastTo(to)?.raw ?? '');
      if (match?.[1] === undefined) throw new Error(`no code was mailed to ${to}`);
      return match[1];
    },
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); }),
  };
}
