// A bare Node wrapper: spawn with seedwrap's stdio, forward stderr, exit with the code.
const { spawn } = require('node:child_process');
const child = spawn(process.argv[2], process.argv.slice(3), { stdio: ['inherit', 'inherit', 'pipe'] });
child.stderr.on('data', (b) => process.stderr.write(b));
child.on('close', (code) => { process.exitCode = code ?? 1; });
