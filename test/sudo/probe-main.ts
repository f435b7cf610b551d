/**
 * Runs the sudo hop probes the way doctor will: render kimaki's hop from
 * what is installed on the live host (--root /), probe it, print the
 * results as JSON. The live test bundles this and runs it inside its mount
 * namespace.  node probe.cjs <site>
 */
import { kimaki } from '../../bridges/kimaki.js';
import { readChannelsFile, renderBridge } from '../../installer/engine.js';
import { nodeHost } from '../../installer/host.js';
import { probeSudoHop } from '../../installer/sudo-probe.js';

const site = process.argv[2] ?? '';
const host = nodeHost('/', process.env);
const rendered = renderBridge(kimaki, {}, readChannelsFile(site, host), site, host, [], { action: 'upgrade' });
if (!rendered.dispatch.hop) throw new Error('kimaki is not in sudo dispatch mode');
process.stdout.write(JSON.stringify(probeSudoHop(host, rendered.dispatch.hop, rendered.dispatch.files)));
