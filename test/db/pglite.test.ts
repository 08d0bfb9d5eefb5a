import { describe, expect, it } from 'vitest';
import { openPGlite } from '../../src/db/pglite.js';

describe('the embedded database', () => {
  it('starts with 16MB of shared buffers, not the 128MB Postgres zeroes on every start', async () => {
    const pglite = await openPGlite();
    try {
      const { rows } = await pglite.query<{ shared_buffers: string }>('SHOW shared_buffers');
      expect(rows).toEqual([{ shared_buffers: '16MB' }]);
      // The default start parameters stay: PGlite needs them (single-user mode among them).
      const { rows: path } = await pglite.query<{ search_path: string }>('SHOW search_path');
      expect(path).toEqual([{ search_path: 'public' }]);
    } finally {
      await pglite.close();
    }
  });
});
