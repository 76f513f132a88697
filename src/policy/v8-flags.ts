/**
 * Works around a V8 crash on Node 20 ("Fatal error: unreachable code" in the deoptimizer) seen under
 * load when TurboFan inlines JS -> Wasm calls into cedar-wasm: a crash of the gate must never happen,
 * so inlining of those calls is turned off before any hot code is optimized. The cost is a few
 * microseconds per decision. Imported for its effect by the policy engine.
 */
import { setFlagsFromString } from 'node:v8';

const major = Number(process.versions.node.split('.')[0]);
// The flag exists in the V8 versions of Node 20-24; outside them V8 would print "unrecognized flag".
if (major >= 20 && major <= 24) setFlagsFromString('--no-turbo-inline-js-wasm-calls');
