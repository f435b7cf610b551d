import { kimaki } from '../../bridges/kimaki.js';
import { parseChannelBody, renderChannelBody, renderScaffold } from '../../installer/render/channel.js';
import { type ChannelSpec } from '../../installer/model/channel.js';
import type { Identity } from '../../installer/model/identity.js';
import { expectGolden } from '../helpers/golden.js';

const userIdentity: Identity = {
  serviceUser: 'opencode',
  uid: 1001,
  gid: 1001,
  home: '/home/opencode',
  dataDir: '/home/opencode/.kimaki',
  binary: '/usr/bin/kimaki',
  binaries: { kimaki: '/usr/bin/kimaki' },
  site: '/var/www/html',
  init: 'systemd',
};
const rootIdentity: Identity = { ...userIdentity, serviceUser: 'root', uid: 0, gid: 0, home: '/root', dataDir: '/root/.kimaki' };

/** The seed's block, byte for byte (from the upstream pull request). */
const SEED_BLOCK = [
  "    $channels['kimaki'] = [",
  "        'command' => '/usr/bin/kimaki',",
  "        'args'    => [ 'send', '--channel', '{recipient}', '--prompt', '{message}' ],",
  "        'detach'  => true,",
  "        'timeout' => 600,",
  "        'env'     => [ 'HOME' => '/home/opencode', 'KIMAKI_DATA_DIR' => '/home/opencode/.kimaki' ],",
  '    ];',
];

describe('channel block', () => {
  it('renders the seed block byte for byte for a user install', () => {
    expect(renderChannelBody(kimaki.channel(userIdentity, {}) as ChannelSpec)).toEqual(SEED_BLOCK);
  });

  it('pins /root for a root install — derived, never hard-coded', () => {
    const body = renderChannelBody(kimaki.channel(rootIdentity, {}) as ChannelSpec).join('\n');
    expect(body).toContain("'env'     => [ 'HOME' => '/root', 'KIMAKI_DATA_DIR' => '/root/.kimaki' ],");
  });

  it('renders a channel with no env as the historical four-key block', () => {
    const spec: ChannelSpec = { ...(kimaki.channel(userIdentity, {}) as ChannelSpec), env: [] };
    expect(renderChannelBody(spec)).toEqual(SEED_BLOCK.filter((line) => !line.includes("'env'")));
  });

  it('reads back what it renders', () => {
    const spec: ChannelSpec = {
      name: 'odd-1',
      command: "/opt/it's\\here/cli",
      args: ['a b', "'", '{message}', ''],
      detach: false,
      timeout: 0,
      env: [['X', '?>'], ['Y', '*/']],
    };
    expect(parseChannelBody(renderChannelBody(spec))).toEqual(spec);
  });

  it('does not read back a body edited out of shape', () => {
    const body = renderChannelBody(kimaki.channel(userIdentity, {}) as ChannelSpec).map((l) => l.replace("'timeout' => 600", "'timeout' => FOO"));
    expect(parseChannelBody(body)).toBeUndefined();
  });
});

describe('golden files', () => {
  it('scaffold', () => expectGolden('channels/scaffold.php', renderScaffold()));
  // Whole channels files per bridge, init system and user: test/unit/golden.test.ts.
  it('a block with no env', () =>
    expectGolden('channels/no-env-block.php', renderChannelBody({ ...(kimaki.channel(userIdentity, {}) as ChannelSpec), env: [] }).join('\n') + '\n'));
});
