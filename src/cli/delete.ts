import { deleteInstance } from "../instance/lifecycle/delete.ts";
import { printResult } from "./output.ts";
import { parseInstanceName } from "../paths/index.ts";

export async function deleteCommand(name: string, flags: { force?: true; json?: true }): Promise<void> {
  const result = await deleteInstance(parseInstanceName(name), { force: flags.force === true });
  printResult(result, flags.json === true, (r) => `deleted ${r.name}`);
}
