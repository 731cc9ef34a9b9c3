import { run } from '../src/cli.ts';

// Only this shim decides the process's exit code. Until run() settles it is 1,
// so an event loop that empties early can never look like success.
let settled = false;
process.exitCode = 1;
process.on('exit', () => {
  if (!settled) process.stderr.write('seedwrap: internal error: exited before the command finished\n');
});
run(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (err: unknown) => {
    settled = true;
    process.stderr.write(`seedwrap: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
  },
);
