import { AgentClient } from "../api/client.ts";
import { instancePaths } from "../paths/index.ts";

export function agentClient(name: string, home?: string): AgentClient {
  return new AgentClient(instancePaths(name, home).agentSocket, name);
}
