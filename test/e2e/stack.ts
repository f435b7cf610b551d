/**
 * The real-WordPress stack of the e2e tier, started and stopped by the test
 * itself, without changing the machine.
 *
 * Everything runs inside one private mount and PID namespace, held open by
 * test/sudo/namespace.sh (throwaway users bctlweb/bctlsvc/bctlother, empty
 * /etc/sudoers.d and /usr/local/{bin,lib}) plus test/e2e/namespace-e2e.sh (a
 * private copy of /etc, empty /run and /var/log). Inside it: MariaDB with a
 * throwaway datadir, Debian's php-fpm (8.2 on Debian 12) from its stock config (the `www` pool,
 * www-data), nginx on 127.0.0.1 only, with a config written here, serving a
 * copy of Debian's /usr/share/wordpress whose wp-config.php is Debian's own
 * (it reads /etc/wordpress/config-127.0.0.1.php). WordPress is installed by
 * its own installer over HTTP. When the holder's stdin closes (stop(), or
 * jest dying), the namespace's init exits and the kernel kills every process
 * left in it; stop() then removes the scratch dir.
 *
 * Outside the namespace, in this process: the Telegram Bot API stand-in (an
 * https server on 127.0.0.1:443 with a throwaway CA that only the
 * namespace's /etc trusts) and cc-connect's daemon socket.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttps, type Server as HttpsServer } from 'node:https';
import { createServer as createNet, type Server } from 'node:net';
import path from 'node:path';
import { shellQuote } from '../../installer/lib/shell.js';
import type { Check } from '../../installer/model/doctor.js';
import { fakeCcConnect, fakeKimaki } from '../helpers/dispatch.js';
import { FPM_VERSION } from '../helpers/php-fpm.js';

export const BIN = path.resolve('dist/bridgectl.cjs');
export const WEB_USER = 'www-data';
export const SVC_USER = 'bctlsvc';
const FPM = `php-fpm${FPM_VERSION}`;
const FPM_CONF = `/etc/php/${FPM_VERSION}/fpm/php-fpm.conf`;
const FPM_PID = `/run/php/php${FPM_VERSION}-fpm.pid`;
const FPM_SOCK = `/run/php/php${FPM_VERSION}-fpm.sock`;
const DB_SOCK = '/run/mysqld/mysqld.sock';
/** The Bot API stand-in listens where api.telegram.org resolves to in the namespace. */
export const TELEGRAM_PORT = 443;

export const TOOLS = ['unshare', 'nsenter', 'setpriv', 'sudo', 'visudo', 'php', FPM, 'mariadbd', 'mariadb-install-db', 'mariadb', 'nginx', 'curl', 'openssl'];

/** What this machine lacks for the tier; empty when it can run. */
export function prerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const cmd of TOOLS) if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) missing.push(cmd);
  for (const file of ['/usr/share/wordpress/wp-load.php', '/usr/share/wordpress/wp-config.php', FPM_CONF, `/etc/php/${FPM_VERSION}/fpm/pool.d/www.conf`, '/etc/nginx/fastcgi.conf', '/etc/ssl/certs/ca-certificates.crt']) {
    if (!existsSync(file)) missing.push(file);
  }
  if (!existsSync('/usr/lib/php/20220829/mysqli.so') && spawnSync('php', ['-r', 'exit(extension_loaded("mysqli") ? 0 : 1);']).status !== 0) missing.push('php-mysql');
  if (missing.length === 0 && spawnSync('unshare', ['--mount', '--propagation', 'private', '--pid', '--fork', '--mount-proc', 'mount', '-t', 'tmpfs', 'tmpfs', '/tmp']).status !== 0) {
    missing.push('permission to mount in new mount and PID namespaces');
  }
  return missing;
}

/** A port on 127.0.0.1 that nothing listens on now (the kernel's choice), or the reason a given one is taken. */
async function portFree(port: number): Promise<{ port: number } | { taken: string }> {
  const server = createNet();
  return new Promise((resolve) => {
    server.once('error', (e: NodeJS.ErrnoException) => resolve({ taken: e.code ?? e.message }));
    server.listen(port, '127.0.0.1', () => {
      const got = (server.address() as { port: number }).port;
      server.close(() => resolve({ port: got }));
    });
  });
}

/** Free uids (and gids of the same number); refuses when a user name the tier creates exists. */
function throwawayIds(): number[] {
  const used = new Set<number>();
  for (const db of ['passwd', 'group']) {
    for (const line of spawnSync('getent', [db], { encoding: 'utf8' }).stdout.split('\n')) used.add(Number(line.split(':')[2]));
  }
  for (const name of ['bctlweb', 'bctlsvc', 'bctlother']) {
    if (spawnSync('getent', ['passwd', name]).status === 0) throw new Error(`e2e: user ${name} exists on this machine; the tier creates its own and will not reuse it`);
  }
  const ids: number[] = [];
  for (let id = 64300; ids.length < 3 && id < 65000; id++) if (!used.has(id)) ids.push(id);
  return ids;
}

export interface Job {
  channel: string;
  recipient: string;
  message: string;
}

/** What the dispatch handler returned inside the WP-cron run, plus the PHP worker that ran it. */
export interface Dispatched {
  result: { sent: boolean; channel: string; recipient: string; metadata: Record<string, unknown> } | null;
  error: { code: string; message: string; data: Record<string, unknown> | null } | null;
  php: { pid: number; cwd: string; doing_cron: boolean };
}

export interface TelegramRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface HttpResponse {
  status: number;
  body: string;
}

export class Stack {
  T = '';
  WEB = 33;
  SVC = 0;
  OTHER = 0;
  port = 0;
  site = '';
  home = '';
  /** kimaki's and the curl wrapper's records (test/helpers/dispatch.ts reads them). */
  records = '';
  ccData = '';
  /** Every request the Bot API stand-in received. */
  telegram: TelegramRequest[] = [];
  telegramToken = '4242424242:e2e-TEST-token_abc';
  private holder: ChildProcess | undefined;
  private nsPid = 0;
  private daemons: ChildProcess[] = [];
  private https: HttpsServer | undefined;
  private ccDaemon: Server | undefined;
  private jobs = 0;

  /** Run inside the namespace, as root. */
  inNs(argv: string[], options: { input?: string; timeout?: number } = {}): SpawnSyncReturns<string> {
    return spawnSync('nsenter', ['-t', String(this.nsPid), '-m', '-p', '--', ...argv], {
      encoding: 'utf8',
      input: options.input ?? '',
      cwd: '/',
      timeout: options.timeout ?? 60_000,
    });
  }

  /** A shell command inside the namespace, as root; throws with its output when it fails. */
  sh(script: string): string {
    const r = this.inNs(['sh', '-c', script]);
    if (r.status !== 0) throw new Error(`e2e: \`${script}\` exited ${r.status}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** bridgectl on the live host of the namespace (--root / is its default), as root. */
  bridgectl(...args: string[]): SpawnSyncReturns<string> {
    return this.inNs([process.execPath, BIN, ...args], { timeout: 120_000 });
  }

  doctor(): { code: number | null; checks: Check[]; stderr: string } {
    const r = this.bridgectl('doctor', '--site', this.site, '--json');
    let checks: Check[] = [];
    try {
      checks = (JSON.parse(r.stdout) as { checks: Check[] }).checks;
    } catch {
      throw new Error(`e2e: doctor printed no JSON (exit ${r.status}): ${r.stderr}${r.stdout}`);
    }
    return { code: r.status, checks, stderr: r.stderr };
  }

  /** An HTTP request to the site through nginx, from outside the namespace (curl: it sends any header). */
  http(urlPath: string, options: { method?: string; form?: Record<string, string>; headers?: string[] } = {}): HttpResponse {
    const args = ['-sS', '-o', '-', '-w', '\n%{http_code}', '--max-time', '60', '-X', options.method ?? 'GET'];
    for (const h of options.headers ?? []) args.push('-H', h);
    for (const [k, v] of Object.entries(options.form ?? {})) args.push('--data-urlencode', `${k}=${v}`);
    args.push(`http://127.0.0.1:${this.port}${urlPath}`);
    const r = spawnSync('curl', args, { encoding: 'utf8', timeout: 70_000 });
    if (r.status !== 0) throw new Error(`e2e: curl ${urlPath} failed (${r.status}): ${r.stderr}`);
    const cut = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
  }

  /**
   * Dispatch from WP-cron: spool the jobs for the test mu-plugin, fire
   * /wp-cron.php over HTTP (nginx → php-fpm; the mu-plugin schedules them on
   * init and WP-cron runs them after the response is sent), and wait for
   * every result.
   */
  async dispatch(jobs: Job[], headers: string[] = []): Promise<Dispatched[]> {
    const ids = jobs.map((job) => {
      const id = `job-${String(++this.jobs).padStart(4, '0')}`;
      const file = `${this.T}/spool/${id}`;
      writeFileSync(`${file}.tmp`, JSON.stringify({ ...job, message: Buffer.from(job.message, 'utf8').toString('base64') }), { mode: 0o644 });
      // rename: the mu-plugin never sees half a job.
      spawnSync('mv', [`${file}.tmp`, `${file}.json`]);
      return id;
    });
    const r = this.http('/wp-cron.php', { headers });
    if (r.status !== 200) throw new Error(`e2e: GET /wp-cron.php answered ${r.status}: ${r.body.slice(0, 500)}`);
    const until = Date.now() + 60_000;
    const results: Dispatched[] = [];
    for (const id of ids) {
      const file = `${this.T}/results/${id}.json`;
      while (!existsSync(file)) {
        if (Date.now() > until) throw new Error(`e2e: no result for ${id} from WP-cron within 60 s; php-fpm log: ${this.fpmLog()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      results.push(JSON.parse(readFileSync(file, 'utf8')) as Dispatched);
    }
    return results;
  }

  async dispatchOne(job: Job, headers: string[] = []): Promise<Dispatched> {
    return (await this.dispatch([job], headers))[0] as Dispatched;
  }

  fpmLog(): string {
    return this.inNs(['tail', '-n', '20', `/var/log/php${FPM_VERSION}-fpm.log`]).stdout + this.inNs(['sh', '-c', `tail -n 20 ${this.T}/logs/*`]).stdout;
  }

  async start(): Promise<void> {
    const busy = await portFree(TELEGRAM_PORT);
    if ('taken' in busy) throw new Error(`e2e: 127.0.0.1:${TELEGRAM_PORT} is taken (${busy.taken}); the tier's Telegram Bot API stand-in needs it. Stop what listens there, or run the tier elsewhere.`);
    const web = await portFree(0);
    if ('taken' in web) throw new Error(`e2e: no free port on 127.0.0.1 for nginx (${web.taken})`);
    this.port = web.port;
    const [bctlweb, svc, other] = throwawayIds() as [number, number, number];
    [this.SVC, this.OTHER] = [svc, other];
    this.T = mkdtempSync('/tmp/bridgectl-e2e-');
    chmodSync(this.T, 0o755);
    const T = this.T;
    this.site = `${T}/site`;
    this.home = `${T}/home/bctlsvc`;
    this.records = `${T}/records`;
    this.ccData = `${this.home}/.cc-connect`;
    mkdirSync(`${T}/logs`);

    this.makeCa();
    writeFileSync(`${T}/wp-host.php`, this.wpHostConfig());
    this.holder = spawn('unshare', ['--mount', '--propagation', 'private', '--pid', '--fork', '--mount-proc', 'bash', path.resolve('test/sudo/namespace.sh'), T, String(bctlweb), String(this.SVC), String(this.OTHER), path.resolve('test/e2e/namespace-e2e.sh')], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      let err = '';
      this.holder?.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready\n')) resolve();
      });
      this.holder?.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      this.holder?.on('exit', (code) => reject(new Error(`e2e: namespace setup exited ${code}: ${err}`)));
    });
    // The namespace's init is unshare's child; nsenter needs its pid to enter the PID namespace too.
    const unsharePid = this.holder.pid as number;
    this.nsPid = Number(readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim().split(/\s+/)[0]);

    this.installFakes();
    this.copySite();
    await this.startMariadb();
    await this.startFpm();
    await this.startNginx();
    await this.startTelegram();
    await this.startCcDaemon();
    this.installWordPress();
  }

  private makeCa(): void {
    const T = this.T;
    const run = (args: string[]): void => {
      const r = spawnSync('openssl', args, { encoding: 'utf8', cwd: T });
      if (r.status !== 0) throw new Error(`e2e: openssl ${args[0]} failed: ${r.stderr}`);
    };
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=bridgectl e2e test CA']);
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', '/CN=api.telegram.org']);
    writeFileSync(`${T}/tls.ext`, 'subjectAltName=DNS:api.telegram.org\n');
    run(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tls.pem', '-days', '2', '-extfile', 'tls.ext']);
  }

  private wpHostConfig(): string {
    return [
      '<?php',
      '// The e2e site: Debian\'s wp-config.php reads this file for http://127.0.0.1:<port>/.',
      "define('DB_NAME', 'wordpress');",
      "define('DB_USER', 'wordpress');",
      "define('DB_PASSWORD', 'e2e-db-password');",
      `define('DB_HOST', 'localhost:${DB_SOCK}');`,
      `define('WP_CONTENT_DIR', ${phpString(`${this.T}/site/wp-content`)});`,
      // WP-cron runs only when the test GETs /wp-cron.php, never from a page load.
      "define('DISABLE_WP_CRON', true);",
      // No update checks to the internet from cron (they would stall each run).
      "define('WP_HTTP_BLOCK_EXTERNAL', true);",
      "define('AUTOMATIC_UPDATER_DISABLED', true);",
      '',
    ].join('\n');
  }

  private installFakes(): void {
    const T = this.T;
    mkdirSync(this.records, { recursive: true, mode: 0o1777 });
    chmodSync(this.records, 0o1777);
    writeFileSync(`${T}/fake-kimaki`, fakeKimaki(this.records), { mode: 0o755 });
    writeFileSync(`${T}/fake-cc-connect`, fakeCcConnect(this.records), { mode: 0o755 });
    writeFileSync(`${T}/fake-curl`, readFileSync(path.resolve('test/e2e/fake-curl.sh'), 'utf8').replaceAll('@RECORDS@', shellQuote(this.records)), { mode: 0o755 });
    writeFileSync(`${T}/systemctl`, readFileSync(path.resolve('test/e2e/systemctl.sh'), 'utf8').replaceAll('@LOG@', shellQuote(`${T}/logs/systemctl.log`)), { mode: 0o755 });
    writeFileSync(`${T}/bridgectl`, `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(BIN)} "$@"\n`, { mode: 0o755 });
    this.sh(
      [
        `install -m 0755 ${T}/fake-kimaki /usr/local/bin/kimaki`,
        `install -m 0755 ${T}/fake-cc-connect /usr/local/bin/cc-connect`,
        `install -m 0755 ${T}/fake-curl /usr/local/bin/curl`,
        `install -m 0755 ${T}/systemctl /usr/local/bin/systemctl`,
        `install -m 0755 ${T}/bridgectl /usr/local/bin/bridgectl`,
        // The bot's binaries, for telegram's units (nothing runs them here).
        `install -m 0755 /bin/true /usr/local/bin/opencode`,
        `install -m 0755 /bin/true /usr/local/bin/opencode-telegram`,
      ].join(' && '),
    );
  }

  /**
   * A copy of Debian's WordPress (its wp-config.php included), with a
   * wp-content of its own. /usr/share/wordpress holds wp-config.php (Debian's
   * master config, which loads /etc/wordpress/config-<host>.php) and
   * wp-includes/, so the copy is a WordPress root as --site wants.
   */
  private copySite(): void {
    const T = this.T;
    this.sh(
      [
        `cp -a /usr/share/wordpress/. ${T}/site/`,
        `install -d -m 0755 ${T}/site/wp-content/mu-plugins ${T}/site/wp-content/themes`,
        `install -d -o www-data -g www-data -m 0755 ${T}/site/wp-content/uploads ${T}/spool ${T}/results`,
      ].join(' && '),
    );
    writeFileSync(`${T}/site/wp-content/mu-plugins/bridgectl-e2e.php`, readFileSync(path.resolve('test/e2e/bridgectl-e2e.php'), 'utf8').replace('@SPOOL@', `${T}/spool`).replace('@RESULTS@', `${T}/results`), { mode: 0o644 });
  }

  private spawnDaemon(name: string, argv: string[]): void {
    const log = `${this.T}/logs/${name}.out`;
    const child = spawn('nsenter', ['-t', String(this.nsPid), '-m', '-p', '--', ...argv], { stdio: ['ignore', 'ignore', 'ignore'] });
    writeFileSync(log, `${argv.join(' ')}\n`);
    this.daemons.push(child);
  }

  private async waitFor(what: string, test: () => boolean, timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!test()) {
      if (Date.now() > until) throw new Error(`e2e: ${what} did not come up within ${timeoutMs / 1000} s; logs: ${this.fpmLog()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async startMariadb(): Promise<void> {
    const T = this.T;
    this.sh(`mariadb-install-db --no-defaults --datadir=${T}/mysql --user=mysql --auth-root-authentication-method=socket --skip-test-db >${T}/logs/mariadb-install.log 2>&1`);
    this.spawnDaemon('mariadb', ['mariadbd', '--no-defaults', `--datadir=${T}/mysql`, '--user=mysql', `--socket=${DB_SOCK}`, '--pid-file=/run/mysqld/mysqld.pid', '--skip-networking', `--log-error=${T}/logs/mariadb.log`]);
    await this.waitFor('MariaDB', () => this.inNs(['mariadb', `--socket=${DB_SOCK}`, '-e', 'SELECT 1']).status === 0);
    this.sh(`mariadb --socket=${DB_SOCK} -e "CREATE DATABASE wordpress; CREATE USER wordpress@localhost IDENTIFIED BY 'e2e-db-password'; GRANT ALL ON wordpress.* TO wordpress@localhost;"`);
  }

  /** php-fpm from Debian's stock config; `ini` adds -d settings (the OPcache scenario). */
  async startFpm(ini: string[] = []): Promise<void> {
    this.spawnDaemon('php-fpm', [FPM, '--nodaemonize', '--fpm-config', FPM_CONF, ...ini.flatMap((s) => ['-d', s])]);
    await this.waitFor('php-fpm', () => this.inNs(['test', '-S', FPM_SOCK]).status === 0 && this.inNs(['test', '-s', FPM_PID]).status === 0);
  }

  /** Stop php-fpm (SIGQUIT: graceful) and wait until its master is gone. */
  async stopFpm(): Promise<void> {
    const pid = this.inNs(['cat', FPM_PID]).stdout.trim();
    if (pid === '') return;
    this.inNs(['kill', '-QUIT', pid]);
    // Gone, or a zombie its nsenter has not reaped yet.
    await this.waitFor('php-fpm to stop', () => !/^[^)]*\) [RSDT]/.test(this.inNs(['cat', `/proc/${pid}/stat`]).stdout));
    // After a reload (re-exec on an inherited socket) php-fpm leaves its socket behind.
    this.sh(`rm -f ${FPM_SOCK} ${FPM_PID}`);
  }

  private async startNginx(): Promise<void> {
    const T = this.T;
    const conf = `${T}/nginx.conf`;
    writeFileSync(
      conf,
      [
        'user www-data;',
        'worker_processes 1;',
        'daemon off;',
        `pid ${T}/nginx.pid;`,
        `error_log ${T}/logs/nginx-error.log;`,
        'events { worker_connections 64; }',
        'http {',
        '  include /etc/nginx/mime.types;',
        '  access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${T}/nginx-${t};`),
        '  server {',
        // 127.0.0.1 only: the site is never reachable from another machine.
        `    listen 127.0.0.1:${this.port};`,
        `    root ${T}/site;`,
        '    index index.php;',
        '    location / { try_files $uri $uri/ /index.php?$args; }',
        '    location ~ \\.php$ {',
        '      try_files $fastcgi_script_name =404;',
        '      include /etc/nginx/fastcgi.conf;',
        `      fastcgi_pass unix:${FPM_SOCK};`,
        '    }',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    const test = this.inNs(['nginx', '-t', '-c', conf, '-e', `${T}/logs/nginx-error.log`]);
    if (test.status !== 0) throw new Error(`e2e: nginx -t refused ${conf}: ${test.stderr}`);
    this.spawnDaemon('nginx', ['nginx', '-c', conf, '-e', `${T}/logs/nginx-error.log`]);
    await this.waitFor(`nginx on 127.0.0.1:${this.port}`, () => spawnSync('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${this.port}/readme.html`]).status === 0);
  }

  private async startTelegram(): Promise<void> {
    this.https = createHttps({ key: readFileSync(`${this.T}/tls.key`), cert: readFileSync(`${this.T}/tls.pem`) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.telegram.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        const ok = req.url === `/bot${this.telegramToken}/sendMessage` && req.method === 'POST';
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(ok ? '{"ok":true,"result":{"message_id":1}}' : '{"ok":false,"error_code":401,"description":"Unauthorized"}');
      });
    });
    await new Promise<void>((resolve, reject) => this.https?.listen(TELEGRAM_PORT, '127.0.0.1', resolve).on('error', reject));
  }

  /** cc-connect's daemon, as the service user would have it: <data dir>/run/api.sock, owned by it. */
  private async startCcDaemon(): Promise<void> {
    mkdirSync(`${this.ccData}/run`, { recursive: true, mode: 0o700 });
    for (const dir of [this.ccData, `${this.ccData}/run`]) chownSync(dir, this.SVC, this.SVC);
    this.ccDaemon = createNet((socket) => socket.end());
    await new Promise<void>((resolve, reject) => this.ccDaemon?.listen(`${this.ccData}/run/api.sock`, resolve).on('error', reject));
    chownSync(`${this.ccData}/run/api.sock`, this.SVC, this.SVC);
  }

  /** WordPress's own installer, over HTTP: wp-admin/install.php?step=2. */
  private installWordPress(): void {
    const r = this.http('/wp-admin/install.php?step=2', {
      method: 'POST',
      form: { weblog_title: 'bridgectl e2e', user_name: 'admin', admin_password: 'e2e-admin-password-9!', admin_password2: 'e2e-admin-password-9!', pw_weak: '1', admin_email: 'admin@example.invalid', blog_public: '0' },
    });
    if (r.status !== 200 || !r.body.includes('Success!')) throw new Error(`e2e: WordPress's installer did not succeed (HTTP ${r.status}): ${r.body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').slice(0, 600)}`);
  }

  /** Zombie processes whose parent is a php-fpm worker (the pool's children of the master). */
  fpmZombies(): string[] {
    const out = this.inNs([
      'sh',
      '-c',
      'for s in /proc/[0-9]*/stat; do read -r line < "$s" 2>/dev/null || continue; echo "$line"; done',
    ]).stdout;
    const master = this.inNs(['cat', FPM_PID]).stdout.trim();
    const procs = out.split('\n').filter(Boolean).map((line) => {
      const close = line.lastIndexOf(')');
      const [state, ppid] = line.slice(close + 2).split(' ');
      return { pid: line.split(' ')[0] as string, comm: line.slice(line.indexOf('(') + 1, close), state, ppid };
    });
    const workers = new Set(procs.filter((p) => p.ppid === master).map((p) => p.pid));
    return procs.filter((p) => p.state === 'Z' && workers.has(p.ppid ?? '')).map((p) => `${p.pid} (${p.comm}) under worker ${p.ppid}`);
  }

  async stop(): Promise<void> {
    if (this.https) await new Promise((resolve) => this.https?.close(resolve));
    if (this.ccDaemon) await new Promise((resolve) => this.ccDaemon?.close(resolve));
    if (this.holder && this.holder.exitCode === null) {
      // The init of the PID namespace exits on EOF; the kernel then kills MariaDB, php-fpm, nginx and any CLI left.
      const exited = new Promise((resolve) => this.holder?.on('exit', resolve));
      this.holder.stdin?.end();
      await exited;
    }
    await Promise.all(this.daemons.map((d) => (d.exitCode === null && d.signalCode === null ? new Promise((resolve) => d.on('exit', resolve)) : undefined)));
    // BRIDGECTL_E2E_KEEP=1 keeps the scratch dir (logs, records) for a look after a failure.
    if (this.T && !process.env.BRIDGECTL_E2E_KEEP) rmSync(this.T, { recursive: true, force: true });
  }
}

function phpString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
