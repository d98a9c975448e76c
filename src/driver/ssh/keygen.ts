import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ErrorCode, SnapvmError, isErrno } from "../../errors/index.ts";
import { CommandFailedError, runCommand } from "../../util/run-command.ts";

/** OpenSSH writes the public half beside the private key under this suffix. */
export const PUBLIC_KEY_SUFFIX = ".pub";

/** Generates an ed25519 key pair without a passphrase at `keyPath` (mode 0600, directory 0700). */
export async function generateSshKey(keyPath: string, comment: string): Promise<void> {
  await mkdir(dirname(keyPath), { recursive: true, mode: 0o700 });
  try {
    await runCommand("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", keyPath]);
  } catch (error) {
    if (!(error instanceof CommandFailedError)) throw error;
    throw new SnapvmError(ErrorCode.ExternalTool, `generating the SSH key ${keyPath} failed: ${error.message}`, {
      hint: "Check that the OpenSSH client (ssh-keygen) is installed (scripts/setup-host.sh).",
      cause: error,
    });
  }
}

/** The public key line of the pair at `keyPath`, or undefined when there is no pair yet. */
export async function readPublicKey(keyPath: string): Promise<string | undefined> {
  try {
    return (await readFile(`${keyPath}${PUBLIC_KEY_SUFFIX}`, "utf8")).trim();
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
}

/** The public key of the pair at `keyPath`, generating the pair first if there is none. */
export async function ensureSshKey(keyPath: string, comment: string): Promise<string> {
  const existing = await readPublicKey(keyPath);
  if (existing !== undefined) return existing;
  await generateSshKey(keyPath, comment);
  const made = await readPublicKey(keyPath);
  if (made === undefined) throw new Error(`ssh-keygen succeeded but wrote no ${keyPath}${PUBLIC_KEY_SUFFIX}`);
  return made;
}

/** The comment snapvm puts on an instance's key, so it is recognisable in a guest's authorized_keys. */
export function sshKeyComment(instance: string): string {
  return `snapvm-${instance}`;
}
