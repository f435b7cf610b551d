/** installer/lib/access.ts: the one "writable by others" rule. */
import { onlyOwnersCanWrite, writableByOthers } from '../../installer/lib/access.js';

it('writable by others: a group or other write bit, whatever else is set', () => {
  expect([0o755, 0o700, 0o1755, 0o4755, 0o555].map(writableByOthers)).toEqual([false, false, false, false, false]);
  expect([0o775, 0o757, 0o1777, 0o2770, 0o020, 0o002].map(writableByOthers)).toEqual([true, true, true, true, true, true]);
});

it('only the owners can write: one of them owns it and no group or other may write', () => {
  expect(onlyOwnersCanWrite({ uid: 0, mode: 0o755 }, [0])).toBe(true);
  expect(onlyOwnersCanWrite({ uid: 1000, mode: 0o700 }, [0, 1000])).toBe(true);
  expect(onlyOwnersCanWrite({ uid: 1000, mode: 0o755 }, [0])).toBe(false);
  expect(onlyOwnersCanWrite({ uid: 0, mode: 0o775 }, [0])).toBe(false);
  expect(onlyOwnersCanWrite({ uid: 0, mode: 0o1777 }, [0])).toBe(false);
  expect(onlyOwnersCanWrite({ uid: 0, mode: 0o755 }, [])).toBe(false);
});
