import { describe, expect, it } from 'vitest';
import { FhirSources, resourceUrl } from '../../../src/fhir/fhir-client.js';

const sources = new FhirSources([
  { name: 'ehealth', baseUrl: 'https://fhir.example.org/fhir/', timeoutMs: 1000 },
  { name: 'nested', baseUrl: 'https://fhir.example.org/fhir/tenant-b/', timeoutMs: 1000 },
]);

describe('FhirSources.locate: only URLs under a configured base are read', () => {
  it('locates <base><Type>/<id>, with a version from the reference when it has one', () => {
    const located = sources.locate('https://fhir.example.org/fhir/Patient/10907');
    expect(located).toMatchObject({ base: 'https://fhir.example.org/fhir/', type: 'Patient', id: '10907' });
    expect(located?.client.config.name).toBe('ehealth');
    expect(resourceUrl(located!, '3').href).toBe('https://fhir.example.org/fhir/Patient/10907/_history/3');
    expect(resourceUrl(located!, undefined).href).toBe('https://fhir.example.org/fhir/Patient/10907');
    const versioned = sources.locate('https://fhir.example.org/fhir/Patient/10907/_history/2');
    expect(versioned?.version).toBe('2');
    // The longest matching base wins.
    expect(sources.locate('https://fhir.example.org/fhir/tenant-b/Patient/7')?.client.config.name).toBe('nested');
  });

  it('matches no source for other hosts, ports, schemes, prefixes, traversal, queries, credentials or extra path', () => {
    for (const reference of [
      'https://evil.example.org/fhir/Patient/1',
      'https://fhir.example.org:8443/fhir/Patient/1',
      'http://fhir.example.org/fhir/Patient/1',
      'https://fhir.example.org/fhirX/Patient/1',
      'https://fhir.example.org/fhir/../admin/Patient/1',
      'https://fhir.example.org/fhir/Patient/1?_format=xml',
      'https://fhir.example.org/fhir/Patient/1#x',
      'https://user@fhir.example.org/fhir/Patient/1',
      'https://fhir.example.org.evil.org/fhir/Patient/1',
      'https://fhir.example.org/fhir/Patient/1/extra',
      'https://fhir.example.org/fhir/Patient/../../metadata',
      'https://fhir.example.org/fhir/Patient/%2e%2e%2fadmin',
      'Patient/1',
      'not a url',
    ]) {
      expect({ reference, located: sources.locate(reference) }).toEqual({ reference, located: undefined });
    }
  });
});
