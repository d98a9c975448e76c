import { instanceInfo, type InstanceInfo } from "../instance/lifecycle/info.ts";
import type { MigrationLeg } from "../instance/migrate/record.ts";
import { age, bytes, ms } from "./format.ts";
import { printResult } from "./output.ts";
import { parseInstanceName } from "../paths/index.ts";

function describeLeg(leg: MigrationLeg): string {
  const figures = leg.downtimeMs === undefined ? "" : `, downtime ${ms(leg.downtimeMs)}${leg.bytes === undefined ? "" : `, ${bytes(leg.bytes)} sent`}`;
  return `${leg.peer}, ${leg.startedAt} → ${leg.finishedAt}${figures}`;
}

function describe(i: InstanceInfo): string {
  const lines = [`name:     ${i.name}`, `state:    ${i.state}${i.note === undefined ? "" : ` (${i.note})`}`];
  if (i.suspended !== undefined) lines.push(`saved:    ${bytes(i.suspended.allocatedBytes)} on disk, ${age(i.suspended.ageSeconds)} ago`);
  if (i.agentPid !== undefined) lines.push(`agent:    pid ${i.agentPid}`, `qemu:     pid ${i.status?.qemuPid ?? "?"}, ${i.status?.qemuVersion ?? ""}`);
  if (i.boot !== undefined)
    lines.push(`accel:    ${i.boot.spec.accel} (${i.boot.accelReason})`, `booted:   ${i.boot.bootedAt} with QEMU ${i.boot.qemuVersion}`);
  if (i.status?.lastEvent !== undefined) lines.push(`last:     ${i.status.lastEvent}`);
  if (i.migration?.cameFrom !== undefined) lines.push(`from:     ${describeLeg(i.migration.cameFrom)}`);
  if (i.migration?.wentTo !== undefined) lines.push(`moved to: ${describeLeg(i.migration.wentTo)}`);
  if ("error" in i.config) lines.push(`config:   INVALID: ${i.config.error}`);
  else
    lines.push(
      `config:   ${i.config.cpus} cpu, ${i.config.memory.size} RAM (${i.config.memory.backing}), ${i.config.disk.size} disk, image ${i.config.image}, saveOnStop ${String(i.config.saveOnStop)}`,
    );
  // The ports the running (or saved) VM forwards, from its pinned launch: what a restore will listen on.
  const ports = i.boot?.spec.ports ?? [];
  const ssh = i.boot?.spec.guestAccess?.kind === "ssh" ? [`${i.boot.spec.guestAccess.port} → 22 (snapvm's SSH)`] : [];
  const forwards = [...ports.map((p) => `${p.hostAddress}:${p.host} → ${p.guest}${p.protocol === "udp" ? "/udp" : ""}`), ...ssh];
  if (forwards.length > 0) lines.push(`ports:    ${forwards.join(", ")}`);
  else if (i.boot === undefined && !("error" in i.config) && i.config.ports.length > 0)
    lines.push(
      `ports:    ${i.config.ports.map((p) => `${p.hostAddress}:${p.host} → ${p.guest}${p.protocol === "udp" ? "/udp" : ""}`).join(", ")} (snapvm.yaml; not booted yet)`,
    );
  lines.push(`disk:     ${i.files.disk}${i.sizes.disk === undefined ? "" : ` (${bytes(i.sizes.disk.allocatedBytes)} used)`}`);
  lines.push(
    `memory:   ${i.files.memory}${i.sizes.memory === undefined ? "" : ` (${bytes(i.sizes.memory.allocatedBytes)} of ${bytes(i.sizes.memory.apparentBytes)} allocated)`}`,
  );
  if (i.failedStates.count > 0)
    lines.push(
      `kept:     ${i.failedStates.count} failed state${i.failedStates.count === 1 ? "" : "s"}, ${bytes(i.failedStates.allocatedBytes)} (\`snapvm state list ${i.name}\`)`,
    );
  lines.push(`sockets:  agent ${i.files.sockets.agent}`, `          qmp ${i.files.sockets.qmp}`, `          console ${i.files.sockets.console}`);
  return lines.join("\n");
}

export async function infoCommand(name: string, flags: { json?: true }): Promise<void> {
  printResult(await instanceInfo(parseInstanceName(name)), flags.json === true, describe);
}
