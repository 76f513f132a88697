/** The Claude Code hook: events in, decisions and records out (`gatehouse hook claude-code`). */
export {
  handleHookEvent,
  subagentName,
  type HookAnswer,
  type HookBackend,
  type HookOptions,
  type SessionCredential,
} from './handler.js';
export { hookEvent, IGNORED_EVENTS, MAX_EVENT_BYTES, type HookEvent } from './events.js';
export { HookState, SessionState, type CallRecord, type HeldCredential } from './state.js';
export { HOOKED_EVENTS, HOOK_MARKER, mergeHookSettings } from './settings.js';
