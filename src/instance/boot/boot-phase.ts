import { open, stat } from "node:fs/promises";

/**
 * Where a cold boot is, read from the guest's serial console: nothing printed yet (firmware), the
 * kernel's messages, cloud-init's, then the services snapvm waits for. Phases only move forward.
 */
export type BootPhase = "firmware" | "kernel" | "cloud-init" | "services";

const ORDER: readonly BootPhase[] = ["firmware", "kernel", "cloud-init", "services"];

/** How a phase reads in progress output ("waiting for the guest: …"). */
export const BOOT_PHASE_LABELS: Record<BootPhase, string> = {
  firmware: "firmware",
  kernel: "kernel",
  "cloud-init": "cloud-init",
  services: "SSH / guest agent starting",
};

/** Markers as Debian's cloud images print them (systemd's status lines, escapes removed). */
const MARKERS: readonly [BootPhase, RegExp][] = [
  ["services", /Started (?:ssh|sshd|qemu-guest-agent)\.service/],
  ["cloud-init", /cloud-init/i],
  ["kernel", /Linux version \d|^\[\s*\d+\.\d+\] /m],
];

/** The latest phase the console text shows. */
export function bootPhaseOf(consoleText: string): BootPhase {
  return MARKERS.find(([, marker]) => marker.test(consoleText))?.[0] ?? "firmware";
}

/** How far along the boot is, never going back (the console's tail may no longer show an earlier marker). */
export function laterPhase(a: BootPhase, b: BootPhase): BootPhase {
  return ORDER.indexOf(b) > ORDER.indexOf(a) ? b : a;
}

/** At most this much of the log's end is read per look: the latest marker is near the end. */
const READ_MAX_BYTES = 64 * 1024;

/** What the log holds past `from` (its last READ_MAX_BYTES), escapes removed; "" when it is missing. */
async function readSince(path: string, from: number): Promise<string> {
  const handle = await open(path, "r").catch(() => undefined);
  if (handle === undefined) return "";
  try {
    const { size } = await handle.stat();
    const start = Math.max(from, size - READ_MAX_BYTES);
    if (size <= start) return "";
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    // eslint-disable-next-line no-control-regex -- the console log carries terminal escapes
    return buffer.toString("utf8").replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
  } finally {
    await handle.close();
  }
}

/**
 * Reports each new phase of the boot that starts now, reading what the console log gains (QEMU
 * appends to it across boots, so what it held before is skipped) every `intervalMs`, until the
 * returned stop function is called. Reading fails soft: a missing log is the firmware phase.
 */
export function watchBootPhase(consoleLog: string, onPhase: (phase: BootPhase) => void, intervalMs = 1000): () => void {
  let phase: BootPhase = "firmware";
  let stopped = false;
  let reading = false;
  onPhase(phase);
  const from = stat(consoleLog).then(
    (s) => s.size,
    () => 0,
  );
  const timer = setInterval(() => {
    if (reading) return;
    reading = true;
    from
      .then((offset) => readSince(consoleLog, offset))
      .then((text) => {
        const next = laterPhase(phase, bootPhaseOf(text));
        if (next !== phase && !stopped) {
          phase = next;
          onPhase(phase);
        }
      })
      .catch(() => undefined)
      .finally(() => {
        reading = false;
      });
  }, intervalMs);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
