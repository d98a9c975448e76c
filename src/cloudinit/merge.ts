/**
 * How a user's cloud-config (config `cloudInit.userData`) is merged into the one snapvm generates.
 * The rules, in the order they apply:
 *  1. A key only one side has is kept as it is.
 *  2. `users`: snapvm's user comes first. A user entry (a mapping) with the same `name` is merged
 *     into it: its fields win, except `ssh_authorized_keys`, which are added to snapvm's key (so
 *     `snapvm exec` keeps working). Every other entry, including the string "default", follows in order.
 *  3. Both sides have a list: the user's items are appended to snapvm's.
 *  4. Both sides have a mapping: merged key by key with these same rules.
 *  5. Anything else: the user's value wins (e.g. `ssh_pwauth: true`).
 */
export type CloudConfig = Record<string, unknown>;

export function isMapping(value: unknown): value is CloudConfig {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function mergeValue(ours: unknown, theirs: unknown): unknown {
  if (Array.isArray(ours) && Array.isArray(theirs)) return [...(ours as unknown[]), ...(theirs as unknown[])];
  if (isMapping(ours) && isMapping(theirs)) return mergeCloudConfig(ours, theirs);
  return theirs;
}

function mergeUsers(ours: unknown, theirs: unknown): unknown {
  if (!Array.isArray(ours) || !Array.isArray(theirs)) return mergeValue(ours, theirs);
  const merged = (ours as unknown[]).map((entry) => (isMapping(entry) ? { ...entry } : entry));
  for (const entry of theirs as unknown[]) {
    const same = isMapping(entry) ? merged.find((mine): mine is CloudConfig => isMapping(mine) && mine["name"] === entry["name"]) : undefined;
    if (same === undefined || !isMapping(entry)) {
      merged.push(entry);
      continue;
    }
    const keys = [...asList(same["ssh_authorized_keys"]), ...asList(entry["ssh_authorized_keys"])];
    Object.assign(same, entry, { ssh_authorized_keys: keys });
  }
  return merged;
}

function asList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? (value as unknown[]) : [value];
}

/** Merges `theirs` into `ours` by the rules above; neither argument is modified. */
export function mergeCloudConfig(ours: CloudConfig, theirs: CloudConfig): CloudConfig {
  const merged: CloudConfig = { ...ours };
  for (const [key, value] of Object.entries(theirs)) {
    merged[key] = !(key in ours) ? value : key === "users" ? mergeUsers(ours[key], value) : mergeValue(ours[key], value);
  }
  return merged;
}
