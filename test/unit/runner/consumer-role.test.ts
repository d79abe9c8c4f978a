import { describe, expect, it } from 'vitest';
import { ConsumerRoleTracker, type ConsumerRole } from '../../../src/runner/consumer-role.js';

function tracker() {
  const changes: ConsumerRole[] = [];
  return { tracker: new ConsumerRoleTracker((role) => changes.push(role)), changes };
}

describe('ConsumerRoleTracker', () => {
  it('is active from the first delivery on, and stays so through polls', () => {
    const { tracker: t, changes } = tracker();
    expect(t.role).toBe('unknown');
    t.delivered();
    t.polled(10);
    t.polled(10);
    expect(t.role).toBe('active');
    expect(changes).toEqual(['active']);
  });

  it('is standby when ready messages wait on two polls in a row and none came', () => {
    const { tracker: t, changes } = tracker();
    t.polled(5);
    expect(t.role).toBe('unknown');
    t.polled(7);
    expect(t.role).toBe('standby');
    // The broker hands over: the first delivery makes it active.
    t.delivered();
    expect(changes).toEqual(['standby', 'active']);
  });

  it('cannot tell with an empty queue, or when deliveries came between the polls', () => {
    const { tracker: t } = tracker();
    t.polled(0);
    t.polled(0);
    expect(t.role).toBe('unknown');
    t.polled(3);
    t.delivered();
    t.notConsuming();
    t.polled(3);
    expect(t.role).toBe('unknown');
  });

  it('forgets its role when the connection is lost', () => {
    const { tracker: t, changes } = tracker();
    t.delivered();
    t.notConsuming();
    expect(t.role).toBe('unknown');
    // A poll right after reconnecting is not enough to call it standby.
    t.polled(4);
    expect(t.role).toBe('unknown');
    expect(changes).toEqual(['active', 'unknown']);
  });
});
