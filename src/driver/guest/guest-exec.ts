export type ClockPrecision = "exact" | "seconds";

/** "snapvm-agent": the built-in guest's virtio-serial agent; "qemu-guest-agent": a cloud image's; "ssh". */
export type GuestRoute = "snapvm-agent" | "qemu-guest-agent" | "ssh";

/** What a command in the guest gave back. */
export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

export interface WaitReadyOptions {
  /**
   * The guest was restored from a state saved after it had been ready: what a first boot makes
   * (cloud-init's SSH user) exists already and need not be waited for.
   */
  resumed?: boolean;
}

export interface ExecOptions {
  /** Written to the command's standard input, which is then closed; empty by default. */
  stdin?: Buffer;
  timeoutMs?: number;
}

/**
 * Running commands in a guest, whatever carries them (the built-in guest's virtio-serial agent, or
 * SSH for cloud images). Commands are shell text (`sh -c` in the guest). A non-zero exit of the
 * command is a result, not an error; failing to reach the guest rejects with E_GUEST_CHANNEL, and
 * not answering in time with E_GUEST_TIMEOUT.
 */
export interface GuestExec {
  /** Resolves once the guest runs commands; rejects after `timeoutMs`. */
  waitReady(timeoutMs: number, options?: WaitReadyOptions): Promise<void>;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /**
   * Sets the guest's clock (UTC) to the host's, as root; rejects when the guest could not. "exact": to
   * the host's nanoseconds as the request left (qemu-guest-agent's guest-set-time); "seconds": to the
   * nearest whole second through a command.
   */
  syncClock(options?: { timeoutMs?: number }): Promise<ClockPrecision>;
  /** What carries commands now; a cloud guest's route is known once waitReady resolved. */
  route(): GuestRoute;
  /**
   * Asks the guest's own agent to power the guest off; resolves false when this route has no way
   * to (the caller then uses ACPI). Resolves once the request is sent, not once the guest is off.
   */
  requestShutdown(timeoutMs: number): Promise<boolean>;
  /** Releases what the connection holds; commands still running are abandoned. Idempotent. */
  close(): void;
}
