# -*- coding: utf-8 -*-
# SPDX-License-Identifier: MIT
"""The module_utils' translation of bridgectl's JSON: changed, redaction, before/after from a diff.

Plain unittest, so it runs with Debian's python3 (run.sh) as well as under
ansible-test units.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import random
import unittest

from ansible_collections.bridgectl.wordpress.plugins.module_utils.bridgectl import (
    SECRET_NOTICE, before_after, changed_of, diff_of, redact,
)


def unified(before, after, path='/etc/x.conf', context=3):
    """A diff in bridgectl's shape (headers a/PATH, b/PATH; context 3 unless told)."""
    lines = difflib.unified_diff(before.splitlines(True), after.splitlines(True), 'a' + path, 'b' + path, n=context)
    out = []
    for line in lines:
        out.append(line)
        if not line.endswith('\n'):
            out[-1] += '\n'
            out.append('\\ No newline at end of file\n')
    return ''.join(out)


class ChangedTest(unittest.TestCase):
    def test_top_level_changed_wins(self):
        self.assertFalse(changed_of({'changed': False, 'files': [{'status': 'update'}]}))
        self.assertTrue(changed_of({'changed': True, 'files': []}))

    def test_from_statuses_and_directories(self):
        self.assertFalse(changed_of({'files': [{'status': 'unchanged'}], 'directories': []}))
        self.assertTrue(changed_of({'files': [{'status': 'unchanged'}, {'status': 'remove'}]}))
        self.assertTrue(changed_of({'files': [], 'directories': [{'path': '/d'}]}))


class RedactTest(unittest.TestCase):
    def test_everywhere_longest_first(self):
        doc = {'a': ['x 123:abc y'], 'b': {'c': '123:abcdef'}, 'n': 1}
        self.assertEqual(redact(doc, ['123:abc', '123:abcdef']),
                         {'a': ['x <redacted> y'], 'b': {'c': '<redacted>'}, 'n': 1})


class BeforeAfterTest(unittest.TestCase):
    def check(self, before, after, status='update', context=3):
        entry = {'status': status, 'diff': unified(before, after, context=context), 'content': None if status == 'remove' else after}
        self.assertEqual(before_after(entry), (before, after))

    def test_update_create_remove(self):
        self.check('a\nb\nc\n', 'a\nB\nc\n')
        self.check('', 'new\nfile\n', status='create')
        self.check('old\nfile\n', '', status='remove')

    def test_no_newline_at_end(self):
        self.check('a\nb', 'a\nb\n')
        self.check('a\nb\n', 'a\nc')

    def test_many_hunks_generated(self):
        rng = random.Random(20)
        for dummy in range(300):
            base = ['line %d\n' % i for i in range(rng.randint(0, 40))]
            after = list(base)
            for dummy in range(rng.randint(1, 6)):
                at = rng.randint(0, len(after))
                if after and rng.random() < 0.5:
                    del after[min(at, len(after) - 1)]
                else:
                    after.insert(at, 'new %d\n' % rng.randint(0, 999))
            before, new = ''.join(base), ''.join(after)
            if before != new:
                self.check(before, new)
                # Without context a pure insertion or deletion has a zero-length side.
                self.check(before, new, context=0)

    def test_secret_file_is_a_notice(self):
        entry = {'status': 'update', 'diff': '--- a/t\n+++ b/t\n%s\n' % SECRET_NOTICE, 'content': None}
        self.assertEqual(before_after(entry), (SECRET_NOTICE + '\n', SECRET_NOTICE + '\n'))

    def test_mode_only(self):
        entry = {'status': 'update', 'diff': 'mode 0600 -> 0644 /etc/x\n', 'content': 'same\n'}
        self.assertEqual(before_after(entry), ('same\n', 'same\n'))
        self.assertIn('mode 0600 -> 0644', diff_of({'files': [entry]})[0]['before_header'])

    def test_a_diff_that_does_not_fit_falls_back_to_bridgectl_text(self):
        entry = {'status': 'update', 'diff': unified('a\nb\n', 'a\nc\n'), 'content': 'something else\n'}
        self.assertIsNone(before_after(entry))
        self.assertEqual(diff_of({'files': [entry]}), [{'prepared': entry['diff']}])


if __name__ == '__main__':
    unittest.main()
