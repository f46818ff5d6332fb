// The hash the target gives a str, so that a dict can be looked up the way CPython looks it
// up (docs/dict-lookup.md): SipHash of the string's bytes keyed by the process's own
// _Py_HashSecret, with 1 compression and 3 finalization rounds from 3.11 on and 2 and 4
// before. Only one-byte (latin-1) strings are hashed here; anything else returns undefined
// and the caller compares keys one by one instead.

const M64 = (1n << 64n) - 1n;

const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & M64;

/** SipHash-c-d of data under the key (k0, k1), as an unsigned 64-bit value. */
export function siphash(k0: bigint, k1: bigint, data: Uint8Array, c: number, d: number): bigint {
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = () => {
    v0 = (v0 + v1) & M64;
    v1 = rotl(v1, 13n) ^ v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64;
    v3 = rotl(v3, 16n) ^ v2;
    v0 = (v0 + v3) & M64;
    v3 = rotl(v3, 21n) ^ v0;
    v2 = (v2 + v1) & M64;
    v1 = rotl(v1, 17n) ^ v2;
    v2 = rotl(v2, 32n);
  };
  const word = (at: number, n: number) => {
    let m = 0n;
    for (let i = n - 1; i >= 0; i--) m = (m << 8n) | BigInt(data[at + i]);
    return m;
  };
  const whole = data.length - (data.length % 8);
  for (let at = 0; at < whole; at += 8) {
    const m = word(at, 8);
    v3 ^= m;
    for (let i = 0; i < c; i++) round();
    v0 ^= m;
  }
  const b = ((BigInt(data.length) & 0xffn) << 56n) | word(whole, data.length - whole);
  v3 ^= b;
  for (let i = 0; i < c; i++) round();
  v0 ^= b;
  v2 ^= 0xffn;
  for (let i = 0; i < d; i++) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

/** str hashes of one target: its secret is read on first use (it never changes). */
export class StrHasher {
  private key: [bigint, bigint] | undefined;
  private readonly rounds: [number, number];
  /** the names asked for are a few, asked again for every thread and refresh */
  private readonly known = new Map<string, bigint | undefined>();

  constructor(
    /** the 16 bytes of _Py_HashSecret.siphash (k0, k1) */
    private readonly readSecret: () => Buffer,
    minor: number,
  ) {
    this.rounds = minor >= 11 ? [1, 3] : [2, 4];
  }

  /** hash(text) in the target, as a signed 64-bit value; undefined for non-latin-1 text. */
  hash(text: string): bigint | undefined {
    if (this.known.has(text)) return this.known.get(text);
    const h = this.compute(text);
    if (this.known.size >= 64) this.known.clear(); // bounded, whoever asks
    this.known.set(text, h);
    return h;
  }

  private compute(text: string): bigint | undefined {
    if (text.length === 0) return 0n;
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff) return undefined;
      bytes[i] = c;
    }
    if (!this.key) {
      const s = this.readSecret();
      this.key = [s.readBigUInt64LE(0), s.readBigUInt64LE(8)];
    }
    const x = BigInt.asIntN(64, siphash(this.key[0], this.key[1], bytes, ...this.rounds));
    return x === -1n ? -2n : x; // -1 is the C API's error value, never a hash
  }
}
