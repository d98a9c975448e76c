import type { DestinationMessage, SourceMessage } from "../migrate/protocol.ts";

/**
 * The JSON-lines conversation of a remote lazy fork: `snapvm fork ssh://A/NAME@TAG NEW --lazy` on host B
 * runs `snapvm fork-serve NAME@TAG` on A over ssh. A says what the snapshot needs (`snapshot`), B checks it
 * and says `go`; A starts a temporary fork and plays the source of a post-copy migration (the messages of
 * migrate/protocol.ts, with `sockets`: where on A B's reverse SSH forwards must appear); B plays the
 * destination with migrate-receive's code in its own process, pulls the files itself and forwards the
 * sockets. Any `failed` from A carries its error; A removes its temporary fork in every case.
 */
export type ServeMessage =
  | SourceMessage
  | { kind: "snapshot"; qemuVersion: string; accel: string }
  | { kind: "sockets"; state: string; disk: string }
  | { kind: "failed"; error: { code: string; message: string; hint?: string } };

export type ClientMessage = DestinationMessage | { kind: "go"; name: string };
