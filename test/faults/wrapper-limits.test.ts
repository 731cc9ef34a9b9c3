/**
 * Issue 10 item 9: `--rustc-output-format` held a whole stderr line in memory
 * at about 3× its size (a 160 MB line: 833 MB RSS). A line past the cap is
 * forwarded raw and the action fails. Peak memory is read with GNU time's %M
 * (a size, not a timing).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { MAX_RUSTC_LINE_BYTES } from '../../src/wrapper/child.ts';
import { tempDir } from '../helpers/tmp.ts';
import { BUNDLE, NODE } from './helpers.ts';

const LINE = 160_000_000;

describe.skipIf(!existsSync('/usr/bin/time'))('--rustc-output-format and a huge stderr line', () => {
  it(`a ${LINE}-byte JSON line is forwarded raw after one line naming the ${MAX_RUSTC_LINE_BYTES}-byte limit, exit 1, RSS well under the line's size`, async () => {
    const dir = tempDir();
    const child = `{ printf '{"rendered":"'; head -c ${LINE} /dev/zero | tr '\\0' a; printf '"}\\n'; } >&2`;
    const r = await execa('/usr/bin/time', ['-f', '%M', '-o', join(dir, 'rss'), NODE, '--', BUNDLE, '--rustc-output-format', 'rendered', '--stderr-file', 'err', '--', 'sh', '-c', child], {
      cwd: dir,
      reject: false,
      timeout: 120_000,
    });
    expect(r.exitCode).toBe(1);
    const rssKiB = Number(readFileSync(join(dir, 'rss'), 'utf8').trim().split('\n').pop());
    expect(rssKiB * 1024).toBeLessThan(LINE * 1.5);
    const head = Buffer.alloc(200);
    const { openSync, readSync, closeSync } = await import('node:fs');
    const fd = openSync(join(dir, 'err'), 'r');
    readSync(fd, head, 0, 200, 0);
    closeSync(fd);
    const first = head.toString('latin1').split('\n')[0]!;
    expect(first).toBe(`seedwrap: --rustc-output-format: a line of rustc's stderr is longer than ${MAX_RUSTC_LINE_BYTES} bytes; it and the rest of stderr are forwarded unprocessed`);
    expect(statSync(join(dir, 'err')).size).toBe(first.length + 1 + '{"rendered":"'.length + LINE + '"}\n'.length);
  });
});
