/**
 * Custom channels: `channel set/remove/list` beside the bridge blocks, read
 * back by real PHP, and left alone by upgrade.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { TRANSPORT_TEMPLATE } from '../../installer/plan/site-files.js';
import { listBlocks } from '../../installer/render/markers.js';
import { transportFile } from '../../installer/lib/paths.js';
import { staticTemplate } from '../../installer/render/templates.js';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { runMain } from '../helpers/cli.js';
import { loadChannels } from '../helpers/php.js';
import { at, CHANNELS, SITE } from '../helpers/sandbox.js';
import { snapshot } from '../helpers/tree.js';

const site = ['--site', SITE];
const TRANSPORT = transportFile(SITE);

describe('channel set / remove / list', () => {
  it('registers a custom channel next to a bridge; upgrade leaves it untouched; remove takes only it', async () => {
    const root = bridgeSandbox();
    expect((await runMain(['install', '--bridge', 'kimaki', ...site, '--service-user', 'opencode', '--root', root], {})).code).toBe(0);
    const set = await runMain(
      ['channel', 'set', 'ops-pager', ...site, '--command', '/usr/bin/curl', '--arg=-q', '--arg=--data', '--arg', 'to={recipient}&m={message}', '--env', 'LANG=C.UTF-8', '--env', "ODD=it's \\ fine", '--no-detach', '--timeout', '30', '--root', root],
      {},
    );
    expect(set).toMatchObject({ code: 0, stderr: '' });

    const php = loadChannels(at(root, CHANNELS));
    expect(Object.keys(php)).toEqual(['kimaki', 'ops-pager']);
    expect(php['ops-pager']).toEqual({
      command: '/usr/bin/curl',
      args: ['-q', '--data', 'to={recipient}&m={message}'],
      detach: false,
      timeout: 30,
      env: { LANG: 'C.UTF-8', ODD: "it's \\ fine" },
    });

    const list = await runMain(['channel', 'list', ...site, '--root', root], {});
    expect(list.stdout).toMatch(/^kimaki \(bridge kimaki\)$/m);
    expect(list.stdout).toMatch(/^ops-pager \(custom\)\n {2}command {2}\/usr\/bin\/curl\n {2}args {5}'-q' '--data' 'to=\{recipient\}&m=\{message\}'\n {2}detach {3}no, timeout 30s\n/m);
    const json = JSON.parse((await runMain(['channel', 'list', ...site, '--root', root, '--json'], {})).stdout) as { channels: { name: string; bridge: string | null; args?: string[] }[] };
    expect(json.channels.map((c) => [c.name, c.bridge])).toEqual([
      ['kimaki', 'kimaki'],
      ['ops-pager', null],
    ]);

    // Upgrade re-renders kimaki only; the custom block keeps its bytes.
    const block = (text: string): string[] | undefined => listBlocks(text).find((b) => b.id === 'ops-pager')?.body;
    const before = readFileSync(at(root, CHANNELS), 'utf8');
    expect((await runMain(['upgrade', ...site, '--service-user', 'root', '--root', root], {})).code).toBe(0);
    const after = readFileSync(at(root, CHANNELS), 'utf8');
    expect(after).not.toBe(before); // kimaki moved to root's HOME…
    expect(block(after)).toEqual(block(before)); // …the custom channel did not move at all

    const kept = snapshot(root);
    const rm = await runMain(['channel', 'remove', 'ops-pager', ...site, '--root', root], {});
    expect(rm.code).toBe(0);
    expect(listBlocks(readFileSync(at(root, CHANNELS), 'utf8')).map((b) => b.id)).toEqual(['kimaki']);
    const now = snapshot(root);
    for (const [p, f] of kept) if (p !== CHANNELS) expect(now.get(p)).toEqual(f);

    const again = await runMain(['channel', 'remove', 'ops-pager', ...site, '--root', root], {});
    expect(again.stdout).toMatch(/note: no channel named 'ops-pager'/);
  });

  it.each([
    [['channel', 'set', 'Bad!', '--command', '/bin/true'], /invalid channel name "Bad!"/],
    [['channel', 'set', '-x', '--command', '/bin/true'], /Unknown argument: x/],
    [['channel', 'set', 'kimaki', '--command', '/bin/true'], /channel 'kimaki' belongs to the kimaki bridge/],
    [['channel', 'remove', 'telegram'], /channel 'telegram' belongs to the telegram bridge/],
    [['channel', 'set', 'x', '--command', 'curl'], /--command must be an absolute path/],
    [['channel', 'set', 'x', '--command', '/bin/true', '--env', 'NOEQUALS'], /--env "NOEQUALS": expected NAME=VALUE/],
    [['channel', 'set', 'x', '--command', '/bin/true', '--timeout', '1.5'], /--timeout takes a whole number of seconds, 0 or more \(got 1\.5\)/],
    [['channel', 'set', 'x'], /name the executable with --command/],
  ])('refuses %j', async (argv, message) => {
    const root = bridgeSandbox();
    const r = await runMain([...argv, ...site, '--root', root], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(snapshot(root).has(CHANNELS)).toBe(false);
  });

  it('a site with only custom channels gets the transport, and loses it with its last channel', async () => {
    const root = bridgeSandbox();
    const set = (name: string) => runMain(['channel', 'set', name, ...site, '--command', '/usr/bin/curl', '--arg', '{recipient}', '--arg', '{message}', '--root', root], {});
    const remove = (name: string) => runMain(['channel', 'remove', name, ...site, '--root', root], {});
    expect((await set('ops-pager')).stdout).toMatch(new RegExp(`^create +${TRANSPORT}$`, 'm'));
    expect(readFileSync(at(root, TRANSPORT), 'utf8')).toBe(staticTemplate(TRANSPORT_TEMPLATE));
    expect((await set('audit')).code).toBe(0);
    expect((await remove('ops-pager')).stdout).toMatch(new RegExp(`^unchanged +${TRANSPORT}$`, 'm')); // one channel left
    expect(existsSync(at(root, TRANSPORT))).toBe(true);
    expect((await remove('audit')).stdout).toMatch(new RegExp(`^remove +${TRANSPORT}$`, 'm'));
    expect(existsSync(at(root, TRANSPORT))).toBe(false);
    expect(listBlocks(readFileSync(at(root, CHANNELS), 'utf8'))).toEqual([]);
  });

  it('removing a custom channel keeps the transport while a bridge still registers one', async () => {
    const root = bridgeSandbox();
    await runMain(['install', '--bridge', 'kimaki', ...site, '--service-user', 'opencode', '--root', root], {});
    await runMain(['channel', 'set', 'ops-pager', ...site, '--command', '/usr/bin/curl', '--root', root], {});
    expect((await runMain(['channel', 'remove', 'ops-pager', ...site, '--root', root], {})).code).toBe(0);
    expect(existsSync(at(root, TRANSPORT))).toBe(true);
  });

  it('lists a hand-edited value holding a control character as a JSON string, not raw to the terminal', async () => {
    const root = bridgeSandbox();
    const set = await runMain(['channel', 'set', 'notify', ...site, '--command', '/usr/bin/curl', '--arg', 'MARK', '--root', root], {});
    expect(set.code).toBe(0);
    const file = at(root, CHANNELS);
    writeFileSync(file, readFileSync(file, 'utf8').replace('MARK', '\u001b[31mred'));
    const r = await runMain(['channel', 'list', ...site, '--root', root], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('args     "\\u001b[31mred"');
    expect(r.stdout).not.toContain('\u001b');
  });

  it('lists nothing, cleanly, when no channels file exists', async () => {
    const root = bridgeSandbox();
    const r = await runMain(['channel', 'list', ...site, '--root', root], {});
    expect(r).toMatchObject({ code: 0, stdout: `no channels file: ${CHANNELS}\n` });
  });
});
