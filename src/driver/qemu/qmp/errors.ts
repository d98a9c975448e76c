import { ErrorCode, SnapvmError } from "../../../errors/index.ts";

/** Every QMP failure a caller sees is one of these; messages name the command or event, details carry the socket. */

const hungHint = "QEMU may be hung or busy; check its log.";
const exitedHint = "QEMU has probably exited; check its log.";

export function commandTimeoutError(socketPath: string, command: string, timeoutMs: number): SnapvmError {
  return new SnapvmError(ErrorCode.QmpTimeout, `QMP command ${command} timed out after ${timeoutMs} ms`, {
    hint: hungHint,
    details: { socketPath, command, timeoutMs },
  });
}

export function commandFailedError(socketPath: string, command: string, errorClass: string, desc: string): SnapvmError {
  return new SnapvmError(ErrorCode.QmpError, `QMP command ${command} failed: ${desc}`, {
    details: { socketPath, command, class: errorClass, desc },
  });
}

export function commandClosedError(socketPath: string, command: string, cause: Error | undefined): SnapvmError {
  return new SnapvmError(ErrorCode.QmpClosed, `QMP connection closed before command ${command} returned`, {
    hint: exitedHint,
    cause,
    details: { socketPath, command },
  });
}

export function eventTimeoutError(socketPath: string, event: string, timeoutMs: number): SnapvmError {
  return new SnapvmError(ErrorCode.QmpTimeout, `QMP event ${event} did not arrive within ${timeoutMs} ms`, {
    hint: hungHint,
    details: { socketPath, event, timeoutMs },
  });
}

export function eventClosedError(socketPath: string, event: string, cause: Error | undefined): SnapvmError {
  return new SnapvmError(ErrorCode.QmpClosed, `QMP connection closed while waiting for event ${event}`, {
    hint: exitedHint,
    cause,
    details: { socketPath, event },
  });
}

export function connectFailedError(socketPath: string, cause: NodeJS.ErrnoException): SnapvmError {
  return new SnapvmError(ErrorCode.QmpClosed, `cannot connect to QMP socket ${socketPath} (${cause.code ?? cause.message})`, {
    hint: "Is QEMU running with -qmp on this socket?",
    cause,
    details: { socketPath },
  });
}

export function connectTimeoutError(socketPath: string, timeoutMs: number, cause: NodeJS.ErrnoException | undefined): SnapvmError {
  const last = cause === undefined ? "" : ` (last error: ${cause.code ?? cause.message})`;
  return new SnapvmError(ErrorCode.QmpTimeout, `QMP socket ${socketPath} did not accept a connection within ${timeoutMs} ms${last}`, {
    hint: "QEMU may have failed to start; check its log.",
    cause,
    details: { socketPath, timeoutMs },
  });
}

export function handshakeTimeoutError(socketPath: string, timeoutMs: number): SnapvmError {
  return new SnapvmError(ErrorCode.QmpTimeout, `QMP handshake on socket ${socketPath} did not finish within ${timeoutMs} ms`, {
    hint: hungHint,
    details: { socketPath, timeoutMs },
  });
}

export function greetingClosedError(socketPath: string, cause: Error | undefined): SnapvmError {
  return new SnapvmError(ErrorCode.QmpClosed, `QMP socket ${socketPath} closed before sending a greeting`, {
    hint: exitedHint,
    cause,
    details: { socketPath },
  });
}

export function badGreetingError(socketPath: string, line: string): SnapvmError {
  return new SnapvmError(ErrorCode.QmpError, `QMP socket ${socketPath} did not start with a QMP greeting`, {
    hint: "Is this socket a QEMU QMP monitor (-qmp), not HMP or a serial port?",
    details: { socketPath, line: line.slice(0, 200) },
  });
}
