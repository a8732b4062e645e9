// Mesos visits agents in a random order each round so that no agent (and no framework
// that sorts first) is always favoured. Stratus seeds the order instead: the same input
// gives the same round (tests, replays), and the caller varies the seed between rounds.

/** mulberry32: a small 32-bit PRNG, good enough for shuffling; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates shuffle of `items` in place, driven by `seed`. */
export function shuffleInPlace<T extends { [i: number]: number; length: number }>(items: T, seed: number): T {
  const random = seededRandom(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}
