import { describe, expect, it } from 'vitest';
import type { FhirContactPoint } from '../../../src/event/patient-event.js';
import { ENCODING_CHARACTERS, segment } from '../../../src/hl7/segment.js';
import { formatHl7Timestamp } from '../../../src/hl7/timestamp.js';
import { escapeHl7 } from '../../../src/hl7/escape.js';
import { MESSAGE_TYPES, mshSegment, withCharacterSet } from '../../../src/mapping/msh.js';
import { identifierContext } from '../../../src/mapping/adapt/identifier-selection.js';
import { authorityFor } from '../../../src/mapping/identifiers.js';
import { telecomFields } from '../../../src/mapping/telecom.js';
import { pv1Segment } from '../../../src/mapping/pv1.js';
import { joinNonEmpty } from '../../../src/mapping/join-values.js';
import type { MappingProfile } from '../../../src/mapping/profile.js';
import { acmeProfile } from './mapping-fixtures.js';

/**
 * The parts the builder computes once (per profile, per version, per second) or writes
 * directly instead of through the generic helpers: each must give the bytes the generic
 * construction gives, and follow a profile whose values are replaced.
 */

/** MSH as every field through segment(): the reference for mshSegment. */
function mshByFields(profile: MappingProfile, sentAt: string, controlId: string): string {
  return segment('MSH', [
    ENCODING_CHARACTERS,
    escapeHl7(profile.sendingApplication),
    escapeHl7(profile.sendingFacility),
    escapeHl7(profile.receivingApplication),
    escapeHl7(profile.receivingFacility),
    sentAt,
    profile.security !== undefined ? escapeHl7(profile.security) : undefined,
    MESSAGE_TYPES.A01,
    escapeHl7(controlId),
    profile.processingId,
    profile.version,
    undefined,
    undefined,
    profile.acknowledgment?.accept,
    profile.acknowledgment?.application,
  ]);
}

describe('MSH built from its per-profile parts', () => {
  it('gives the bytes of a segment built field by field', () => {
    const profiles = [
      acmeProfile(),
      acmeProfile({ receivingApplication: '', receivingFacility: '' }),
      acmeProfile({ security: 'S|^&~\\', processingId: 'T', version: '2.3.1' }),
      acmeProfile({ acknowledgment: { accept: 'AL', application: 'NE' } }),
      acmeProfile({ acknowledgment: { accept: 'AL', application: '' } as never }),
    ];
    for (const profile of profiles) {
      expect(mshSegment(profile, 'A01', '20260315143022+0100', 'CID1')).toBe(mshByFields(profile, '20260315143022+0100', 'CID1'));
    }
  });

  it('follows a profile whose values were replaced after a first message', () => {
    const profile = acmeProfile();
    mshSegment(profile, 'A01', '20260315143022+0100', 'CID1');
    profile.sendingFacility = 'OTHER';
    profile.version = '2.6';
    expect(mshSegment(profile, 'A01', '20260315143022+0100', 'CID1')).toBe(mshByFields(profile, '20260315143022+0100', 'CID1'));
  });
});

describe('withCharacterSet', () => {
  it('appends MSH-18 after the empty fields when MSH ends before it', () => {
    expect(withCharacterSet('MSH|^~\\&|A|B|||T||ADT^A01^ADT_A01|C|P|2.5\rPID|1\r', '8859/1')).toBe(
      'MSH|^~\\&|A|B|||T||ADT^A01^ADT_A01|C|P|2.5||||||8859/1\rPID|1\r',
    );
  });

  it('replaces MSH-18 and keeps later fields when a receiver profile set them', () => {
    expect(withCharacterSet('MSH|^~\\&|A|B|||T||M|C|P|2.5||||||OLD|EN\rPID|1\r', 'UNICODE UTF-8')).toBe(
      'MSH|^~\\&|A|B|||T||M|C|P|2.5||||||UNICODE UTF-8|EN\rPID|1\r',
    );
  });
});

describe('formatHl7Timestamp, formatted once per second', () => {
  it('gives each reading its own second and zone', () => {
    const at = (iso: string) => new Date(iso);
    expect(formatHl7Timestamp(at('2026-03-15T13:30:22.100Z'), 60)).toBe('20260315143022+0100');
    expect(formatHl7Timestamp(at('2026-03-15T13:30:22.900Z'), 60)).toBe('20260315143022+0100');
    expect(formatHl7Timestamp(at('2026-03-15T13:30:22.900Z'), -300)).toBe('20260315083022-0500');
    expect(formatHl7Timestamp(at('2026-03-15T13:30:23.000Z'), -300)).toBe('20260315083023-0500');
    expect(formatHl7Timestamp(at('1969-12-31T23:59:59.500Z'), 0)).toBe('19691231235959+0000');
    expect(formatHl7Timestamp(at('1970-01-01T00:00:00.000Z'), 0)).toBe('19700101000000+0000');
  });
});

describe('identifier context and HD cache', () => {
  it('one context per profile, a new one when its version or authorities are replaced', () => {
    const profile = acmeProfile();
    const context = identifierContext(profile);
    expect(identifierContext(profile)).toBe(context);
    expect(authorityFor('https://ids.example.org/mrn', undefined, context)).toBe('&https://ids.example.org/mrn&URI');
    profile.version = '2.4';
    expect(authorityFor('https://ids.example.org/mrn', undefined, identifierContext(profile))).toBe('&https://ids.example.org/mrn&L');
    profile.assigningAuthorities = { 'https://ids.example.org/mrn': 'WEB' };
    expect(authorityFor('https://ids.example.org/mrn', undefined, identifierContext(profile))).toBe('WEB&https://ids.example.org/mrn&L');
  });

  it('gives undefined and an empty string the same HD', () => {
    const context = identifierContext(acmeProfile());
    expect(authorityFor('', '', context)).toBeUndefined();
    expect(authorityFor(undefined, undefined, context)).toBeUndefined();
    expect(authorityFor(undefined, 'LOCAL', context)).toBe('LOCAL');
    expect(authorityFor('', 'LOCAL', context)).toBe('LOCAL');
  });

  it('encodes past the cache bound the same way', () => {
    const context = identifierContext(acmeProfile());
    for (let i = 0; i < 600; i++) expect(authorityFor(`urn:oid:9.9.${i}`, undefined, context)).toBe(`&9.9.${i}&ISO`);
  });
});

describe('telecom rank order', () => {
  it('orders few and many contact points as a stable sort by rank', () => {
    for (const count of [3, 16, 17, 40]) {
      const points: FhirContactPoint[] = Array.from({ length: count }, (_, i) => ({
        system: 'phone',
        value: `555-${i}`,
        ...(i % 3 === 0 ? {} : { rank: (i * 7) % 4 }),
      }));
      const sorted = [...points].sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || 0);
      const expected = sorted.map((p) => `${p.value}^PRN^PH`).join('~');
      expect(telecomFields(points, '2.4').home).toBe(expected);
    }
  });
});

describe('PV1 written directly', () => {
  it('places the visit number in PV1-19', () => {
    expect(pv1Segment('A01', { number: 'V1', class: 'I' }, acmeProfile())).toBe(segment('PV1', ['1', 'I', ...Array<undefined>(16), 'V1']));
    expect(pv1Segment('A01', undefined, acmeProfile())).toBe('PV1|1|N');
  });
});

describe('join-values', () => {
  it('joins the non-empty items from a position', () => {
    expect(joinNonEmpty(['a', '', 'b', 'c'], 1, ' ')).toBe('b c');
    expect(joinNonEmpty(['a'], 1, ' ')).toBe('');
  });
});
