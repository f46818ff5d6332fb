// The page: one HTML document with the bundled script (dist/web/app.js, built by
// scripts/build-web.mjs with esbuild) inline, so the token-bearing first request is the
// only one that needs the token in its URL and no file is fetched from anywhere else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';

export const BUNDLE = join(PACKAGE_ROOT, 'dist', 'web', 'app.js');

let bundle: string | undefined;

/** The bundle, read once; a checkout built with tsc alone lacks it. */
export function pageScript(): string {
  if (bundle === undefined) {
    try {
      // "</script" inside a string would end the element early
      bundle = readFileSync(BUNDLE, 'utf8').replace(/<\/script/gi, '<\\/script');
    } catch {
      throw new UserError(`the web page is not built (${BUNDLE} is missing)`, 'run `npm run build`');
    }
  }
  return bundle;
}

export function pageHtml(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>spyglass</title>
</head>
<body>
<div id="app"></div>
<script nonce="${nonce}">${pageScript()}</script>
</body>
</html>
`;
}
