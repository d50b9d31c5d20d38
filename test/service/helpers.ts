// Model files, seen files and a keep-alive HTTP client for the service tests (real sockets on loopback).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

import { MatrixFactorization, Vocabulary, saveModel } from '../../lib';

export interface Files {
  dir: string;
  model: string;
  seen: string;
}

export const USERS = 30;
export const ITEMS = 200;
export const DIM = 8;

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'recbridge-service-'));
}

/** Saves a model (users u0…, items i0…) to file; a different seed gives different scores. */
export async function writeModel(file: string, seed: number, options: { items?: number; dim?: number } = {}): Promise<void> {
  const items = options.items ?? ITEMS;
  const model = new MatrixFactorization({ users: USERS, items, dim: options.dim ?? DIM, seed, initScale: 1 });
  await saveModel(file, model, {
    vocabularies: {
      users: new Vocabulary(Array.from({ length: USERS }, (_, i) => `u${i}`)),
      items: new Vocabulary(Array.from({ length: items }, (_, i) => `i${i}`)),
    },
  });
}

/** u0 has seen i0…i4; every user has seen i(u); one line names a user the model does not know. */
export function writeSeen(file: string): void {
  const lines = ['u0\ti0', 'u0\ti1', 'u0\ti2', 'u0\ti3', 'u0\ti4', 'stranger\ti1'];
  for (let u = 1; u < USERS; u++) lines.push(`u${u}\ti${u}`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

export async function files(): Promise<Files> {
  const dir = tempDir();
  const f = { dir, model: path.join(dir, 'model.safetensors'), seen: path.join(dir, 'seen.tsv') };
  await writeModel(f.model, 1);
  writeSeen(f.seen);
  return f;
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field in the tests
  json: any;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

export function request(
  url: string,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${route}`,
      {
        method,
        agent,
        headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export const post = (url: string, route: string, body: unknown, headers?: Record<string, string>) =>
  request(url, 'POST', route, body, headers);
export const get = (url: string, route: string) => request(url, 'GET', route);

export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}
