import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { GUEST_SSH_PORT, guestAccessOf, type LaunchSpec, type PortForward } from "../../config/launch-spec.ts";

/** A host port QEMU binds for a launch: one of the user's forwards, or snapvm's own to the guest's SSH. */
export interface HostForward extends PortForward {
  /** snapvm's loopback forward to the guest's SSH port (cloud images). */
  ssh?: true;
}

/**
 * Every host port a launch binds, in the order QEMU sets them up: the user's forwards, then snapvm's
 * SSH forward. Mirrors the driver's argv (driver/qemu/argv.ts hostForwards): a spec binds exactly these.
 */
export function hostForwardsOf(spec: Pick<LaunchSpec, "ports" | "guestAccess">): HostForward[] {
  const access = guestAccessOf(spec);
  const ssh: HostForward[] = access.kind === "ssh" ? [{ protocol: "tcp", hostAddress: "127.0.0.1", host: access.port, guest: GUEST_SSH_PORT, ssh: true }] : [];
  return [...spec.ports, ...ssh];
}

/** How a forward reads in messages: `127.0.0.1:8080/tcp`. */
export function describeForward(forward: Pick<PortForward, "protocol" | "hostAddress" | "host">): string {
  return `${forward.hostAddress === "" ? "0.0.0.0" : forward.hostAddress}:${forward.host}/${forward.protocol}`;
}

/** Free, or the errno binding it failed with (EADDRINUSE: taken; EACCES: privileged; EADDRNOTAVAIL: not this host's address). */
export type PortProbe = { free: true } | { free: false; errno: string };

/**
 * Binds the forward's port on its address and lets it go at once, as QEMU will bind it moments later.
 * Node sets SO_REUSEADDR on TCP listeners as QEMU's user-mode network does, so a port in TIME_WAIT
 * counts as free for both, and a listener on 0.0.0.0 or [::] counts as taken for 127.0.0.1 for both.
 * MUST run before QEMU starts: while the probe holds the port, QEMU would fail on it.
 */
export function probePort(forward: Pick<PortForward, "protocol" | "hostAddress" | "host">): Promise<PortProbe> {
  const host = forward.hostAddress === "" ? "0.0.0.0" : forward.hostAddress;
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => {
      if (typeof error.code === "string") resolve({ free: false, errno: error.code });
      else reject(error);
    };
    if (forward.protocol === "udp") {
      const socket = createSocket("udp4");
      socket.once("error", (error) => {
        socket.close();
        failed(error);
      });
      socket.bind({ address: host, port: forward.host, exclusive: true }, () => {
        socket.close(() => {
          resolve({ free: true });
        });
      });
      return;
    }
    const server = createServer();
    server.once("error", failed);
    server.listen({ host, port: forward.host, exclusive: true }, () => {
      server.close(() => {
        resolve({ free: true });
      });
    });
  });
}

/** A port the kernel calls free now on `host`, for `protocol` (bind to port 0, read it, let it go). */
export function pickFreePort(protocol: "tcp" | "udp", host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const address = host === "" ? "0.0.0.0" : host;
    if (protocol === "udp") {
      const socket = createSocket("udp4");
      socket.once("error", reject);
      socket.bind({ address, port: 0, exclusive: true }, () => {
        const { port } = socket.address();
        socket.close(() => {
          resolve(port);
        });
      });
      return;
    }
    const server = createServer();
    server.once("error", reject);
    server.listen({ host: address, port: 0, exclusive: true }, () => {
      const bound = server.address();
      server.close(() => {
        if (bound === null || typeof bound === "string") reject(new Error(`no TCP port on ${address}`));
        else resolve(bound.port);
      });
    });
  });
}
