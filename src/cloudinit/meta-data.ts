import { stringifyForGuest } from "./guest-yaml.ts";

export interface MetaDataInput {
  /** cloud-init runs its once-per-instance modules (users, SSH keys, network) when this changes. */
  instanceId: string;
  hostname: string;
}

/** NoCloud `meta-data`: the instance id and the guest's hostname. */
export function renderMetaData(input: MetaDataInput): string {
  return stringifyForGuest({ "instance-id": input.instanceId, "local-hostname": input.hostname });
}
