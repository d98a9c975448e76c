import { createServer } from "node:net";

/**
 * A TCP port on `host` that is free right now (the kernel picks it). QEMU binds it moments later;
 * a port taken in between makes QEMU exit with "Could not set up host forwarding rule", which the
 * caller reports like any QEMU start failure.
 */
export function pickFreePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === "string") reject(new Error(`no TCP port on ${host}`));
        else resolve(address.port);
      });
    });
  });
}
