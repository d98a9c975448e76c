import { createInstance } from "../instance/lifecycle/create.ts";
import { printResult } from "./output.ts";
import { parseInstanceName } from "../paths/index.ts";

export interface CreateFlags {
  cpus?: number;
  memory?: string;
  disk?: string;
  image?: string;
  port: string[];
  fromFile?: string;
  json?: true;
}

export async function createCommand(name: string, flags: CreateFlags): Promise<void> {
  const result = await createInstance(parseInstanceName(name), {
    ...(flags.fromFile === undefined ? {} : { fromFile: flags.fromFile }),
    ...(flags.cpus === undefined ? {} : { cpus: flags.cpus }),
    ...(flags.memory === undefined ? {} : { memory: flags.memory }),
    ...(flags.disk === undefined ? {} : { disk: flags.disk }),
    ...(flags.image === undefined ? {} : { image: flags.image }),
    ports: flags.port,
  });
  printResult(result, flags.json === true, (r) => `created ${r.name} in ${r.dir}`);
}
