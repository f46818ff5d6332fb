// Where the installed package lives, so that files shipped beside the compiled code
// (the Python agent, examples) are found by path whether run from the repo or from npm.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: this file is compiled to <root>/dist/src/paths.js. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const AGENT_DIR = join(PACKAGE_ROOT, 'agent');
export const EXAMPLES_DIR = join(PACKAGE_ROOT, 'examples');
