import { stringifyForGuest } from "./guest-yaml.ts";

/** The name cloud-init gives snapvm's NIC (found by MAC), whatever the guest's udev would call it. */
export const GUEST_NIC_NAME = "eth0";

/**
 * NoCloud `network-config` (version 2): DHCP on the virtio NIC, matched by its MAC and renamed to
 * eth0, so a guest with predictable interface names needs no guessing. QEMU's user-mode network
 * answers DHCP.
 */
export function renderNetworkConfig(mac: string): string {
  return stringifyForGuest({
    version: 2,
    ethernets: { [GUEST_NIC_NAME]: { match: { macaddress: mac }, "set-name": GUEST_NIC_NAME, dhcp4: true } },
  });
}
