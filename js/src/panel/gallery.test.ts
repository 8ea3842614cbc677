/** Progress, gallery, full-size images fetched by hash, the memory meter. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RenderProps } from '@anywidget/types';
import { defaultValues, FakeModel } from '../testing/fake-model';
import { batchFraction } from './gallery';
import { IMAGE_TIMEOUT_MS } from './image-fetcher';
import type { PanelModel, ResultModel } from './model';
import widget from './index';

let el: HTMLElement | undefined;
let model: FakeModel;
let cleanup: () => void = () => {};

function mount(overrides: Partial<PanelModel> = {}): void {
  model = new FakeModel(defaultValues(overrides));
  const host = document.createElement('div');
  el = host;
  document.body.append(host);
  cleanup = widget.render({ model, el: host } as unknown as RenderProps<PanelModel>) as () => void;
}

const q = <T extends HTMLElement = HTMLElement>(hook: string): T => {
  const found = el?.querySelector<T>(`[data-fw="${hook}"]`);
  if (!found) throw new Error(hook);
  return found;
};

const result = (seed: string, hash = seed.padStart(64, '0')): ResultModel => ({
  hash, seed, width: 64, height: 64, path: `/out/${seed}.png`, thumb: 'data:image/png;base64,iVBORw0KGgo='
});

afterEach(() => {
  cleanup();
  cleanup = () => {};
  el?.remove();
  el = undefined;
});

describe('batchFraction', () => {
  it('counts finished images and the running one’s steps', () => {
    expect(batchFraction({ phase: 'running', image: 1, images: 4, step: 15, steps: 30 })).toBeCloseTo(0.125);
    expect(batchFraction({ phase: 'running', image: 4, images: 4, step: 30, steps: 30 })).toBe(1);
    expect(batchFraction({ phase: 'done', image: 2, images: 2 })).toBe(1);
    expect(batchFraction({})).toBe(0);
  });
});

describe('gallery and actions', () => {
  it('swaps Generate for Stop and Skip while busy', () => {
    mount();
    expect([q('generate').hidden, q('stop').hidden, q('skip').hidden]).toEqual([false, true, true]);
    model.kernelSets('busy', true);
    expect([q('generate').hidden, q('stop').hidden, q('skip').hidden]).toEqual([true, false, false]);
    q('stop').click();
    q('skip').click();
    expect(model.sent.filter(m => (m as { type: string }).type !== 'ping')).toEqual([{ type: 'stop' }, { type: 'skip' }]);
  });

  it('shows progress per step and per batch', () => {
    mount();
    expect(q('progress').hidden).toBe(true);
    model.kernelSets('progress', { phase: 'running', text: 'Generating image 2 of 4', image: 2, images: 4, step: 15, steps: 30 });
    expect(q('progress').hidden).toBe(false);
    expect(q('progress').getAttribute('aria-valuenow')).toBe('38');
    expect(q('progress').textContent).toContain('step 15/30');
    model.kernelSets('progress', { phase: 'done', text: 'Done: 4 of 4', image: 4, images: 4, step: 30, steps: 30 });
    expect(q('progress').getAttribute('aria-valuenow')).toBe('100');
  });

  it('fills the gallery with thumbnails showing their seeds', () => {
    mount();
    model.kernelSets('results', [result('101'), result('102')]);
    const thumbs = q('gallery').querySelectorAll('.fw-thumb');
    expect(thumbs.length).toBe(2);
    expect(thumbs[1]?.textContent).toBe('102');
  });

  it('enlarges a result, fetches the full image by hash, and reuses its seed in one click', async () => {
    mount();
    model.kernelSets('results', [result('9223372036854775807', 'a'.repeat(64))]);
    q('result-0').click();
    const request = model.sent[model.sent.length - 1] as { type: string; id: string; hash: string };
    expect(request).toEqual({ type: 'image', id: expect.any(String), hash: 'a'.repeat(64) });
    model.emit('msg:custom', { type: 'image-bytes', id: request.id, hash: 'a'.repeat(64), found: true, mime: 'image/png' }, [
      new DataView(new Uint8Array([137, 80, 78, 71]).buffer)
    ]);
    await vi.waitFor(() => expect(q<HTMLImageElement>('lightbox').querySelector('img')?.src.startsWith('blob:')).toBe(true));
    q('use-seed').click();
    expect(model.get('seed')).toBe('9223372036854775807');
    expect(model.get('random_seed')).toBe(false);
    expect(el?.querySelector('[data-fw="lightbox"]')).toBeNull();
  });

  it('says so when the kernel no longer has the image, or does not answer', async () => {
    vi.useFakeTimers();
    try {
      mount();
      model.kernelSets('results', [result('1', 'b'.repeat(64)), result('2', 'c'.repeat(64))]);
      q('result-0').click();
      const request = model.sent[model.sent.length - 1] as { id: string };
      model.emit('msg:custom', { type: 'image-bytes', id: request.id, hash: 'b'.repeat(64), found: false, mime: '' }, []);
      await vi.waitFor(() => expect(q('lightbox').textContent).toContain('no longer stored'));
      q('result-1').click();
      await vi.advanceTimersByTimeAsync(IMAGE_TIMEOUT_MS);
      expect(q('lightbox').textContent).toContain('No answer from the kernel to "image"');
    } finally {
      vi.useRealTimers();
    }
  });

  it('shows a live preview while denoising', () => {
    mount();
    const preview = q<HTMLImageElement>('preview');
    expect(preview.hidden).toBe(true);
    model.kernelSets('preview', 'data:image/jpeg;base64,/9j/');
    expect(preview.hidden).toBe(false);
    expect(preview.src).toBe('data:image/jpeg;base64,/9j/');
  });
});

describe('memory', () => {
  it('shows the meter and sends Free memory', () => {
    mount();
    model.kernelSets('memory', { rss: 3 * 1024 ** 3, vram_used: 2 * 1024 ** 3, vram_total: 24 * 1024 ** 3 });
    expect(q('memory').textContent).toBe('RAM 3.0 GB · VRAM 2.0 GB / 24.0 GB');
    model.kernelSets('memory', { rss: 1024 ** 3, vram_used: null, vram_total: null });
    expect(q('memory').textContent).toBe('RAM 1.0 GB · no GPU');
    q('free-memory').click();
    expect(model.sent).toContainEqual({ type: 'free-memory' });
    q('memory').click();
    expect(model.sent).toContainEqual({ type: 'memory' });
  });
});
