// docs/architecture.md's layer table must say what .dependency-cruiser.cjs enforces.
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

test('the layer table in docs/architecture.md matches the enforced rules', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const config = require(path.join(root, '.dependency-cruiser.cjs')) as { forbidden: { name: string; comment?: string }[] };
  const doc = fs.readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| (\w+) \| `lib\/(\w+)\/`[^|]*\|[^|]*\| ([^|]+) \|$/gm)].map((m) => ({
    layer: m[2],
    allowed:
      m[3].trim() === 'every layer below' || m[3].trim() === 'nothing above it'
        ? m[3].trim()
        : m[3]
            .split(',')
            .map((s) => s.trim())
            .sort(),
  }));
  const rules = config.forbidden.filter((r) => r.name.startsWith('layer-'));
  expect(rows.map((r) => r.layer).sort()).toEqual(rules.map((r) => r.name.slice('layer-'.length)).sort());
  for (const row of rows) {
    const comment = rules.find((r) => r.name === `layer-${row.layer}`)!.comment!;
    const enforced = [...comment.matchAll(/lib\/(\w+)\//g)]
      .map((m) => m[1])
      .filter((l) => l !== row.layer)
      .sort();
    if (row.allowed === 'nothing above it') expect(enforced).toEqual([]);
    else if (row.allowed === 'every layer below') expect(enforced.length).toBe(rows.length - 1);
    else expect(enforced).toEqual(row.allowed);
  }
});
