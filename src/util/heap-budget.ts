import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * The daemon's V8 heap budget (issue 18; why and the measurements: docs/PERFORMANCE.md,
 * "Memory with a backlog (issue 18)").
 *
 * V8 sizes its heap for throughput: while a backlog drains, the young generation doubles up
 * to 2 x 16 MB and the old generation is allowed to grow up to about 3 x its live size
 * before a full GC, the factor rising with the allocation rate (so with the drain speed, so
 * with the machine). For this daemon (about 14 MB live) that is 30-60 MB of heap that holds
 * only garbage, plus the socket chunks that garbage pins. This module bounds both, from
 * inside the process, so `node dist/cli/main.js run` needs no command-line V8 flags:
 *
 * - young generation: while the new space is below `youngCapMb` (both semi-spaces) V8 may
 *   grow it (factor 2); once it reaches the cap the growth factor is set to 1, so it stays.
 *   Rechecked after every GC, because V8 shrinks the new space when idle: below the cap the
 *   factor goes back to 2. (`--max-semi-space-size` cannot be changed once the heap exists,
 *   and on the command line `--semi-space-growth-factor` < 2 is raised to 2 by V8 when it
 *   configures the heap; set afterwards, V8 reads it at each growth. Node 20 / V8 11.3;
 *   test/unit/util/heap-budget.test.ts fails should a later V8 stop honouring it.) The
 *   check runs after the GC, from the event loop: should two scavenges come before the
 *   check that follows the first (one turn allocating enough for two growths, or a new
 *   space V8 shrank small growing back on a loaded machine), the new space can pass the
 *   cap by one doubling, never beyond V8's 2 x 16 MB.
 * - old generation: `--heap-growing-percent` fixes the growth allowed after a full GC at
 *   `oldGrowthPercent` (V8 reads it at each full GC; it otherwise picks 1.1 to 4 x).
 *
 * V8 flags are process-wide: a worker thread's heap (the delivery thread,
 * src/delivery/thread/) follows the same factors, only the main heap is observed; a worker
 * created after `applyHeapBudget` starts with its young generation at the cap.
 */
export interface HeapBudget {
  /** Young generation (new space, both semi-spaces) in MB at which growth stops. */
  readonly youngCapMb: number;
  /** Old-generation growth allowed after a full GC, in percent of what survived it. */
  readonly oldGrowthPercent: number;
}

/**
 * The daemon's budget: young generation 2 x 8 MB (V8's own maximum is 2 x 16 MB), old
 * generation allowed to double after a full GC (V8: 1.1 to 4 x, plus at least 8 MB and the
 * new space's size). With about 14 MB live that caps the heap near 16 + 36 MB. Case (e):
 * peak RSS 98-104 MB instead of 105-146 MB, CPU per event in case (c) unchanged within
 * noise; 2 x 4 MB / 50 % gave 86 MB at +9 to +19 % CPU (docs/PERFORMANCE.md).
 */
export const DEFAULT_HEAP_BUDGET: HeapBudget = { youngCapMb: 16, oldGrowthPercent: 100 };

const MB = 1024 * 1024;

/** Current size of the new space in bytes (both semi-spaces, as committed). */
export function newSpaceBytes(): number {
  for (const space of getHeapSpaceStatistics()) if (space.space_name === 'new_space') return space.space_size;
  return 0;
}

/**
 * Applies the budget to this process's heap until `stop()` is called (stop restores V8's
 * growth factors). Meant to be called once, by `mllp-dispatcher run` (src/cli/run.ts).
 */
export function applyHeapBudget(budget: HeapBudget = DEFAULT_HEAP_BUDGET): { stop(): void } {
  const capBytes = budget.youngCapMb * MB;
  setFlagsFromString(`--heap-growing-percent=${budget.oldGrowthPercent}`);
  // Read when an isolate is created: a worker thread started later (the delivery thread)
  // starts with its young generation at the cap instead of 2 x 1 MB, where the growth
  // factor, 1 while the main heap is at its cap, would otherwise keep it.
  setFlagsFromString(`--min-semi-space-size=${Math.max(1, Math.floor(budget.youngCapMb / 2))}`);
  // Frozen from the start: the check runs from the event loop, after the GC, so during the
  // synchronous start (the configuration loaded, schemas compiled) nothing could stop the
  // new space doubling to V8's maximum; the first check, one turn later, lets it grow.
  let frozen = true;
  setFlagsFromString('--semi-space-growth-factor=1');
  const check = () => {
    // V8 grows by doubling: growth is allowed only while one more doubling stays within the cap.
    const freeze = newSpaceBytes() * 2 > capBytes;
    if (freeze === frozen) return;
    frozen = freeze;
    setFlagsFromString(`--semi-space-growth-factor=${freeze ? 1 : 2}`);
  };
  setImmediate(check);
  // Called after each GC (Node reports GCs to observers of 'gc' entries), the only moments
  // V8 resizes the new space; one statistics read per GC, nothing per event.
  const observer = new PerformanceObserver(check);
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      observer.disconnect();
      setFlagsFromString('--semi-space-growth-factor=2');
      setFlagsFromString('--heap-growing-percent=0');
      setFlagsFromString('--min-semi-space-size=0');
    },
  };
}
