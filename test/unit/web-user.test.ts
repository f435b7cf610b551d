import { nodeHost } from '../../installer/facts/host.js';
import { parsePoolUsers } from '../../installer/facts/web-user.js';
import { resolveWebUser } from '../../installer/identity/web-user.js';
import { sandbox } from '../helpers/sandbox.js';

const pool = (user: string): string => `[www]\n; user = commented-out\nuser = ${user}\ngroup = ${user}\nlisten = /run/php/fpm.sock\n`;

describe('resolveWebUser', () => {
  it('takes --web-user first', () => {
    const root = sandbox({ 'etc/php/8.2/fpm/pool.d/www.conf': pool('nginx') });
    expect(resolveWebUser('apache', nodeHost(root, {}))).toEqual({ name: 'apache', source: 'flag', others: ['nginx'] });
  });

  it('then env WEB_USER (the flag still wins), before the PHP-FPM pools', () => {
    const root = sandbox({ 'etc/php/8.2/fpm/pool.d/www.conf': pool('nginx') });
    expect(resolveWebUser(undefined, nodeHost(root, { WEB_USER: 'apache' }))).toEqual({ name: 'apache', source: 'env', others: ['nginx'] });
    expect(resolveWebUser('lighttpd', nodeHost(root, { WEB_USER: 'apache' })).name).toBe('lighttpd');
    expect(resolveWebUser(undefined, nodeHost(root, { WEB_USER: '' })).source).toBe('php-fpm');
  });

  it("then the PHP-FPM pools' user, newest PHP first, pool files in name order", () => {
    const root = sandbox({
      'etc/php/7.4/fpm/pool.d/www.conf': pool('old'),
      'etc/php/8.10/fpm/pool.d/b.conf': pool('second'),
      'etc/php/8.10/fpm/pool.d/a.conf': pool('first'),
      'etc/php/8.10/fpm/pool.d/a.conf.disabled': pool('ignored'),
      'etc/php/8.2/fpm/pool.d/www.conf': pool('middle'),
    });
    expect(resolveWebUser(undefined, nodeHost(root, {}))).toEqual({
      name: 'first',
      source: 'php-fpm',
      pool: '/etc/php/8.10/fpm/pool.d/a.conf',
      others: ['second', 'middle', 'old'],
    });
  });

  it('else www-data', () => {
    expect(resolveWebUser(undefined, nodeHost(sandbox(), {}))).toEqual({ name: 'www-data', source: 'default', others: [] });
    const root = sandbox({ 'etc/php/8.2/fpm/pool.d/www.conf': '[www]\nuser = $pool\n' });
    expect(resolveWebUser('', nodeHost(root, {})).name).toBe('www-data');
  });
});

describe('parsePoolUsers', () => {
  it('reads ini values, skipping comments and quotes', () => {
    expect(parsePoolUsers('user=a\n  user = "b"  ; trailing\n#user = c\n;user = d\nlisten.owner = e\r\nuser = f\r\n')).toEqual(['a', 'b', 'f']);
  });
});
