import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { z } from "zod";
import { ErrorCode, isSnapvmError } from "../errors/index.ts";
import { parseConfigText } from "./load.ts";
import { formatProblem, type ConfigProblem } from "./problems.ts";
import type { configFileSchema } from "./schema.ts";
import type { ConfigFile } from "./types.ts";

/**
 * Compile-time: the schema's type and the hand-written ConfigFile are assignable both ways; under
 * exactOptionalPropertyTypes that also rules out `field?: T | undefined` on either side.
 */
type SchemaType = z.infer<typeof configFileSchema>;
const schemaToFile = (value: SchemaType): ConfigFile => value;
const fileToSchema = (value: ConfigFile): SchemaType => value;

/** The problems parseConfigText reports for `text`, formatted; [] when it parses. */
function problems(text: string): string[] {
  try {
    parseConfigText(text, "c.yaml");
    return [];
  } catch (error) {
    if (!isSnapvmError(error, ErrorCode.InvalidConfig)) throw error;
    return (error.details["problems"] as ConfigProblem[]).map(formatProblem);
  }
}

function accepts(...texts: string[]): void {
  for (const text of texts) assert.deepEqual(problems(text), [], text);
}

describe("config schema bounds", () => {
  it("infers ConfigFile (checked by tsc)", () => {
    assert.deepEqual(schemaToFile(fileToSchema({ cpus: 2 })), { cpus: 2 });
  });

  it("cpus: a whole number from 1 to 64", () => {
    accepts("cpus: 1", "cpus: 64", "cpus: 2.0");
    assert.deepEqual(problems("cpus: 0"), ["c.yaml:1:7: cpus: must be at least 1 (got 0)"]);
    assert.deepEqual(problems("cpus: 65"), ["c.yaml:1:7: cpus: must be at most 64 (got 65)"]);
    assert.deepEqual(problems("cpus: 1.5"), ["c.yaml:1:7: cpus: expected a whole number, got 1.5"]);
    assert.deepEqual(problems('cpus: "2"'), ['c.yaml:1:7: cpus: expected a whole number, got "2"']);
  });

  it("memory.size: a multiple of 1M from 64M to 1T", () => {
    accepts("memory: {size: 64M}", "memory: {size: 1T}", "memory: {size: 65536K}", "memory: {size: 1GiB}");
    assert.deepEqual(problems("memory: {size: 63M}"), ['c.yaml:1:16: memory.size: must be at least 64M (got "63M")']);
    assert.deepEqual(problems("memory: {size: 1025G}"), ['c.yaml:1:16: memory.size: must be at most 1T (got "1025G")']);
    assert.deepEqual(problems("memory: {size: 65537K}"), ['c.yaml:1:16: memory.size: must be a multiple of 1M (got "65537K")']);
    assert.deepEqual(problems("memory: {size: 536870912}"), ['c.yaml:1:16: memory.size: expected a size such as "512M", got 536870912']);
    assert.deepEqual(problems("memory: {size: lots}"), [
      `c.yaml:1:16: memory.size: "lots" is not a size; expected a whole number with an optional unit K, M, G or T (also KiB, MiB, GiB, TiB), e.g. "512M"`,
    ]);
  });

  it("memory.backing: file or anonymous", () => {
    accepts("memory: {backing: file}", "memory: {backing: anonymous}");
    assert.deepEqual(problems("memory: {backing: shared}"), ['c.yaml:1:19: memory.backing: must be one of "file", "anonymous" (got "shared")']);
  });

  it("disk.size: a multiple of 1M from 16M to 64T", () => {
    accepts("disk: {size: 16M}", "disk: {size: 64T}", "disk: {size: 100G}");
    assert.deepEqual(problems("disk: {size: 15M}"), ['c.yaml:1:14: disk.size: must be at least 16M (got "15M")']);
    assert.deepEqual(problems("disk: {size: 65T}"), ['c.yaml:1:14: disk.size: must be at most 64T (got "65T")']);
    assert.deepEqual(problems('disk: {size: "20000000"}'), ['c.yaml:1:14: disk.size: must be a multiple of 1M (got "20000000")']);
  });

  it('image: "tiny" or a .qcow2 path', () => {
    accepts("image: tiny", "image: /images/debian.qcow2", "image: debian.qcow2", "image: ../images/my image.qcow2");
    assert.deepEqual(problems("image: tiny.img"), ['c.yaml:1:8: image: must be "tiny" or the path of a .qcow2 image (got "tiny.img")']);
    assert.deepEqual(problems('image: ""'), ['c.yaml:1:8: image: must be "tiny" or the path of a .qcow2 image (got "")']);
    assert.deepEqual(problems("image: ~/debian.qcow2"), [
      `c.yaml:1:8: image: "~" is not expanded; give an absolute path or one relative to this file's directory`,
    ]);
  });

  it("accel: auto, kvm or tcg", () => {
    accepts("accel: auto", "accel: kvm", "accel: tcg");
    assert.deepEqual(problems("accel: hvf"), ['c.yaml:1:8: accel: must be one of "auto", "kvm", "tcg" (got "hvf")']);
  });

  it("saveOnStop: a boolean (YAML 1.2: yes/no are strings)", () => {
    accepts("saveOnStop: true", "saveOnStop: false");
    assert.deepEqual(problems("saveOnStop: yes"), ['c.yaml:1:13: saveOnStop: expected true or false, got "yes"']);
  });

  it("snapshot: compression none or zstd, level 1 to 19", () => {
    accepts("snapshot: {compression: zstd, level: 1}", "snapshot: {compression: none, level: 19}");
    assert.deepEqual(problems("snapshot: {compression: gzip}"), ['c.yaml:1:25: snapshot.compression: must be one of "none", "zstd" (got "gzip")']);
    assert.deepEqual(problems("snapshot: {level: 0}"), ["c.yaml:1:19: snapshot.level: must be at least 1 (got 0)"]);
    assert.deepEqual(problems("snapshot: {level: 20}"), ["c.yaml:1:19: snapshot.level: must be at most 19 (got 20)"]);
  });

  it("timeouts: positive seconds up to 3600", () => {
    accepts("timeouts: {boot: 0.5, shutdown: 3600, restore: 1}");
    assert.deepEqual(problems("timeouts: {boot: 0}"), ["c.yaml:1:18: timeouts.boot: must be greater than 0 (got 0)"]);
    assert.deepEqual(problems("timeouts: {shutdown: -5}"), ["c.yaml:1:22: timeouts.shutdown: must be greater than 0 (got -5)"]);
    assert.deepEqual(problems("timeouts: {restore: 20000}"), ["c.yaml:1:21: timeouts.restore: must be at most 3600 (got 20000)"]);
    assert.deepEqual(problems("timeouts: {boot: .nan}"), ["c.yaml:1:18: timeouts.boot: expected a number, got NaN"]);
  });

  it("ssh.user: a Unix user name", () => {
    accepts("ssh: {user: debian}", "ssh: {user: ec2-user}", "ssh: {user: _svc}");
    assert.deepEqual(problems("ssh: {user: Admin}"), [
      `c.yaml:1:13: ssh.user: must be a Unix user name: up to 32 lowercase letters, digits, '_' or '-', starting with a letter or '_' (got "Admin")`,
    ]);
  });

  it("cloudInit.userData: a string", () => {
    accepts("cloudInit: {userData: '#cloud-config'}", "cloudInit:\n  userData: |\n    #cloud-config\n    packages: [git]\n");
    assert.deepEqual(problems("cloudInit: {userData: [1]}"), ["c.yaml:1:23: cloudInit.userData: expected a string, got a list"]);
  });

  it("ports: numbers 1 to 65535, tcp or udp, an IPv4 host address", () => {
    accepts("ports: []", "ports: [{host: 1, guest: 65535}, {host: 65535, guest: 1, protocol: udp, hostAddress: 0.0.0.0}]");
    assert.deepEqual(problems("ports:\n  - {host: 0, guest: 65536, protocol: icmp, hostAddress: ::1}\n"), [
      "c.yaml:2:12: ports[0].host: must be at least 1 (got 0)",
      "c.yaml:2:22: ports[0].guest: must be at most 65535 (got 65536)",
      'c.yaml:2:39: ports[0].protocol: must be one of "tcp", "udp" (got "icmp")',
      'c.yaml:2:58: ports[0].hostAddress: must be an IPv4 address such as "127.0.0.1" (got "::1")',
    ]);
    assert.deepEqual(problems("ports:\n  - {host: 8080}\n"), ["c.yaml:2:5: ports[0].guest: expected a whole number, got nothing"]);
    assert.deepEqual(problems("ports: {host: 8080, guest: 80}"), ["c.yaml:1:8: ports: expected a list, got a map"]);
  });

  it("ports: host ports unique per protocol, reported with other problems in the list", () => {
    const text = [
      "ports:",
      "  - {host: 8080, guest: 80}",
      "  - {host: 8080, guest: 80, protocol: udp}",
      "  - {host: 8080, guest: 0}",
      "  - {host: 8080, guest: 81, protocol: udp}",
    ].join("\n");
    assert.deepEqual(problems(text), [
      "c.yaml:4:12: ports[2].host: host port 8080/tcp is already forwarded by ports[0]",
      "c.yaml:4:25: ports[2].guest: must be at least 1 (got 0)",
      "c.yaml:5:12: ports[3].host: host port 8080/udp is already forwarded by ports[1]",
    ]);
  });
});
