/**
 * The Cedar schema Gatehouse ships. Policies are validated against it (strict mode) together with
 * the tool actions that `gatehouse policy schema` generates into the policy folder.
 *
 * Each tool is its own action, a member of the group `call_tool`: one rule can cover every call
 * (`action in Action::"call_tool"`), and a rule for one tool (`action == Action::"payments__refund"`)
 * gets `context.args` typed from that tool's input schema, so a typo is a load error.
 */
export const CALL_TOOL = 'call_tool';

/** An agent reads a resource (`resources/read`). */
export const READ_RESOURCE = 'read_resource';

/** An agent gets a prompt (`prompts/get`). */
export const GET_PROMPT = 'get_prompt';

/** An upstream server asks the agent's model to generate text (`sampling/createMessage`). */
export const CREATE_MESSAGE = 'create_message';

/** An upstream server asks the agent's user for input (`elicitation/create`). */
export const ELICIT = 'elicit';

/** Action names Gatehouse declares itself: no tool may be exposed under one. */
export const RESERVED_ACTIONS: ReadonlySet<string> = new Set([
  CALL_TOOL,
  READ_RESOURCE,
  GET_PROMPT,
  CREATE_MESSAGE,
  ELICIT,
]);

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

// Tools, resources and prompts are grouped by server and by label (\`Label::"blast_radius:high"\`).
// A server is also the resource of a sampling request it sends (\`create_message\`).
entity Server in [Label] = {
  name: String,
  server: String,
  exposed_name: String,
  // Its trust level from the config: "trusted", "internal" or "untrusted".
  trust: String,
} tags String;
entity Label;

// A tool, named as agents see it (\`<server>__<tool>\`); its labels from the config are also tags.
entity Tool in [Server, Label] = {
  // The upstream's own tool name.
  name: String,
  server: String,
  // The name agents see, \`<server>__<tool>\`.
  exposed_name: String,
} tags String;

// A resource of an upstream server, named by its URI.
entity Resource in [Server, Label] = {
  // Its URI (also in \`uri\` and \`exposed_name\`).
  name: String,
  server: String,
  exposed_name: String,
  uri: String,
} tags String;

// A prompt of an upstream server.
entity Prompt in [Server, Label] = {
  // The upstream's own prompt name.
  name: String,
  server: String,
  // The name agents see, \`<server>__<prompt>\`.
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

// What an upstream server asks the agent's model for (the request's shape; its text is not here).
type Sampling = {
  // -1 when the request gave none.
  max_tokens: Long,
  messages: Long,
  // "none", "thisServer" or "allServers".
  include_context: String,
  has_system_prompt: Bool,
  tools: Long,
};

// What an upstream server asks the agent's user for.
type Elicitation = {
  // The names of the fields the request asks for (at most 64).
  fields: Set<String>,
  // "form".
  mode: String,
};

// Every tool call. Each tool's own action is a member of this group.
action "${CALL_TOOL}" appliesTo {
  principal: [Agent],
  resource: [Tool],
  context: { ${CONTEXT_COMMON} },
};

// An agent reads a resource.
action "${READ_RESOURCE}" appliesTo {
  principal: [Agent],
  resource: [Resource],
  context: { ${CONTEXT_COMMON} },
};

// An agent gets a prompt.
action "${GET_PROMPT}" appliesTo {
  principal: [Agent],
  resource: [Prompt],
  context: { ${CONTEXT_COMMON} },
};

// An upstream server asks the model of the agent whose call it is serving to generate text: the
// principal is that agent, the resource the server. Gatehouse permits it for trusted servers
// (policy gatehouse.sampling-trusted-servers); forbid it, or permit it for other servers, here.
action "${CREATE_MESSAGE}" appliesTo {
  principal: [Agent],
  resource: [Server],
  context: { ${CONTEXT_COMMON}, sampling: Sampling },
};

// An upstream server asks the user of the agent whose call it is serving for input. Gatehouse
// permits it for every server (policy gatehouse.elicitation-any-server): the user sees the request
// and answers it; forbid what no server may ask for here.
action "${ELICIT}" appliesTo {
  principal: [Agent],
  resource: [Server],
  context: { ${CONTEXT_COMMON}, elicitation: Elicitation },
};
`;
