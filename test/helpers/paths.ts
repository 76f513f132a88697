/**
 * Paths for tests. Test files run compiled from dist/test/, so paths are found from the repository
 * root (the nearest folder above this file holding a package.json), never from the working folder.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The repository root: the nearest ancestor folder of this file that holds a package.json. */
export function repoRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The shared folder next to the repository root (`<repo>/../shared`): vectors and fixtures. */
export function sharedDir(): string {
  return resolve(repoRoot(), '..', 'shared');
}
