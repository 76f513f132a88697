import { Option, type Command } from 'commander';

/** What `main` hands every command module when it registers its commands. */
export interface CommandContext {
  /**
   * Sets the status the CLI exits with when a command's exit status carries an outcome (e.g.
   * `decide`: 0 allow, 2 deny, 3 approval required). Commands that never call it exit 0.
   */
  setExit(code: number): void;
}

/** Adds one area's commands to the program. */
export type RegisterCommands = (program: Command, ctx: CommandContext) => void;

export const configOption = (): Option =>
  new Option('-c, --config <file>', 'the Gatehouse config file').default('./gatehouse.yaml');

export const urlOption = (): Option =>
  new Option(
    '--url <base>',
    'act on a remote Gatehouse (e.g. http://127.0.0.1:4100) with the person key in GATEHOUSE_ADMIN_KEY',
  );

/**
 * Defaults of `policy explain` for a request given by flags. Kept here, not in `../policy-explain.js`,
 * because `--help` shows them and must not load the policy engine to do so.
 */
export const EXPLAIN_DEFAULTS = {
  agent: 'agent',
  agentVersion: '1.0.0',
  principal: 'user:anonymous',
  /** The run id policy sees (`principal.run`, `context.run.id`). */
  run: 'explain',
} as const;
