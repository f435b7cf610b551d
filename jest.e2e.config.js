// The real-WordPress tier (test/e2e, `npm run test:e2e`): the same transform
// as jest.config.js, only test/e2e, long timeouts. Run with --runInBand: the
// tier starts one MariaDB/php-fpm/nginx stack and its scenarios share it.
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 300000,
};
