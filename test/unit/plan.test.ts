/**
 * The one rule for a file whose owner bridgectl enforces (the token file,
 * the sudo hop's files): used by both, tested here once.
 */
import { ownedFileChange } from '../../installer/plan/changes.js';

const ROOT_WEB = { uid: 0, gid: 33 };
const on = (uid: number, gid: number) => ({ mode: 0o640, uid, gid });

describe('ownedFileChange', () => {
  it.each([
    ['root-owned, wrong group', on(0, 0)],
    ['owned by another user', on(1000, 33)],
    ['owned by another user and group', on(1000, 1000)],
  ])('as root, any other owner is drift: %s', (_what, current) => {
    const change = ownedFileChange('/etc/bridgectl/telegram.curl', 'same', 'same', 0o640, current, ROOT_WEB, true);
    expect(change.status).toBe('update');
    expect(change.currentOwner).toEqual({ uid: current.uid, gid: current.gid });
  });

  it('as root, the wanted owner is no change', () => {
    expect(ownedFileChange('/f', 'same', 'same', 0o640, on(0, 33), ROOT_WEB, true).status).toBe('unchanged');
  });

  it('unprivileged (it cannot chown), a wrong owner is shown but is no change', () => {
    const change = ownedFileChange('/f', 'same', 'same', 0o640, on(1000, 1000), ROOT_WEB, false);
    expect(change.status).toBe('unchanged');
    expect(change.currentOwner).toEqual({ uid: 1000, gid: 1000 });
  });

  it('a new file has no current owner', () => {
    const change = ownedFileChange('/f', null, 'new', 0o640, undefined, ROOT_WEB, true);
    expect(change).toMatchObject({ status: 'create', owner: ROOT_WEB });
    expect(change.currentOwner).toBeUndefined();
  });
});
