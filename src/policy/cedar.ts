/**
 * The one door to cedar-wasm: every Cedar call in Gatehouse imports it from here, so the engine is
 * always used with the V8 setting below.
 *
 * Node 20 crashed under load ("Fatal error: unreachable code" in V8's deoptimizer) when TurboFan
 * inlined JS -> Wasm calls into cedar-wasm; a crash of the gate must never happen, so that inlining
 * is turned off before any hot code is optimized. The cost is a few microseconds per decision.
 */
import { setFlagsFromString } from 'node:v8';

const major = Number(process.versions.node.split('.')[0]);
// The flag exists in the V8 versions of Node 20-24; outside them V8 would print "unrecognized flag".
if (major >= 20 && major <= 24) setFlagsFromString('--no-turbo-inline-js-wasm-calls');

export * from '@cedar-policy/cedar-wasm/nodejs';
