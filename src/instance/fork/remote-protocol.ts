import type { DestinationMessage, SourceMessage } from "../migrate/protocol.ts";

/**
 * The JSON-lines conversation of a remote lazy fork: `snapvm fork ssh://A/NAME@TAG NEW --lazy` on host B
 * runs `snapvm fork-serve NAME@TAG` on A over ssh. A says what the snapshot needs (`snapshot`), B checks it
 * and says `go` (fork-serve's `--sockets ID` names the two sockets B's ssh made on A with `-R`,
 * paths/scratch.ts forkServeSockets);
 * A starts a temporary fork and plays the source of a post-copy migration (the messages of
 * migrate/protocol.ts); B plays the destination with migrate-receive's code in its own process, pulls the
 * files itself and points its ends of those sockets at the receiver's. Any `failed` from A carries its
 * error; A removes its temporary fork and the sockets in every case.
 */
export type ServeMessage =
  SourceMessage | { kind: "snapshot"; qemuVersion: string; accel: string } | { kind: "failed"; error: { code: string; message: string; hint?: string } };

export type ClientMessage = DestinationMessage | { kind: "go"; name: string };
