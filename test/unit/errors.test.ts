import { describe as suite, expect, it } from 'vitest';
import { SeedwrapError, describe, isSystemError } from '../../src/errors.ts';

suite('SeedwrapError', () => {
  it('instanceof holds across two copies of the module (the bundle\'s lazy chunks each carry one)', async () => {
    // A query string makes vitest evaluate the file again: a second class object.
    const secondCopy = '../../src/errors.ts?second-copy';
    const copy = (await import(secondCopy)) as typeof import('../../src/errors.ts');
    expect(copy.SeedwrapError).not.toBe(SeedwrapError);
    const fromCopy = new copy.SeedwrapError('SEED', 'cannot seed /x: ENOSPC');
    expect(fromCopy instanceof SeedwrapError).toBe(true);
    expect(new SeedwrapError('USAGE', 'u') instanceof copy.SeedwrapError).toBe(true);
    expect(new Error('plain') instanceof SeedwrapError).toBe(false);
    expect(describe(fromCopy)).toBe('cannot seed /x: ENOSPC');
  });
  it('is not a system error, though it has a string code', () => {
    const err = new SeedwrapError('SEED', 'reason');
    expect(isSystemError(err)).toBe(false);
    expect(describe(err)).toBe('reason');
    const sys = Object.assign(new Error('x'), { code: 'ENOSPC', path: '/d' });
    expect(isSystemError(sys, 'ENOSPC')).toBe(true);
    expect(describe(sys)).toBe('ENOSPC (/d)');
  });
});
