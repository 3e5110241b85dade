// Support shared by the node integration tests (run by `node --test`): loading the npm peers,
// timeouts, starting tests/support/test_server and reading its port, and Chromium's launch settings.
import { spawn } from 'node:child_process';
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

