import { CLOUD_GUEST_MEMORY, type CloudGuestRecord, type CloudRoute } from "../methods/cloud-guest.ts";
import { summarize, type Summary } from "../stats.ts";
import { formatMs } from "./format.ts";

const ROUTE_LABELS: Record<CloudRoute, string> = {
  "qemu-guest-agent": "snapvm, qemu-guest-agent channel",
  ssh: "same guest, SSH route forced (SNAPVM_FORCE_SSH=1; baseline)",
};

function cell(summary: Summary | undefined, format: (v: number) => string): string {
  if (summary === undefined) return "–";
  if (summary.n === 1 || summary.min === summary.max) return format(summary.median);
  return `${format(summary.median)} (${format(summary.min)}–${format(summary.max)})`;
}

const signedMs = (v: number): string => `${v >= 0 ? "+" : "−"}${formatMs(Math.abs(v))}`;

/** The cloud guest's table: per route, medians (min–max) of its runs; "" when it did not run. */
export function renderCloudGuest(records: readonly CloudGuestRecord[] | undefined, gapMs: number | undefined): string {
  if (records === undefined || records.length === 0) return "";
  const rows: string[] = [];
  for (const route of Object.keys(ROUTE_LABELS) as CloudRoute[]) {
    const own = records.filter((r) => r.route === route);
    if (own.length === 0) continue;
    const of = (pick: (r: CloudGuestRecord) => number | undefined): Summary | undefined => summarize(own.filter((r) => r.error === undefined).map(pick));
    const failed = own.filter((r) => r.error !== undefined);
    const warning = failed.length > 0 ? ` ⚠ ${failed.length} failed: ${failed[0]?.error ?? ""}` : "";
    const cells = [
      `${ROUTE_LABELS[route]}${warning}`,
      cell(
        of((r) => r.coldExecMs),
        formatMs,
      ),
      cell(
        of((r) => r.startMs),
        formatMs,
      ),
      cell(
        of((r) => r.firstExecMs),
        formatMs,
      ),
      cell(
        of((r) => r.clockOffsetMs),
        signedMs,
      ),
    ];
    rows.push(`| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`);
  }
  const runs = Math.max(...records.map((r) => r.run));
  const gap = gapMs === undefined ? "" : `, ${(gapMs / 1000).toFixed(0)} s between stop and start`;
  return [
    `**Cloud guest** (Debian cloud image, cloud-init, sshd, qemu-guest-agent; ${CLOUD_GUEST_MEMORY}) — median of ${runs} (min–max)${gap}`,
    "",
    "| Route | Cold boot → exec | Restore → start returns | Restore → first exec | Guest clock − host at the first exec |",
    "|---|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}
