import type { PinnedLaunch } from "../../snapshot/launch.ts";
import type { LineChannel } from "./line-channel.ts";

/**
 * The JSON-lines conversation between `snapvm migrate` (source) and `snapvm migrate-receive`
 * (destination, run over ssh), one object per line on the remote command's stdin and stdout. The
 * phases (libvirt's v3 protocol): Begin (the source reads its instance) → Prepare (offer; the
 * destination checks, takes files, starts its agent listening) → Perform (the source's agent sends) →
 * Finish (the destination runs the guest) → Confirm (the source's QEMU ends). Until `running` the
 * destination removes everything it made when anything fails or the source goes away.
 */
export const PROTOCOL_VERSION = 1;

export type FileRole = "kernel" | "initrd" | "cidata" | "disk-layer" | "ssh-key" | "ssh-public-key";

export interface OfferFile {
  role: FileRole;
  /** A plain file name, unique within its role's directory on the destination. */
  name: string;
  sha256: string;
  sizeBytes: number;
  /** Its path on the source: the destination looks for the same file at the same place under its home. */
  path: string;
  /** Disk layers: the file name of the layer below, if any. */
  backing?: string;
}

export interface Offer {
  kind: "offer";
  version: number;
  name: string;
  sourceHome: string;
  /** The source's own name for itself, for the destination's record. */
  sourceHost: string;
  qemuVersion: string;
  accel: string;
  launch: PinnedLaunch;
  /** snapvm.yaml as text and boot/config.json as parsed. */
  config: string;
  bootConfig: unknown;
  files: OfferFile[];
  /** The writable top layer, which the source mirrors live: the destination makes it empty over `backing`. */
  top: { name: string; virtualSize: number; backing?: string };
  timeoutMs: number;
  /** Switch to post-copy after the first pass; the destination keeps the RAM on tmpfs meanwhile. */
  postcopy: boolean;
}

export interface Upload {
  name: string;
  role: FileRole;
  /** Where the destination wants the bytes (`cat >` over ssh). */
  path: string;
}

/** How a post-copied guest's RAM went back from tmpfs to the instance's file (a save and a resume). */
export interface RamSettle {
  /** The guest's pause for it: the save, the copy to the instance directory and the resume. */
  pauseMs: number;
  copiedBytes: number;
}

export type SourceMessage = Offer | { kind: "files-sent" } | { kind: "abort"; reason: string } | { kind: "recover"; name: string };

export type DestinationMessage =
  | { kind: "accepted"; uploads: Upload[]; skipped: string[] }
  | { kind: "listening"; state: string; disk: string }
  | { kind: "running"; resumedAt: number; readyMs: number; answeredAt?: number; ramSettle?: RamSettle }
  | { kind: "failed"; error: { code: string; message: string; hint?: string } };

/** The destination's end of the control channel: it reads the source's messages and answers with its own. */
export type ReceiveChannel = LineChannel<SourceMessage, DestinationMessage>;
