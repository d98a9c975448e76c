import { z } from "zod";

/** Bodies the dashboard's API accepts; names and tags are parsed again (branded) by the operations. */
export const CreateBody = z
  .object({
    name: z.string().min(1).max(63),
    memory: z.string().min(1).max(16).optional(),
    cpus: z.number().int().min(1).max(64).optional(),
    image: z.string().min(1).max(255).optional(),
  })
  .strict();
export type CreateBody = z.infer<typeof CreateBody>;

export const SnapshotBody = z.object({ tag: z.string().min(1).max(63) }).strict();
export type SnapshotBody = z.infer<typeof SnapshotBody>;

export const ForkBody = z.object({ name: z.string().min(1).max(60), count: z.number().int().min(1).max(16).default(1) }).strict();
export type ForkBody = z.infer<typeof ForkBody>;

export const InstanceAction = z.enum(["start", "stop", "save", "restart"]);
export type InstanceAction = z.infer<typeof InstanceAction>;

export const SnapshotAction = z.enum(["restore", "compress"]);
export type SnapshotAction = z.infer<typeof SnapshotAction>;
