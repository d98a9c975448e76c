import type { ErrorCode } from "./codes.ts";

/**
 * What each code means for the person or script that sees it: docs/errors.md is generated from this
 * (scripts/gen-docs.ts) and a test fails while it is stale. Every code must be here (the type says so).
 */
export const ERROR_DESCRIPTIONS: Readonly<Record<ErrorCode, string>> = {
  E_INVALID_NAME:
    "An instance name or snapshot tag is not valid (names: lowercase letters, digits and '-', starting with a letter; tags: letters, digits, '.', '_', '-'). Nothing was touched.",
  E_INVALID_CONFIG: "snapvm.yaml (or a config given with --from-file) has problems; every one is listed as file:line:col.",
  E_INVALID_ARGUMENT: "A flag, argument or request body is wrong: a bad number or size, an unknown option, a missing file.",
  E_INSTANCE_EXISTS: "An instance of that name already exists.",
  E_INSTANCE_NOT_FOUND: "No instance of that name exists in $SNAPVM_HOME.",
  E_INSTANCE_RUNNING: "The instance is running (or starting) and the command needs it stopped.",
  E_INSTANCE_NOT_RUNNING: "The command needs a running instance and this one is not.",
  E_INSTANCE_LOCKED: "Another snapvm process (an agent, or a command holding the instance lock) owns the instance right now.",
  E_INVALID_TRANSITION: "The instance's state does not allow this (for example deleting a snapshot forks depend on).",
  E_IMAGE_MISSING: "The built-in guest image is not built: run `snapvm image build`.",
  E_IMAGE_BUILD_FAILED: "Building the built-in guest image failed (downloading or unpacking a Debian package).",
  E_QEMU_MISSING: "qemu-system-x86_64 (QEMU 10) is not installed: run scripts/setup-host.sh.",
  E_QEMU_FAILED: "QEMU exited or refused a request; the message carries QEMU's own words.",
  E_QMP: "QEMU answered a control (QMP) command with an error.",
  E_QMP_TIMEOUT: "QEMU did not answer a control command, or a migration did not finish, in time.",
  E_QMP_CLOSED: "QEMU's control socket closed: QEMU has probably exited.",
  E_BOOT_TIMEOUT: "The guest did not answer within timeouts.boot after a cold boot; the message ends with the guest console's last lines.",
  E_GUEST_CHANNEL: "The channel to the guest (its agent, or SSH for cloud images) failed.",
  E_GUEST_TIMEOUT: "The guest did not answer in time.",
  E_AGENT_UNREACHABLE: "The instance's agent does not answer on its socket.",
  E_AGENT_FAILED: "The instance's agent failed or exited; see agent.log.",
  E_STATE_INVALID: "A saved state or snapshot is unusable (missing or malformed manifest, missing files).",
  E_STATE_INCOMPATIBLE: "A saved state cannot load here: another QEMU version, a KVM state on a TCG host, a newer state format.",
  E_SAVE_FAILED: "Saving a state or taking a snapshot failed; the guest was resumed and nothing half-written was kept.",
  E_RESTORE_FAILED:
    "Restoring a saved state failed because of the state itself; it was kept aside under failed-states/ (`snapvm state list NAME`) and the instance cold booted.",
  E_NOT_SUPPORTED: "The request is valid but not possible for this instance (for example forking a snapshot without memory).",
  E_EXTERNAL_TOOL: "A host tool snapvm runs (qemu-img, zstd, xorriso, ssh-keygen, …) failed.",
  E_INTERRUPTED: "Ctrl-C or SIGTERM stopped a transfer (export, live offload, import); the destination was left as it was and a running guest kept running.",
  E_DECRYPT_FAILED: "An age-encrypted stream is malformed, tampered with or truncated (details.stage: header, mac or payload).",
  E_WRONG_KEY: "No given identity or passphrase opens an age-encrypted stream.",
  E_REMOTE_NOT_FOUND: "The bucket or object an s3:// URL names does not exist.",
  E_REMOTE_DENIED: "The object store refused the credentials (unknown key, wrong secret, no permission, none found).",
  E_REMOTE_UNREACHABLE: "The object store's endpoint could not be reached (refused, unresolvable, timed out).",
  E_REMOTE_FAILED: "The object store answered with another error.",
  E_UI_UNAUTHORIZED:
    "The dashboard refused a request: it needs the token of the URL `snapvm ui` printed (state-changing requests in the x-snapvm-token header), and websockets must come from the dashboard's own origin.",
  E_INTERNAL: "A bug in snapvm, not a user error (exit status 70); the message and, on stderr, the stack say where. Please report it.",
  E_INPUT_TOO_LARGE:
    "Input past a size bound: a compressed stream that decompresses to more than it may (a bomb), or an API request body over its cap. Nothing was kept.",
  E_BUNDLE_INVALID:
    "The input is not a snapvm bundle, or it is truncated, tampered with or fails a digest (details.reason says which). An import keeps nothing of it.",
  E_BUNDLE_VERSION: "The bundle's format version is newer than this snapvm reads: update snapvm on this host, or export with the older one.",
  E_PORT_IN_USE:
    "A host port the instance forwards is taken: another process listens on it (details.holder names it when snapvm can tell), or another instance's config forwards it (details.claimedBy; refused by create, config set). A start refused for it started nothing and left a saved state where it was: free the port and start again.",
  E_LAUNCH_FILE_MISSING:
    "A file the instance's QEMU launch names (its disk, a kernel or initrd, the cloud-init ISO) is missing. Nothing was started and a saved state was left where it was.",
  E_NO_SPACE: "The filesystem lacks the space the operation needs (checked before writing, or ENOSPC on the way); nothing half-written was kept.",
  E_MIGRATION_REFUSED:
    "The destination of `snapvm migrate` cannot take the instance: another QEMU version or accelerator, the name taken, a forwarded port taken. Checked before anything moved; the instance runs on here.",
  E_MIGRATION_FAILED:
    "A host-to-host migration failed. Before the switch-over the source keeps running and nothing is left on the destination; details.guest says where the guest runs.",
};
