import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode, isSnapvmError } from "../errors/index.ts";
import { findDuplicateHostPorts, parsePortForward } from "./ports.ts";
import type { PortForwardFile } from "./types.ts";

describe("parsePortForward", () => {
  it("parses the three forms and returns only the fields given", () => {
    assert.deepEqual(parsePortForward("8080:80"), { host: 8080, guest: 80 });
    assert.deepEqual(parsePortForward("8080:80/udp"), { host: 8080, guest: 80, protocol: "udp" });
    assert.deepEqual(parsePortForward("8080:80/TCP"), { host: 8080, guest: 80, protocol: "tcp" });
    assert.deepEqual(parsePortForward("127.0.0.1:8080:80"), { host: 8080, guest: 80, hostAddress: "127.0.0.1" });
    assert.deepEqual(parsePortForward("0.0.0.0:1:65535/udp"), { host: 1, guest: 65535, protocol: "udp", hostAddress: "0.0.0.0" });
  });

  it("names the bad part", () => {
    const forms = `expected HOST:GUEST, HOST:GUEST/udp or ADDRESS:HOST:GUEST[/PROTOCOL], e.g. "8080:80" or "127.0.0.1:8080:80/tcp"`;
    const cases: [string, string][] = [
      ["8080", forms],
      ["", forms],
      ["a:b:c:d", forms],
      ["8080:80/sctp", `unknown protocol "sctp" (use tcp or udp)`],
      ["8080:80/", `unknown protocol "" (use tcp or udp)`],
      ["0:80", `host port "0" is not a number from 1 to 65535`],
      ["65536:80", `host port "65536" is not a number from 1 to 65535`],
      ["http:80", `host port "http" is not a number from 1 to 65535`],
      [" 8080:80", `host port " 8080" is not a number from 1 to 65535`],
      ["8080:-1", `guest port "-1" is not a number from 1 to 65535`],
      ["8080:", `guest port "" is not a number from 1 to 65535`],
      ["8080:1e3", `guest port "1e3" is not a number from 1 to 65535`],
      ["localhost:8080:80", `"localhost" is not an IPv4 address`],
      ["256.0.0.1:8080:80", `"256.0.0.1" is not an IPv4 address`],
      [":8080:80", `"" is not an IPv4 address`],
    ];
    for (const [text, why] of cases) {
      assert.throws(
        () => parsePortForward(text),
        (error) => {
          assert.ok(isSnapvmError(error, ErrorCode.InvalidArgument));
          assert.equal(error.message, `invalid port forward ${JSON.stringify(text)}: ${why}`);
          assert.ok(error.hint?.startsWith("Write a port forward as "));
          return true;
        },
        text,
      );
    }
  });
});

describe("findDuplicateHostPorts", () => {
  it("finds a host port forwarded twice for the same protocol, defaulting to tcp, whatever the address", () => {
    const ports: (PortForwardFile | undefined)[] = [
      { host: 8080, guest: 80 },
      { host: 8080, guest: 80, protocol: "udp" },
      { host: 8080, guest: 81, protocol: "tcp", hostAddress: "0.0.0.0" },
      undefined,
      { host: 8080, guest: 82, protocol: "udp" },
      { host: 9090, guest: 90 },
    ];
    assert.deepEqual(findDuplicateHostPorts(ports), [
      { index: 2, firstIndex: 0, host: 8080, protocol: "tcp" },
      { index: 4, firstIndex: 1, host: 8080, protocol: "udp" },
    ]);
  });
});
