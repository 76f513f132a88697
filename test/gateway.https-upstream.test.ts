/**
 * An https upstream whose certificate a private CA signed: reached with `ca` naming that CA, refused
 * without it (Node's default roots do not know it) and with another CA's certificate as `ca`, and
 * a `ca` that is not a readable certificate is a config error.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../src/config/index.js';
import { ALLOW_ALL } from './helpers/content.js';
import {
  configWithPolicies,
  eventually,
  firstText,
  startGatehouse,
  type Running,
} from './helpers/gatehouse.js';
import { startHttpUpstream, type HttpUpstream } from './helpers/http-upstream.js';

/** A self-signed certificate for 127.0.0.1 (its own CA), made with Debian's openssl. */
function selfSigned(dir: string): { key: string; cert: string; certFile: string } {
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=gatehouse test upstream',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

describe('gateway in front of an https upstream with a private CA', () => {
  let dir: string;
  let up: HttpUpstream;
  let gh: Running;
  let certFile: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-tls-'));
    const tls = selfSigned(dir);
    certFile = tls.certFile;
    // Another CA, unrelated to the upstream's certificate.
    mkdirSync(join(dir, 'other'));
    const otherCa = selfSigned(join(dir, 'other')).certFile;
    up = await startHttpUpstream('sse', tls);
    gh = await startGatehouse(
      configWithPolicies(
        ALLOW_ALL,
        'upstreams:',
        '  pinned:',
        `    url: ${up.url}`,
        `    ca: ${certFile}`,
        '  unknown:',
        `    url: ${up.url}`,
        '  misnamed:',
        `    url: ${up.url}`,
        `    ca: ${otherCa}`,
      ),
    );
  });
  after(async () => {
    await gh.close();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('calls the upstream whose certificate chains to the configured ca', async () => {
    assert.match(up.url, /^https:/);
    const client = await gh.client(await gh.mint());
    const res = await client.callTool({ name: 'pinned__echo', arguments: { text: 'over tls' } });
    assert.equal(firstText(res), 'over tls');
  });

  for (const [name, what] of [
    ['unknown', 'without a ca'],
    ['misnamed', 'with a ca that did not sign its certificate'],
  ] as const)
    it(`refuses the same upstream ${what}, naming the certificate problem`, async () => {
      const status = () => gh.rt.gateway.status().find((u) => u.name === name);
      await eventually(() => status()?.lastError !== undefined);
      assert.notEqual(status()?.state, 'up');
      assert.match(status()?.lastError ?? '', /certificate/i);
      const client = await gh.client(await gh.mint());
      const { tools } = await client.listTools();
      assert.ok(!tools.some((t) => t.name.startsWith(`${name}__`)));
    });

  it('refuses a ca for an http url, a missing ca file and one with no certificate', () => {
    const config = (ca: string, url = up.url) =>
      ['upstreams:', '  x:', `    url: ${url}`, `    ca: ${ca}`].join('\n');
    const source = join(dir, 'gatehouse.yaml');
    assert.throws(
      () => parseConfig(config(certFile, 'http://127.0.0.1:1/mcp'), source),
      /upstreams\.x\.ca.*only for an https url/s,
    );
    assert.throws(
      () => parseConfig(config('missing.pem'), source),
      /upstreams\.x\.ca: cannot read/,
    );
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    assert.throws(() => parseConfig(config(notPem), source), /upstreams\.x\.ca: .* holds no PEM/);
    // A relative ca resolves against the config's folder.
    const ok = parseConfig(config('cert.pem'), source).upstreams.x;
    assert.ok(ok && 'ca' in ok && ok.ca === certFile);
    // The scheme is case-insensitive.
    assert.ok(parseConfig(config(certFile, up.url.replace('https:', 'HTTPS:')), source));
  });
});
