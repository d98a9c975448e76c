/**
 * What the dashboard's JSON API returns: plain types, no imports, so the browser code (web/) can import
 * them too. Routes are under /api; errors are `{ error: { code, message, hint?, details? } }`.
 */
export interface UiPort {
  host: number;
  guest: number;
  protocol: string;
}

export interface UiInstanceRow {
  name: string;
  state: string;
  accel?: string;
  memory?: string;
  cpus?: number;
  ports: UiPort[];
  /** The saved (suspended) state, if any. */
  saved?: { allocatedBytes: number; ageSeconds: number };
  /** Seconds since the VM last started or resumed, while it runs. */
  uptimeSeconds?: number;
  /** The snapshot this instance was forked from. */
  origin?: { instance: string; tag: string };
  note?: string;
}

export interface UiSnapshotNode {
  tag: string;
  parent: string | null;
  createdAt: string;
  kind: string;
  live: boolean;
  hasMemory: boolean;
  pauseMs: number;
  allocatedBytes: number;
  apparentBytes: number;
  compressed: boolean;
  /** Instances forked from this snapshot. */
  forks: string[];
}

export interface UiSnapshotTree {
  instance: string;
  state: string;
  origin?: { instance: string; tag: string };
  snapshots: UiSnapshotNode[];
  broken: { tag: string; reason: string }[];
  /** The snapshot the running disk sits on: the parent of the "now" node and of the next snapshot. */
  nowParent: string | null;
}

/** What POST /api/instances/NAME/snapshots/TAG/fork answers (the fork command's --json, in part). */
export interface UiForkResult {
  from: { instance: string; tag: string };
  forks: { name: string; failed?: { code: string; message: string } }[];
}

export interface UiErrorBody {
  error: { code: string; message: string; hint?: string; details?: Record<string, unknown> };
}

/** One chart of the performance view: medians over a bench run's repetitions, in milliseconds. */
export interface UiBenchChart {
  title: string;
  /** The bench result file the figures come from (bench/results/). */
  source: string;
  startedAt: string;
  bars: { label: string; ms: number; runs: number }[];
}
