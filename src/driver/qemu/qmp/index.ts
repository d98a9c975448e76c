export { QmpClient, type QmpConnectOptions } from "./client.ts";
export type { QmpCloseInfo } from "./session.ts";
export type { WaitForEventOptions } from "./event-hub.ts";
export type { EmptyReturn, NoArgs, QmpArgs, QmpCommandMap, QmpCommandName, QmpExecuteOptions, QmpReturns } from "./command-map.ts";
export { isQmpEvent, type NoData, type QmpEvent, type QmpEventMap, type QmpEventName } from "./event-map.ts";
export type { QemuVersion, QmpEventMessage, QmpStrayReason, QmpTimestamp } from "./protocol.ts";
export type * from "./qapi-block.ts";
export type * from "./qapi-machine.ts";
export type * from "./qapi-migration.ts";
