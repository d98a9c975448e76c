import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ErrorCode, isErrno, isSnapvmError, type SnapvmError } from "../errors/index.ts";
import { CONFIG_FILE_MAX_BYTES, loadConfigFile, parseConfigText, readConfigFile } from "./load.ts";
import { formatProblem, type ConfigProblem } from "./problems.ts";

function configErrorOf(run: () => unknown): SnapvmError {
  try {
    run();
  } catch (error) {
    if (isSnapvmError(error, ErrorCode.InvalidConfig)) return error;
    throw error;
  }
  assert.fail("expected SnapvmError(InvalidConfig)");
}

function problems(text: string): string[] {
  const error = configErrorOf(() => parseConfigText(text, "snapvm.yaml"));
  return (error.details["problems"] as ConfigProblem[]).map(formatProblem);
}

describe("parseConfigText", () => {
  it("returns the persisted shape without filling defaults", () => {
    assert.deepEqual(parseConfigText("cpus: 2\nmemory:\n  size: 1G\n", "x"), { cpus: 2, memory: { size: "1G" } });
  });

  it("treats an empty or comment-only document as an empty config", () => {
    assert.deepEqual(parseConfigText("", "x"), {});
    assert.deepEqual(parseConfigText("# nothing\n", "x"), {});
    assert.deepEqual(parseConfigText("{}", "x"), {});
  });

  it("reports every problem at once, in file order, with line and column", () => {
    const text = [
      "cpus: 0", //                  1
      "memory:", //                  2
      "  size: 32M", //              3
      "  backing: swap", //          4
      "disk: {size: 2GB}", //        5
      "ports:", //                   6
      "  - host: 22", //             7
      "    guest: 22", //            8
      "  - host: 22", //             9
      "    guest: 99999", //         10
      "timeouts:", //                11
      "  boot: 0", //                12
    ].join("\n");
    const error = configErrorOf(() => parseConfigText(text, "/i/dev/snapvm.yaml"));
    const expected = [
      "/i/dev/snapvm.yaml:1:7: cpus: must be at least 1 (got 0)",
      '/i/dev/snapvm.yaml:3:9: memory.size: must be at least 64M (got "32M")',
      '/i/dev/snapvm.yaml:4:12: memory.backing: must be one of "file", "anonymous" (got "swap")',
      '/i/dev/snapvm.yaml:5:14: disk.size: "2GB" is ambiguous; write "2G" or "2GiB" (sizes are binary: 1G = 1024M)',
      "/i/dev/snapvm.yaml:9:11: ports[1].host: host port 22/tcp is already forwarded by ports[0]",
      "/i/dev/snapvm.yaml:10:12: ports[1].guest: must be at most 65535 (got 99999)",
      "/i/dev/snapvm.yaml:12:9: timeouts.boot: must be greater than 0 (got 0)",
    ];
    assert.equal(error.message, ["invalid config /i/dev/snapvm.yaml (7 problems):", ...expected].join("\n"));
    assert.equal(error.hint, "Fix the listed fields in /i/dev/snapvm.yaml and run the command again.");
    assert.equal(error.details["file"], "/i/dev/snapvm.yaml");
    assert.deepEqual((error.details["problems"] as ConfigProblem[])[0], {
      file: "/i/dev/snapvm.yaml",
      line: 1,
      col: 7,
      path: "cpus",
      message: "must be at least 1 (got 0)",
    });
  });

  it("checks direct kernel boot: every field, paths, and only for a qcow2 image, with line and column", () => {
    assert.deepEqual(problems(["image: /i/rootfs.qcow2", "boot:", "  kernel: ~/vmlinux", '  cmdline: ""', "  initramfs: x"].join("\n")), [
      "snapvm.yaml:3:3: boot.initrd: expected a string, got nothing",
      'snapvm.yaml:3:11: boot.kernel: "~" is not expanded; give an absolute path or one relative to this file\'s directory',
      'snapvm.yaml:4:12: boot.cmdline: must not be empty; give at least root=, e.g. "root=/dev/vda rw console=ttyS0"',
      "snapvm.yaml:5:3: boot.initramfs: unknown field (expected one of: kernel, initrd, cmdline)",
    ]);
    assert.deepEqual(problems(["boot:", "  kernel: /k", "  initrd: /i", "  cmdline: root=/dev/vda"].join("\n")), [
      'snapvm.yaml:2:3: boot: applies to a qcow2 image; the built-in guest ("tiny") boots its own kernel',
    ]);
  });

  it("reports unknown keys at the key, with a suggestion when one is close", () => {
    const text = ["cpu: 2", "Memory:", "  sise: 1G", "save_on_stop: false", "ports:", "  - {host: 80, guest: 80, proto: udp}", "frobnicate: 1"].join("\n");
    assert.deepEqual(problems(text), [
      'snapvm.yaml:1:1: cpu: unknown field (did you mean "cpus"?)',
      'snapvm.yaml:2:1: Memory: unknown field (did you mean "memory"?)',
      'snapvm.yaml:4:1: save_on_stop: unknown field (did you mean "saveOnStop"?)',
      "snapvm.yaml:6:27: ports[0].proto: unknown field (expected one of: host, guest, protocol, hostAddress)",
      "snapvm.yaml:7:1: frobnicate: unknown field (expected one of: cpus, memory, disk, image, boot, accel, saveOnStop, ports, snapshot, timeouts, ssh, cloudInit)",
    ]);
    assert.deepEqual(problems("memory:\n  sise: 1G\n"), ['snapvm.yaml:2:3: memory.sise: unknown field (did you mean "size"?)']);
    assert.deepEqual(problems("__proto__: {cpus: 100}\nmemory: {constructor: 1}\nnull: 1\n? [a]\n: 1\n"), [
      "snapvm.yaml:1:1: __proto__: unknown field (expected one of: cpus, memory, disk, image, boot, accel, saveOnStop, ports, snapshot, timeouts, ssh, cloudInit)",
      // A collection key is located at its enclosing map.
      'snapvm.yaml:1:1: ["[ a ]"]: unknown field (expected one of: cpus, memory, disk, image, boot, accel, saveOnStop, ports, snapshot, timeouts, ssh, cloudInit)',
      "snapvm.yaml:2:10: memory.constructor: unknown field (expected one of: size, backing)",
      'snapvm.yaml:3:1: [""]: unknown field (expected one of: cpus, memory, disk, image, boot, accel, saveOnStop, ports, snapshot, timeouts, ssh, cloudInit)',
    ]);
  });

  it("points at the key when a value is empty, and at the value when it has the wrong type", () => {
    assert.deepEqual(problems("memory:\ncpus: 2\n"), ["snapvm.yaml:1:1: memory: expected a map of fields, got an empty value"]);
    assert.deepEqual(problems("ssh:\n  user:\n"), ["snapvm.yaml:2:3: ssh.user: expected a string, got an empty value"]);
    assert.deepEqual(problems("memory: 512M\n"), ['snapvm.yaml:1:9: memory: expected a map of fields, got "512M"']);
    assert.deepEqual(problems("- cpus: 2\n"), ["snapvm.yaml:1:1: expected a map of fields, got a list"]);
    assert.deepEqual(problems("just text\n"), ['snapvm.yaml:1:1: expected a map of fields, got "just text"']);
  });

  it("points at the parent map when a required field is missing", () => {
    assert.deepEqual(problems("ports:\n  - guest: 80\n"), ["snapvm.yaml:2:5: ports[0].host: expected a whole number, got nothing"]);
  });

  it("reports YAML syntax errors with their position, and nothing else", () => {
    assert.deepEqual(problems("cpus: 0\nmemory: {size: 1G\n"), [
      "snapvm.yaml:3:1: Flow map in block collection must be sufficiently indented and end with a }",
    ]);
    assert.deepEqual(problems("cpus: 1\ncpus: 2\n"), ["snapvm.yaml:2:1: Map keys must be unique"]);
    assert.deepEqual(problems("image: 'tiny\n"), ["snapvm.yaml:2:1: Missing closing 'quote"]);
    assert.deepEqual(problems("ssh:\n\tuser: root\n"), ["snapvm.yaml:2:1: Tabs are not allowed as indentation"]);
    assert.deepEqual(problems("cpus: 1\n---\ncpus: 2\n"), ["snapvm.yaml:2:1: Source contains multiple documents; please use YAML.parseAllDocuments()"]);
  });

  it("reports an alias without an anchor, and alias bombs", () => {
    assert.deepEqual(problems("cpus: 1\nmemory: *m\n"), ["snapvm.yaml:2:9: alias *m refers to no anchor &m before it"]);
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 8; i++)
      bomb.push(
        `${"abcdefgh"[i] ?? ""}: &${"abcdefgh"[i] ?? ""} [${Array(9)
          .fill(`*${"abcdefgh"[i - 1] ?? ""}`)
          .join(", ")}]`,
      );
    assert.deepEqual(problems(bomb.join("\n")), ["snapvm.yaml:1:1: Excessive alias count indicates a resource exhaustion attack"]);
  });

  it("follows aliases to their anchors", () => {
    assert.deepEqual(parseConfigText("timeouts: {boot: &t 45, shutdown: *t}\n", "x"), { timeouts: { boot: 45, shutdown: 45 } });
    assert.deepEqual(problems("timeouts: {boot: &t 0, shutdown: *t}\n"), [
      "snapvm.yaml:1:21: timeouts.boot: must be greater than 0 (got 0)",
      "snapvm.yaml:1:34: timeouts.shutdown: must be greater than 0 (got 0)",
    ]);
  });
});

describe("readConfigFile / loadConfigFile", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "snapvm-config-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("resolves a relative image path against the file's directory", async () => {
    const path = join(dir, "snapvm.yaml");
    await writeFile(path, "image: images/debian.qcow2\nmemory: {size: 1G}\n");
    const config = await loadConfigFile(path);
    assert.deepEqual(config.image, { kind: "qcow2", path: join(dir, "images/debian.qcow2") });
    assert.equal(config.memory.sizeBytes, 1024 ** 3);
    assert.deepEqual(await readConfigFile(path), { image: "images/debian.qcow2", memory: { size: "1G" } });
  });

  it("names the file in problems", async () => {
    const path = join(dir, "bad.yaml");
    await writeFile(path, "cpus: 100\n");
    await assert.rejects(loadConfigFile(path), (error) => {
      assert.ok(isSnapvmError(error, ErrorCode.InvalidConfig));
      assert.equal(error.message, `invalid config ${path} (1 problem):\n${path}:1:7: cpus: must be at most 64 (got 100)`);
      return true;
    });
  });

  it("refuses a file larger than the cap before parsing it", async () => {
    const path = join(dir, "huge.yaml");
    await writeFile(path, `# ${"x".repeat(CONFIG_FILE_MAX_BYTES)}\n`);
    await assert.rejects(
      readConfigFile(path),
      (error) => isSnapvmError(error, ErrorCode.InvalidConfig) && error.message.includes("a config is at most 1048576"),
    );
  });

  it("lets file system errors through for the caller to judge", async () => {
    await assert.rejects(readConfigFile(join(dir, "missing.yaml")), (error) => isErrno(error, "ENOENT"));
  });
});
