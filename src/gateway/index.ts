export { createGateway, type Gateway, type GatewayDeps } from './gateway.js';
export { Gate } from './gate.js';
export type { Identify } from './session.js';
export type { UpstreamStatus } from './upstream.js';
