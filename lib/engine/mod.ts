// The engine's public API (see README.md).

export * from "./packet.ts";
export * from "./transform.ts";
export { applyPlan, CompiledPlan, compilePlan, replayList } from "./plan.ts";
export * from "./predicate.ts";
export * from "./rule.ts";
export * from "./layer.ts";
export * from "./tcp.ts";
export * from "./port.ts";
export { FlowState } from "./flows.ts";
export * from "./slow_path.ts";
export * from "./outcome.ts";
export type { DryRun, Traced } from "./probe.ts";
export * from "./stats.ts";
export * from "./reason.ts";
export { FlowTable } from "./flow_table.ts";
export { LftPair, pairLastHit, UftEntry } from "./uft.ts";
export { RuleIndex } from "./rule_index.ts";
