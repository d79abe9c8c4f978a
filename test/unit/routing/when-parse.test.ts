import { describe, expect, it } from 'vitest';
import { compileWhen, parseWhenExpression, type WhenError } from '../../../src/routing/when/index.js';

function errorsOf(...entries: string[]): WhenError[] {
  const compiled = compileWhen(entries);
  if (compiled.ok) throw new Error(`expected errors for ${JSON.stringify(entries)}`);
  return compiled.errors;
}

function only(entry: string): WhenError {
  const errors = errorsOf(entry);
  expect(errors).toHaveLength(1);
  return errors[0] as WhenError;
}

describe('parseWhenExpression: the syntax tree', () => {
  it('splits the path, the operator and trimmed alternatives with their columns', () => {
    const parsed = parseWhenExpression(' patient.gender = female | other ', 3);
    expect(parsed).toEqual({
      ok: true,
      expression: {
        kind: 'comparison',
        source: ' patient.gender = female | other ',
        path: {
          text: 'patient.gender',
          position: 1,
          segments: [{ name: 'patient', index: undefined }, { name: 'gender', index: undefined }],
        },
        operator: '=',
        values: [{ text: 'female', position: 18 }, { text: 'other', position: 27 }],
      },
    });
  });

  it('reads every operator', () => {
    const operators = ['=', '=!', '<', '>', '<=', '>='] as const;
    for (const operator of operators) {
      const parsed = parseWhenExpression(`a.b${operator}1`, 0);
      expect(parsed.ok && parsed.expression.kind === 'comparison' && parsed.expression.operator).toBe(operator);
    }
  });

  it('reads the age variable with its comparator and pre-parsed durations', () => {
    const parsed = parseWhenExpression('patient.birthDate=:(age)<=P1Y6M|P2W', 0);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok || parsed.expression.kind !== 'age') throw new Error('not an age expression');
    expect(parsed.expression.comparator).toBe('<=');
    expect(parsed.expression.durations.map((d) => [d.text, d.position, d.duration.years, d.duration.months, d.duration.weeks]))
      .toEqual([['P1Y6M', 26, 1, 6, 0], ['P2W', 32, 0, 0, 2]]);
  });

  it('reads array indexes and camelCase/underscore segments', () => {
    const parsed = parseWhenExpression('patient.name[12].given_Name2=x', 0);
    expect(parsed.ok && parsed.expression.path.segments).toEqual([
      { name: 'patient', index: undefined },
      { name: 'name', index: 12 },
      { name: 'given_Name2', index: undefined },
    ]);
  });

  it('unescapes \\| \\\\ and escaped spaces, keeps inner spaces', () => {
    const parsed = parseWhenExpression('a=\\ x\\|y  z\\\\ | \\=b', 0);
    expect(parsed.ok && parsed.expression.kind === 'comparison' && parsed.expression.values).toEqual([
      { text: ' x|y  z\\', position: 2 },
      { text: '=b', position: 16 },
    ]);
  });

  it('treats characters after a non-escaping position literally, including operator characters', () => {
    const parsed = parseWhenExpression('a=b=!<>~:c', 0);
    expect(parsed.ok && parsed.expression.kind === 'comparison' && parsed.expression.values).toEqual([
      { text: 'b=!<>~:c', position: 2 },
    ]);
  });
});

describe('syntax errors: position and reason', () => {
  const cases: ReadonlyArray<readonly [string, number, string]> = [
    // empty
    ['', 0, 'empty expression'],
    ['   ', 0, 'empty expression'],
    // path
    ['=female', 0, 'empty path'],
    ['  =!female', 2, 'empty path'],
    ['patient..gender=x', 8, 'empty path segment'],
    ['patient.=x', 8, 'empty path segment'],
    ['.gender=x', 0, 'empty path segment'],
    ['patient.1gender=x', 8, 'bad path segment "1gender": must start with a letter or "_"'],
    ['patient.gen-der=female', 11, 'bad path segment "gen-der": unexpected character "-"'],
    ['patient.$gender=female', 8, 'bad path segment "$gender": must start with a letter or "_"'],
    ['é=x', 0, 'bad path segment "é": must start with a letter or "_"'],
    ['patient.name[x].family=a', 12, 'bad array index in path segment "name[x]": expected [n] with n a non-negative integer'],
    ['patient.name[].family=a', 12, 'bad array index in path segment "name[]": expected [n] with n a non-negative integer'],
    ['patient.name[-1].family=a', 12, 'bad array index in path segment "name[-1]": expected [n] with n a non-negative integer'],
    // operator
    ['patient.gender', 14, 'missing operator: expected =, =!, <, >, <=, >= or =:(age) and a value after the path'],
    ['patient.gender female', 15, 'expected an operator (=, =!, <, >, <=, >= or =:(age)) but found "f"'],
    ['patient gender=female', 8, 'expected an operator (=, =!, <, >, <=, >= or =:(age)) but found "g"'],
    ['patient.gender==female', 14, 'unknown operator "==": use = for equals'],
    ['patient.gender!=female', 14, 'unknown operator "!=": use =! for not equals'],
    ['patient.gender=~fem', 14, 'unknown operator "=~": pattern matching is not supported'],
    ['patient.gender=<3', 14, 'unknown operator "=<": use <= for less than or equal'],
    ['patient.gender=>3', 14, 'unknown operator "=>": use >= for greater than or equal'],
    ['a<>3', 1, 'unknown operator "<>": use =! for not equals'],
    ['a=!!x', 1, 'unknown operator "=!!": expected =, =!, <, >, <=, >= or =:(age)'],
    ['a>:x', 1, 'unknown operator ">:": expected =, =!, <, >, <=, >= or =:(age)'],
    // variable expression
    ['patient.birthDate=:(foo)<P1Y', 20, 'unknown variable "(foo)": only (age) is supported'],
    ['patient.birthDate=:(Age)<P1Y', 20, 'unknown variable "(Age)": only (age) is supported'],
    ['patient.birthDate=:P1Y', 17, 'unknown operator "=:": a variable expression is written =:(age) followed by <, >, <= or >='],
    ['patient.birthDate=:(age', 19, 'unterminated variable expression: missing ")"'],
    ['patient.birthDate=:(age)P1Y', 24, '(age) must be followed by <, >, <= or >= and an ISO 8601 duration'],
    ['patient.birthDate=:(age)=P1Y', 24, 'unknown operator "=" after (age): expected <, >, <= or >='],
    ['patient.birthDate=:(age)=!P1Y', 24, 'unknown operator "=!" after (age): expected <, >, <= or >='],
    ['patient.birthDate=:(age)<', 25, 'missing ISO 8601 duration after the comparator'],
    // durations
    ['patient.birthDate=:(age)<P1OY', 25, 'bad ISO 8601 duration "P1OY"'],
    ['patient.birthDate=:(age)<P', 25, 'bad ISO 8601 duration "P"'],
    ['patient.birthDate=:(age)<P10', 25, 'bad ISO 8601 duration "P10"'],
    ['patient.birthDate=:(age)<10Y', 25, 'bad ISO 8601 duration "10Y"'],
    ['patient.birthDate=:(age)<PXY', 25, 'bad ISO 8601 duration "PXY"'],
    ['patient.birthDate=:(age)< PT', 26, 'bad ISO 8601 duration "PT"'],
    ['patient.birthDate=:(age)<p10y', 25, 'bad ISO 8601 duration "p10y"'],
    ['patient.birthDate=:(age)<P1.5Y', 25, 'bad ISO 8601 duration "P1.5Y"'],
    ['patient.birthDate=:(age)<P1M1Y', 25, 'bad ISO 8601 duration "P1M1Y"'],
    ['patient.birthDate=:(age)<P-1Y', 25, 'bad ISO 8601 duration "P-1Y"'],
    // values
    ['patient.gender=', 15, 'empty value: write the value to compare with after the operator'],
    ['patient.gender=   ', 15, 'empty value: write the value to compare with after the operator'],
    ['patient.gender=!', 16, 'empty value: write the value to compare with after the operator'],
    ['patient.gender=a||b', 17, 'empty alternative: remove the extra "|" or write a value between the "|"'],
    ['patient.gender=|a', 15, 'empty alternative: remove the extra "|" or write a value between the "|"'],
    ['patient.gender=a|', 17, 'empty alternative: remove the extra "|" or write a value between the "|"'],
    ['patient.gender=a| |b', 17, 'empty alternative: remove the extra "|" or write a value between the "|"'],
    ['patient.gender=a\\', 16, 'dangling escape "\\" at the end of the value: write "\\\\" for a literal backslash'],
    ['patient.gender=\\', 15, 'dangling escape "\\" at the end of the value: write "\\\\" for a literal backslash'],
  ];

  for (const [expression, position, reason] of cases) {
    it(`${JSON.stringify(expression)} -> column ${position}`, () => {
      const error = only(expression);
      expect(error).toEqual({
        expression,
        index: 0,
        position,
        reason,
        message: `invalid when expression "${expression}" at column ${position}: ${reason}`,
      });
    });
  }

  it('formats the message as documented', () => {
    expect(only('patient.birthDate=:(age)<P1OY').message).toBe(
      'invalid when expression "patient.birthDate=:(age)<P1OY" at column 25: bad ISO 8601 duration "P1OY"',
    );
  });

  it('reports a non-string entry instead of throwing', () => {
    const errors = errorsOf('patient.gender=female', 42 as unknown as string);
    expect(errors).toEqual([
      { expression: '42', index: 1, position: 0, reason: 'expression must be a string',
        message: 'invalid when expression "42" at column 0: expression must be a string' },
    ]);
  });
});

describe('collecting every error', () => {
  it('reports every bad entry with its index, in order, and ignores the good ones', () => {
    const errors = errorsOf(
      'patient.gender=female',
      'patient.gender==female',
      'source.application=!APP',
      'patient.birthDate=:(age)<P1OY',
      '',
      'patient..x=1',
    );
    expect(errors.map((e) => [e.index, e.position, e.reason])).toEqual([
      [1, 14, 'unknown operator "==": use = for equals'],
      [3, 25, 'bad ISO 8601 duration "P1OY"'],
      [4, 0, 'empty expression'],
      [5, 8, 'empty path segment'],
    ]);
    expect(errors.map((e) => e.expression)).toEqual([
      'patient.gender==female', 'patient.birthDate=:(age)<P1OY', '', 'patient..x=1',
    ]);
  });

  it('reports every bad alternative of one entry in column order', () => {
    const errors = errorsOf('patient.birthDate=:(age)<P1OY|PXY|P1Y|');
    expect(errors.map((e) => [e.position, e.reason])).toEqual([
      [25, 'bad ISO 8601 duration "P1OY"'],
      [30, 'bad ISO 8601 duration "PXY"'],
      [38, 'empty alternative: remove the extra "|" or write a value between the "|"'],
    ]);
  });

  it('goes on after a bad path to check the operator and the value', () => {
    expect(errorsOf('patient.bad-seg=:(age)<PX').map((e) => [e.position, e.reason])).toEqual([
      [11, 'bad path segment "bad-seg": unexpected character "-"'],
      [23, 'bad ISO 8601 duration "PX"'],
    ]);
    expect(errorsOf('patient.gen-der=a||b').map((e) => e.position)).toEqual([11, 18]);
    expect(errorsOf('patient.1x').map((e) => e.reason)).toEqual([
      'bad path segment "1x": must start with a letter or "_"',
      'missing operator: expected =, =!, <, >, <=, >= or =:(age) and a value after the path',
    ]);
  });

  it('accepts the SanteDB examples and the contract examples', () => {
    const compiled = compileWhen([
      'genderConcept.mnemonic=Female',
      'dateOfBirth=:(age)<P10Y',
      'createdBy.application.name=!APP_THAT_SENDS_STUFF',
      'patient.gender=female',
      'source.application=!APP_THAT_SENDS_STUFF',
      'patient.birthDate=:(age)<P10Y',
      'patient.identifier.system=urn:oid:1.2.3',
      // docs/WHEN-CRITERIA.md examples
      'patient.gender=female|other',
      'patient.gender=!male|unknown',
      'patient.birthDate=:(age)>=P18Y',
      'patient.birthDate=:(age)<P6M',
      'patient.identifier.system=!urn:oid:1.2.3',
      'patient.name.given=Mary',
      'patient.name[0].family=Smith',
      'patient.birthDate>2020-06-30',
      'patient.birthDate<2000',
      'occurredAt>=2026-01-01T00:00:00Z',
      'patient.deceasedBoolean=true',
      'patient.multipleBirthInteger>1',
      'visit.class=I|E',
      'type=update',
      'source.application=A\\|B',
    ]);
    expect(compiled.ok && compiled.criteria.sources).toHaveLength(22);
  });
});
