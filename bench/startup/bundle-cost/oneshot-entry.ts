// src/cli.ts's one-shot branch alone (no worker, no `seed` subcommand): what
// dist/seedwrap.cjs would cost an action if nothing else were in the file.
import { main } from '../../../src/wrapper/main.ts';

const controller = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => controller.abort(sig));
const io = { cwd: process.cwd(), env: process.env, stdout: 'inherit', stderr: process.stderr, stdin: 'inherit', signal: controller.signal } as const;
main(process.argv.slice(2), io).then((code) => { process.exitCode = code; });
