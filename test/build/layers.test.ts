// The layer rules of lib/ (.dependency-cruiser.cjs, docs/architecture.md) hold for the tree, and a
// forbidden import really fails the check: a scratch tree with one violation of each kind must be
// reported rule by rule.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const depcruise = path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const config = path.join(root, '.dependency-cruiser.cjs');

function cruise(cwd: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [depcruise, 'lib', '--config', config, '--no-progress'], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** "rule: from -> to" for each violation in depcruise's report. */
function violations(out: string): string[] {
  return [...out.matchAll(/^\s*error ([\w-]+): (\S+) →\s*(\S+)/gm)].map((m) => `${m[1]}: ${m[2]} -> ${m[3]}`);
}

test('lib/ follows the layer rules', () => {
  const { status, out } = cruise(root);
  expect(violations(out)).toEqual([]);
  expect(out).toMatch(/no dependency violations found/);
  expect(status).toBe(0);
}, 60_000);

test('a forbidden import fails the check, naming its rule', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-layers-'));
  try {
    const files: Record<string, string> = {
      'lib/core/table.ts': `export const table = 1;\n`,
      'lib/core/native.ts': `export const native = 1;\n`,
      'lib/train/trainer.ts': `import { table } from '../core/table';\nexport const trainer = table;\n`,
      // data reaching up into train
      'lib/data/split.ts': `import { trainer } from '../train/trainer';\nexport const split = trainer;\n`,
      // core reaching up into data
      'lib/core/config.ts': `import { split } from '../data/split';\nexport const config = split;\n`,
      // a cycle inside a layer
      'lib/eval/a.ts': `import { b } from './b';\nexport const a = () => b;\n`,
      'lib/eval/b.ts': `import { a } from './a';\nexport const b = () => a;\n`,
      // a module importing an entry point
      'lib/serving/recommender.ts': `import { table } from '../index';\nexport const r = table;\n`,
      'lib/index.ts': `export * from './core/table';\n`,
      // a loose module at lib/'s root
      'lib/loose.ts': `export const loose = 1;\n`,
      'lib/models/mf.ts': `import { loose } from '../loose';\nexport const mf = loose;\n`,
      'tsconfig.build.json': JSON.stringify({
        compilerOptions: { module: 'commonjs', moduleResolution: 'node', strict: true },
        include: ['lib/**/*.ts'],
      }),
    };
    for (const [f, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), text);
    }
    const { status, out } = cruise(dir);
    expect(status).not.toBe(0);
    expect(violations(out)).toEqual(
      expect.arrayContaining([
        'layer-data: lib/data/split.ts -> lib/train/trainer.ts',
        'layer-core: lib/core/config.ts -> lib/data/split.ts',
        'no-circular: lib/eval/a.ts -> lib/eval/b.ts',
        'entry-points-not-imported: lib/serving/recommender.ts -> lib/index.ts',
        'no-loose-modules: lib/models/mf.ts -> lib/loose.ts',
      ]),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
