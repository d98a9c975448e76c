import { renderMetaData } from "./meta-data.ts";
import { renderNetworkConfig } from "./network-config.ts";
import { renderUserData } from "./user-data.ts";
import { writeCidataIso } from "./iso.ts";

export { renderMetaData } from "./meta-data.ts";
export { renderNetworkConfig, GUEST_NIC_NAME } from "./network-config.ts";
export { renderUserData, parseUserCloudConfig, generatedCloudConfig, CLOUD_CONFIG_HEADER } from "./user-data.ts";
export { mergeCloudConfig, type CloudConfig } from "./merge.ts";
export { writeCidataIso, CIDATA_VOLUME_ID } from "./iso.ts";
export { instanceIdFor } from "./instance-id.ts";

export interface CidataInput {
  instanceId: string;
  hostname: string;
  user: string;
  publicKey: string;
  /** config `cloudInit.userData`; merged as merge.ts describes. */
  userData?: string;
  /** The NIC's MAC; network-config matches it. */
  mac: string;
}

/** The NoCloud files, by the names cloud-init looks for. Pure. */
export function renderCidata(input: CidataInput): Record<string, string> {
  return {
    "meta-data": renderMetaData({ instanceId: input.instanceId, hostname: input.hostname }),
    "user-data": renderUserData({ user: input.user, publicKey: input.publicKey, ...(input.userData === undefined ? {} : { extra: input.userData }) }),
    "network-config": renderNetworkConfig(input.mac),
  };
}

/** Renders the NoCloud data and writes it as a `cidata` ISO at `isoPath` (replacing any old one). */
export async function writeCidata(isoPath: string, input: CidataInput): Promise<void> {
  await writeCidataIso(isoPath, renderCidata(input));
}
