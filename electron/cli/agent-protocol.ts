/**
 * What `crewvault` and its unlock agent say to each other on the agent's socket: one JSON
 * object per line, each parsed from unknown on arrival. The command runs in the agent (which
 * holds the signed-in session); the agent asks the command's terminal for whatever the command
 * reads (a secret line, piped input) and sends its output back. Lines are bounded, so a peer
 * cannot fill memory. Nothing here is logged: a `secret` message carries one.
 */
import { z } from 'zod';
import type { LineReader } from './bounded-input';

/** `import -` sends up to 64 MiB of input in one message, escaped: room for that and more. */
export const MAX_MESSAGE_BYTES = 200 * 1024 * 1024;

export const ClientMessage = z.discriminatedUnion('t', [
  /** Run a command: its arguments (the command's name first) and where it was typed. */
  z.object({ t: z.literal('run'), argv: z.array(z.string()).min(1), cwd: z.string(), interactive: z.boolean() }),
  /** The answer to ask-secret. */
  z.object({ t: z.literal('secret'), value: z.string() }),
  /** The answer to ask-stdin, its bytes as base64 (an export need not be UTF-8): null when the input was larger than asked. */
  z.object({ t: z.literal('stdin'), base64: z.string().nullable() }),
  /** `crewvault lock`. */
  z.object({ t: z.literal('lock') }),
  /** `crewvault unlock --status`: who is signed in, and for how long yet. */
  z.object({ t: z.literal('status') }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export const AgentMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('out'), text: z.string() }),
  z.object({ t: z.literal('err'), text: z.string() }),
  z.object({ t: z.literal('ask-secret'), prompt: z.string() }),
  z.object({ t: z.literal('ask-stdin'), maxBytes: z.number().int().positive() }),
  z.object({ t: z.literal('exit'), code: z.number().int() }),
  /** Not for this agent (another user named with --as): the command signs in as usual. */
  z.object({ t: z.literal('declined') }),
  z.object({ t: z.literal('status'), user: z.string(), idleMinutes: z.number(), idleLeftSeconds: z.number() }),
  /** The session is over (locked, idle too long): the agent is gone once the socket closes. */
  z.object({ t: z.literal('locked'), reason: z.string() }),
]);
export type AgentMessage = z.infer<typeof AgentMessage>;

/** Reads one message of `schema` from `reader`; undefined when the peer has closed. */
export async function readMessage<T>(reader: LineReader, schema: z.ZodType<T>): Promise<T | undefined> {
  const line = await reader.line(MAX_MESSAGE_BYTES);
  if (line === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new Error('agent protocol: a line that is not JSON');
  }
  const parsed = schema.safeParse(json);
  // The path and kind only: the value may be a secret.
  if (!parsed.success) throw new Error(`agent protocol: an unexpected message (${parsed.error.issues[0]?.path.join('.') ?? '?'})`);
  return parsed.data;
}

export function encodeMessage(message: ClientMessage | AgentMessage): string {
  return `${JSON.stringify(message)}\n`;
}
