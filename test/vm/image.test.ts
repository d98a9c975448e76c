import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireTinyImage, type TinyImageInfo } from "../../src/image/index.ts";
import { SHARED_IMAGES } from "./harness.ts";

/**
 * The tiny image on its own, below the CLI: boots it with plain QEMU (TCG) and speaks the guest
 * agent protocol on the virtio-serial socket, as src/driver/guest does.
 */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function connectRetry(path: string, timeoutMs = 10_000): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const socket = connect(path);
        socket.once("connect", () => {
          resolve(socket);
        });
        socket.once("error", reject);
      });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(10);
    }
  }
}

/** One connection to the agent: replies are matched to requests by id. */
class Agent {
  private buffer = "";
  private readonly waiting = new Map<string, (line: string) => void>();
  private next = 1;
  constructor(readonly socket: Socket) {
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      this.buffer += chunk;
      for (let end = this.buffer.indexOf("\n"); end >= 0; end = this.buffer.indexOf("\n")) {
        const line = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 1);
        const id = line.split(" ")[1] ?? "";
        this.waiting.get(id)?.(line);
        this.waiting.delete(id);
      }
    });
  }
  request(line: (id: string) => string, timeoutMs = 60_000): Promise<string> {
    const id = String(this.next++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no reply to ${line(id).trim()}`));
      }, timeoutMs);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.socket.write(line(id));
    });
  }
  /** Pings every 100 ms until one is answered (a ping sent before the agent opened its port may be lost). */
  async ping(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.request((id) => `PING ${id}\n`, 100);
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
  }
  async exec(command: string, stdin = ""): Promise<{ code: number; stdout: string; stderr: string; fields: string[] }> {
    const field = (text: string): string => (text === "" ? "-" : Buffer.from(text).toString("base64"));
    const fields = (await this.request((id) => `EXEC ${id} ${field(command)} ${field(stdin)}\n`)).split(" ");
    const text = (value: string | undefined): string => (value === "-" ? "" : Buffer.from(value ?? "", "base64").toString());
    return { code: Number(fields[2]), stdout: text(fields[3]), stderr: text(fields[4]), fields };
  }
}

describe("the tiny guest image", () => {
  let image: TinyImageInfo;
  let dir: string;
  let qemu: ChildProcess;
  let exited: Promise<number | null>;
  let agent: Agent;

  before(() => {
    image = requireTinyImage(join(SHARED_IMAGES, ".."));
    dir = mkdtempSync(join(tmpdir(), "snapvm-image-test-"));
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", join(dir, "disk.qcow2"), "64M"]);
    qemu = spawn(
      "qemu-system-x86_64",
      [
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-accel",
        "tcg",
        "-cpu",
        "max",
        "-smp",
        "1",
        "-machine",
        "q35,memory-backend=mem",
        "-m",
        "256M",
        "-object",
        `memory-backend-file,id=mem,size=256M,mem-path=${join(dir, "mem.ram")},share=on`,
        "-kernel",
        image.vmlinux.path,
        "-initrd",
        image.initrd.path,
        "-append",
        "console=ttyS0 panic=-1 quiet",
        "-no-reboot",
        "-serial",
        `file:${join(dir, "console.log")}`,
        "-device",
        "virtio-serial-pci,id=vser0",
        "-chardev",
        `socket,id=ag,path=${join(dir, "ag.sock")},server=on,wait=off`,
        "-device",
        "virtserialport,bus=vser0.0,chardev=ag,name=org.snapvm.agent",
        "-drive",
        `if=none,id=d0,file=${join(dir, "disk.qcow2")},format=qcow2`,
        "-device",
        "virtio-blk-pci,drive=d0",
        "-netdev",
        "user,id=n0",
        "-device",
        "virtio-net-pci,netdev=n0",
        "-device",
        "vmgenid",
        "-qmp",
        `unix:${join(dir, "qmp.sock")},server=on,wait=off`,
      ],
      { stdio: "ignore" },
    );
    exited = new Promise((resolve) => qemu.once("exit", resolve));
  });

  after(() => {
    agent.socket.destroy();
    qemu.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  test("boots to an agent answering PONG with protocol 2, and says ready on the console", async () => {
    agent = new Agent(await connectRetry(join(dir, "ag.sock")));
    assert.match(await agent.ping(60_000), /^PONG \d+ 2$/);
    assert.ok(readFileSync(join(dir, "console.log"), "utf8").split(/\r?\n/).includes("snapvm-guest: ready"));
  });

  test("EXEC runs sh -c in /root with stdin, exit codes and - for empty output", async () => {
    const uname = await agent.exec("uname -r");
    assert.deepEqual([uname.code, uname.stdout, uname.stderr], [0, `${image.kernel.release}\n`, ""]);
    const piped = await agent.exec("tr a-z A-Z; echo oops >&2; pwd; echo $HOME", "hello\n");
    assert.deepEqual([piped.code, piped.stdout, piped.stderr], [0, "HELLO\n/root\n/root\n", "oops\n"]);
    const empty = await agent.exec("true");
    assert.deepEqual(empty.fields.slice(2), ["0", "-", "-"]);
    assert.deepEqual([(await agent.exec("echo x; exit 7")).code, (await agent.exec("cat")).stdout], [7, ""]);
    assert.match(await agent.request((id) => `FROB ${id}\n`), /^ERROR \d+ unknown-verb$/);
  });

  test("EXEC keeps a command's quotes, newlines and stdin exact, and refuses a request with a field missing", async () => {
    const script = 'printf \'%s|\' "a  b" \'c"d\'\nread -r line; echo "[$line]"';
    assert.equal((await agent.exec(script, "x y\n")).stdout, 'a  b|c"d|[x y]\n');
    assert.match(await agent.request((id) => `EXEC ${id} ${Buffer.from("true").toString("base64")}\n`), /^ERROR \d+ bad-request$/);
  });

  test("TIME sets the clock with one request, and refuses a time that is not seconds", async () => {
    assert.match(await agent.request((id) => `TIME ${id} 2000000000\n`), /^RESULT \d+ 0 - -$/);
    assert.equal((await agent.exec("date -u +%s")).stdout.trim().slice(0, 8), "20000000");
    assert.match(await agent.request((id) => `TIME ${id} soon\n`), /^ERROR \d+ bad-request$/);
    const now = Math.round(Date.now() / 1000);
    assert.match(await agent.request((id) => `TIME ${id} ${now}\n`), /^RESULT \d+ 0 - -$/);
  });

  test("a command runs in its own session: kill 0 ends it, not the agent; daemons do not hold the reply", async () => {
    assert.equal((await agent.exec("kill 0; echo not reached")).code, 143);
    const started = Date.now();
    assert.equal((await agent.exec("sleep 600 & echo started")).stdout, "started\n");
    assert.ok(Date.now() - started < 5000);
  });

  test("modules, data disk, network and acpid are up", async () => {
    const { stdout } = await agent.exec(
      "lsmod | wc -l; grep -c ' /mnt/data ext4 ' /proc/mounts; pidof acpid >/dev/null && echo acpid; ls /dev/input | grep -c event",
    );
    assert.deepEqual(stdout.trim().split("\n"), [String(image.modules.length + 1), "1", "acpid", "2"]);
    assert.doesNotMatch(readFileSync(join(dir, "console.log"), "utf8"), /insmod .* failed|cannot mount/);
  });

  test("the agent answers again right after the host reconnects", async () => {
    agent.socket.destroy();
    await sleep(500);
    agent = new Agent(await connectRetry(join(dir, "ag.sock")));
    const started = Date.now();
    assert.match(await agent.request((id) => `PING ${id}\n`, 5000), /^PONG \d+ 2$/);
    assert.ok(Date.now() - started < 1000);
  });

  test("ACPI power-down powers the guest off", async () => {
    const qmp = await connectRetry(join(dir, "qmp.sock"));
    qmp.write('{"execute":"qmp_capabilities"}\n{"execute":"system_powerdown"}\n');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise((resolve) => {
        timer = setTimeout(() => {
          resolve("timeout");
        }, 30_000);
      }),
    ]);
    clearTimeout(timer);
    qmp.destroy();
    assert.equal(code, 0);
  });
});
