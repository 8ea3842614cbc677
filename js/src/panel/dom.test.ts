/** The small DOM builders: text never becomes HTML, options, clamping, debounce. */

import { describe, expect, it, vi } from 'vitest';
import { clampStep, debounce, h, setOptions, sizeLabel } from './dom';

describe('h', () => {
  it('inserts strings as text, never as HTML', () => {
    const el = h('div', 'x', { 'data-fw': 'error' }, ['<img src=x onerror=alert(1)>']);
    expect(el.querySelector('img')).toBeNull();
    expect(el.textContent).toBe('<img src=x onerror=alert(1)>');
    expect(el.dataset.fw).toBe('error');
  });
});

describe('setOptions', () => {
  it('keeps a current value that is not offered, marked as not found', () => {
    const select = document.createElement('select');
    setOptions(select, ['a', 'b'], 'gone.safetensors');
    expect([...select.options].map(o => o.textContent)).toEqual(['gone.safetensors (not found)', 'a', 'b']);
    expect(select.value).toBe('gone.safetensors');
  });
  it('uses labels for display only', () => {
    const select = document.createElement('select');
    setOptions(select, ['1152*896'], '1152*896', sizeLabel);
    expect(select.options[0]?.textContent).toBe('1152×896');
    expect(select.value).toBe('1152*896');
  });
});

describe('clampStep', () => {
  it('clamps to the range and snaps to the step without float noise', () => {
    expect(clampStep(0.1 + 0.2, -2, 2, 0.01)).toBe(0.3);
    expect(clampStep(99, 1, 32, 1)).toBe(32);
    expect(clampStep(-5, 1, 30, 0.1)).toBe(1);
    expect(clampStep(7.46, 1, 30, 0.1)).toBe(7.5);
  });
});

describe('debounce', () => {
  it('runs once after quiet and can flush early', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const d = debounce(fn, 100);
    d();
    d();
    vi.advanceTimersByTime(99);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    d();
    d.flush();
    expect(fn).toHaveBeenCalledTimes(2);
    d.flush(); // nothing pending: nothing runs
    expect(fn).toHaveBeenCalledTimes(2);
    vi.useRealTimers();
  });
});
