/** The state mirror writes only values that pass the schema's checks into its copies. */

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PanelStateDetail } from '../common/events';
import type { SavedRecord } from '../common/record';
import { defaultValues, FakeModel } from '../testing/fake-model';
import { changedFields, MIRROR_DEBOUNCE_MS, readLocal, StateMirror } from './persist';

let model: FakeModel;
let published: PanelStateDetail[];
let mirror: StateMirror;

const lastPublished = (): PanelStateDetail | undefined => published[published.length - 1];

beforeEach(() => {
  vi.useFakeTimers();
  localStorage.clear();
  published = [];
  model = new FakeModel(defaultValues({ prompt: 'a lighthouse', seed: '42' }));
  mirror = new StateMirror(model, detail => published.push(detail), 'nb.ipynb', () => true);
});
afterEach(() => {
  mirror.dispose();
  vi.useRealTimers();
});

describe('StateMirror', () => {
  it('writes valid values to browser storage and the notebook', () => {
    mirror.changed('kernel');
    vi.advanceTimersByTime(MIRROR_DEBOUNCE_MS);
    expect(readLocal('nb.ipynb', 'main')?.state.prompt).toBe('a lighthouse');
    expect(lastPublished()?.record.state.seed).toBe('42');
  });

  it('keeps the last valid value of a field whose value the schema refuses', () => {
    mirror.changed('kernel');
    vi.advanceTimersByTime(MIRROR_DEBOUNCE_MS);
    model.set('prompt', 'p'.repeat(200_000));
    model.set('seed', '99999999999999999999999');
    mirror.changed('local');
    vi.advanceTimersByTime(MIRROR_DEBOUNCE_MS);
    const saved = readLocal('nb.ipynb', 'main');
    expect(saved?.state.prompt).toBe('a lighthouse');
    expect(saved?.state.seed).toBe('42');
    expect(lastPublished()?.record.state.prompt).toBe('a lighthouse');
    // the value the kernel sends back replaces the page's: the copies follow
    model.set('prompt', 'from the kernel');
    mirror.changed('kernel');
    vi.advanceTimersByTime(MIRROR_DEBOUNCE_MS);
    expect(readLocal('nb.ipynb', 'main')?.state.prompt).toBe('from the kernel');
  });

  it('leaves out a field that never held a valid value (a new kernel keeps its own)', () => {
    model.set('prompt', 'p'.repeat(32_769));
    const record = mirror.record();
    expect('prompt' in record.state).toBe(false);
    expect(record.state.seed).toBe('42');
  });
});

describe('changedFields', () => {
  const record = (state: Record<string, unknown>): SavedRecord => ({
    schema_version: 1,
    revision: 3,
    updated_at: '2026-01-01T00:00:00Z',
    state
  });

  it('reports no change for a copy whose objects list the same keys in another order', () => {
    const loras = model.get('loras').map(slot => ({ weight: slot.weight, file: slot.file, enabled: slot.enabled }));
    const image = model.get('input_image');
    const reordered = { image: image.image, mode: image.mode, enabled: image.enabled };
    expect(changedFields(model, record({ loras, input_image: reordered, prompt: 'a lighthouse' }))).toEqual({});
  });

  it('reports exactly the fields whose values differ', () => {
    const loras = model.get('loras').map((slot, i) => (i === 1 ? { ...slot, weight: 0.5 } : slot));
    expect(changedFields(model, record({ loras, prompt: 'a harbour', seed: 42 }))).toEqual({
      loras,
      prompt: 'a harbour'
    });
  });
});
