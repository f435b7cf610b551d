import { Stack, prerequisites } from './stack.js';

const missing = prerequisites();
const stack = new Stack();

(missing.length === 0 ? describe : describe.skip)('e2e smoke', () => {
  beforeAll(async () => {
    await stack.start();
  }, 180_000);
  afterAll(async () => {
    await stack.stop();
  });
  it('site loads', async () => {
    const r = stack.http('/');
    expect(r.status).toBe(200);
  });
});
