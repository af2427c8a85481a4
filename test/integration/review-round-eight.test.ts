// Review round eight (#15), the passing probes: what held when a hostile reviewer pushed on the
// serve terminal's confirmation port (electron/team/confirm.ts) and the owner-key anchor of a join
// (electron/team/owner-anchor.ts). Real streams, real Ed25519; no server needed for these.
// Must never: pass when the behaviour it probes is broken (each case asserts the refusal itself).
import { generateKeyPairSync } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { terminalConfirmations, type TrustQuestion } from '../../electron/team/confirm';
import { anchorOwner, parseOwnerKey } from '../../electron/team/owner-anchor';

const QUESTION: TrustQuestion = { kind: 'move-vault', server: 'https://team.example:8443', certificate: 'pinned, SHA-256 AA' };

describe('review round eight: probes that held', () => {
  it('a "yes" typed while no question waits (the event loop took it in) answers nothing', async () => {
    const input = new PassThrough();
    const port = terminalConfirmations(input, () => undefined);
    input.write('yes\n');
    await turn(); // the line is read in before any question
    await turn();
    const answer = port.confirm(QUESTION);
    await turn(); // the question is on the terminal
    input.write('no\n');
    expect(await answer).toBe(false);
    port.close();
  });

  it('the answer twice on one line break answers one question, not the one the page asks next', async () => {
    const input = new PassThrough();
    const written: string[] = [];
    const port = terminalConfirmations(input, (text) => written.push(text));
    const first = port.confirm(QUESTION);
    const second = port.confirm(QUESTION);
    await turn(); // the first question is on the terminal
    // Its own word (review round eight's hole: the answer is the question's random word, not "yes").
    const word = /type the word ([a-z]+) and Enter/.exec(written.join(''))?.[1] ?? 'none';
    input.write(`${word}\n${word}\n`);
    expect(await first).toBe(true);
    await turn(); // the second question is on the terminal now; the second word (the first's) was typed before it
    input.end();
    expect(await second).toBe(false);
  });

  it('an owner key that is not the pinned one, or a malformed one, is refused', () => {
    expect(() => parseOwnerKey('not-a-key')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }) as Error);
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
    const pinned = { id: '11111111-2222-4333-8444-555555555555', publicKey: raw };
    expect(() => anchorOwner('ab'.repeat(16), [], pinned)).toThrow(expect.objectContaining({ code: 'OWNER_KEY_CHANGED' }) as Error);
  });
});
