import { ErrorCode } from "../errors/index.ts";

/** The one place an error code becomes an HTTP status. */
export function httpStatusFor(code: ErrorCode): 400 | 401 | 403 | 404 | 409 | 413 | 422 | 500 | 502 | 504 {
  switch (code) {
    case ErrorCode.InvalidArgument:
    case ErrorCode.InvalidConfig:
    case ErrorCode.InvalidName:
    case ErrorCode.DecryptFailed:
    case ErrorCode.WrongKey:
    case ErrorCode.BundleInvalid:
      return 400;
    case ErrorCode.UiUnauthorized:
      return 401;
    case ErrorCode.RemoteDenied:
      return 403;
    case ErrorCode.InstanceNotFound:
    case ErrorCode.RemoteNotFound:
      return 404;
    case ErrorCode.InstanceExists:
    case ErrorCode.InstanceRunning:
    case ErrorCode.InstanceNotRunning:
    case ErrorCode.InstanceLocked:
    case ErrorCode.InvalidTransition:
    case ErrorCode.PortInUse:
      return 409;
    case ErrorCode.InputTooLarge:
      return 413;
    case ErrorCode.NotSupported:
    case ErrorCode.BundleVersion:
      return 422;
    case ErrorCode.GuestTimeout:
    case ErrorCode.QmpTimeout:
    case ErrorCode.BootTimeout:
      return 504;
    case ErrorCode.GuestChannel:
    case ErrorCode.QmpError:
    case ErrorCode.QmpClosed:
    case ErrorCode.QemuFailed:
    case ErrorCode.RemoteUnreachable:
    case ErrorCode.RemoteFailed:
      return 502;
    default:
      return 500;
  }
}
