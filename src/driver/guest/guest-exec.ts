/** What a command in the guest gave back. */
export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
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
  waitReady(timeoutMs: number): Promise<void>;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Sets the guest's clock (UTC) as root; rejects when the guest could not. */
  setClock(epochSeconds: number, options?: { timeoutMs?: number }): Promise<void>;
  /** Releases what the connection holds; commands still running are abandoned. Idempotent. */
  close(): void;
}
