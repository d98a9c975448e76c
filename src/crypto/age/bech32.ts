/**
 * Bech32 as in BIP-173 (not bech32m), without BIP-173's 90-character limit, as age requires. A string
 * is all lower or all upper case; the checksum is computed over the lower-case form.
 */
const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3] as const;

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if (((top >>> i) & 1) === 1) chk ^= GENERATORS[i] ?? 0;
  }
  return chk;
}

function hrpExpand(hrp: string): number[] {
  const codes = Array.from({ length: hrp.length }, (_, i) => hrp.charCodeAt(i));
  return [...codes.map((c) => c >>> 5), 0, ...codes.map((c) => c & 31)];
}

/** Regroups bits; when decoding (pad = false) leftover bits must be fewer than `from` and all zero. */
function convertBits(data: Iterable<number>, from: number, to: number, pad: boolean): number[] | undefined {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (const value of data) {
    acc = (acc << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >>> bits) & maxv);
    }
    acc &= (1 << bits) - 1;
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxv);
  } else if (bits >= from || acc !== 0) {
    return undefined;
  }
  return out;
}

/** Encodes lower-case; callers upper-case the result where the format wants it (age identities). */
export function encodeBech32(hrp: string, data: Uint8Array): string {
  const lowerHrp = hrp.toLowerCase();
  const words = convertBits(data, 8, 5, true) ?? [];
  const mod = polymod([...hrpExpand(lowerHrp), ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
  return lowerHrp + "1" + [...words, ...checksum].map((w) => CHARSET.charAt(w)).join("");
}

/** Returns the lower-case HRP and the data, or undefined for any malformed string. */
export function decodeBech32(text: string): { hrp: string; data: Buffer } | undefined {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) return undefined;
  const lower = text.toLowerCase();
  const sep = lower.lastIndexOf("1");
  if (sep < 1 || sep + 7 > lower.length) return undefined;
  const hrp = lower.slice(0, sep);
  for (const c of hrp) {
    const code = c.charCodeAt(0);
    if (code < 33 || code > 126) return undefined;
  }
  const words: number[] = [];
  for (const c of lower.slice(sep + 1)) {
    const w = CHARSET.indexOf(c);
    if (w < 0) return undefined;
    words.push(w);
  }
  if (polymod([...hrpExpand(hrp), ...words]) !== 1) return undefined;
  const bytes = convertBits(words.slice(0, -6), 5, 8, false);
  return bytes === undefined ? undefined : { hrp, data: Buffer.from(bytes) };
}
