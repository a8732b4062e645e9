import { expect, it } from 'vitest';
import { MAX_REPLY_BYTES, replyPartFrame, replyTexts, ReplyAssembler, type ReplyFrame } from '../../../src/wire/agent-socket.js';

// Replies larger than an API Gateway message go in parts; each part fits a message whatever
// the text holds (quotes double when escaped, non-ASCII takes up to 3 bytes), and they join.

it('sends a small reply whole', () => {
  const reply: ReplyFrame = { type: 'reply', id: 'a', status: 200, body: { ok: true } };
  expect(replyTexts(reply)).toEqual([JSON.stringify(reply)]);
});

for (const [what, unit] of [
  ['quotes', '"\\'],
  ['non-ASCII', 'äöü€'],
  ['plain', 'x'],
] as const) {
  it(`splits a large reply of ${what} into parts under the message limit that join back`, () => {
    const reply: ReplyFrame = { type: 'reply', id: 'big', status: 200, body: { launch: Array.from({ length: 40 }, (_, i) => ({ i, data: unit.repeat(8000) })) } };
    const texts = replyTexts(reply);
    expect(texts.length).toBeGreaterThan(1);
    const assembler = new ReplyAssembler();
    let whole: ReplyFrame | undefined;
    for (const t of texts) {
      expect(Buffer.byteLength(t)).toBeLessThanOrEqual(MAX_REPLY_BYTES);
      expect(whole).toBeUndefined();
      whole = assembler.add(replyPartFrame.parse(JSON.parse(t)));
    }
    expect(whole).toEqual(reply);
  });
}

it('refuses a part out of order', () => {
  const texts = replyTexts({ type: 'reply', id: 'r', status: 200, body: 'y'.repeat(200_000) });
  const assembler = new ReplyAssembler();
  expect(() => assembler.add(replyPartFrame.parse(JSON.parse(texts[1]!)))).toThrow(/expected 0/);
});
