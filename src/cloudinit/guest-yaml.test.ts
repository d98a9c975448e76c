import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { seededRandom } from "../util/seeded-random.ts";
import { renderCidata } from "./index.ts";

/** Every scalar of a parsed document, with its path. */
function scalars(value: unknown, path = ""): [string, unknown][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => scalars(v, `${path}[${i}]`));
  if (typeof value === "object" && value !== null) return Object.entries(value).flatMap(([k, v]) => scalars(v, `${path}.${k}`));
  return [[path, value]];
}

describe("cloud-init data as cloud-init (PyYAML, YAML 1.1) reads it", () => {
  it("every value of every file keeps its type for thousands of names, those whose MAC looks base-60 included", () => {
    const random = seededRandom(12);
    const octet = (): string =>
      Math.floor(random() * 256)
        .toString(16)
        .padStart(2, "0");
    let sexagesimal = 0;
    for (let i = 0; i < 3000; i++) {
      const name = `vm${i.toString(36)}`;
      // QEMU's prefix and three bytes, like instance/boot/launch-spec.ts's macForName; the first is the MAC of "acc".
      const mac = i === 0 ? "52:54:00:41:43:22" : `52:54:00:${octet()}:${octet()}:${octet()}`;
      if (/^[0-5]?\d(:[0-5]?\d)+$/.test(mac)) sexagesimal++;
      const files = renderCidata({ instanceId: `snapvm-${name}-id`, hostname: name, user: "yes", publicKey: "ssh-ed25519 AAAA key", mac });
      const network = parse(files["network-config"] ?? "", { version: "1.1" }) as { ethernets: Record<string, { match: { macaddress: unknown } }> };
      assert.equal(network.ethernets["eth0"]?.match.macaddress, mac, name);
      const meta = parse(files["meta-data"] ?? "", { version: "1.1" }) as Record<string, unknown>;
      assert.equal(meta["local-hostname"], name);
      const user = parse(files["user-data"] ?? "", { version: "1.1" }) as { users: { name: unknown }[] };
      assert.equal(user.users[0]?.name, "yes");
      for (const [path, value] of scalars(network)) if (path !== ".version") assert.notEqual(typeof value, "number", `${name}: ${path}`);
    }
    // The case that broke: names like "acc" whose MAC is all numbers ≤ 59 between colons.
    assert.ok(sexagesimal > 10, `only ${sexagesimal} MACs in the sample look base-60; widen it`);
  });
});
