import type { Driver } from "./driver.ts";
import { qemuDriver } from "./qemu/qemu-driver.ts";

/** The driver instance/ and agent/ use. Only driver/qemu/ knows it is QEMU. */
export const driver: Driver = qemuDriver;

export type * from "./driver.ts";
