import { createHash } from "node:crypto";

export interface InstanceIdInput {
  name: string;
  user: string;
  publicKey: string;
  userData?: string;
  mac: string;
}

/**
 * The NoCloud instance-id. cloud-init runs its once-per-instance modules (users, SSH host keys,
 * network, user-data) when it changes, and each run costs tens of seconds under TCG. So it is stable
 * across cold boots of one instance and changes only with what those modules apply: the name (a fork
 * is a new instance), the user, its key, the user's cloud-config and the MAC. An edit of `ssh.user` or
 * `cloudInit.userData` therefore still takes effect at the next cold boot.
 */
export function instanceIdFor(input: InstanceIdInput): string {
  const digest = createHash("sha256")
    .update(JSON.stringify([input.name, input.user, input.publicKey.trim(), input.userData ?? "", input.mac]))
    .digest("hex")
    .slice(0, 16);
  return `snapvm-${input.name}-${digest}`;
}
