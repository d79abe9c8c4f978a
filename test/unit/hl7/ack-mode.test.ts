import { describe, expect, it } from 'vitest';
import { ACK_TYPES, applicationAckOnSuccess, commitAckOnSuccess, enhancedModeProblem, wantsCommitAck } from '../../../src/hl7/ack-mode.js';

describe('acknowledgment modes (table 0155)', () => {
  it('a CA is due on success with MSH-15 AL or SU; an application ACK with MSH-16 AL or SU', () => {
    const on = (predicate: (type: (typeof ACK_TYPES)[number]) => boolean) => ACK_TYPES.filter(predicate);
    expect(on((accept) => commitAckOnSuccess({ accept, application: 'AL' }))).toEqual(['AL', 'SU']);
    expect(on((application) => applicationAckOnSuccess({ accept: 'AL', application }))).toEqual(['AL', 'SU']);
  });

  it('refuses a pair under which a message that succeeds gets no answer at all', () => {
    const refused = ACK_TYPES.flatMap((accept) => ACK_TYPES.filter((application) => enhancedModeProblem({ accept, application })).map((application) => `${accept}/${application}`));
    expect(refused).toEqual(['NE/NE', 'NE/ER', 'ER/NE', 'ER/ER']);
    expect(enhancedModeProblem({ accept: 'NE', application: 'NE' })).toBe('AcceptAck NE with ApplicationAck NE means a message that succeeds is never answered; set either to AL or SU');
  });

  it('answers a receiver\'s message with a commit ACK when its MSH-15 is AL or SU', () => {
    expect([...ACK_TYPES, '', undefined].filter(wantsCommitAck)).toEqual(['AL', 'SU']);
  });
});
