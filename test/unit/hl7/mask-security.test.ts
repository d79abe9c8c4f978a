import { describe, expect, it } from 'vitest';
import { maskSecurityField } from '../../../src/hl7/mask-security.js';

describe('maskSecurityField', () => {
  it('masks MSH-8 and keeps everything else byte for byte', () => {
    const message = 'MSH|^~\\&|A|B|C|D|20260101000000+0000|s3cret|ADT^A01^ADT_A01|ID1|P|2.5\rPID|1||X^^^A\r';
    expect(maskSecurityField(message)).toBe('MSH|^~\\&|A|B|C|D|20260101000000+0000|********|ADT^A01^ADT_A01|ID1|P|2.5\rPID|1||X^^^A\r');
  });

  it('leaves a message without MSH-8 untouched', () => {
    const message = 'MSH|^~\\&|A|B|C|D|20260101000000+0000||ADT^A01^ADT_A01|ID1|P|2.5\r';
    expect(maskSecurityField(message)).toBe(message);
    expect(maskSecurityField('PID|1')).toBe('PID|1');
  });
});
