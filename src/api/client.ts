import { request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCode, SnapvmError, type ErrorCode as Code } from "../errors/index.ts";
import { ApiPaths } from "./paths.ts";
import type {
  AgentStatus,
  ApiErrorBody,
  ConfigPatch,
  ExecRequest,
  ExecResponse,
  RuntimeConfig,
  SaveFigures,
  SnapshotRequest,
  SnapshotResponse,
  MigrateFinishRequest,
  MigrateFinishResponse,
  MigrateRequest,
  MigrateResponse,
  MigrateResumeRequest,
  MigrateResumeResponse,
  StreamSnapshotRequest,
  StreamSnapshotResponse,
  StopRequest,
  StopResponse,
} from "./schemas.ts";

const API_START_WAIT_MS = 5000;

/** Typed client for one agent's /v1 API over its unix socket. */
export class AgentClient {
  constructor(
    private readonly socketPath: string,
    private readonly instance: string,
  ) {}

  status(): Promise<AgentStatus> {
    return this.call("GET", ApiPaths.status);
  }
  exec(body: ExecRequest): Promise<ExecResponse> {
    return this.call("POST", ApiPaths.exec, body);
  }
  stop(body: StopRequest): Promise<StopResponse> {
    return this.call("POST", ApiPaths.stop, body);
  }
  save(): Promise<SaveFigures> {
    return this.call("POST", ApiPaths.save, {});
  }
  snapshot(body: SnapshotRequest): Promise<SnapshotResponse> {
    return this.call("POST", ApiPaths.snapshots, body);
  }
  streamSnapshot(body: StreamSnapshotRequest): Promise<StreamSnapshotResponse> {
    return this.call("POST", ApiPaths.snapshotStream, body);
  }
  migrate(body: MigrateRequest): Promise<MigrateResponse> {
    return this.call("POST", ApiPaths.migrate, body);
  }
  resumeMigration(body: MigrateResumeRequest): Promise<MigrateResumeResponse> {
    return this.call("POST", ApiPaths.migrateResume, body);
  }
  finishMigration(body: MigrateFinishRequest): Promise<MigrateFinishResponse> {
    return this.call("POST", ApiPaths.migrateFinish, body);
  }
  patchConfig(body: ConfigPatch): Promise<RuntimeConfig> {
    return this.call("PATCH", ApiPaths.config, body);
  }

  /**
   * The agent reports ready before its API listens (that keeps ~0.15 s of API start-up off every
   * resume), so a refused or missing socket is retried for a while; nothing was sent, so a retry is safe.
   * Callers only call an agent whose process is alive.
   */
  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const deadline = Date.now() + API_START_WAIT_MS;
    for (;;) {
      try {
        return await this.callOnce<T>(method, path, body);
      } catch (error) {
        const code = (error as { cause?: NodeJS.ErrnoException }).cause?.code;
        if (Date.now() > deadline || (code !== "ENOENT" && code !== "ECONNREFUSED")) throw error;
        await sleep(10);
      }
    }
  }

  private callOnce<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        // agent: false: one connection per call, closed after it, so an exiting agent never waits on an idle keep-alive.
        { socketPath: this.socketPath, path, method, agent: false, headers: payload === undefined ? {} : { "content-type": "application/json" } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch (cause) {
              reject(new SnapvmError(ErrorCode.AgentFailed, `instance "${this.instance}": the agent sent a malformed reply to ${method} ${path}`, { cause }));
              return;
            }
            if ((res.statusCode ?? 500) >= 400) reject(toError(parsed, this.instance));
            else resolve(parsed as T);
          });
        },
      );
      req.on("error", (cause: NodeJS.ErrnoException) => {
        reject(
          new SnapvmError(ErrorCode.AgentUnreachable, `instance "${this.instance}": cannot reach its agent (${cause.code ?? cause.message})`, {
            hint: `Check \`snapvm info ${this.instance}\` and the agent log.`,
            cause,
          }),
        );
      });
      req.end(payload);
    });
  }
}

function toError(body: unknown, instance: string): SnapvmError {
  const error = (body as Partial<ApiErrorBody>).error;
  if (error === undefined) return new SnapvmError(ErrorCode.AgentFailed, `instance "${instance}": the agent failed without saying why`);
  return new SnapvmError(error.code as Code, error.message, {
    ...(error.hint === undefined ? {} : { hint: error.hint }),
    details: error.details ?? {},
  });
}
