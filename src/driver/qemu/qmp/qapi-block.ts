/** QAPI types for block devices (QEMU 10 qapi/block-core.json, block.json), limited to what snapvm uses. */

export interface ImageInfo {
  filename: string;
  format: string;
  "virtual-size": number;
  "actual-size"?: number;
  "backing-filename"?: string;
  "full-backing-filename"?: string;
  "backing-image"?: ImageInfo;
}

export interface BlockDeviceInfo {
  file: string;
  "node-name"?: string;
  ro: boolean;
  drv: string;
  backing_file?: string;
  backing_file_depth: number;
  active: boolean;
  image: ImageInfo;
}

export interface BlockInfo {
  device: string;
  qdev?: string;
  type: string;
  removable: boolean;
  locked: boolean;
  inserted?: BlockDeviceInfo;
}

/** Takes an external snapshot: `snapshot-file` becomes the new active overlay over the current image. */
export interface BlockdevSnapshotSyncArgs {
  /** Either `device` or `node-name` names the image to snapshot. */
  device?: string;
  "node-name"?: string;
  "snapshot-file": string;
  "snapshot-node-name"?: string;
  /** Default "qcow2". */
  format?: string;
  /** "absolute-paths" (default) creates the file; "existing" uses one made by qemu-img. */
  mode?: "existing" | "absolute-paths";
}

export type BlockJobType = "commit" | "stream" | "mirror" | "backup" | "create" | "amend" | "snapshot-load" | "snapshot-save" | "snapshot-delete";

export interface BlockJobEventInfo {
  type: BlockJobType;
  device: string;
  len: number;
  offset: number;
  speed: number;
}

/** query-block-jobs: one running block job. */
export interface BlockJobInfo {
  type: BlockJobType;
  device: string;
  len: number;
  offset: number;
  ready: boolean;
  status: string;
  error?: string;
}
