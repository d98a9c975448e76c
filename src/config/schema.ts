import { z } from "zod";
import { defaultConfigFile, PORT_DEFAULTS } from "./defaults.ts";
import { describeValue } from "./messages.ts";
import { findDuplicateHostPorts, PORT_MAX, PORT_MIN } from "./ports.ts";
import { checkSize, formatSize, MiB, SIZE_PATTERN, TiB } from "./sizes.ts";
import { ACCELS, BUILTIN_IMAGE, COMPRESSIONS, MEMORY_BACKINGS, PROTOCOLS } from "./types.ts";

/**
 * The zod schema of snapvm.yaml (the persisted shape, ConfigFile; a test asserts the inferred type
 * equals it). Every object is strict so typos are reported. Checks that need more than one field
 * (duplicate ports) live here too, so every problem comes back from one parse with its path.
 * No transforms: the same schema generates the JSON Schema for editors.
 */

const defaults = defaultConfigFile();

export const MEMORY_MIN_BYTES = 64 * MiB;
export const MEMORY_MAX_BYTES = TiB;
export const DISK_MIN_BYTES = 16 * MiB;
/** A sanity cap against typos ("2000T"), well inside what qcow2 supports. */
export const DISK_MAX_BYTES = 64 * TiB;
export const CPUS_MAX = 64;
/** Seconds. Larger values are almost always milliseconds typed as seconds. */
export const TIMEOUT_MAX_SECONDS = 3600;

interface SizeBounds {
  min: number;
  max: number;
  /** Sizes are whole MiB: QEMU rounds RAM to pages and disks to sectors; MiB keeps both exact. */
  multipleOf: number;
}

function sizeField(bounds: SizeBounds, description: string, fallback: string) {
  return z
    .string({ error: (issue) => `expected a size such as "512M", got ${describeValue(issue.input)}` })
    .superRefine((text, ctx) => {
      const parsed = checkSize(text);
      const got = `(got ${JSON.stringify(text)})`;
      if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.reason });
      else if (parsed.bytes < bounds.min) ctx.addIssue({ code: "custom", message: `must be at least ${formatSize(bounds.min)} ${got}` });
      else if (parsed.bytes > bounds.max) ctx.addIssue({ code: "custom", message: `must be at most ${formatSize(bounds.max)} ${got}` });
      else if (parsed.bytes % bounds.multipleOf !== 0) {
        ctx.addIssue({ code: "custom", message: `must be a multiple of ${formatSize(bounds.multipleOf)} ${got}` });
      }
    })
    .meta({ description, default: fallback, pattern: SIZE_PATTERN.source });
}

/** "tiny", or a path ending in .qcow2 that does not start with "~" (no shell here to expand it). */
const IMAGE_PATTERN = new RegExp(`^(?:${BUILTIN_IMAGE}|[^~].*\\.qcow2)$`);

const imageField = z
  .string()
  .superRefine((text, ctx) => {
    if (IMAGE_PATTERN.test(text)) return;
    const message = text.startsWith("~")
      ? `"~" is not expanded; give an absolute path or one relative to this file's directory`
      : `must be "${BUILTIN_IMAGE}" or the path of a .qcow2 image (got ${describeValue(text)})`;
    ctx.addIssue({ code: "custom", message });
  })
  .meta({
    description: `"${BUILTIN_IMAGE}" (the built-in guest) or the path of a .qcow2 cloud image, absolute or relative to this file's directory`,
    default: defaults.image,
    pattern: IMAGE_PATTERN.source,
  });

/** A path of a file snapvm reads: not empty, no "~" (no shell here to expand it). */
function bootPath(description: string) {
  return z
    .string()
    .superRefine((text, ctx) => {
      if (text === "") ctx.addIssue({ code: "custom", message: "must not be empty" });
      else if (text.startsWith("~"))
        ctx.addIssue({ code: "custom", message: `"~" is not expanded; give an absolute path or one relative to this file's directory` });
    })
    .meta({ description });
}

const bootField = z
  .strictObject({
    kernel: bootPath("The kernel (bzImage or vmlinux with a PVH note), absolute or relative to this file's directory"),
    initrd: bootPath("The initramfs, absolute or relative to this file's directory"),
    cmdline: z
      .string()
      .min(1, { error: 'must not be empty; give at least root=, e.g. "root=/dev/vda rw console=ttyS0"' })
      .meta({ description: 'The kernel command line, e.g. "root=/dev/vda rw console=ttyS0"' }),
  })
  .meta({
    description:
      "Direct kernel boot of a qcow2 image holding a root filesystem (no bootloader), as Firecracker and Cloud Hypervisor boot; absent: the image's own bootloader",
  });

const portNumber = z.int().min(PORT_MIN).max(PORT_MAX);

const portSchema = z.strictObject({
  host: portNumber.meta({ description: "Port on the host" }),
  guest: portNumber.meta({ description: "Port in the guest" }),
  protocol: z.enum(PROTOCOLS).exactOptional().meta({ description: "tcp or udp", default: PORT_DEFAULTS.protocol }),
  hostAddress: z.ipv4().exactOptional().meta({ description: "IPv4 address on the host to listen on; 0.0.0.0 for all", default: PORT_DEFAULTS.hostAddress }),
});

/** The fields that identify a forward on the host; enough to find duplicates among otherwise broken entries. */
const portKeySchema = z.object({ host: portNumber, protocol: z.enum(PROTOCOLS).exactOptional() });

const portsField = z
  .array(portSchema)
  .superRefine(
    (ports, ctx) => {
      // Runs even when some entries are invalid (see `when`), so those entries may be anything.
      const keys = ports.map((entry: unknown) => {
        const key = portKeySchema.safeParse(entry);
        return key.success ? key.data : undefined;
      });
      for (const dup of findDuplicateHostPorts(keys)) {
        ctx.addIssue({
          code: "custom",
          path: [dup.index, "host"],
          message: `host port ${dup.host}/${dup.protocol} is already forwarded by ports[${dup.firstIndex}]`,
        });
      }
    },
    // Report duplicates together with other problems in the list, not only once those are fixed.
    { when: (payload) => Array.isArray(payload.value) },
  )
  .meta({ description: "Ports forwarded from the host to the guest; host ports are unique per protocol", default: defaults.ports });

function seconds(description: string, fallback: number) {
  return z.number().positive().max(TIMEOUT_MAX_SECONDS).exactOptional().meta({ description, default: fallback });
}

export const configFileSchema = z
  .strictObject({
    cpus: z.int().min(1).max(CPUS_MAX).exactOptional().meta({ description: "Number of virtual CPUs", default: defaults.cpus }),
    memory: z
      .strictObject({
        size: sizeField({ min: MEMORY_MIN_BYTES, max: MEMORY_MAX_BYTES, multipleOf: MiB }, "Guest RAM, e.g. 512M or 2G", defaults.memory.size).exactOptional(),
        backing: z.enum(MEMORY_BACKINGS).exactOptional().meta({
          description: "file: RAM is a sparse file (suspend/resume and forks in milliseconds); anonymous: plain RAM (saves copy it)",
          default: defaults.memory.backing,
        }),
      })
      .exactOptional()
      .meta({ description: "Guest memory" }),
    disk: z
      .strictObject({
        size: sizeField(
          { min: DISK_MIN_BYTES, max: DISK_MAX_BYTES, multipleOf: MiB },
          "Virtual size of the root disk (qcow2, grows as used)",
          defaults.disk.size,
        ).exactOptional(),
      })
      .exactOptional()
      .meta({ description: "Root disk" }),
    image: imageField.exactOptional(),
    boot: bootField.exactOptional(),
    accel: z.enum(ACCELS).exactOptional().meta({ description: "auto: KVM where it works, else TCG; kvm or tcg to force one", default: defaults.accel }),
    saveOnStop: z.boolean().exactOptional().meta({
      description: "Save memory on stop (and on SIGTERM to the agent) so the next start resumes; false shuts the guest down",
      default: defaults.saveOnStop,
    }),
    ports: portsField.exactOptional(),
    snapshot: z
      .strictObject({
        compression: z.enum(COMPRESSIONS).exactOptional().meta({ description: "Compression of snapshot memory files", default: defaults.snapshot.compression }),
        level: z.int().min(1).max(19).exactOptional().meta({ description: "zstd level, 1 (fast) to 19 (small)", default: defaults.snapshot.level }),
      })
      .exactOptional()
      .meta({ description: "Snapshots" }),
    timeouts: z
      .strictObject({
        boot: seconds("Seconds to wait for a cold boot to answer", defaults.timeouts.boot),
        shutdown: seconds("Seconds to wait for a clean shutdown before QEMU is killed", defaults.timeouts.shutdown),
        restore: seconds("Seconds to wait for a restored guest to answer before falling back to a cold boot", defaults.timeouts.restore),
      })
      .exactOptional()
      .meta({ description: "Timeouts in seconds" }),
    ssh: z
      .strictObject({
        user: z
          .string()
          .regex(/^[a-z_][a-z0-9_-]{0,31}$/, {
            error: (issue) =>
              `must be a Unix user name: up to 32 lowercase letters, digits, '_' or '-', starting with a letter or '_' (got ${describeValue(issue.input)})`,
          })
          .exactOptional()
          .meta({ description: "User to log in as (cloud images)", default: defaults.ssh.user }),
      })
      .exactOptional()
      .meta({ description: "SSH access (cloud images)" }),
    cloudInit: z
      .strictObject({
        userData: z.string().exactOptional().meta({ description: "Extra #cloud-config merged into the generated user-data (cloud images)" }),
      })
      .exactOptional()
      .meta({ description: "cloud-init (cloud images)" }),
  })
  .superRefine((file, ctx) => {
    if (file.boot !== undefined && (file.image ?? defaults.image) === BUILTIN_IMAGE) {
      ctx.addIssue({ code: "custom", path: ["boot"], message: `applies to a qcow2 image; the built-in guest ("${BUILTIN_IMAGE}") boots its own kernel` });
    }
  })
  .meta({ title: "snapvm instance config (snapvm.yaml)" });
