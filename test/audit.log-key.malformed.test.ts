import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { openLogKey } from '../src/audit/index.js';
import { isGatehouseError } from '../src/errors/index.js';
import { tempDir } from './helpers/gatehouse.js';

const ORIGIN = 'test.example/log';

/** A log key file that is not a well-formed Ed25519 note signer key is refused, never used. */
it('refuses malformed audit log key files, without echoing the key', () => {
  const dir = tempDir('gatehouse-logkey-');
  const good = openLogKey(join(dir, 'good.key'), ORIGIN);
  const cases: Record<string, string> = {
    empty: '',
    garbage: 'hello world',
    'not private': `${good.vkey}\n`,
    'four fields': 'PRIVATE+KEY+test.example/log+00000000',
    'bad base64': 'PRIVATE+KEY+test.example/log+00000000+!!!!',
    'wrong algorithm': `PRIVATE+KEY+${ORIGIN}+00000000+${Buffer.concat([Buffer.from([2]), Buffer.alloc(32, 7)]).toString('base64')}`,
    'short seed': `PRIVATE+KEY+${ORIGIN}+00000000+${Buffer.concat([Buffer.from([1]), Buffer.alloc(16, 7)]).toString('base64')}`,
    'wrong key id': `PRIVATE+KEY+${ORIGIN}+deadbeef+${Buffer.concat([Buffer.from([1]), Buffer.alloc(32, 7)]).toString('base64')}`,
  };
  for (const [name, text] of Object.entries(cases)) {
    const path = join(dir, `${name.replace(/ /g, '-')}.key`);
    writeFileSync(path, text, { mode: 0o600 });
    assert.throws(
      () => openLogKey(path, ORIGIN),
      (err: unknown) =>
        isGatehouseError(err, 'LOG_KEY_INVALID') && !err.message.includes('AQcHBwcH'),
      name,
    );
  }
  const open = join(dir, 'open.key');
  writeFileSync(open, 'x', { mode: 0o600 });
  chmodSync(open, 0o644);
  assert.throws(
    () => openLogKey(open, ORIGIN),
    (err: unknown) => isGatehouseError(err, 'LOG_KEY_PERMISSIONS'),
  );
  assert.throws(
    () => openLogKey(join(dir, 'new.key'), 'has space/log'),
    (err: unknown) => isGatehouseError(err, 'LOG_KEY_INVALID'),
    'an origin that cannot name a key',
  );
});
