// Prototype child (docs/design/fork-supervisor.md): one Node process serving `count` instances the way
// an agent serves one — a controller, an event log and a /v1 server on its own unix socket each — over
// fake VMs (no QEMU: the QEMU side costs the same whichever process serves it). Prints "ready" once
// every socket listens, then idles with no timer until killed.
import { mkdirSync } from "node:fs";
import { AgentController } from "../../src/agent/controller.ts";
import { EventLog } from "../../src/agent/events.ts";
import { FakeVm } from "../../src/agent/fake-vm.ts";
import { buildApp, listenOnSocket } from "../../src/agent/server.ts";
import { instancePaths, parseInstanceName } from "../../src/paths/index.ts";
import { sampleManifest } from "../../src/snapshot/compress-fixture.ts";

const [homeArg, countArg, prefixArg] = process.argv.slice(2);
if (homeArg === undefined || countArg === undefined) throw new Error("usage: serve-group HOME COUNT [PREFIX]");
const count = Number(countArg);
const prefix = prefixArg ?? "p";
await Promise.all(
  Array.from({ length: count }, async (_, i) => {
    const name = `${prefix}${i + 1}`;
    const paths = instancePaths(parseInstanceName(name), homeArg);
    mkdirSync(paths.dir, { recursive: true });
    const controller = new AgentController({
      name,
      paths,
      vm: new FakeVm(),
      launch: sampleManifest().launch,
      status: { qemuPid: 0 },
      initialState: "restoring",
      settings: { saveOnStop: true, shutdownMs: 1000, restoreMs: 1000 },
      events: new EventLog(paths.events),
    });
    await controller.setState("running");
    await listenOnSocket(
      buildApp(controller, () => undefined),
      paths.agentSocket,
    );
  }),
);
process.stdout.write("ready\n");
