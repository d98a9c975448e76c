import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { QmpClient } from "./client.ts";
import { connectPair, makeSocketDir, type SocketDir } from "./test-support.ts";

let dir: SocketDir;
before(async () => {
  dir = await makeSocketDir();
});
after(async () => {
  await dir.remove();
});

/** Never called: `tsc --noEmit` checks that the command map accepts and refuses what it should. */
export async function typeChecks(client: QmpClient): Promise<boolean> {
  await client.execute("stop");
  await client.execute("query-named-block-nodes");
  await client.execute("query-named-block-nodes", { flat: true }, { timeoutMs: 5 });
  // @ts-expect-error migrate needs a uri
  await client.execute("migrate");
  // @ts-expect-error capabilities are limited to the ones snapvm uses
  await client.execute("migrate-set-capabilities", { capabilities: [{ capability: "xbzrle", state: true }] });
  // @ts-expect-error stop takes no arguments
  await client.execute("stop", { now: true });
  // @ts-expect-error not in QmpCommandMap
  await client.execute("savevm");
  const shutdown = await client.waitForEvent("SHUTDOWN", { predicate: (event) => event.data.reason === "guest-shutdown" });
  return shutdown.data.guest && (await client.execute("query-status")).running;
}

void describe("QmpCommandMap on the wire", () => {
  void it("sends migration capabilities and parameters as QEMU expects them", async (t) => {
    const { server, client } = await connectPair(t, dir);
    const capabilities = client.execute("migrate-set-capabilities", {
      capabilities: [
        { capability: "x-ignore-shared", state: true },
        { capability: "mapped-ram", state: false },
      ],
    });
    const capabilitiesCommand = await server.nextCommand();
    server.reply(capabilitiesCommand, {});
    await capabilities;
    const parameters = client.execute("migrate-set-parameters", { "max-bandwidth": 2 ** 40, "downtime-limit": 300 });
    const parametersCommand = await server.nextCommand();
    server.reply(parametersCommand, {});
    await parameters;
    assert.deepEqual(
      [capabilitiesCommand, parametersCommand],
      [
        {
          execute: "migrate-set-capabilities",
          arguments: {
            capabilities: [
              { capability: "x-ignore-shared", state: true },
              { capability: "mapped-ram", state: false },
            ],
          },
          id: 2,
        },
        { execute: "migrate-set-parameters", arguments: { "max-bandwidth": 2 ** 40, "downtime-limit": 300 }, id: 3 },
      ],
    );
  });
});
