/**
 * Tool actions for policy unit tests, as `gatehouse policy schema` would generate them for a
 * payments server (refund, send_money) and a web server (fetch).
 */
export const TEST_TOOL_SCHEMA = `
action "payments__refund" in [Action::"call_tool"] appliesTo {
  principal: [Agent],
  resource: [Tool],
  context: {
    args: { "amount": Long, "customer"?: String, "rate"?: decimal, "who"?: String },
    args_provenance: { "amount": String, "customer": String, "rate": String, "who": String },
    time: Time, run: Run,
  },
};
action "payments__send_money" in [Action::"call_tool"] appliesTo {
  principal: [Agent],
  resource: [Tool],
  context: {
    args: { "to": String, "amount": Long },
    args_provenance: { "to": String, "amount": String },
    time: Time, run: Run,
  },
};
action "web__fetch" in [Action::"call_tool"] appliesTo {
  principal: [Agent],
  resource: [Tool],
  context: { args: { "url": String }, args_provenance: { "url": String }, time: Time, run: Run },
};
`;
