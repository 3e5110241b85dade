// Support shared by the node integration tests (run by `node --test`): loading the npm peers,
// timeouts, starting tests/support/test_server and reading its port, and Chromium's launch settings.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

export const READY_TIMEOUT = 30_000;
export const IO_TIMEOUT = 10_000;
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                              '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function requireModule(name) {
  try {
    return await import(name);
  } catch (e) {
    throw new Error(`node module '${name}' is missing: run scripts/setup.sh test ` +
                    `(npm ci in tests/integration): ${e.message}`);
  }
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// tests/support/test_server: started with flags, its port read from its "port N" line.
export async function startServer(...flags) {
  const bin = process.env.HERALD_TEST_SERVER;
  if (!bin) throw new Error('HERALD_TEST_SERVER is not set; run through ctest');
  const proc = spawn(bin, flags.map(String), { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { proc, stderr: '', exited: once(proc, 'exit') };
  proc.stderr.on('data', (d) => { server.stderr += d; });
  server.port = await withTimeout(new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /^port (\d+)$/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.on('exit', (code) => reject(new Error(`test server exited (${code}) before listening:\n${server.stderr}`)));
    proc.on('error', reject);
  }), READY_TIMEOUT, "the test server's port line");
  server.alive = () => proc.exitCode === null && proc.signalCode === null;
  // SIGTERM and the exit code (0 for a graceful stop); SIGKILL when it does not stop in time.
  server.stop = async () => {
    if (!server.alive()) return proc.exitCode;
    proc.kill('SIGTERM');
    try {
      const [code] = await withTimeout(server.exited, 15_000, 'the test server to stop');
      return code;
    } catch (e) {
      proc.kill('SIGKILL');
      throw e;
    }
  };
  return server;
}


// A page of tests/integration/pages/ in headless Chromium, served by a fresh test server (--static) so
// the page's connections are same-origin. Returns { server, page, inPage(fn, ...args), close() }: inPage
// runs one of the page's window functions; close() ends the browser and the server, which must exit 0.
export async function openTestPage(pageFile) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh test (apt chromium)`);
  const { chromium } = await requireModule('playwright-core');
  const pages = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pages');
  const server = await startServer('--threads', 2, '--static', pages);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-chromium-'));
  let context;
  const close = async () => {
    try {
      if (context) await withTimeout(context.close(), 30_000, 'Chromium to close');
    } finally {
      fs.rmSync(userDataDir, { recursive: true, force: true });
      const code = await server.stop();
      if (code !== 0) throw new Error(`test server exited with ${code} on SIGTERM\n${server.stderr}`);
    }
  };
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
      env: { ...process.env, NO_PROXY: '*', no_proxy: '*' },
    });
    const page = context.pages()[0] ?? await context.newPage();
    page.setDefaultTimeout(IO_TIMEOUT * 3);
    const pageUrl = `http://127.0.0.1:${server.port}/static/${pageFile}`;
    const response = await page.goto(pageUrl);
    if (response.status() !== 200) throw new Error(`the test page was not served: ${pageUrl}`);
    const inPage = (fn, ...args) =>
      withTimeout(page.evaluate(([name, a]) => window[name](...a), [fn, args]), IO_TIMEOUT * 3, `page ${fn}()`);
    return { server, page, inPage, close };
  } catch (e) {
    await close().catch(() => {});
    throw e;
  }
}
