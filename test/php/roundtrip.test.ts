import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { renderChannelBody, renderScaffold } from '../../installer/render/channel.js';
import { type ChannelSpec } from '../../installer/model/channel.js';
import { spliceBlocks } from '../../installer/render/markers.js';
import { GOLDEN_DIR } from '../helpers/golden.js';
import { describePhp, loadChannels, phpLint } from '../helpers/php.js';
import { at, CHANNELS, sandbox, serverSandbox } from '../helpers/sandbox.js';
import { runMain } from '../helpers/cli.js';

/** What PHP's json_encode makes of a spec: env as an object, or absent. */
function asPhpSees(spec: ChannelSpec): Record<string, unknown> {
  return {
    command: spec.command,
    args: spec.args,
    detach: spec.detach,
    timeout: spec.timeout,
    ...(spec.env.length ? { env: Object.fromEntries(spec.env) } : {}),
  };
}

function writeChannels(specs: ChannelSpec[]): string {
  const file = path.join(sandbox(), 'channels.php');
  const text = spliceBlocks(renderScaffold(), specs.map((s) => ({ id: s.name, body: renderChannelBody(s) })));
  writeFileSync(file, text);
  return file;
}

const HOSTILE = [
  "it's",
  'back\\slash\\',
  "\\'",
  '?> <?php echo "pwned"; ?>',
  '*/ /* // # ',
  '$HOME ${x} {$y}',
  '"double" `tick` $(id) ; | &',
  'ünïcødé ✓ 🚀 \u2028 \u00a0',
  '// END bridges',
  '    // END bridge:kimaki',
  '',
];

describePhp('PHP reads back exactly what bridgectl rendered', () => {
  it('hostile values survive the round trip', () => {
    const specs: ChannelSpec[] = HOSTILE.map((value, i) => ({
      name: `c${i}`,
      command: `/opt/${value}/cli`,
      args: ['send', value, '{message}'],
      detach: i % 2 === 0,
      timeout: i * 7,
      env: i % 3 === 0 ? [] : [['HOME', value], ['V', value]],
    }));
    const file = writeChannels(specs);
    expect(phpLint(file).ok).toBe(true);
    expect(loadChannels(file)).toEqual(Object.fromEntries(specs.map((s) => [s.name, asPhpSees(s)])));
  });

  it('arbitrary printable strings survive the round trip (property)', () => {
    // One PHP process per batch: generate many channels, load them once.
    const printable = fc.string({ unit: 'grapheme', maxLength: 24 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s));
    const specArb = fc.record({
      command: printable.filter((s) => s !== ''),
      args: fc.array(printable, { maxLength: 4 }),
      detach: fc.boolean(),
      timeout: fc.nat({ max: 100000 }),
      env: fc.array(fc.tuple(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), printable), { maxLength: 3 }),
    });
    const samples = fc.sample(specArb, { numRuns: 150, seed: 20261127 });
    const specs: ChannelSpec[] = samples.map((s, i) => ({
      name: `p${i}`,
      ...s,
      env: [...new Map(s.env)], // keys are unique in a PHP array
    }));
    const file = writeChannels(specs);
    expect(phpLint(file).ok).toBe(true);
    expect(loadChannels(file)).toEqual(Object.fromEntries(specs.map((s) => [s.name, asPhpSees(s)])));
  });

  it('every golden PHP file passes php -l', () => {
    const files = (readdirSync(GOLDEN_DIR, { recursive: true }) as string[])
      .map((f) => path.join(GOLDEN_DIR, f))
      .filter((f) => f.endsWith('.php') && readFileSync(f, 'utf8').startsWith('<?php'));
    expect(files.length).toBeGreaterThanOrEqual(12); // the scaffold, and each bridge × init × user
    for (const f of files) expect(phpLint(f)).toEqual({ ok: true, output: expect.stringContaining('No syntax errors') });
  });

  it('the installed file registers the pinned kimaki channel', async () => {
    const root = serverSandbox();
    const r = await runMain(['install', '--bridge', 'kimaki', '--site', '/var/www/html', '--service-user', 'opencode', '--root', root, '--init', 'none']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(loadChannels(at(root, CHANNELS))).toEqual({
      kimaki: {
        command: '/usr/local/bin/kimaki',
        args: ['send', '--channel', '{recipient}', '--prompt', '{message}'],
        detach: true,
        timeout: 600,
        env: { HOME: '/home/opencode', KIMAKI_DATA_DIR: '/home/opencode/.kimaki' },
      },
    });
  });

  it('a hostile --data-dir and --binary reach PHP verbatim', async () => {
    const weird = "/srv/it's \\ ?> */ ünï";
    // The binary exists: install refuses a --binary that does not.
    const root = serverSandbox({ [`${weird.slice(1)}/kimaki`]: { content: '#!/bin/sh\n', mode: 0o755 } });
    const r = await runMain([
      'install', '--bridge', 'kimaki', '--site', '/var/www/html', '--service-user', 'opencode', '--root', root, '--init', 'none',
      '--data-dir', `${weird}/data`, '--binary', `${weird}/kimaki`,
    ]);
    expect(r.code).toBe(0);
    const channels = loadChannels(at(root, CHANNELS)) as unknown as { kimaki: { command: string; env: Record<string, string> } };
    expect(channels.kimaki.command).toBe(`${weird}/kimaki`);
    expect(channels.kimaki.env.KIMAKI_DATA_DIR).toBe(`${weird}/data`);
  });
});
