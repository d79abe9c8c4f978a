import { versionAtLeast, type Hl7Version } from '../../hl7/versions.js';

/**
 * The HL7 table codes the mapper may write, each with the version that introduced it
 * (docs/CODE-MAPPINGS.md lists them with the FHIR values they come from). A code is written
 * only into messages of that version or later: an HL7 version's table is the authority for
 * its messages, never a later one. Codes the mapper never writes are not listed.
 */
export type VersionedCodes = Readonly<Record<string, Hl7Version>>;

/** Whether `code` is in the table as `version` defines it. Unknown or inherited keys are not. */
export function definedIn(table: VersionedCodes, code: string | undefined, version: Hl7Version): code is string {
  if (code === undefined || !Object.hasOwn(table, code)) return false;
  return versionAtLeast(version, table[code]!);
}

/** Table 0200, name type (XPN-7). 2.3.1 has A, C, D, L, M; 2.4 adds the rest. `TEMP` comes only in 2.7. */
export const NAME_TYPE: VersionedCodes = {
  A: '2.3.1', // alias
  C: '2.3.1', // adopted
  D: '2.3.1', // display
  L: '2.3.1', // legal
  M: '2.3.1', // maiden
  B: '2.4', // name at birth
  I: '2.4', // licensing
  N: '2.4', // nickname
  P: '2.4', // name of partner/spouse
  S: '2.4', // coded pseudo-name to ensure anonymity
  T: '2.4', // indigenous/tribal
  U: '2.4', // unspecified
};

/**
 * Table 0201, telecommunication use (XTN-2). `PRS` (personal) is missing before 2.6 (the
 * published table history says "added v2.6"); the mapper does not use it: `PRN` with
 * equipment `CP` says "mobile" in every version.
 */
export const TELECOM_USE: VersionedCodes = {
  ASN: '2.3.1',
  BPN: '2.3.1',
  EMR: '2.3.1',
  NET: '2.3.1',
  ORN: '2.3.1',
  PRN: '2.3.1',
  VHN: '2.3.1',
  WPN: '2.3.1',
};

/** Table 0202, telecommunication equipment type (XTN-3). */
export const TELECOM_EQUIPMENT: VersionedCodes = {
  BP: '2.3.1',
  CP: '2.3.1',
  FX: '2.3.1',
  Internet: '2.3.1',
  MD: '2.3.1',
  PH: '2.3.1',
  'X.400': '2.3.1',
  TDD: '2.5',
  TTY: '2.5',
};

/**
 * Table 0203, identifier type (CX-5): the suggested values of 2.3.1, and what 2.4 and 2.5
 * added that a patient identifier can carry. An event's `type.coding[0].code` outside this
 * list leaves CX-5 empty (a receiver-specific code belongs in a receiver profile).
 */
export const IDENTIFIER_TYPE: VersionedCodes = {
  AM: '2.3.1', AN: '2.3.1', BR: '2.3.1', DI: '2.3.1', DL: '2.3.1', DN: '2.3.1', DS: '2.3.1',
  EI: '2.3.1', EN: '2.3.1', FI: '2.3.1', GI: '2.3.1', GN: '2.3.1', LN: '2.3.1', LR: '2.3.1',
  MA: '2.3.1', MC: '2.3.1', MCN: '2.3.1', MR: '2.3.1', MS: '2.3.1', NE: '2.3.1', NH: '2.3.1',
  NI: '2.3.1', NPI: '2.3.1', PEN: '2.3.1', PI: '2.3.1', PN: '2.3.1', PRN: '2.3.1', PT: '2.3.1',
  RR: '2.3.1', RRI: '2.3.1', SL: '2.3.1', SR: '2.3.1', SS: '2.3.1', U: '2.3.1', UPIN: '2.3.1',
  VN: '2.3.1', VS: '2.3.1', WC: '2.3.1', WCN: '2.3.1', XX: '2.3.1',
  ANC: '2.4', AND: '2.4', ANT: '2.4', BA: '2.4', BC: '2.4', DR: '2.4', HC: '2.4', JHN: '2.4', PPN: '2.4',
  BCT: '2.5', CY: '2.5', DDS: '2.5', DEA: '2.5', DFN: '2.5', DO: '2.5', DP: '2.5', DPM: '2.5',
  GL: '2.5', IND: '2.5', MD: '2.5', NII: '2.5', NIIP: '2.5', NP: '2.5', QA: '2.5', RN: '2.5',
  RPH: '2.5', SN: '2.5', TAX: '2.5', TN: '2.5',
};

/** Table 0301, universal id type (HD-3). `URI` comes in 2.5. */
export const UNIVERSAL_ID_TYPE: VersionedCodes = {
  DNS: '2.3.1', GUID: '2.3.1', HCD: '2.3.1', HL7: '2.3.1', ISO: '2.3.1', L: '2.3.1', M: '2.3.1',
  N: '2.3.1', Random: '2.3.1', UUID: '2.3.1', x400: '2.3.1', x500: '2.3.1',
  URI: '2.5',
};

/** Table 0004, patient class (PV1-2). `C`, `N` and `U` come in 2.4 (see {@link PSEUDO_VISIT_CLASS}). */
export const PATIENT_CLASS: VersionedCodes = {
  B: '2.3.1', E: '2.3.1', I: '2.3.1', O: '2.3.1', P: '2.3.1', R: '2.3.1',
  C: '2.4', N: '2.4', U: '2.4',
};

/**
 * PV1-2 of a message without a visit: `N` (not applicable), the IHE pseudo-visit, in every
 * version. IHE ITI-8 (v2.3.1) prescribes it although 2.3.1's table 0004 lists `N` only from
 * 2.4: a deliberate exception, docs/CODE-MAPPINGS.md.
 */
export const PSEUDO_VISIT_CLASS = 'N';

/** Table 0002, marital status (PID-16). 2.3.1 suggests A, D, M, S, W; 2.4 adds the rest. */
export const MARITAL_STATUS: VersionedCodes = {
  A: '2.3.1', D: '2.3.1', M: '2.3.1', S: '2.3.1', W: '2.3.1',
  B: '2.4', C: '2.4', E: '2.4', G: '2.4', I: '2.4', N: '2.4', O: '2.4', P: '2.4', R: '2.4', T: '2.4', U: '2.4',
};

/** Table 0190, address type (XAD-7). */
export const ADDRESS_TYPE: VersionedCodes = {
  B: '2.3.1', BA: '2.3.1', BDL: '2.3.1', BR: '2.3.1', C: '2.3.1', F: '2.3.1', H: '2.3.1',
  L: '2.3.1', M: '2.3.1', N: '2.3.1', O: '2.3.1', P: '2.3.1', RH: '2.3.1',
};
