/** Instance names are parsed in paths/ (the paths they become are built there); re-exported for config users. */
export { parseInstanceName, isValidInstanceName, INSTANCE_NAME_MAX, type InstanceName } from "../paths/names.ts";
