import { parseDocument } from "yaml";
import { stringifyForGuest } from "./guest-yaml.ts";
import { ErrorCode, SnapvmError } from "../errors/index.ts";
import { isMapping, mergeCloudConfig, type CloudConfig } from "./merge.ts";

export const CLOUD_CONFIG_HEADER = "#cloud-config";

export interface UserDataInput {
  /** The account snapvm logs in as (config `ssh.user`). */
  user: string;
  /** One OpenSSH public key line: snapvm's generated key. */
  publicKey: string;
  /** The user's own cloud-config (config `cloudInit.userData`), merged by the rules in merge.ts. */
  extra?: string;
}

/**
 * What snapvm needs from every cloud image: its user with the generated key, passwordless sudo and
 * no password; password logins off; the hostname resolvable (sudo warns on every call otherwise).
 */
export function generatedCloudConfig(user: string, publicKey: string): CloudConfig {
  return {
    users: [
      {
        name: user,
        gecos: "snapvm",
        shell: "/bin/bash",
        sudo: "ALL=(ALL) NOPASSWD:ALL",
        lock_passwd: true,
        ssh_authorized_keys: [publicKey.trim()],
      },
    ],
    ssh_pwauth: false,
    manage_etc_hosts: true,
  };
}

/**
 * Parses `cloudInit.userData`: #cloud-config YAML (the header line may be left out) whose top
 * level is a mapping. Other user-data kinds (scripts, MIME, #include) cannot be merged and are refused.
 */
export function parseUserCloudConfig(text: string): CloudConfig {
  const firstLine = text.trimStart().split("\n", 1)[0] ?? "";
  // "#!", "#include", "#cloud-boothook", ... name other user-data kinds; "# text" is a YAML comment.
  if (/^#[!a-z]/i.test(firstLine) && !firstLine.startsWith(CLOUD_CONFIG_HEADER)) {
    throw invalid(`it starts with "${firstLine.slice(0, 40)}"; only #cloud-config can be merged with snapvm's own`);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  const error = doc.errors[0];
  if (error !== undefined) throw invalid(`it is not valid YAML: ${error.message}`, error);
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (!isMapping(value)) throw invalid("its top level is not a mapping of cloud-config keys");
  return value;
}

function invalid(why: string, cause?: unknown): SnapvmError {
  return new SnapvmError(ErrorCode.InvalidConfig, `cloudInit.userData cannot be used: ${why}`, {
    hint: "Give #cloud-config YAML, e.g. `packages: [curl]` or `runcmd: [...]`; run a script with `runcmd`.",
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The NoCloud `user-data` file: snapvm's cloud-config with the user's merged in. */
export function renderUserData(input: UserDataInput): string {
  const ours = generatedCloudConfig(input.user, input.publicKey);
  const merged = input.extra === undefined ? ours : mergeCloudConfig(ours, parseUserCloudConfig(input.extra));
  return `${CLOUD_CONFIG_HEADER}\n${stringifyForGuest(merged, { lineWidth: 0 })}`;
}
