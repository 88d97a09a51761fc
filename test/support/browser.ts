import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

/** Debian's chromium (apt-get install chromium chromium-driver), which `.ci/run` installs. */
export const CHROMIUM = process.env.WRIT_CHROMIUM ?? '/usr/bin/chromium';

// Without the background-networking flags Chromium keeps dialling Google on a closed network.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Why browser tests cannot run here, or undefined when they can. On a developer's machine without
 * Chromium they are skipped with this reason; in CI (`CI` set) they run and fail instead.
 */
export function browserUnavailable(): string | undefined {
  if (existsSync(CHROMIUM) || process.env.CI) return undefined;
  return `no Chromium at ${CHROMIUM}: apt-get install chromium chromium-driver, or set WRIT_CHROMIUM`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}
