import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, isSnapvmError } from "../../errors/index.ts";
import { formatIdentityFile, parseIdentityFile } from "./identity-file.ts";
import { formatRecipient, generateIdentity, parseIdentity, parseRecipient } from "./key-text.ts";
import { passphraseIdentity, passphraseRecipient } from "./keys.ts";

const invalid = (error: unknown): boolean => isSnapvmError(error, ErrorCode.InvalidArgument);

test("a generated identity's recipient is the public key of its secret key", () => {
  const { identity, recipient } = generateIdentity();
  assert.match(identity, /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/);
  assert.match(recipient, /^age1[02-9ac-hj-np-z]{58}$/);
  assert.equal(formatRecipient(parseIdentity(identity)), recipient);
  assert.ok(parseRecipient(recipient).publicKey.equals(parseIdentity(identity).publicKey));
});

test("parseRecipient refuses identities, other prefixes, bad checksums and stray spaces", () => {
  const { identity, recipient } = generateIdentity();
  for (const bad of [identity, ` ${recipient}`, `${recipient}\n`, recipient.slice(0, -1) + (recipient.endsWith("q") ? "p" : "q"), "age1", ""]) {
    assert.throws(() => parseRecipient(bad), invalid, JSON.stringify(bad));
  }
  assert.throws(() => parseRecipient("age1pq1x34nzsvr0rxjsgdn8zgyhfe8j7ceq5r9rdelkjuh3y235jzxs"), invalid);
});

test("parseIdentity refuses recipients and never echoes the secret in its message", () => {
  const { identity, recipient } = generateIdentity();
  assert.throws(() => parseIdentity(recipient), invalid);
  const broken = identity.slice(0, -1) + (identity.endsWith("Q") ? "P" : "Q");
  assert.throws(
    () => parseIdentity(broken),
    (error: unknown) => invalid(error) && error instanceof Error && !error.message.includes(broken.slice(16, 40)),
  );
});

test("an identity file in age-keygen's format round-trips; comments and blank lines are ignored", () => {
  const { identity, recipient } = generateIdentity();
  const text = formatIdentityFile(identity, new Date("2026-12-02T10:11:12.345Z"));
  assert.equal(text, `# created: 2026-12-02T10:11:12Z\n# public key: ${recipient}\n${identity}\n`);
  const second = generateIdentity().identity;
  const parsed = parseIdentityFile(`${text}\n# another\r\n${second}\r\n\n`);
  assert.deepEqual(
    parsed.map((i) => formatRecipient(i)),
    [recipient, formatRecipient(parseIdentity(second))],
  );
});

test("an identity file with a bad line names the line; one with no key is refused", () => {
  const { identity } = generateIdentity();
  assert.throws(
    () => parseIdentityFile(`# x\n${identity}\n ${identity}\n`),
    (error: unknown) => invalid(error) && isSnapvmError(error) && error.details["line"] === 3,
  );
  assert.throws(() => parseIdentityFile("# only a comment\n\n"), invalid);
});

test("passphrase recipients and identities check their work factors", () => {
  assert.equal(passphraseRecipient("pw").workFactor, 18);
  assert.equal(passphraseIdentity("pw").maxWorkFactor, 22);
  assert.throws(() => passphraseRecipient("pw", { workFactor: 0 }), invalid);
  assert.throws(() => passphraseRecipient("pw", { workFactor: 31 }), invalid);
  assert.throws(() => passphraseRecipient(""), invalid);
});
