// SPDX-License-Identifier: Apache-2.0
// Starts `mmfree serve` on a free loopback port for the SDK and scale-out tests.
import { spawn } from 'node:child_process';

export const CLI = process.env.MMFREE_CLI;
export const MODEL = process.env.MMFREE_DEMO_MODEL;
if (!CLI || !MODEL) throw new Error('set MMFREE_CLI (the mmfree binary) and MMFREE_DEMO_MODEL (a .gguf model)');

// Resolves once the server said "ready"; rejects if it exits first or takes over 60 s.
export function startServer(extraArgs = [], env = {}) {
  const args = ['serve', '-m', MODEL, '--backend', 'cpu', '--port', '0', ...extraArgs];
  const proc = spawn(CLI, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`mmfree serve did not get ready:\n${out}${err}`)); }, 60000);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`mmfree serve exited (${code}):\n${out}${err}`)); });
    proc.stdout.on('data', (d) => {
      out += d;
      const listening = out.match(/listening on (http:\/\/\S+)/);
      if (listening && /ready:/.test(out)) {
        clearTimeout(timer);
        proc.removeAllListeners('exit');
        const url = listening[1];
        resolve({
          url,
          port: Number(new URL(url).port),
          proc,
          stderr: () => err,
          // SIGTERM, then the exit status (0 = a clean shutdown).
          stop: () => new Promise((done) => { proc.on('exit', (code, sig) => done(code ?? sig)); proc.kill('SIGTERM'); }),
        });
      }
    });
  });
}

// A Prometheus gauge or counter without labels; -1 when absent.
export function metric(text, name) {
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : -1;
}

export async function metrics(url) {
  return (await fetch(`${url}/metrics`)).text();
}
