/**
 * The Cedar schema Gatehouse ships. Policies are validated against it (strict mode) together with
 * the tool actions that `gatehouse policy schema` generates into the policy folder.
 *
 * Each tool is its own action, a member of the group `call_tool`: one rule can cover every call
 * (`action in Action::"call_tool"`), and a rule for one tool (`action == Action::"payments__refund"`)
 * gets `context.args` typed from that tool's input schema, so a typo is a load error.
 */
export const CALL_TOOL = 'call_tool';

/** The deciding "policy" of a call refused by the credential's scope, before Cedar is asked. */
export const CREDENTIAL_SCOPE = 'gatehouse.credential-scope';

/** The deciding "policy" of a call refused because its arguments fail the tool's input schema. */
export const INPUT_SCHEMA = 'gatehouse.input-schema';

/** The deciding "policy" of a call refused because the tool's definition is not approved (pins). */
export const TOOL_PIN = 'gatehouse.tool-pin';

/** Context attributes every call carries; tool actions add `args`. */
export const CONTEXT_COMMON = 'time: Time, run: Run';

export const BASE_SCHEMA = `// Gatehouse base schema (shipped with Gatehouse; do not edit).

// A person. The human principal of every agent run is one.
entity User;

// An agent, identified by its credential. Every ancestor in its delegation chain is a parent,
// so \`principal in Agent::"<orchestrator id>"\` holds for a whole delegation tree.
entity Agent in [Agent] = {
  name: String,
  version: String,
  // 0 for a root orchestrator, 1 for its subagents, ...
  depth: Long,
  // The run id, shared by the whole delegation tree.
  run: String,
  // The human the run acts for.
  principal: User,
};

// Tools are grouped by server and by label (\`Label::"blast_radius:high"\`).
entity Server;
entity Label;

// A tool, named as agents see it (\`<server>__<tool>\`); its labels from the config are also tags.
entity Tool in [Server, Label] = {
  // The upstream's own tool name.
  name: String,
  server: String,
  // The name agents see, \`<server>__<tool>\`.
  exposed_name: String,
} tags String;

// When the call is decided.
type Time = {
  now: datetime,
  // 0-23, UTC.
  hour_utc: Long,
  // 0 = Sunday ... 6 = Saturday, UTC.
  weekday_utc: Long,
};

// What the run has read so far, through Gatehouse.
type Run = {
  id: String,
  // The lowest trust level of any content seen in the run: "trusted", "internal" or "untrusted".
  lowest_trust: String,
  // The sources (server, tool, domain) that brought content of that lowest trust.
  sources: Set<String>,
};

// Every tool call. Each tool's own action is a member of this group.
action "${CALL_TOOL}" appliesTo {
  principal: [Agent],
  resource: [Tool],
  context: { ${CONTEXT_COMMON} },
};
`;
