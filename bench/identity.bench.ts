/**
 * Credential verification throughput: cold (full signature and claim checks) and cached (hash
 * lookup plus revocation check), for Ed25519 and ES256, and through the Authority (which also
 * checks the store for changes made by other processes). `npm run bench` runs it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairInMemory, memoryKeyStore, openFileKeyStore } from '../src/crypto/index.js';
import {
  Authority,
  createVerifier,
  mintAgentToken,
  verifyAgentToken,
  type IdentityDeps,
} from '../src/identity/index.js';
import { openSqliteStore } from '../src/store/index.js';

const SETTINGS = {
  issuer: 'gatehouse',
  audience: 'gatehouse',
  trustDomain: 'bench.local',
  defaultTtlMs: 15 * 60_000,
  maxTtlMs: 60 * 60_000,
  maxDepth: 4,
};
const N = Number(process.env.BENCH_VERIFY ?? 5000);

async function perSecond(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(200, n); i++) await fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return n / s;
}

async function tokens(deps: IdentityDeps, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      (
        await mintAgentToken(deps, {
          agent: { name: 'bench', version: '1.0.0' },
          principal: 'user:bench',
        })
      ).token,
    );
  }
  return out;
}

export async function identityBench(): Promise<{ name: string; perSecond: number }[]> {
  const rows: { name: string; perSecond: number }[] = [];
  for (const alg of ['EdDSA', 'ES256'] as const) {
    const deps: IdentityDeps = {
      keys: memoryKeyStore([await generateKeyPairInMemory(alg)]),
      settings: SETTINGS,
      now: Date.now,
    };
    const ts = await tokens(deps, 1000);
    rows.push({
      name: `${alg} cold (full verification)`,
      perSecond: await perSecond(N, (i) => verifyAgentToken(deps, ts[i % ts.length] ?? '')),
    });
    const verify = createVerifier(deps);
    for (const t of ts) await verify(t);
    rows.push({
      name: `${alg} cached`,
      perSecond: await perSecond(N * 10, (i) => verify(ts[i % ts.length] ?? '')),
    });
  }
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-id-'));
  try {
    const store = openSqliteStore(join(dir, 'gh.db'));
    const authority = await Authority.open(
      store,
      await openFileKeyStore(join(dir, 'keys'), 'credential'),
      SETTINGS,
      Date.now,
    );
    const ts = await tokens(authority.deps, 1000);
    for (const t of ts) await authority.verify(t);
    rows.push({
      name: 'EdDSA cached, via Authority (store change check + revocations)',
      perSecond: await perSecond(N * 10, (i) => authority.verify(ts[i % ts.length] ?? '')),
    });
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1]?.endsWith('identity.bench.js')) {
  const rows = await identityBench();
  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`Credential verification (${N} cold, ${N * 10} cached per row)\n`);
  console.log(`${'case'.padEnd(w)}  verifications/s`);
  for (const r of rows)
    console.log(
      `${r.name.padEnd(w)}  ${Math.round(r.perSecond).toLocaleString('en-US').padStart(15)}`,
    );
}
