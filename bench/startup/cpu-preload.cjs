// Preloaded with -r: writes the process's own CPU ms (user+sys) to fd 3 at exit.
process.on('exit', () => { const u = process.cpuUsage(); require('fs').writeSync(3, `${(u.user + u.system) / 1000}\n`); });
