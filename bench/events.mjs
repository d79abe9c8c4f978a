// Realistic ~1 KB FHIR patient events for the benchmark: several identifiers (MRN with its
// assigner, a national id, an insurance number), official and maiden (or nick) names, an
// address, phone/mobile/email, gender, birth date, marital status, source and visit.
// Deterministic for a given seed, and every event has its own patient (unique MRN), so
// lanes (hashed on the first PID-3 identifier) spread evenly. Values deliberately include
// characters HL7 must escape (& in addresses, an apostrophe, accented letters).

const FAMILY = ['Smith', "O'Brien", 'García', 'Müller', 'Nguyen', 'Kowalski', 'Okafor', 'Johansson', 'Rossi', 'Dubois', 'Tanaka', 'Silva', 'Novák', 'Hughes', 'Van der Berg', 'Ivanova'];
const GIVEN = ['Anne', 'James', 'Marie', 'Liam', 'Sofía', 'Noah', 'Chloé', 'Ahmed', 'Emma', 'Yuki', 'Olivia', 'Lucas', 'Zoë', 'Mateo', 'Hannah', 'Tomás'];
const STREETS = ['King & Queen St', 'Main Street', 'Rue de la Paix', 'Elm Avenue', 'Harbour Rd', 'Oak Lane', 'Station Road', 'Marktplatz'];
const CITIES = [['Springfield', 'SP', '12345', 'USA'], ['Riverton', 'RV', '54021', 'USA'], ['Lakeside', 'LK', '90210', 'USA'], ['Portsmouth', 'PO', '03801', 'USA']];

/** A small deterministic PRNG (mulberry32), so every run publishes the same events. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n, w) => String(n).padStart(w, '0');

/**
 * Event `i` of a run. `prefix` makes ids unique per run/case (the daemon de-duplicates
 * nothing by id, but receipts are matched by id). Types: 3 creates to 1 update.
 */
export function makeEvent(i, prefix, seed = 42) {
  const r = prng(seed * 1_000_003 + i);
  const pick = (list) => list[Math.floor(r() * list.length)];
  const family = pick(FAMILY);
  const given = pick(GIVEN);
  const second = pick(GIVEN);
  const [city, state, zip, country] = pick(CITIES);
  const year = 1930 + Math.floor(r() * 90);
  const month = 1 + Math.floor(r() * 12);
  const day = 1 + Math.floor(r() * 28);
  const mrn = `${prefix}-${pad(i, 8)}`;
  const female = r() < 0.5;
  return {
    id: `${prefix}-evt-${pad(i, 8)}`,
    type: i % 4 === 3 ? 'update' : 'create',
    occurredAt: `2026-03-15T14:${pad(Math.floor(i / 60) % 60, 2)}:${pad(i % 60, 2)}+01:00`,
    source: { application: 'ACME_EHR', facility: 'ACME_HOSP', user: `clerk${Math.floor(r() * 100)}` },
    patient: {
      resourceType: 'Patient',
      identifier: [
        {
          type: { coding: [{ code: 'MR' }] },
          system: 'urn:oid:1.2.840.114350.1.13',
          value: mrn,
          assigner: { display: 'ACME_MPI' },
        },
        {
          type: { coding: [{ code: 'SS' }] },
          system: 'http://hl7.org/fhir/sid/us-ssn',
          value: `${pad(Math.floor(r() * 900) + 100, 3)}-${pad(Math.floor(r() * 90) + 10, 2)}-${pad(Math.floor(r() * 9000) + 1000, 4)}`,
        },
        {
          type: { coding: [{ code: 'MB' }] },
          value: `INS${pad(Math.floor(r() * 1e9), 9)}`,
          assigner: { display: 'ACME_INSURANCE' },
        },
      ],
      name: [
        { use: 'official', family, given: [given, second], prefix: [female ? 'Ms' : 'Mr'] },
        ...(female ? [{ use: 'maiden', family: pick(FAMILY), given: [given] }] : [{ use: 'nickname', given: [given.slice(0, 3)] }]),
      ],
      gender: female ? 'female' : 'male',
      birthDate: `${year}-${pad(month, 2)}-${pad(day, 2)}`,
      address: [
        { use: 'home', line: [`${1 + Math.floor(r() * 999)} ${pick(STREETS)}`, `Apt ${1 + Math.floor(r() * 40)}`], city, state, postalCode: zip, country },
      ],
      telecom: [
        { system: 'phone', value: `+1 555 ${pad(Math.floor(r() * 1e7), 7)}`, use: 'home' },
        { system: 'phone', value: `+1 555 ${pad(Math.floor(r() * 1e7), 7)}`, use: 'mobile', rank: 1 },
        { system: 'email', value: `${given.toLowerCase()}.${i}@example.org` },
      ],
      maritalStatus: { coding: [{ code: pick(['M', 'S', 'D', 'W']) }] },
    },
    visit: { number: `VN-${pad(i, 8)}`, class: pick(['I', 'O', 'E']) },
  };
}

/** N events as ready-to-publish buffers, with id and routing key. */
export function makeEvents(n, prefix, seed = 42) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const event = makeEvent(i, prefix, seed);
    out[i] = { id: event.id, routingKey: `patient.${event.type}`, body: Buffer.from(JSON.stringify(event)) };
  }
  return out;
}
