// The package's entry points as a consumer sees them: the root and one subpath per area, resolved
// through package.json "exports" from CommonJS and from ESM, with types for TypeScript consumers of
// every module-resolution mode. The app links the checkout as node_modules/recbridge (dist/ is built
// by `pretest`), so this runs in seconds; pack.test.ts covers the packed tarball.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
const AREAS = Object.keys(pkg.exports)
  .filter((k) => k !== '.' && k !== './package.json')
  .map((k) => k.slice(2));

let app: string;

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(() => {
  app = fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-entry-'));
  fs.mkdirSync(path.join(app, 'node_modules'));
  fs.symlinkSync(root, path.join(app, 'node_modules/recbridge'), 'dir');
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
});

afterAll(() => {
  if (app) fs.rmSync(app, { recursive: true, force: true });
});

test('every layer of lib/ but commands is an entry point', () => {
  const layers = fs
    .readdirSync(path.join(root, 'lib'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'commands')
    .map((d) => d.name);
  expect([...AREAS].sort()).toEqual(layers.sort());
});

test('CommonJS and ESM consumers see the same names; the root is the disjoint union of the areas', () => {
  const script = (kind: 'cjs' | 'esm') => {
    const load = kind === 'cjs' ? (specifier: string) => `require(${specifier})` : (specifier: string) => `await import(${specifier})`;
    const body = `
      const areas = ${JSON.stringify(AREAS)};
      const rootMod = ${load("'recbridge'")};
      const out = { root: Object.keys(rootMod).filter((k) => k !== 'default' && k !== '__esModule').sort(), areas: {}, same: true };
      for (const a of areas) {
        const m = ${load("'recbridge/' + a")};
        const names = Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort();
        out.areas[a] = names;
        for (const n of names) if (m[n] !== rootMod[n]) out.same = false;
      }
      console.log(JSON.stringify(out));`;
    return kind === 'cjs' ? node(['-e', body]) : node(['--input-type=module', '-e', body]);
  };
  const cjs = JSON.parse(script('cjs')) as { root: string[]; areas: Record<string, string[]>; same: boolean };
  const esm = JSON.parse(script('esm')) as typeof cjs;
  expect(esm).toEqual(cjs);
  expect(cjs.same).toBe(true);
  const all = Object.values(cjs.areas).flat();
  expect(new Set(all).size).toBe(all.length); // no name is exported by two areas
  expect([...all].sort()).toEqual(cjs.root);
  for (const a of AREAS) expect(cjs.areas[a].length).toBeGreaterThan(0);
  expect(cjs.areas.serving).toContain('Recommender');
  expect(cjs.areas.core).toContain('topK');
}, 60_000);

test('internal modules are not reachable by deep imports', () => {
  const r = execFileSync(
    process.execPath,
    ['-e', `try { require('recbridge/dist/core/native.js'); console.log('loaded') } catch (e) { console.log(e.code) }`],
    {
      cwd: app,
      encoding: 'utf8',
    },
  );
  expect(r.trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
});

test('TypeScript consumers get types for every entry point (node16 CJS and ESM, bundler, node10)', () => {
  const imports = AREAS.map((a, i) => `import * as a${i} from 'recbridge/${a}';`).join('\n');
  const uses = `
    import { topK, EmbeddingTable, Recommender, MatrixFactorization } from 'recbridge';
    import { Interactions } from 'recbridge/data';
    import { Trainer } from 'recbridge/train';
    const t: EmbeddingTable = EmbeddingTable.fromRows([[1, 0], [0, 1]]);
    const r: { indices: Int32Array } = topK(t, [1, 0], 1);
    const i: Interactions = new Interactions({ users: [0], items: [1] });
    export const used = [r, i, Recommender, MatrixFactorization, Trainer, ${AREAS.map((_, i) => `a${i}`).join(', ')}];
    // @ts-expect-error a name that does not exist must not type-check
    import { noSuchExport } from 'recbridge/serving';
    export const missing = noSuchExport;
  `;
  const src = `${imports}\n${uses}`;
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  const modes: Record<string, { module: string; moduleResolution: string; file: string }> = {
    'node16-cjs': { module: 'node16', moduleResolution: 'node16', file: 'consumer.cts' },
    'node16-esm': { module: 'node16', moduleResolution: 'node16', file: 'consumer.mts' },
    bundler: { module: 'esnext', moduleResolution: 'bundler', file: 'consumer.ts' },
    node10: { module: 'commonjs', moduleResolution: 'node10', file: 'consumer.ts' },
  };
  for (const [name, m] of Object.entries(modes)) {
    const dir = path.join(app, `ts-${name}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.symlinkSync(path.join(app, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    fs.writeFileSync(path.join(dir, m.file), src);
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: m.module,
          moduleResolution: m.moduleResolution,
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: [m.file],
      }),
    );
    let out = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? err);
    }
    expect(`${name}: ${out}`).toBe(`${name}: `);
  }
}, 120_000);
