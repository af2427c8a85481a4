// Review round eight HOLE (confirmation port, electron/team/confirm.ts terminalConfirmations): a
// "yes" typed before the question, while the serve host was busy (the bytes wait in the kernel
// until the event loop reads them), answers the question asked next: lines are dropped only when
// the event loop happened to read them before the question, not when they were typed before it.
// Real sockets on loopback stand in for the terminal (bytes in the kernel, read at the next poll).
// Asserts the SAFE behaviour: input that was already waiting when the question was written
// (e.g. flushed on asking, as a TTY's tcflush would) does not confirm it.
// Run: cp /tmp/review8-holes/typed-ahead-tty.test.ts /work/main/test/integration/zz-r8-typed-ahead-tty.test.ts
//      && npx vitest run test/integration/zz-r8-typed-ahead-tty.test.ts ; rm test/integration/zz-r8-typed-ahead-tty.test.ts
import { createServer, connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { terminalConfirmations, type TrustQuestion } from '../../electron/team/confirm';

const QUESTION: TrustQuestion = { kind: 'move-vault', server: 'https://attacker.example:8443', certificate: 'vouched for by an authority this computer trusts' };

describe('HOLE: a yes already typed answers the next question', () => {
  it('bytes waiting before the question was written do not confirm it', async () => {
    const accepted = new Promise<Socket>((resolve) => {
      const server = createServer((s) => { server.close(); resolve(s); }).listen(0, '127.0.0.1', () => {
        const address = server.address();
        if (address === null || typeof address === 'string') throw new Error('no port');
        typist = connect(address.port, '127.0.0.1');
      });
    });
    let typist: Socket | undefined;
    const input = await accepted;
    const port = terminalConfirmations(input, () => undefined);
    await new Promise<void>((resolve) => { typist?.once('connect', resolve); if (typist?.readyState === 'open') resolve(); });
    // Typed ahead (the host busy: nothing reads the terminal), then the page asks, in the same turn.
    typist?.write('yes\n');
    const answer = port.confirm(QUESTION);
    const timeout = setTimeout(() => typist?.end(), 2_000);
    const said = await answer;
    clearTimeout(timeout);
    port.close();
    typist?.destroy();
    expect(said).toBe(false);
  });
});
