// The API's overrides of the config: what admin's Control records and the service persists.

import type { Change, Kind } from "../config/resources.ts";

/** API overrides: per kind and key, a value (set) or null (removed although configured). */
export type Overrides = Map<string, Change>;

/** Key of an override entry. */
export const overrideKey = (kind: Kind, key: string): string => `${kind}\u0000${key}`;

/** Where overrides are made durable; resolves once the snapshot is on disk. */
export interface OverrideStore {
  save(o: Overrides): Promise<void>;
}
