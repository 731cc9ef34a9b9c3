// The bench's stand-in for src/cli.ts with the change docs/worker.md asks
// for (oneShotArgv in one-shot mode; src/cli.ts already wires signals), so that
// bench/worker/bazel.mjs can run a worker-style action both ways. Not shipped.
import { readFileSync } from 'node:fs';
import { main } from '../../src/main.ts';
import { oneShotArgv } from '../../src/worker/flags.ts';
import { runWorker } from '../../src/worker/index.ts';

const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
const argv = process.argv.slice(2);
const controller = new AbortController();
for (const sig of FORWARDED) process.on(sig, () => controller.abort(sig));
const sep = argv.indexOf('--');
const worker = (sep < 0 ? argv : argv.slice(0, sep)).includes('--persistent_worker');
const run = worker
  ? runWorker(argv.filter((a) => a !== '--persistent_worker'), {
      stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env, signal: controller.signal,
    })
  : main(oneShotArgv(argv, process.cwd(), (p) => readFileSync(p, 'utf8')), {
      cwd: process.cwd(), env: process.env, stdout: 'inherit', stderr: process.stderr, stdin: 'inherit', signal: controller.signal,
    });
run.then((code) => { process.exitCode = code; });
