export {
  openRuntime,
  openIdentity,
  openEngine,
  type Runtime,
  type RuntimeOptions,
} from './runtime.js';
export { startHttpServer, type HttpServer } from './http.js';
export { serveStdio, type StdioErrorCode } from './stdio.js';
