import { encodeBase64 } from "./base64.ts";
import { BODY_COLUMNS, VERSION_LINE } from "./constants.ts";
import { headerMac } from "./header-mac.ts";
import type { Stanza } from "./stanza.ts";

function encodeStanza(stanza: Stanza): string {
  const b64 = encodeBase64(stanza.body);
  const lines: string[] = [];
  // The body ends with a line shorter than 64 columns, which is empty when the length is a multiple of 64.
  for (let i = 0; i <= b64.length; i += BODY_COLUMNS) lines.push(b64.slice(i, i + BODY_COLUMNS));
  return `-> ${[stanza.type, ...stanza.args].join(" ")}\n${lines.join("\n")}\n`;
}

/** The complete header, ending in `--- MAC\n`; the payload nonce follows it. */
export function encodeHeader(stanzas: readonly Stanza[], fileKey: Uint8Array): Buffer {
  const macInput = Buffer.from(`${VERSION_LINE}\n${stanzas.map(encodeStanza).join("")}---`, "latin1");
  return Buffer.concat([macInput, Buffer.from(` ${encodeBase64(headerMac(fileKey, macInput))}\n`, "latin1")]);
}
