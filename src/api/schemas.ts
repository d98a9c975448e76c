import { z } from "zod";
import { InstanceStates } from "../store/instance-state.ts";
import type { InstanceStatus } from "../store/status.ts";

/**
 * Wire types of the agent's /v1 API, shared by the agent (which validates requests) and the CLI
 * (which imports only the inferred types, so a CLI call never pays for loading zod).
 */
export const ExecRequest = z.object({
  /** Passed to `sh -c` in the guest. */
  command: z.string().min(1),
  stdinBase64: z.string().optional(),
  timeoutMs: z.number().int().positive().max(86_400_000).optional(),
});
export type ExecRequest = z.infer<typeof ExecRequest>;

export const ExecResponse = z.object({
  exitCode: z.number().int(),
  stdoutBase64: z.string(),
  stderrBase64: z.string(),
});
export type ExecResponse = z.infer<typeof ExecResponse>;

/** `auto` follows saveOnStop; `save` suspends; `shutdown` powers off; `force` kills QEMU. */
export const StopMode = z.enum(["auto", "save", "shutdown", "force"]);
export type StopMode = z.infer<typeof StopMode>;

export const StopRequest = z.object({ mode: StopMode.default("auto") });
export type StopRequest = z.infer<typeof StopRequest>;

export const SaveFigures = z.object({
  /** From pausing the guest to the state being durable (fsync included). */
  pauseMs: z.number(),
  totalMs: z.number(),
  stateBytes: z.number().int(),
});
export type SaveFigures = z.infer<typeof SaveFigures>;

export const StopResponse = z.object({
  action: z.enum(["saved", "shutdown", "killed"]),
  save: SaveFigures.optional(),
  totalMs: z.number(),
});
export type StopResponse = z.infer<typeof StopResponse>;

export const ConfigPatch = z.object({ saveOnStop: z.boolean().optional() }).strict();
export type ConfigPatch = z.infer<typeof ConfigPatch>;

export const RuntimeConfig = z.object({ saveOnStop: z.boolean() });
export type RuntimeConfig = z.infer<typeof RuntimeConfig>;

export const ApiErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    hint: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

export const SnapshotRequest = z.object({ tag: z.string().min(1).max(63) }).strict();
export type SnapshotRequest = z.infer<typeof SnapshotRequest>;

export const SnapshotResponse = z.object({
  tag: z.string(),
  pauseMs: z.number(),
  totalMs: z.number(),
  memoryCopy: z.enum(["reflink", "sparse-copy", "precopy", "none"]),
  allocatedBytes: z.number().int(),
});
export type SnapshotResponse = z.infer<typeof SnapshotResponse>;

/** A live offload: the agent streams the guest's state to a socket the caller listens on (snapshot create --to). */
export const StreamSnapshotRequest = z
  .object({
    tag: z.string().min(1).max(63),
    socket: z.string().min(1).max(107),
    diskLayer: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
  })
  .strict();
export type StreamSnapshotRequest = z.infer<typeof StreamSnapshotRequest>;

export const StreamSnapshotResponse = z.object({
  tag: z.string(),
  diskLayer: z.string(),
  pauseMs: z.number(),
  totalMs: z.number(),
});
export type StreamSnapshotResponse = z.infer<typeof StreamSnapshotResponse>;

/**
 * The source half of a host-to-host migration (snapvm migrate): the agent mirrors the disk and sends the
 * state through two unix sockets the caller forwards to the destination. The guest stays paused after it
 * until POST /v1/migrate/finish says whether the destination took over.
 */
export const MigrateRequest = z
  .object({
    stateSocket: z.string().min(1).max(107),
    diskSocket: z.string().min(1).max(107),
    /** Bytes per second. */
    bandwidth: z.number().int().positive().optional(),
    /** Switch to post-copy after the first pass; the destination must listen with it. */
    postcopy: z.boolean().optional(),
    /** With postcopy: switch at once, before any RAM is sent (a remote lazy fork: the destination pulls every page). */
    postcopyAtOnce: z.boolean().optional(),
    timeoutMs: z.number().int().positive().max(86_400_000),
  })
  .strict();
export type MigrateRequest = z.infer<typeof MigrateRequest>;

export const MigrateResponse = z.object({
  /** Epoch ms at which the guest stopped for the switch-over. */
  stoppedAt: z.number(),
  bytes: z.number().int(),
  diskBytes: z.number().int(),
  postcopy: z.boolean(),
  vmmDowntimeMs: z.number(),
  totalMs: z.number(),
});
export type MigrateResponse = z.infer<typeof MigrateResponse>;

/** A post-copy broken after its switch-over goes on through a new forwarded socket (snapvm migrate --resume). */
export const MigrateResumeRequest = z.object({ stateSocket: z.string().min(1).max(107), timeoutMs: z.number().int().positive().max(86_400_000) }).strict();
export type MigrateResumeRequest = z.infer<typeof MigrateResumeRequest>;

export const MigrateResumeResponse = z.object({ bytes: z.number().int(), totalMs: z.number() });
export type MigrateResumeResponse = z.infer<typeof MigrateResumeResponse>;

/** `moved`: the destination runs the guest, this QEMU ends and the instance is a stopped record; `resume`: the guest runs on here. */
export const MigrateFinishRequest = z.object({ outcome: z.enum(["moved", "resume"]), to: z.string().min(1).max(400) }).strict();
export type MigrateFinishRequest = z.infer<typeof MigrateFinishRequest>;

export const MigrateFinishResponse = z.object({ state: z.enum(InstanceStates) });
export type MigrateFinishResponse = z.infer<typeof MigrateFinishResponse>;

/** A pre-copy under way, as GET /v1/status shows it while the instance is migrating. */
export const MigrationProgressSchema = z.object({
  transferredBytes: z.number(),
  remainingBytes: z.number(),
  bytesPerSecond: z.number(),
  dirtyBytesPerSecond: z.number(),
  expectedDowntimeMs: z.number(),
});

/** status.json as the agent records it (store/status.ts); the schema and the type must agree. */
export const InstanceStatusSchema = z.object({
  state: z.enum(InstanceStates),
  updatedAt: z.string(),
  agentPid: z.number().int().exactOptional(),
  qemuPid: z.number().int().exactOptional(),
  accel: z.string().exactOptional(),
  accelReason: z.string().exactOptional(),
  qemuVersion: z.string().exactOptional(),
  startedAt: z.string().exactOptional(),
  bootKind: z.enum(["cold", "restore"]).exactOptional(),
  readyMs: z.number().exactOptional(),
  lastEvent: z.string().exactOptional(),
});

/** GET /v1/status: the instance's status plus the runtime settings the agent holds. */
export const AgentStatus = InstanceStatusSchema.extend({ saveOnStop: z.boolean(), migration: MigrationProgressSchema.exactOptional() });
export type AgentStatus = z.infer<typeof AgentStatus>;

// Compile-time check that the wire schema and the persisted type describe the same object.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type InstanceStatusSchemaAgrees = Assert<Same<z.infer<typeof InstanceStatusSchema>, InstanceStatus>>;
