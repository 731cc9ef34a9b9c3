import { describe, expect, it } from 'vitest';
import { FLAGS, helpText, parseFlags } from '../../src/wrapper/flags.ts';
import { SeedwrapError } from '../../src/errors.ts';
import { toOptions } from '../../src/wrapper/options.ts';

const run = (argv: string[]) => {
  const r = parseFlags(argv);
  if (r.kind !== 'run') throw new Error('expected run');
  return r;
};

describe('parseFlags', () => {
  it('stops at -- and leaves the child argv untouched', () => {
    const r = run(['--subst', 'a=b', '--', 'prog', '--subst', '-x']);
    expect(r.child).toEqual(['prog', '--subst', '-x']);
    expect(r.flags['--subst']).toEqual(['a=b']);
  });
  it('takes every following token that does not start with --', () => {
    expect(run(['--subst', 'a=1', 'b=2', '--subst', 'c=3', '--', 'p']).flags['--subst']).toEqual(['a=1', 'b=2', 'c=3']);
    expect(run(['--arg-file', 'x', '--env-file', 'y', 'z', '--', 'p']).flags['--env-file']).toEqual(['y', 'z']);
  });
  it('has no --flag=value form', () => {
    expect(() => parseFlags(['--out-dir=x', 'y', '--', 'p'])).toThrow(/unknown flag "--out-dir=x"/);
    expect(() => parseFlags(['--out-dir=x', '--', 'p'])).toThrow(/missing parameter\(s\) for --out-dir=x/);
  });
  it('a token in flag position that is not a --flag is an unknown flag', () => {
    expect(() => parseFlags(['prog'])).toThrow(/unknown flag "prog"/);
    expect(() => parseFlags(['-x', '--', 'p'])).toThrow(/unknown flag "-x"/);
  });
  it('checks for a value before the name: --bogus -- is a missing parameter, --bogus x unknown', () => {
    expect(() => parseFlags(['--bogus', '--', 'p'])).toThrow(/missing parameter\(s\) for --bogus/);
    expect(() => parseFlags(['--bogus', 'x', '--', 'p'])).toThrow(/unknown flag "--bogus"/);
    expect(() => parseFlags(['--touch-file'])).toThrow(/missing parameter\(s\) for --touch-file/);
  });
  it('single-value flags can appear once, with one value', () => {
    for (const name of Object.keys(FLAGS).filter((n) => FLAGS[n as keyof typeof FLAGS].arity === 'single')) {
      expect(() => parseFlags([name, 'a', name, 'b', '--', 'p'])).toThrow(new RegExp(`${name} can only appear once`));
      expect(() => parseFlags([name, 'a', 'b', '--', 'p'])).toThrow(new RegExp(`${name} can only appear once`));
    }
  });
  it('--copy-output accumulates across occurrences, two values in total (upstream: a repeated flag)', () => {
    expect(run(['--copy-output', 'a', '--copy-output', 'b', '--', 'p']).flags['--copy-output']).toEqual(['a', 'b']);
    expect(run(['--copy-output', 'a', 'b', '--', 'p']).flags['--copy-output']).toEqual(['a', 'b']);
    expect(() => parseFlags(['--copy-output', 'a', 'b', '--copy-output', 'c', '--', 'p'])).toThrow(/--copy-output takes exactly two values in total \(got 3: a b c\)/);
    expect(() => parseFlags(['--copy-output', 'a', '--', 'p'])).toThrow(/--copy-output takes exactly two values in total \(got 1: a\)/);
    expect(() => parseFlags(['--copy-output', 'a'])).toThrow(/--copy-output takes exactly two values in total/);
  });
  it('the other pair flags take exactly two values, once', () => {
    for (const name of ['--copy-seed', '--seed-prev-dir', '--write-unused-inputs']) {
      expect(() => parseFlags([name, 'a', '--', 'p'])).toThrow(new RegExp(`${name} takes exactly two values`));
      expect(() => parseFlags([name, 'a', 'b', 'c', '--', 'p'])).toThrow(new RegExp(`${name} takes exactly two values`));
      expect(() => parseFlags([name, 'a', 'b', name, 'c', 'd', '--', 'p'])).toThrow(new RegExp(`${name} can only appear once`));
      expect(run([name, 'a', 'b', '--', 'p']).flags[name as keyof typeof FLAGS]).toEqual(['a', 'b']);
    }
  });
  it('--help in flag position wins, after -- it is the child\'s', () => {
    expect(parseFlags(['--subst', 'a=b', '--help']).kind).toBe('help');
    expect(run(['--', 'p', '--help']).child).toEqual(['p', '--help']);
    for (const name of Object.keys(FLAGS)) expect(helpText()).toContain(name);
  });
});

describe('usage errors a person meets', () => {
  const message = (argv: string[]) => {
    try {
      parseFlags(argv);
    } catch (err) {
      expect(err).toBeInstanceOf(SeedwrapError);
      expect((err as SeedwrapError).exitCode).toBe(2); // one exit code for every usage error
      return (err as SeedwrapError).message;
    }
    throw new Error('expected a usage error');
  };
  it('--flag=value: says the grammar has no = form and how to write it', () => {
    expect(message(['--seed-min-mb=0', '--', 'p'])).toBe('missing parameter(s) for --seed-min-mb=0 (flags take no "=": write --seed-min-mb 0)');
    expect(message(['--out-dir=x', 'y', '--', 'p'])).toBe('unknown flag "--out-dir=x" (flags take no "=": write --out-dir x)');
    expect(message(['--bogus=1', '--', 'p'])).toBe('missing parameter(s) for --bogus=1');
  });
  it('an unknown flag near a known one gets a did-you-mean', () => {
    expect(message(['--copyseed', 'a', 'b', '--', 'p'])).toBe('unknown flag "--copyseed" (did you mean --copy-seed?)');
    expect(message(['--stabel-cwd', 'true', '--', 'p'])).toBe('unknown flag "--stabel-cwd" (did you mean --stable-cwd?)');
    expect(message(['--seed-min-mb0', '--', 'p'])).toBe('missing parameter(s) for --seed-min-mb0 (did you mean --seed-min-mb?)');
    expect(message(['-copy-seed', 'a', 'b', '--', 'p'])).toBe('unknown flag "-copy-seed" (did you mean --copy-seed?)');
    expect(message(['--frobnicate', 'x', '--', 'p'])).toBe('unknown flag "--frobnicate"');
    expect(message(['prog'])).toBe('unknown flag "prog" (flags start with --; put the program after --)');
  });
  it('-h and --help ask for help, -V and --version for the version, in flag position only', () => {
    for (const word of ['-h', '--help']) expect(parseFlags([word, '--', 'p']).kind).toBe('help');
    // `-h` after a flag is that flag's value, as any word not starting with -- is.
    expect(run(['--subst', 'a=b', '-h', '--', 'p']).flags['--subst']).toEqual(['a=b', '-h']);
    for (const word of ['-V', '--version']) expect(parseFlags([word]).kind).toBe('version');
    expect(run(['--', 'p', '-h', '--version']).child).toEqual(['p', '-h', '--version']);
  });
});

describe('toOptions', () => {
  it('booleans are true or false; any other word is a usage error naming the flag and the accepted values', () => {
    expect(toOptions(run(['--rustc-quit-on-rmeta', 'true', '--', 'p']).flags).rustcQuitOnRmeta).toBe(true);
    expect(toOptions(run(['--rustc-quit-on-rmeta', 'false', '--', 'p']).flags).rustcQuitOnRmeta).toBe(false);
    expect(toOptions(run(['--', 'p']).flags).stableCwd).toBeUndefined(); // not given: automatic (store)
    for (const name of ['--rustc-quit-on-rmeta', '--require-explicit-unstable-features', '--exit-early', '--stable-cwd']) {
      for (const bad of ['yes', 'True', '1', '']) {
        let thrown: unknown;
        try {
          toOptions(run([name, bad, '--', 'p']).flags);
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(SeedwrapError);
        expect((thrown as SeedwrapError).message).toBe(`${name} ${JSON.stringify(bad)}: expected true or false`);
        expect((thrown as SeedwrapError).exitCode).toBe(2);
      }
    }
  });
  it('rejects a bad --rustc-output-format, naming it', () => {
    expect(() => toOptions(run(['--rustc-output-format', 'xml', '--', 'p']).flags)).toThrow(/--rustc-output-format "xml" is not one of: json, rendered/);
  });
  it('rejects identical --copy-output paths', () => {
    expect(() => toOptions(run(['--copy-output', 'a/x', './a/x', '--', 'p']).flags)).toThrow(/--copy-output source and destination are the same file: a\/x/);
  });
  it('--seed-min-mb: default 20 MiB, 0 allowed, anything else not a whole number rejected', () => {
    expect(toOptions(run(['--', 'p']).flags).seedMinBytes).toBe(20 * 1048576);
    expect(toOptions(run(['--seed-min-mb', '0', '--', 'p']).flags).seedMinBytes).toBe(0);
    for (const bad of ['-1', '1.5', 'x', '1e3', ' 1', '0x10']) {
      expect(() => toOptions(run(['--seed-min-mb', bad, '--', 'p']).flags)).toThrow(/--seed-min-mb: expected an unsigned integer number of MiB \(0 = always seed\), got ".*"/);
    }
    expect(() => toOptions(run(['--seed-min-mb', '99999999999999', '--', 'p']).flags)).toThrow(/--seed-min-mb: "99999999999999" MiB is too large/);
  });
});
