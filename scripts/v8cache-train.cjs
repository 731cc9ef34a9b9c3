// Build time only (scripts/build.mjs, trainCodeCache): loaded with
// `node --require` into one training action, never by the bundle. Records
// every lazy chunk the bundle's loader compiles through node:vm and, as the
// process ends, writes V8's code cache of each (with the functions the action
// ran, compiled) to $SEEDWRAP_V8CACHE_OUT/seedwrap-chunk-N.bin.
'use strict';
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const vm = require('node:vm');

const out = process.env.SEEDWRAP_V8CACHE_OUT;
const scripts = [];
const Script = vm.Script;
vm.Script = class extends Script {
  constructor(code, options) {
    super(code, options);
    const name = options?.filename ?? '';
    if (/^seedwrap-chunk-\d+$/.test(name)) scripts.push([name, this]);
  }
};
process.on('exit', () => {
  for (const [name, script] of scripts) writeFileSync(join(out, `${name}.bin`), script.createCachedData());
});
