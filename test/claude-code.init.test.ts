import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCliAsync } from './helpers/cli.js';
import { QUICKSTART_CONFIG, tempDir } from './helpers/gatehouse.js';

interface HookEntry {
  type: string;
  command: string;
  timeout?: number;
}
interface Settings {
  hooks: Record<string, { matcher?: string; hooks: HookEntry[] }[]>;
  [key: string]: unknown;
}

/** `gatehouse init claude-code` merges the hook into .claude/settings.json without losing anything. */
describe('gatehouse init claude-code', () => {
  it('merges into existing settings, keeps other keys and hooks, and is idempotent', async () => {
    const dir = tempDir();
    const file = join(dir, '.claude', 'settings.json');
    mkdirSync(join(dir, '.claude'));
    const mine = { type: 'command', command: 'npx prettier --write "$FILE"' };
    writeFileSync(
      file,
      JSON.stringify({
        model: 'opus',
        permissions: { deny: ['Read(./.env)'] },
        hooks: {
          PostToolUse: [{ matcher: 'Write|Edit', hooks: [mine] }],
          Stop: [{ hooks: [{ type: 'command', command: 'notify-send done' }] }],
        },
      }),
    );
    const args = ['init', 'claude-code', '--config', QUICKSTART_CONFIG, '--settings', file];
    const first = await runCliAsync(args);
    assert.equal(first.code, 0, first.err);
    const text = readFileSync(file, 'utf8');
    const s = JSON.parse(text) as Settings;
    assert.equal(s.model, 'opus');
    assert.deepEqual(s.permissions, { deny: ['Read(./.env)'] });
    assert.deepEqual(s.hooks.Stop, [{ hooks: [{ type: 'command', command: 'notify-send done' }] }]);
    assert.deepEqual(s.hooks.PostToolUse?.[0], { matcher: 'Write|Edit', hooks: [mine] });
    for (const event of ['PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'UserPromptSubmit']) {
      const ours = (s.hooks[event] ?? []).filter((g) =>
        g.hooks.some((h) => h.command.includes(' hook claude-code')),
      );
      assert.equal(ours.length, 1, event);
      const hook = ours[0]?.hooks[0];
      assert.match(
        hook?.command ?? '',
        /bin\/gatehouse\.js hook claude-code --config \S+gatehouse\.yaml \|\| exit 2$/,
      );
      assert.equal(hook?.timeout, 30);
      assert.equal(ours[0]?.matcher, event === 'UserPromptSubmit' ? undefined : '*');
    }
    const second = await runCliAsync(args);
    assert.equal(second.code, 0, second.err);
    assert.match(second.out, /nothing changed/);
    assert.equal(readFileSync(file, 'utf8'), text, 'running it again changes nothing');
    // A different setup replaces the Gatehouse hook in place; there is still one of it.
    const url = await runCliAsync([
      'init',
      'claude-code',
      '--url',
      'http://127.0.0.1:4100',
      '--settings',
      file,
      '--wait',
      '2m',
    ]);
    assert.equal(url.code, 0, url.err);
    const s2 = JSON.parse(readFileSync(file, 'utf8')) as Settings;
    const pre = (s2.hooks.PreToolUse ?? []).flatMap((g) => g.hooks);
    assert.equal(pre.length, 1);
    assert.match(
      pre[0]?.command ?? '',
      /--url http:\/\/127\.0\.0\.1:4100 --wait 120000ms \|\| exit 2$/,
    );
    assert.equal(pre[0]?.timeout, 150);
  });

  it('creates the file when there is none, and refuses invalid JSON without touching it', async () => {
    const dir = tempDir();
    const file = join(dir, 'new', 'settings.json');
    const r = await runCliAsync([
      'init',
      'claude-code',
      '--config',
      QUICKSTART_CONFIG,
      '--settings',
      file,
    ]);
    assert.equal(r.code, 0, r.err);
    assert.ok((JSON.parse(readFileSync(file, 'utf8')) as Settings).hooks.PreToolUse);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "model": "opus", }');
    const bad = await runCliAsync([
      'init',
      'claude-code',
      '--config',
      QUICKSTART_CONFIG,
      '--settings',
      broken,
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /broken\.json: is not valid JSON/);
    assert.equal(readFileSync(broken, 'utf8'), '{ "model": "opus", }');
    const notObject = join(dir, 'list.json');
    writeFileSync(notObject, '[]');
    assert.match(
      (
        await runCliAsync([
          'init',
          'claude-code',
          '--config',
          QUICKSTART_CONFIG,
          '--settings',
          notObject,
        ])
      ).err,
      /is not a JSON object/,
    );
    const badHooks = join(dir, 'hooks.json');
    writeFileSync(badHooks, '{"hooks": {"PreToolUse": {}}}');
    assert.match(
      (
        await runCliAsync([
          'init',
          'claude-code',
          '--config',
          QUICKSTART_CONFIG,
          '--settings',
          badHooks,
        ])
      ).err,
      /"hooks\.PreToolUse" is not a list/,
    );
    const noConfig = await runCliAsync([
      'init',
      'claude-code',
      '--config',
      join(dir, 'nope.yaml'),
      '--settings',
      file,
    ]);
    assert.equal(noConfig.code, 1);
    assert.match(noConfig.err, /no config file/);
  });
});
