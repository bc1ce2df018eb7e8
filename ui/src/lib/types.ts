// The types that cross IPC are generated from the Rust ones (bindings.ts, checked in CI); this module
// re-exports them under the names the UI uses, and adds the few that exist only here.
import type { ChatMessage, DownloadProgress, Value } from './bindings';

export type * from './bindings';

export type ChatTurn = ChatMessage;
export type DownloadEvent = DownloadProgress;
export type Settings = { [key: string]: Value };

