// Debian's headless Chromium for the tests (and benchmarks) that drive a page the way a
// person would. playwright-core cannot download its own browsers here, so the system
// one is launched (scripts/install-test-deps.sh installs it).
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** A describe()'s skip option: false when Chromium is installed, else why not. */
export const chromiumSkip: false | string = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (scripts/install-test-deps.sh)`;

/**
 * A headless Chromium without the background traffic (updates, sync, first-run pages)
 * that would make a page's request list or timing depend on the network. `extraArgs`
 * adds flags (e.g. `--js-flags=--expose-gc` for heap measurements).
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}
