import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { parseConfig, type Config } from '../src/config/index.js';
import { isGatehouseError } from '../src/errors/index.js';
import type { ToolRef } from '../src/policy/index.js';
import { labelResult, resultTexts } from '../src/provenance/labels.js';

const CONFIG_PATH = '/etc/gatehouse/gatehouse.yaml';

const CONFIG = parseConfig(
  [
    'upstreams:',
    '  web:',
    '    command: ./bin/web',
    '    trust: internal',
    '    tools:',
    '      fetch:',
    '        urls:',
    '          argument: url',
    '          domains:',
    '            docs.example.com: trusted',
    '            blog.example.com: untrusted',
    '            "*.example.com": internal',
    '            "*.partners.example.com": trusted',
    '            status.example.org: internal',
    '      browse:',
    '        urls: { argument: target, default: internal }',
    '      search:',
    '        trust: trusted',
    '      notes:',
    '        labels: { access: read }',
    '  mail:',
    '    url: "https://mail.example.com/mcp"',
    '    tools:',
    '      read_inbox: { labels: { access: read } }',
    '      send: { trust: internal }',
  ].join('\n'),
  CONFIG_PATH,
);

function tool(server: string, name: string): ToolRef {
  return { id: `${server}__${name}`, server, name, labels: {} };
}

const FETCH = tool('web', 'fetch');

function fetchLabel(url: unknown, config: Pick<Config, 'upstreams'> = CONFIG) {
  return labelResult(config, FETCH, { url });
}

/** The message zod's issues make when `text` is refused. */
function problems(text: string): string {
  try {
    parseConfig(text, CONFIG_PATH);
  } catch (err) {
    assert.ok(isGatehouseError(err, 'CONFIG_INVALID', 'CONFIG_SYNTAX'), String(err));
    return err.message;
  }
  assert.fail('the config should have been refused');
}

function withDomains(domains: string): string {
  return [
    'upstreams:',
    '  web:',
    '    command: ./bin/web',
    '    tools:',
    '      fetch:',
    `        urls: { argument: url, domains: ${domains} }`,
  ].join('\n');
}

/** How each tool result is labelled: trust per server, per tool, or per URL domain. */
describe('result labels', () => {
  it("gives a tool without settings its server's trust, named by the tool", () => {
    assert.deepEqual(labelResult(CONFIG, tool('web', 'notes'), {}), {
      server: 'web',
      tool: 'web__notes',
      trust: 'internal',
      source: 'web__notes',
    });
    assert.equal(labelResult(CONFIG, tool('mail', 'read_inbox'), {}).trust, 'untrusted');
  });

  it("lets a tool's own trust override its server's", () => {
    assert.equal(labelResult(CONFIG, tool('web', 'search'), {}).trust, 'trusted');
    assert.equal(labelResult(CONFIG, tool('mail', 'send'), {}).trust, 'internal');
  });

  it("gives a tool the config does not name its server's trust", () => {
    assert.deepEqual(labelResult(CONFIG, tool('web', 'screenshot'), { url: 'x' }), {
      server: 'web',
      tool: 'web__screenshot',
      trust: 'internal',
      source: 'web__screenshot',
    });
    assert.equal(labelResult(CONFIG, tool('mail', 'archive'), {}).trust, 'untrusted');
  });

  it('labels anything from an unknown server untrusted', () => {
    for (const name of ['fetch', 'search'])
      assert.deepEqual(labelResult(CONFIG, tool('elsewhere', name), {}), {
        server: 'elsewhere',
        tool: `elsewhere__${name}`,
        trust: 'untrusted',
        source: `elsewhere__${name}`,
      });
    assert.equal(
      labelResult({ upstreams: {} }, FETCH, { url: 'https://docs.example.com/' }).trust,
      'untrusted',
    );
  });

  it('labels a fetched URL by its exact domain, naming the tool and the domain', () => {
    assert.deepEqual(fetchLabel('https://docs.example.com/refunds?x=1#y'), {
      server: 'web',
      tool: 'web__fetch',
      trust: 'trusted',
      source: 'web__fetch docs.example.com',
      domain: 'docs.example.com',
    });
    assert.equal(fetchLabel('http://status.example.org:8080/').trust, 'internal');
    // An exact entry beats a wildcard that also matches.
    assert.equal(fetchLabel('https://blog.example.com/post').trust, 'untrusted');
  });

  it('matches *.example.com to every subdomain, but not to example.com or look-alikes', () => {
    assert.equal(fetchLabel('https://sub.example.com/').trust, 'internal');
    assert.equal(fetchLabel('https://a.b.example.com/').trust, 'internal');
    for (const url of [
      'https://example.com/',
      'https://evilexample.com/',
      'https://example.com.evil.net/',
      'https://sub.example.com.evil.net/',
      'https://example.co/',
    ]) {
      assert.equal(fetchLabel(url).trust, 'untrusted', url);
    }
  });

  it('lets the most specific wildcard win', () => {
    assert.equal(fetchLabel('https://x.partners.example.com/').trust, 'trusted');
    assert.equal(fetchLabel('https://deep.x.partners.example.com/').trust, 'trusted');
    assert.equal(
      fetchLabel('https://partners.example.com/').trust,
      'internal',
      'only *.example.com',
    );
  });

  it('normalises an upper-case host', () => {
    const label = fetchLabel('HTTPS://DOCS.Example.COM/Refunds');
    assert.equal(label.trust, 'trusted');
    assert.equal(label.domain, 'docs.example.com');
    assert.equal(label.source, 'web__fetch docs.example.com');
  });

  it('labels by the host, not by user info that looks like one', () => {
    const label = fetchLabel('https://docs.example.com@evil.example.net/pay');
    assert.equal(label.trust, 'untrusted');
    assert.equal(label.domain, 'evil.example.net');
  });

  it('gives an unlisted domain the default', () => {
    assert.deepEqual(fetchLabel('https://forum.example.net/thread/4242'), {
      server: 'web',
      tool: 'web__fetch',
      trust: 'untrusted',
      source: 'web__fetch forum.example.net',
      domain: 'forum.example.net',
    });
    const browse = labelResult(CONFIG, tool('web', 'browse'), { target: 'https://anything.net/' });
    assert.equal(browse.trust, 'internal', 'a configured default');
    assert.equal(browse.source, 'web__browse anything.net');
  });

  it('gives a missing, non-string or unreadable URL the default, saying so', () => {
    for (const url of [
      undefined,
      42,
      null,
      ['https://docs.example.com/'],
      { href: 'x' },
      '',
      'not a url',
      'docs.example.com/path',
      'file:///etc/passwd',
      'mailto:a@docs.example.com',
    ]) {
      assert.deepEqual(
        fetchLabel(url),
        {
          server: 'web',
          tool: 'web__fetch',
          trust: 'untrusted',
          source: 'web__fetch (unreadable URL)',
        },
        JSON.stringify(url),
      );
    }
    assert.deepEqual(
      labelResult(CONFIG, tool('web', 'browse'), { url: 'https://docs.example.com/' }),
      {
        server: 'web',
        tool: 'web__browse',
        trust: 'internal',
        source: 'web__browse (unreadable URL)',
      },
    );
  });

  it('never reads a prototype property as the trust of a host', () => {
    for (const url of ['http://constructor/', 'http://__proto__/', 'http://x.constructor/']) {
      const label = fetchLabel(url);
      assert.equal(label.trust, 'untrusted', `${url}: ${String(label.trust)}`);
    }
  });
});

describe('result texts', () => {
  it('takes text, embedded resource text, resource links and structured content', () => {
    const result = {
      content: [
        { type: 'text', text: 'first' },
        { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'file:///a.txt', text: 'embedded text' } },
        { type: 'resource', resource: { uri: 'file:///b.bin', blob: 'AAAA' } },
        { type: 'audio', data: 'UklGRg==', mimeType: 'audio/wav' },
        { type: 'resource_link', uri: 'https://evil.example.net/doc', name: 'invoice' },
        { type: 'text', text: 'last' },
      ],
      structuredContent: { iban: 'DE89370400440532013000', nested: { n: 1 } },
    } as CallToolResult;
    assert.deepEqual(resultTexts(result), [
      'first',
      'embedded text',
      'https://evil.example.net/doc invoice',
      'last',
      '{"iban":"DE89370400440532013000","nested":{"n":1}}',
    ]);
  });

  it('takes nothing from images alone or an empty result', () => {
    assert.deepEqual(
      resultTexts({
        content: [{ type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' }],
      }),
      [],
    );
    assert.deepEqual(resultTexts({ content: [] }), []);
  });
});

describe('provenance config', () => {
  it('reads urls with domains and defaults', () => {
    const fetch = CONFIG.upstreams.web?.tools.fetch;
    assert.deepEqual(fetch?.urls, {
      argument: 'url',
      domains: {
        'docs.example.com': 'trusted',
        'blog.example.com': 'untrusted',
        '*.example.com': 'internal',
        '*.partners.example.com': 'trusted',
        'status.example.org': 'internal',
      },
      default: 'untrusted',
    });
    assert.equal(CONFIG.upstreams.web?.tools.search?.trust, 'trusted');
    assert.deepEqual(CONFIG.upstreams.web?.tools.browse?.urls?.domains, {});
  });

  it('refuses a bad domain pattern or trust level under urls.domains', () => {
    for (const domains of [
      '{ "http://x": trusted }',
      '{ "*.": trusted }',
      '{ "Docs.Example.com": trusted }',
      '{ "*.*.example.com": trusted }',
      '{ "*": trusted }',
      '{ "docs.example.com/path": trusted }',
      '{ docs.example.com: maybe }',
    ]) {
      assert.match(problems(withDomains(domains)), /upstreams\.web/, domains);
    }
    assert.match(
      problems(withDomains('{}').replace('argument: url', 'argument: ""')),
      /upstreams\.web/,
    );
  });

  it('names the bad field under urls.domains, not a missing command', () => {
    for (const [domains, field] of [
      ['{ "http://x": trusted }', 'upstreams.web.tools.fetch.urls.domains'],
      ['{ "Docs.Example.com": trusted }', 'upstreams.web.tools.fetch.urls.domains'],
      ['{ docs.example.com: maybe }', 'upstreams.web.tools.fetch.urls.domains.docs.example.com'],
    ] as const) {
      const msg = problems(withDomains(domains));
      assert.ok(msg.includes(field), `expected "${field}" in:\n${msg}`);
      assert.doesNotMatch(msg, /needs either "command"/, msg);
    }
    const badTrust = problems(
      'upstreams:\n  web:\n    command: x\n    tools:\n      fetch: { trust: sorta }\n',
    );
    assert.ok(badTrust.includes('upstreams.web.tools.fetch.trust'), badTrust);
  });
});
