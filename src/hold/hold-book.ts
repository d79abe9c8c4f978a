/**
 * The holds of one subscription in memory, folded from the log queue `mllp.<name>.holds`
 * (docs/PATIENT-HOLD.md, "Broker objects"). A hold is named by the key hash of the patient
 * that was dead-lettered; a merge that touches a held patient adds its other patients'
 * key hashes to the same hold, so all of them wait behind one parked queue.
 */

/**
 * `held`: later events are parked. `releasing`: the parked queue is being sent, later
 * events still park behind it. `finishing`: the parked queue is empty and being deleted;
 * later events wait in memory for the few milliseconds this takes.
 */
export type HoldState = 'held' | 'releasing' | 'finishing';

export type HoldRecord =
  | { op: 'hold'; hold: string; key: string; eventId: string }
  | { op: 'releasing'; hold: string }
  | { op: 'release'; hold: string };

export interface Hold {
  readonly id: string;
  /** The event id of the dead letter that keeps the patient held now. */
  eventId: string;
  readonly keys: Set<string>;
  state: HoldState;
  /** Settles when the hold's queue is declared and its records are confirmed: a park is acked only after. */
  ready: Promise<void>;
  /** Parks published and not yet confirmed: a release ends only when there are none. */
  pendingParks: number;
  parksIdle: Array<() => void>;
  draining: boolean;
}

export class HoldBook {
  private readonly holds = new Map<string, Hold>();
  private readonly byKey = new Map<string, Hold>();

  /** Folds one log record; applying the same records again changes nothing. */
  apply(record: HoldRecord): void {
    if (record.op === 'hold') {
      const hold = this.holds.get(record.hold) ?? this.create(record.hold, record.eventId, [], Promise.resolve());
      hold.eventId = record.eventId;
      hold.state = 'held';
      this.join(hold, record.key);
    } else if (record.op === 'releasing') {
      const hold = this.holds.get(record.hold);
      if (hold) hold.state = 'releasing';
    } else {
      const hold = this.holds.get(record.hold);
      if (hold) this.remove(hold);
    }
  }

  create(id: string, eventId: string, keys: readonly string[], ready: Promise<void>): Hold {
    const hold: Hold = { id, eventId, keys: new Set(), state: 'held', ready, pendingParks: 0, parksIdle: [], draining: false };
    this.holds.set(id, hold);
    for (const key of keys) this.join(hold, key);
    return hold;
  }

  join(hold: Hold, key: string): void {
    hold.keys.add(key);
    this.byKey.set(key, hold);
  }

  remove(hold: Hold): void {
    if (this.holds.get(hold.id) !== hold) return;
    this.holds.delete(hold.id);
    for (const key of hold.keys) if (this.byKey.get(key) === hold) this.byKey.delete(key);
  }

  get(id: string): Hold | undefined {
    return this.holds.get(id);
  }

  holdOf(key: string): Hold | undefined {
    return this.byKey.get(key);
  }

  all(): Hold[] {
    return [...this.holds.values()];
  }

  /** Held patients (key hashes), for `mllp_held_patients`. */
  get patients(): number {
    return this.byKey.size;
  }

  /** The folded state as records: what the log is compacted to. */
  records(): HoldRecord[] {
    const records: HoldRecord[] = [];
    for (const hold of this.holds.values()) {
      for (const key of hold.keys) records.push({ op: 'hold', hold: hold.id, key, eventId: hold.eventId });
      if (hold.state !== 'held') records.push({ op: 'releasing', hold: hold.id });
    }
    return records;
  }
}

/** A log record from its JSON body; undefined for anything else (skipped, never fatal). */
export function parseRecord(content: Buffer): HoldRecord | undefined {
  try {
    const value = JSON.parse(content.toString('utf8')) as Record<string, unknown>;
    if (typeof value.hold !== 'string') return undefined;
    if (value.op === 'hold' && typeof value.key === 'string' && typeof value.eventId === 'string') return { op: 'hold', hold: value.hold, key: value.key, eventId: value.eventId };
    if (value.op === 'releasing' || value.op === 'release') return { op: value.op, hold: value.hold };
  } catch {
    // not a record
  }
  return undefined;
}
