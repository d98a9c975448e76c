import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { LaunchSpec } from "../../config/launch-spec.ts";
import { buildQemuArgv } from "./argv.ts";
import { isSnapvmError } from "../../errors/index.ts";
import { normalizeArgv, parseSnapvmArgv, splitOptionValue } from "./parse-argv.ts";

function spec(overrides: Partial<LaunchSpec> = {}): LaunchSpec {
  return {
    name: "web",
    accel: "tcg",
    cpus: 2,
    memoryBytes: 256 * 1024 * 1024,
    memoryBacking: "anonymous",
    memoryPath: "",
    boot: { kind: "kernel", kernel: "/h/images/tiny/vmlinux", initrd: "/h/images/tiny/initrd.img", cmdline: "console=ttyS0 panic=-1 quiet" },
    disk: "/h/instances/web/disks/0123456789abc.qcow2",
    ports: [{ protocol: "tcp", hostAddress: "127.0.0.1", host: 8080, guest: 80 }],
    guestAccess: { kind: "agent" },
    mac: "52:54:00:12:34:56",
    vmgenid: "5f2b1c3e-0000-4000-8000-000000000001",
    qmpSocket: "/h/instances/web/qmp.sock",
    guestSocket: "/h/instances/web/guest.sock",
    consoleSocket: "/h/instances/web/console.sock",
    consoleLog: "/h/instances/web/console.log",
    ...overrides,
  };
}

function refusal(argv: string[], pattern: RegExp): void {
  assert.throws(
    () => parseSnapvmArgv(argv),
    (e) => {
      assert.ok(isSnapvmError(e, "E_INVALID_ARGUMENT"), String(e));
      assert.match(e.message, pattern);
      assert.match(e.hint ?? "", /boot\/launch\.json/);
      return true;
    },
  );
}

describe("parseSnapvmArgv", () => {
  it("reads back the spec of an anonymous-RAM argv, with or without the binary, -incoming and -S", () => {
    const argv = buildQemuArgv(spec());
    assert.deepEqual(parseSnapvmArgv(argv).spec, spec());
    const decorated = ["/usr/bin/qemu-system-x86_64", ...argv, "-incoming", "exec:gzip -c -d STATE.gz", "-S"];
    assert.deepEqual(parseSnapvmArgv(decorated).spec, spec());
    assert.deepEqual(normalizeArgv(decorated), argv);
  });

  it("reads a file-backed argv (share on and off) and paths with commas", () => {
    const fileSpec = spec({ memoryBacking: "file", memoryPath: "/h/a,b/memory.ram", consoleLog: "/h/x,,y/console.log", ports: [] });
    for (const shareMemory of [true, false]) {
      const parsed = parseSnapvmArgv(buildQemuArgv(fileSpec, { shareMemory }));
      assert.deepEqual([parsed.spec, parsed.shareMemory], [fileSpec, shareMemory]);
    }
  });

  it("reads qemu-guest-agent's channel back where the argv has it, and a launch pinned before it without", () => {
    const withQga = spec({ qgaSocket: "/h/instances/web/qga.sock" });
    const argv = buildQemuArgv(withQga);
    const at = argv.indexOf("virtserialport,bus=vser0.0,chardev=qga,name=org.qemu.guest_agent.0");
    assert.deepEqual(argv.slice(at - 3, at + 1), ["-chardev", "socket,id=qga,path=/h/instances/web/qga.sock,server=on,wait=off", "-device", argv[at]]);
    assert.deepEqual(parseSnapvmArgv(argv).spec, withQga);
    assert.equal(
      buildQemuArgv(spec()).some((a) => a.includes("qga")),
      false,
    );
    assert.equal("qgaSocket" in parseSnapvmArgv(buildQemuArgv(spec())).spec, false);
  });

  it("reads a disk-boot argv with a cloud-init drive (import refuses it later, not the parser)", () => {
    const cloud = spec({ boot: { kind: "disk" }, cidataIso: "/h/instances/web/boot/cidata.iso", ports: [] });
    assert.deepEqual(parseSnapvmArgv(buildQemuArgv(cloud)).spec, cloud);
  });

  it("refuses another machine, plain -m RAM or another backend id, with the reason", () => {
    const argv = buildQemuArgv(spec());
    const at = (flag: string): number => argv.indexOf(flag) + 1;
    const swap = (flag: string, value: string): string[] => argv.map((a, i) => (i === at(flag) ? value : a));
    refusal(swap("-machine", "pc,memory-backend=mem"), /the machine is "pc"; snapvm runs q35/);
    refusal(swap("-machine", "q35"), /with plain -m its RAM block is "pc\.ram", snapvm's is "mem"/);
    refusal(swap("-machine", "q35,memory-backend=ram0"), /memory backend "ram0"/);
    refusal(swap("-m", "1G"), /-m 1G is not in MiB/);
    refusal(swap("-accel", "hvf"), /-accel hvf is neither/);
  });

  it("refuses any argument snapvm would not write, naming where", () => {
    const argv = buildQemuArgv(spec());
    refusal([...argv, "-device", "e1000"], /at argument \d+, snapvm would write nothing more where these arguments have "-device"/);
    refusal(
      argv.map((a) => (a === "max" ? "qemu64" : a)),
      /snapvm would write "max" where these arguments have "qemu64"/,
    );
    refusal(
      argv.map((a) => a.replace("size=256M", "size=320M")),
      /snapvm would write "memory-backend-ram,id=mem,size=256M"/,
    );
    refusal(
      argv.filter((a) => a !== "-no-reboot"),
      /would write "-no-reboot" where these arguments have nothing more/,
    );
    refusal(argv.slice(0, argv.indexOf("-append") + 1), /-append has no value/);
    refusal(["-m"], /-m has no value/);
    refusal(["-name", "web", ...argv.slice(2)], /-name web does not start with "snapvm-"/);
  });
});

describe("splitOptionValue", () => {
  it("splits on single commas and unescapes doubled ones", () => {
    assert.deepEqual(splitOptionValue("socket,id=c,path=/a,,b/c.sock,server=on"), ["socket", "id=c", "path=/a,b/c.sock", "server=on"]);
    assert.deepEqual(splitOptionValue(""), [""]);
  });
});
