import Table from "cli-table3";
import { listInstances } from "../instance/lifecycle/list.ts";
import { age, bytes } from "./format.ts";
import { printResult } from "./output.ts";

export async function listCommand(flags: { json?: true }): Promise<void> {
  const instances = await listInstances();
  printResult(instances, flags.json === true, (list) => {
    if (list.length === 0) return "no instances (create one with `snapvm create NAME`)";
    const table = new Table({ head: ["NAME", "STATE", "ACCEL", "PID", "SAVED STATE", "NOTE"], style: { head: [], border: [] } });
    for (const i of list) {
      table.push([
        i.name,
        i.state,
        i.status?.accel ?? "",
        i.agentPid === undefined ? "" : String(i.status?.qemuPid ?? ""),
        i.suspended === undefined ? "" : `${bytes(i.suspended.allocatedBytes)}, ${age(i.suspended.ageSeconds)} ago`,
        i.reason ?? i.note ?? "",
      ]);
    }
    return table.toString();
  });
}
