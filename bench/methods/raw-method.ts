import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { LaunchSpec } from "../../src/config/launch-spec.ts";
import { diskUse, memoryOf } from "../host.ts";
import type { GuestKind, QemuGuest, RunningGuest } from "../guest/running.ts";
import { restoreRaw, saveRaw, type Migration } from "../qemu/raw.ts";
import type { MethodEnv, MethodId, RestoreFigures, SaveFigures, SuspendMethod } from "./types.ts";

/** What distinguishes one raw QEMU method from another: where the state goes and how it travels. */
export interface RawRecipe {
  id: MethodId;
  input: Extract<GuestKind, "qemu-file" | "qemu-anonymous">;
  /** The state file, inside the method's own directory. */
  stateFile: string;
  save: (state: string, env: MethodEnv) => Migration;
  restore: (state: string, env: MethodEnv) => Migration;
  /** The guest's RAM file is part of the state (file-backed RAM with x-ignore-shared). */
  ramIsState?: boolean;
}

/** A method driven over QMP by the benchmark itself, with no snapvm code on the path but the QMP client. */
export function rawMethod(recipe: RawRecipe, env: MethodEnv): SuspendMethod {
  const dir = join(env.home.statesDir, recipe.id);
  const state = join(dir, recipe.stateFile);
  let guest: QemuGuest | undefined;
  let spec: LaunchSpec | undefined;

  const stateFiles = (): string[] => (spec !== undefined && recipe.ramIsState === true ? [state, spec.memoryPath] : [state]);

  return {
    kind: "suspend",
    id: recipe.id,
    input: recipe.input,
    current: (): RunningGuest | undefined => guest,
    async prepare(running) {
      if (running.kind !== "qemu") throw new Error(`${recipe.id} needs a raw QEMU guest`);
      guest = running;
      spec = running.vm.spec;
      await mkdir(dir, { recursive: true });
    },
    async save(): Promise<SaveFigures> {
      if (guest === undefined) throw new Error(`${recipe.id}: nothing to save`);
      const saving = guest;
      guest = undefined;
      const ram = recipe.ramIsState === true ? [saving.vm.spec.memoryPath] : [];
      const figures = await saveRaw(saving, recipe.save(state, env), { syncBefore: ram, syncAfter: [state, ...ram], syncDirs: [dir] });
      const use = await diskUse(stateFiles());
      return {
        pauseMs: figures.pauseMs,
        totalMs: figures.totalMs,
        stateApparentBytes: use.apparentBytes,
        stateAllocatedBytes: use.allocatedBytes,
        extra: figures.steps,
      };
    },
    async restore(): Promise<RestoreFigures> {
      if (spec === undefined) throw new Error(`${recipe.id}: nothing to restore`);
      const restored = await restoreRaw(env.home, spec, recipe.restore(state, env));
      guest = restored.guest;
      const memory = memoryOf(restored.guest.vm.pid);
      return { answerMs: restored.answerMs, qemuRssKiB: memory.rssKiB, qemuPssKiB: memory.pssKiB, extra: restored.steps };
    },
    async cleanup() {
      await rm(state, { force: true });
    },
  };
}
