// Starts the real Atelier app under Xvfb through tauri-driver (which spawns WebKitWebDriver) and
// connects a WebDriver session to its window.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { remote } from 'webdriverio';

export const repoRoot = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const artifacts = path.join(repoRoot, 'artifacts', 'screenshots');

const appBinary = process.env.ATELIER_APP_BINARY ?? path.join(repoRoot, 'target', 'debug', 'atelier-app');

async function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
}

/** Every process below `root` (tauri-driver starts WebKitWebDriver, which starts the app), from /proc. */
function descendants(root) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  const found = [];
  const queue = [root];
  while (queue.length) {
    for (const child of children.get(queue.shift()) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

const isApp = (pid) => {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
    return exe === path.resolve(appBinary) || comm === path.basename(appBinary).slice(0, 15);
  } catch {
    return false;
  }
};

/** The app processes this launch's tauri-driver started (normally exactly one). */
function appPids(driverPid) {
  return descendants(driverPid).filter(isApp);
}

function start(command, args, env, extraStdio = []) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', ...extraStdio] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  child.log = () => log;
  return child;
}

// Xvfb picks a free display and writes its number to fd 3 once it accepts clients: no guessed display
// number, no fixed sleep (a first start on a cold machine compiles its keymap and can take seconds).
async function startXvfb(timeoutMs) {
  const xvfb = start('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x900x24', '-nolisten', 'tcp'], {}, ['pipe']);
  const display = await new Promise((resolve, reject) => {
    let written = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not start in ${timeoutMs} ms: ${xvfb.log()}`)), timeoutMs);
    xvfb.stdio[3].on('data', (d) => {
      written += d;
      if (written.includes('\n')) {
        clearTimeout(timer);
        resolve(`:${written.trim()}`);
      }
    });
    xvfb.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}): ${xvfb.log()}`));
    });
  });
  return { xvfb, display };
}

/** Launches the app and returns a connected WebDriver browser plus a `close()` that ends everything.
 *  `env` reaches the app (tauri-driver passes its environment on): e.g. ATELIER_DB for a library of its own.
 *  A launch that fails (WebKitWebDriver's first start on a cold machine can miss its own deadline) is
 *  retried with fresh processes; every failure's driver log goes to stderr so CI shows why. */
export async function launchApp({ env = {}, display = process.env.DISPLAY, attempts = 3 } = {}) {
  mkdirSync(artifacts, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchOnce(env, display);
    } catch (e) {
      console.error(`launch attempt ${attempt} of ${attempts} failed: ${e.message}`);
      if (attempt >= attempts) throw e;
      await sleep(1000);
    }
  }
}

async function launchOnce(env, display) {
  const children = [];
  const close = async () => {
    for (const child of children.reverse()) child.kill('SIGTERM');
    await sleep(200);
  };
  let driver = null;
  try {
    if (!display) {
      const started = await startXvfb(30_000);
      children.push(started.xvfb);
      display = started.display;
    }
    const port = 4444 + Math.floor(Math.random() * 500);
    const nativePort = port + 1000;
    driver = start('tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], {
      DISPLAY: display,
      ...env,
    });
    children.push(driver);
    await waitForPort(port, 15_000);
    const browser = await remote({
      hostname: '127.0.0.1',
      port,
      logLevel: 'warn',
      connectionRetryCount: 0,
      capabilities: {
        'tauri:options': { application: appBinary },
        // WebKitWebDriver speaks classic WebDriver only, no BiDi.
        'wdio:enforceWebDriverClassic': true,
      },
    });
    const launched = driver;
    return {
      browser,
      driverLog: () => launched.log(),
      /** The PIDs of the app this launch started, e.g. to kill it the hard way. */
      appPids: () => appPids(launched.pid),
      close: async () => {
        // After the app was killed the session may never answer: give it a few seconds, then move on.
        await Promise.race([browser.deleteSession().catch(() => {}), sleep(5000)]);
        await close();
      },
    };
  } catch (e) {
    await close();
    throw new Error(`${e.message}\n--- tauri-driver log ---\n${driver?.log() ?? '(not started)'}`);
  }
}
