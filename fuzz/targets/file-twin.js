// The file side of the data targets: most inputs go to the synchronous in-memory parsers (fast),
// and one in FILE_EVERY is also written to a file and read by the async loader, so the streaming
// wrapper stays covered and must agree with the in-memory parse on every such input.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const FILE_EVERY = 50;

/** Writes data under a private folder, keeping the base name (format detection reads it). */
function fileWriter() {
  const dir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'recbridge-fuzz-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const made = new Set();
  return (name, data) => {
    const sub = path.join(dir, name.replace(/\W/g, '_'));
    if (!made.has(sub)) fs.mkdirSync(sub, { recursive: true });
    made.add(sub);
    const file = path.join(sub, name);
    fs.writeFileSync(file, data);
    return file;
  };
}

/**
 * Runs the file loader and the in-memory parse; returns the loader's result or throws its error,
 * after checking that both succeeded alike (by summary) or failed alike (same code, and the same
 * message once the path is replaced by the name).
 */
async function differential(load, parse, summary, file, name) {
  let fromFile;
  let fileError = null;
  try {
    fromFile = await load();
  } catch (err) {
    fileError = err;
  }
  let fromMemory;
  let memoryError = null;
  try {
    fromMemory = parse();
  } catch (err) {
    memoryError = err;
  }
  const describe = (err) => (err ? `${err.code || err.name}: ${String(err.message).split(file).join(name)}` : 'ok');
  if (describe(fileError) !== describe(memoryError)) {
    throw new Error(`post-condition: the file loader gave ${describe(fileError)} but the in-memory parse gave ${describe(memoryError)}`);
  }
  if (fileError) throw fileError;
  if (summary(fromFile) !== summary(fromMemory))
    throw new Error('post-condition: the file loader and the in-memory parse gave different results');
  return fromFile;
}

/**
 * The execute function of a data target: the first byte picks a variant ({ name, options }), the
 * rest is the file's text; parse(data, variant) reads it in memory and load(file, variant) from a
 * file (one input in FILE_EVERY, which must agree by summary); check(result) asserts the target's
 * post-conditions on whichever result came back.
 */
function dataExecutor({ variants, parse, load, summary, check }) {
  const writeFile = fileWriter();
  let seq = 0;
  return async function execute(buf) {
    if (buf.length === 0) return;
    const variant = variants[buf[0] % variants.length];
    const data = buf.subarray(1);
    const inMemory = () => parse(data, variant);
    if (seq++ % FILE_EVERY !== 0) return check(inMemory());
    const file = writeFile(variant.name, data);
    return check(await differential(() => load(file, variant), inMemory, summary, file, variant.name));
  };
}

module.exports = { FILE_EVERY, fileWriter, differential, dataExecutor };
