import { existsSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFinal, encodeFinal, FINAL_MAX_AGE_MS, sweepFinals } from '../../src/pipeline/final.ts';
import { restoreArtifacts, stashArtifact } from '../../src/pipeline/outputs.ts';
import { tempDir } from '../helpers/tmp.ts';

describe("the shared rustc's result (final.ts)", () => {
  it('round-trips, and refuses a truncated or unshareable result', () => {
    const bytes = encodeFinal({ header: { v: 1, code: 1, stderr: 3, inputs: [['a.rs', '1:2']], artifacts: [{ path: 'out/x.d' }] }, stderr: Buffer.from('ab\n') });
    const back = decodeFinal(bytes);
    expect('reason' in back ? back.reason : back.stderr.toString()).toBe('ab\n');
    expect(decodeFinal(bytes.subarray(0, bytes.length - 1))).toHaveProperty('reason');
    expect(decodeFinal(Buffer.alloc(2))).toHaveProperty('reason');
    const refused = encodeFinal({ header: { v: 1, code: 0, stderr: 0, inputs: [], artifacts: [], unshareable: 'ICE' }, stderr: Buffer.alloc(0) });
    expect(decodeFinal(refused)).toEqual({ reason: 'the shared rustc cannot share: ICE' });
  });

  it('puts back only missing artifacts, from the hard link taken when rustc reported them', () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, 'out'));
    writeFileSync(join(cwd, 'out', 'a.rlib'), 'rlib');
    writeFileSync(join(cwd, 'out', 'a.rmeta'), 'rmeta');
    const stash = join(cwd, 'stash');
    const arts = [{ path: 'out/a.rlib', stash: stashArtifact(cwd, 'out/a.rlib', stash, 0) }, { path: 'out/a.rmeta', stash: stashArtifact(cwd, 'out/a.rmeta', stash, 1) }];
    const ino = statSync(join(cwd, 'out', 'a.rlib')).ino;
    expect(statSync(arts[0]!.stash!).ino).toBe(ino);
    // Bazel deletes the rlib; the rmeta was rewritten by someone else and is left alone.
    writeFileSync(join(cwd, 'out', 'a.rmeta.new'), 'other');
    renameSync(join(cwd, 'out', 'a.rmeta.new'), join(cwd, 'out', 'a.rmeta'));
    unlinkSync(join(cwd, 'out', 'a.rlib'));
    expect(restoreArtifacts(cwd, arts)).toBe(true);
    expect(statSync(join(cwd, 'out', 'a.rlib')).ino).toBe(ino);
    expect(readFileSync(join(cwd, 'out', 'a.rmeta'), 'utf8')).toBe('other');
    // A missing artifact that was never stashed: the request must compile itself.
    expect(restoreArtifacts(cwd, [{ path: 'out/gone.d' }])).toBe(false);
  });

  it('sweeps results and stashes older than the bound, nothing else', () => {
    const dir = tempDir();
    for (const n of ['k1.done', 'k2.done', 'k1.out.1-a', 'k1.sock', 'k1.msg']) (n.includes('.out.') ? mkdirSync(join(dir, n)) : writeFileSync(join(dir, n), ''));
    const old = (Date.now() - FINAL_MAX_AGE_MS - 60_000) / 1000;
    for (const n of ['k1.done', 'k1.out.1-a', 'k1.sock', 'k1.msg']) utimesSync(join(dir, n), old, old);
    sweepFinals(dir);
    expect(['k1.done', 'k2.done', 'k1.out.1-a', 'k1.sock', 'k1.msg'].filter((n) => existsSync(join(dir, n)))).toEqual(['k2.done', 'k1.sock', 'k1.msg']);
  });
});
