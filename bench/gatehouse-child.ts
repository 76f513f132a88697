/**
 * Runs `bin/gatehouse.js <args>` exactly as `node bin/gatehouse.js <args>` would, for
 * gateway.bench.ts, and also stops it (SIGTERM: its normal shutdown) when the benchmark that
 * spawned it goes away, even if the benchmark was killed before it could clean up.
 */
import { fileURLToPath } from 'node:url';

const bin = new URL('../../bin/gatehouse.js', import.meta.url);
process.argv.splice(1, 1, fileURLToPath(bin));
process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
// The IPC channel is only a lifeline: it must not keep the process alive after a normal shutdown.
process.channel?.unref();
await import(bin.href);
