/**
 * What the kernel reports, shown: the progress bar, the live preview, the gallery of results
 * (click to enlarge, reuse a seed in one click) and the drop zone that loads an image's
 * parameters back. Full-size images are fetched from the kernel by hash only when enlarged
 * (./image-fetcher).
 */

import type { Binder } from './bind';
import { h } from './dom';
import type { ImageFetcher } from './image-fetcher';
import type { ProgressModel, ResultModel } from './model';

/** Hands a picked or dropped image file to the kernel (see `PanelActions.loadImage`). */
export type LoadImage = (file: File) => void;

/** Overall progress of a batch in [0, 1]: finished images plus the running one's steps. */
export function batchFraction(p: ProgressModel): number {
  const images = p.images ?? 0;
  const steps = p.steps ?? 0;
  if (p.phase === 'done') return 1;
  if (images <= 0 || steps <= 0) return 0;
  const current = Math.max(0, (p.image ?? 1) - 1);
  return Math.min(1, (current + (p.step ?? 0) / steps) / images);
}

/** The progress bar: per batch (the bar) and per step (the text). */
export function progressBar(b: Binder): HTMLElement {
  const fill = h('div', 'fw-progress-bar');
  const text = h('span', 'fw-progress-text');
  const bar = h('div', 'fw-progress', {
    role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0', 'data-fw': 'progress'
  }, [fill, text]);
  const show = (): void => {
    const p = b.model.get('progress') ?? {};
    const percent = Math.round(batchFraction(p) * 100);
    fill.style.width = `${percent}%`;
    bar.setAttribute('aria-valuenow', String(percent));
    bar.dataset.phase = p.phase ?? 'idle';
    const detail = p.phase === 'running' && p.steps
      ? ` · image ${p.image ?? 1}/${p.images ?? 1} · step ${p.step ?? 0}/${p.steps}`
      : '';
    text.textContent = `${p.text ?? ''}${detail}`;
    bar.hidden = !p.phase;
  };
  b.watch('progress', show);
  show();
  return bar;
}

/** The enlarged view of one result, with its seed and a button that reuses it. */
function lightbox(b: Binder, fetcher: ImageFetcher, result: ResultModel, close: () => void): HTMLElement {
  const img = h('img', 'fw-lightbox-img', { alt: `Result with seed ${result.seed}` });
  img.src = result.thumb;
  fetcher.fetch(result.hash).then(
    url => {
      img.src = url;
    },
    (why: unknown) => {
      caption.textContent = why instanceof Error ? why.message : String(why);
    }
  );
  const useSeed = h('button', 'fw-button fw-small', { type: 'button', 'data-fw': 'use-seed' }, ['Use this seed']);
  b.listen(useSeed, 'click', () => {
    b.commit('seed', result.seed);
    b.commit('random_seed', false);
    close();
  });
  const closeButton = h('button', 'fw-button fw-small', { type: 'button', 'aria-label': 'Close' }, ['Close']);
  b.listen(closeButton, 'click', close);
  const caption = h('div', 'fw-lightbox-caption', {}, [
    `Seed ${result.seed} · ${result.width}×${result.height}${result.path ? ` · ${result.path}` : ''}`
  ]);
  const box = h('div', 'fw-lightbox', { 'data-fw': 'lightbox', role: 'dialog', 'aria-label': 'Result' }, [
    img,
    h('div', 'fw-row fw-lightbox-bar', {}, [caption, useSeed, closeButton])
  ]);
  b.listen(box, 'click', (ev: MouseEvent) => {
    if (ev.target === box) close();
  });
  return box;
}

/** The gallery: live preview while denoising, then the batch's thumbnails. */
export function gallery(
  b: Binder,
  root: () => HTMLElement,
  fetcher: ImageFetcher,
  loadImage: LoadImage
): { element: HTMLElement; dispose: () => void } {
  const preview = h('img', 'fw-preview', { alt: 'Live preview', 'data-fw': 'preview' });
  const empty = h('div', 'fw-gallery-empty', {}, ['Results appear here. Drop an image made here to restore its settings.']);
  const items = h('div', 'fw-gallery-items');
  const element = h('div', 'fw-gallery', { 'data-fw': 'gallery' }, [preview, items, empty]);
  let open: HTMLElement | null = null;
  const close = (): void => {
    open?.remove();
    open = null;
  };

  const show = (): void => {
    const results = b.model.get('results') ?? [];
    const src = b.model.get('preview');
    preview.hidden = !src;
    if (src) preview.src = src;
    empty.hidden = results.length > 0 || !!src;
    items.replaceChildren(
      ...results.map((r, i) => {
        const thumb = h('img', '', { alt: `Result ${i + 1}, seed ${r.seed}` });
        thumb.src = r.thumb;
        const button = h('button', 'fw-thumb', { type: 'button', 'data-fw': `result-${i}`, title: `Seed ${r.seed}` }, [
          thumb,
          h('span', 'fw-thumb-seed', {}, [r.seed])
        ]);
        b.listen(button, 'click', () => {
          close();
          open = lightbox(b, fetcher, r, close);
          root().append(open);
        });
        return button;
      })
    );
  };
  b.watch('results', show);
  b.watch('preview', show);
  show();

  // drop an image made here: the kernel reads its parameters back into the panel
  b.listen(element, 'dragover', (ev: DragEvent) => {
    ev.preventDefault();
    element.classList.add('fw-drop');
  });
  b.listen(element, 'dragleave', () => element.classList.remove('fw-drop'));
  b.listen(element, 'drop', (ev: DragEvent) => {
    ev.preventDefault();
    element.classList.remove('fw-drop');
    const file = ev.dataTransfer?.files[0];
    if (file) loadImage(file);
  });
  return { element, dispose: close };
}

/** "Load image…" button with a hidden file input, for those who do not drag and drop. */
export function loadImageButton(b: Binder, loadImage: LoadImage): HTMLElement {
  const input = h('input', '', { type: 'file', accept: 'image/png,image/jpeg,image/webp', hidden: '', 'data-fw': 'load-image-input' });
  const button = h('button', 'fw-button fw-small', { type: 'button', 'data-fw': 'load-image', title: 'Restore the settings of an image made here' }, ['Load image…']);
  b.listen(button, 'click', () => input.click());
  b.listen(input, 'change', () => {
    const file = input.files?.[0];
    if (file) loadImage(file);
    input.value = '';
  });
  return h('span', '', {}, [button, input]);
}
