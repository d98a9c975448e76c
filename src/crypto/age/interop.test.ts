import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shellQuote } from "../../util/shell-quote.ts";
import { decryptBuffer, encryptBuffer } from "./buffer.ts";
import { formatIdentityFile, parseIdentityFile } from "./identity-file.ts";
import { generateIdentity, parseRecipient } from "./key-text.ts";
import { passphraseIdentity, passphraseRecipient } from "./keys.ts";

/** Interop with the age CLI (Debian's `age` package, installed by scripts/setup-host.sh). */
const hasAge = spawnSync("age", ["--version"]).status === 0 && spawnSync("age-keygen", ["-y", "/dev/null"]).error === undefined;
const skip = hasAge ? false : "the age CLI is not on PATH (apt-get install age)";
const hasScript = spawnSync("script", ["--version"]).status === 0;

function run(command: string, args: string[], input?: Buffer): Buffer {
  const result = spawnSync(command, args, { input, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(result.status, 0, `${command} ${args.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout;
}

/**
 * Runs `argv` on a pseudo-terminal (util-linux `script`), because age reads passphrases from the tty
 * only, and types `passphrase` at each prompt it prints.
 */
function runWithPassphrase(argv: string[], passphrase: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", shellQuote(argv), "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    let answered = 0;
    child.stdout.on("data", (data: Buffer) => {
      output += data.toString();
      const prompts = output.split("passphrase").length - 1;
      for (; answered < prompts; answered++) child.stdin.write(`${passphrase}\n`);
    });
    const timer = setTimeout(() => {
      child.kill();
    }, 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${argv.join(" ")} exited ${String(code)}: ${output}`));
    });
  });
}

function withDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "snapvm-age-"));
  return body(dir).finally(() => {
    rmSync(dir, { recursive: true, force: true });
  });
}

test("age -d decrypts what we encrypt to X25519 recipients (with our key file)", { skip }, () =>
  withDir(async (dir) => {
    const ours = generateIdentity();
    const other = generateIdentity();
    writeFileSync(join(dir, "key.txt"), formatIdentityFile(ours.identity));
    assert.equal(
      run("age-keygen", ["-y", join(dir, "key.txt")])
        .toString()
        .trim(),
      ours.recipient,
    );
    for (const size of [0, 1, 64 * 1024, 64 * 1024 + 1, 1024 * 1024, 3 * 1024 * 1024 + 7]) {
      const plaintext = randomBytes(size);
      const file = await encryptBuffer(plaintext, [parseRecipient(other.recipient), parseRecipient(ours.recipient)]);
      writeFileSync(join(dir, "file.age"), file);
      assert.ok(run("age", ["-d", "-i", join(dir, "key.txt"), join(dir, "file.age")]).equals(plaintext), `${size} bytes`);
    }
  }),
);

test("we decrypt what age -r encrypts to an age-keygen key", { skip }, () =>
  withDir(async (dir) => {
    run("age-keygen", ["-o", join(dir, "key.txt")]);
    const keyFile = readFileSync(join(dir, "key.txt"), "utf8");
    const recipient = run("age-keygen", ["-y", join(dir, "key.txt")])
      .toString()
      .trim();
    assert.match(keyFile, new RegExp(`^# created: .+\\n# public key: ${recipient}\\nAGE-SECRET-KEY-1[0-9A-Z]+\\n$`));
    const identities = parseIdentityFile(keyFile);
    for (const size of [0, 1, 64 * 1024, 64 * 1024 + 1, 1024 * 1024, 3 * 1024 * 1024 + 7]) {
      const plaintext = randomBytes(size);
      const file = run("age", ["-r", recipient, "-r", generateIdentity().recipient], plaintext);
      assert.ok((await decryptBuffer(file, identities)).equals(plaintext), `${size} bytes`);
    }
  }),
);

test(
  "age -p output decrypts with our passphrase identity, and age -d takes our passphrase files",
  { skip: skip || (hasScript ? false : "util-linux script is missing: no pty to type age's passphrase") },
  () =>
    withDir(async (dir) => {
      const plaintext = randomBytes(200_000);
      writeFileSync(join(dir, "plain"), plaintext);
      await runWithPassphrase(["age", "-p", "-o", join(dir, "theirs.age"), join(dir, "plain")], "tr0ub4dor & 3");
      assert.ok((await decryptBuffer(readFileSync(join(dir, "theirs.age")), [passphraseIdentity("tr0ub4dor & 3")])).equals(plaintext));
      writeFileSync(join(dir, "ours.age"), await encryptBuffer(plaintext, [passphraseRecipient("tr0ub4dor & 3", { workFactor: 12 })]));
      await runWithPassphrase(["age", "-d", "-o", join(dir, "back"), join(dir, "ours.age")], "tr0ub4dor & 3");
      assert.ok(readFileSync(join(dir, "back")).equals(plaintext));
    }),
);
