/**
 * Claude Code hook events as they arrive on stdin (JSON), validated before anything is decided.
 * Every field is attacker-influenced: tool inputs and responses carry what the model wrote and
 * what tools returned. Objects are not strict: Claude Code adds fields over releases, and a new
 * field must not make the hook fail.
 */
import { z } from 'zod';

/** The most a hook event may weigh on stdin; larger input is refused (and the call blocked). */
export const MAX_EVENT_BYTES = 8 * 1024 * 1024;

const id = z.string().min(1).max(256);
const path = z.string().max(4096).optional();

/** Fields every event carries. */
const common = {
  /** Claude Code's session: the run it belongs to (standalone) and where the hook keeps state. */
  session_id: id,
  transcript_path: path,
  cwd: path,
  permission_mode: z.string().max(64).optional(),
  /** Present when the event comes from inside a subagent: it gets its own identity. */
  agent_id: id.optional(),
  /** The subagent's type (`general-purpose`, `code-reviewer`): its agent name. */
  agent_type: z.string().min(1).max(256).optional(),
};

/** The tool call: its name (`Bash`, `mcp__server__tool`), input, and id linking Pre and Post. */
const toolCall = {
  tool_name: z.string().min(1).max(256),
  tool_input: z.record(z.string(), z.unknown()),
  tool_use_id: id,
};

export const preToolUse = z.looseObject({
  ...common,
  hook_event_name: z.literal('PreToolUse'),
  ...toolCall,
});

export const postToolUse = z.looseObject({
  ...common,
  hook_event_name: z.literal('PostToolUse'),
  ...toolCall,
  /** What the tool returned (a string, or an object whose shape depends on the tool). */
  tool_response: z.unknown(),
});

export const postToolUseFailure = z.looseObject({
  ...common,
  hook_event_name: z.literal('PostToolUseFailure'),
  ...toolCall,
  /** The failure as the model sees it (may carry the tool's output). */
  error: z.string().max(MAX_EVENT_BYTES).optional(),
  is_interrupt: z.boolean().optional(),
});

export const userPromptSubmit = z.looseObject({
  ...common,
  hook_event_name: z.literal('UserPromptSubmit'),
  /** What the human typed: a trusted input of the run. */
  prompt: z.string(),
});

/** Events the hook may be wired to but has nothing to decide for. */
export const IGNORED_EVENTS = [
  'SessionStart',
  'SessionEnd',
  'Stop',
  'SubagentStart',
  'SubagentStop',
  'Notification',
  'PreCompact',
] as const;

const ignored = z.looseObject({
  ...common,
  hook_event_name: z.enum(IGNORED_EVENTS),
});

export const hookEvent = z.discriminatedUnion('hook_event_name', [
  preToolUse,
  postToolUse,
  postToolUseFailure,
  userPromptSubmit,
  ignored,
]);

export type HookEvent = z.infer<typeof hookEvent>;
export type PreToolUseEvent = z.infer<typeof preToolUse>;
export type PostToolUseEvent = z.infer<typeof postToolUse>;
export type PostToolUseFailureEvent = z.infer<typeof postToolUseFailure>;
export type UserPromptSubmitEvent = z.infer<typeof userPromptSubmit>;
