import { describe, expect, it } from 'vitest';
import { HoldBook, parseRecord, type HoldRecord } from '../../../src/hold/hold-book.js';
import { keyHash } from '../../../src/hold/hold-names.js';

/** The log fold of docs/PATIENT-HOLD.md: idempotent, compacts to the same holds. */
describe('HoldBook', () => {
  const log: HoldRecord[] = [
    { op: 'hold', hold: 'a', key: 'a', eventId: 'e1' },
    { op: 'hold', hold: 'b', key: 'b', eventId: 'e2' },
    { op: 'hold', hold: 'a', key: 'm', eventId: 'e1' },
    { op: 'releasing', hold: 'b' },
    { op: 'hold', hold: 'c', key: 'c', eventId: 'e3' },
    { op: 'releasing', hold: 'c' },
    { op: 'release', hold: 'c' },
  ];

  function fold(records: readonly HoldRecord[]): HoldBook {
    const book = new HoldBook();
    for (const record of records) book.apply(record);
    return book;
  }

  it('folds hold, releasing and release records; a merge key joins its hold', () => {
    const book = fold(log);
    expect(book.patients).toBe(3);
    expect(book.holdOf('m')).toBe(book.get('a'));
    expect(book.get('a')!.state).toBe('held');
    expect(book.get('b')!.state).toBe('releasing');
    expect(book.get('c')).toBeUndefined();
    expect(book.holdOf('c')).toBeUndefined();
  });

  it('is idempotent: a log read twice (a crash during compaction) and the compacted log fold the same', () => {
    const once = fold(log);
    const twice = fold([...log, ...log]);
    const compacted = fold([...log, ...once.records()]);
    for (const book of [twice, compacted, fold(once.records())]) expect(book.records()).toEqual(once.records());
  });

  it('a new dead letter while releasing makes the hold `held` again with the new event id', () => {
    const book = fold([...log, { op: 'hold', hold: 'b', key: 'b', eventId: 'e9' }]);
    expect(book.get('b')).toMatchObject({ state: 'held', eventId: 'e9' });
  });

  it('reads records from JSON and skips anything else', () => {
    expect(parseRecord(Buffer.from(JSON.stringify(log[0])))).toEqual(log[0]);
    expect(parseRecord(Buffer.from('{"op":"hold","hold":"a"}'))).toBeUndefined();
    expect(parseRecord(Buffer.from('not json'))).toBeUndefined();
  });

  it('key hashes are 32 hex digits, per subscription, and do not contain the key', () => {
    const hash = keyHash('feed', 'urn:oid:1.2.3|PAT-1');
    expect(hash).toMatch(/^[0-9a-f]{32}$/);
    expect(keyHash('other', 'urn:oid:1.2.3|PAT-1')).not.toBe(hash);
    expect(keyHash('feed', 'urn:oid:1.2.3|PAT-1')).toBe(hash);
  });
});
