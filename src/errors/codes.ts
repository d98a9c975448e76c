/**
 * Stable error codes users and scripts may match on. A code is never reassigned or reused;
 * retired codes stay listed with a comment.
 */
export const ErrorCode = {
  InvalidName: "E_INVALID_NAME",
  InvalidConfig: "E_INVALID_CONFIG",
  InvalidArgument: "E_INVALID_ARGUMENT",
  InstanceExists: "E_INSTANCE_EXISTS",
  InstanceNotFound: "E_INSTANCE_NOT_FOUND",
  InstanceRunning: "E_INSTANCE_RUNNING",
  InstanceNotRunning: "E_INSTANCE_NOT_RUNNING",
  InstanceLocked: "E_INSTANCE_LOCKED",
  InvalidTransition: "E_INVALID_TRANSITION",
  ImageMissing: "E_IMAGE_MISSING",
  ImageBuildFailed: "E_IMAGE_BUILD_FAILED",
  QemuMissing: "E_QEMU_MISSING",
  QemuFailed: "E_QEMU_FAILED",
  QmpError: "E_QMP",
  QmpTimeout: "E_QMP_TIMEOUT",
  QmpClosed: "E_QMP_CLOSED",
  BootTimeout: "E_BOOT_TIMEOUT",
  GuestChannel: "E_GUEST_CHANNEL",
  GuestTimeout: "E_GUEST_TIMEOUT",
  AgentUnreachable: "E_AGENT_UNREACHABLE",
  AgentFailed: "E_AGENT_FAILED",
  StateInvalid: "E_STATE_INVALID",
  StateIncompatible: "E_STATE_INCOMPATIBLE",
  SaveFailed: "E_SAVE_FAILED",
  RestoreFailed: "E_RESTORE_FAILED",
  NotSupported: "E_NOT_SUPPORTED",
  ExternalTool: "E_EXTERNAL_TOOL",
  /** Ctrl-C or SIGTERM stopped a transfer (export, live offload, import): its destination was left as it was. */
  Interrupted: "E_INTERRUPTED",
  /** An age-encrypted stream is malformed, tampered with or truncated (details.stage: header, mac, payload). */
  DecryptFailed: "E_DECRYPT_FAILED",
  /** No given identity or passphrase unwraps any recipient stanza of an age header. */
  WrongKey: "E_WRONG_KEY",
  /** The bucket or object an s3:// URL names does not exist. */
  RemoteNotFound: "E_REMOTE_NOT_FOUND",
  /** The object store refused the credentials (unknown key, wrong secret, no permission, none found). */
  RemoteDenied: "E_REMOTE_DENIED",
  /** The object store's endpoint could not be reached (refused, unresolvable, timed out, reset). */
  RemoteUnreachable: "E_REMOTE_UNREACHABLE",
  /** The object store answered with any other error. */
  RemoteFailed: "E_REMOTE_FAILED",
  /** Input past a size bound: a decompressed stream, an API request body. */
  InputTooLarge: "E_INPUT_TOO_LARGE",
  /** Not a snapvm bundle, or one that is truncated, tampered with or fails a digest (details.reason). */
  BundleInvalid: "E_BUNDLE_INVALID",
  /** A bundle whose format version this snapvm cannot read (a newer major or minor). */
  BundleVersion: "E_BUNDLE_VERSION",
  /** The filesystem lacks the space an operation needs (checked up front, or ENOSPC on the way). */
  NoSpace: "E_NO_SPACE",
  /**
   * A host port the instance forwards is taken: another process listens on it (named in details.holder
   * when snapvm can tell), or another instance's config forwards it (details.claimedBy). Nothing was
   * started and a saved state was left where it was.
   */
  PortInUse: "E_PORT_IN_USE",
  /** A file the instance's QEMU launch names (its disk, a kernel or initrd, the cloud-init ISO) is missing. */
  LaunchFileMissing: "E_LAUNCH_FILE_MISSING",
  /** The dashboard (`snapvm ui`) refused a request: no or wrong token, a state change without the token header, a websocket from another origin. */
  UiUnauthorized: "E_UI_UNAUTHORIZED",
  /** The destination of a migration cannot take the instance (QEMU version, accelerator, name or ports): nothing moved. */
  MigrationRefused: "E_MIGRATION_REFUSED",
  /** A host-to-host migration failed; details.guest says where the guest runs now. */
  MigrationFailed: "E_MIGRATION_FAILED",
  /** A bug in snapvm (not a user error): exit status 70; --json output still carries this code. */
  Internal: "E_INTERNAL",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
