export { createGateway, type Gateway, type GatewayDeps } from './gateway.js';
export { Gate } from './gate.js';
export { SEPARATOR } from './catalog.js';
export { SERVER_INFO, type Identify, type Extra } from './session.js';
export type { UpstreamStatus } from './upstream.js';
