/**
 * Headless Chromium for the browser tests and the viewer screenshot script: Debian's `/usr/bin/chromium` (or
 * `WRZ_CHROMIUM`), driven by `puppeteer-core` (which downloads no browser). Launched with the flags that work as
 * root in a container, a fresh profile folder and no network services. Tests skip, saying why, when it is absent.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";

export const CHROMIUM = process.env.WRZ_CHROMIUM ?? "/usr/bin/chromium";
/** `it(..., { skip: noChromium }, ...)`: false when the browser is there, else the reason. */
export const noChromium: string | false = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (apt-get install -y --no-install-recommends chromium, or set WRZ_CHROMIUM)`;

export async function launchChromium(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), "wrz-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
