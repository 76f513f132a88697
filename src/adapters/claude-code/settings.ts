/**
 * The hook configuration `gatehouse init claude-code` merges into `.claude/settings.json`: every
 * tool call (PreToolUse, PostToolUse, PostToolUseFailure) and every prompt (UserPromptSubmit) goes
 * through `gatehouse hook claude-code`. Everything else in the file is kept as it is.
 */
import { GatehouseError } from '../../errors/index.js';

export type HookSettingsErrorCode = 'SETTINGS_INVALID';

/** The events the hook is installed for, and whether they take a tool matcher. */
export const HOOKED_EVENTS: readonly { readonly event: string; readonly matcher: boolean }[] = [
  { event: 'PreToolUse', matcher: true },
  { event: 'PostToolUse', matcher: true },
  { event: 'PostToolUseFailure', matcher: true },
  { event: 'UserPromptSubmit', matcher: false },
];

/** How an installed Gatehouse hook is recognised again (so that init is idempotent). */
export const HOOK_MARKER = ' hook claude-code';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function invalid(where: string, why: string): GatehouseError<HookSettingsErrorCode> {
  return new GatehouseError<HookSettingsErrorCode>('SETTINGS_INVALID', `${where}: ${why}`);
}

/** Whether a hook entry is one Gatehouse installed. */
function isOurs(hook: unknown): boolean {
  return isObject(hook) && typeof hook.command === 'string' && hook.command.includes(HOOK_MARKER);
}

/**
 * Merges the Gatehouse hook into settings text (undefined: no file yet). Other keys, other hooks
 * and other matchers are kept; a Gatehouse hook already there is replaced in place, so running it
 * twice changes nothing. Refuses text that is not a JSON object, and a `hooks` it cannot read.
 * @example mergeHookSettings('{"model":"opus"}', 'node gatehouse.js hook claude-code', 30, '.claude/settings.json')
 */
export function mergeHookSettings(
  text: string | undefined,
  command: string,
  timeoutSeconds: number,
  where: string,
): { text: string; changed: boolean } {
  let settings: unknown = {};
  if (text !== undefined && text.trim().length > 0) {
    try {
      settings = JSON.parse(text);
    } catch (err) {
      throw invalid(
        where,
        `is not valid JSON (${(err as Error).message}); fix or move it, then run this again`,
      );
    }
  }
  if (!isObject(settings)) throw invalid(where, 'is not a JSON object');
  const hooks = settings.hooks ?? {};
  if (!isObject(hooks)) throw invalid(where, '"hooks" is not an object');
  const ours = { type: 'command', command, timeout: timeoutSeconds };
  const merged: Json = { ...hooks };
  for (const { event, matcher } of HOOKED_EVENTS) {
    const groups = merged[event] ?? [];
    if (!Array.isArray(groups)) throw invalid(where, `"hooks.${event}" is not a list`);
    // Ours is taken out wherever it is, then added as its own group at the end: running init
    // again gives the same file, and a group of the user's keeps its other hooks.
    const next: unknown[] = [];
    groups.forEach((g: unknown, i) => {
      if (!isObject(g)) throw invalid(where, `"hooks.${event}[${i}]" is not an object`);
      const list = g.hooks ?? [];
      if (!Array.isArray(list)) throw invalid(where, `"hooks.${event}[${i}].hooks" is not a list`);
      if (!list.some(isOurs)) return void next.push(g);
      const kept = list.filter((h) => !isOurs(h));
      if (kept.length > 0) next.push({ ...g, hooks: kept });
    });
    // Our hook must see every tool: its group matches everything.
    next.push({ ...(matcher ? { matcher: '*' } : {}), hooks: [ours] });
    merged[event] = next;
  }
  const out = `${JSON.stringify({ ...settings, hooks: merged }, null, 2)}\n`;
  return { text: out, changed: out !== text };
}
