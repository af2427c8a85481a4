/**
 * The command's end of the unlock agent's socket: sends the command, prints what it prints,
 * answers the secrets and piped input it asks for from this terminal. Loaded only when this
 * terminal holds an unlocked session (agent-commands.ts).
 */
import { unlinkSync } from 'node:fs';
import net from 'node:net';
import { CrewvaultError } from '../../shared/errors';
import { AgentMessage, encodeMessage, readMessage, type ClientMessage } from './agent-protocol';
import { LineReader } from './bounded-input';
import type { CliIo } from './io';

/** Piped input for the agent, as the protocol carries it (JSON lines: bytes as base64). */
function base64OrNull(bytes: Uint8Array | undefined): string | null {
  return bytes === undefined ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export interface Connection {
  readonly reader: LineReader;
  readonly send: (message: ClientMessage) => void;
  readonly close: () => void;
}

/** Connects to the agent at `socketPath`; undefined when none answers (its stale socket is removed). */
export async function connectAgent(socketPath: string): Promise<Connection | undefined> {
  const socket = net.createConnection(socketPath);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ECONNREFUSED' && code !== 'ENOENT') throw error;
    // The agent was killed without removing its socket (checkSocket found it ours).
    try {
      unlinkSync(socketPath);
    } catch {
      // Gone already.
    }
    return undefined;
  }
  socket.on('error', () => undefined);
  return {
    reader: new LineReader(socket),
    send: (message) => {
      socket.write(encodeMessage(message));
    },
    close: () => socket.end(),
  };
}

/** Runs `argv` in the agent at `socketPath` (agent-commands.ts runUnlocked says when). */
export async function runThroughAgent(socketPath: string, argv: readonly string[], io: CliIo): Promise<number | undefined> {
  const connection = await connectAgent(socketPath);
  if (!connection) return undefined;
  const { reader, send } = connection;
  try {
    send({ t: 'run', argv: [...argv], cwd: process.cwd(), interactive: io.interactive });
    for (;;) {
      const message = await readMessage(reader, AgentMessage);
      if (message === undefined) throw new CrewvaultError('LOCKED', 'The unlocked session ended while the command ran.');
      switch (message.t) {
        case 'out':
          io.out(message.text);
          break;
        case 'err':
          io.err(message.text);
          break;
        case 'ask-secret':
          send({ t: 'secret', value: await io.readSecret(message.prompt) });
          break;
        case 'ask-stdin':
          send({ t: 'stdin', base64: base64OrNull(await io.readStdin(message.maxBytes)) });
          break;
        case 'exit':
          return message.code;
        case 'declined':
          return undefined;
        case 'locked':
          io.err(`crewvault: the unlocked session ended (${message.reason}); signing in as usual.\n`);
          return undefined;
        case 'status':
          return undefined;
      }
    }
  } finally {
    connection.close();
  }
}
