/**
 * Reopened notebooks: where a panel's widget model is gone (the notebook was opened fresh, or the
 * server restarted), JupyterLab's widget renderer shows "Error displaying widget: model not
 * found". The extension replaces that text with the panel's saved summary from the notebook's
 * metadata (prompt, styles, the last results' thumbnails) and a "Restore panel" button that runs
 * the cell's rehydration (the Reconnect path). Nothing runs without that click.
 *
 * Which panel a cell showed: the widget output holds only a model id, so the key is found from
 * the cell. The key a panel gets without `key=` is `cell-<cell id>`; else a single `key="..."`
 * string literal in the cell's source names it. Either must have a record in the metadata; a key
 * given any other way (a variable, an f-string, escapes, two different literals) cannot be told,
 * and that cell keeps JupyterLab's message. When a cell shows several widgets whose models are gone, the
 * summary replaces the first.
 *
 * Metadata is untrusted: every text goes in through `textContent`, and a thumbnail is used only
 * when it is a base64 JPEG, PNG or WebP data URL.
 */

import type { CodeCell } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { SavedRecord } from '../common/record';
import { readMetadata } from './metadata';

/** The mime type of a widget view output (ipywidgets). */
export const WIDGET_VIEW_MIME = 'application/vnd.jupyter.widget-view+json';
/** How JupyterLab's widget renderer says it could not show a widget. */
const RENDER_ERROR_PREFIX = 'Error displaying widget';
/** At most this many thumbnails in a summary. */
export const MAX_SUMMARY_THUMBNAILS = 8;
/** A scan runs this long after the notebook's page last changed. */
const SCAN_DELAY_MS = 150;

/** The key of the panel `cell` created, or null when it cannot be told (see the file's notes). */
export function panelKeyForCell(cellId: string, source: string, keys: ReadonlySet<string>): string | null {
  const literals = new Set<string>();
  let simple = 0;
  for (const match of source.matchAll(/\bkey\s*=\s*(['"])([^'"\\\n]*)\1/g)) {
    literals.add(match[2] ?? '');
    simple++;
  }
  // a `key=` given any other way (a variable, escapes, an f-string): the key cannot be told
  if ([...source.matchAll(/\bkey\s*=(?!=)/g)].length > simple) return null;
  if (literals.size === 1) {
    const [key] = literals;
    return key !== undefined && keys.has(key) ? key : null;
  }
  if (literals.size > 1) return null;
  const byCell = `cell-${cellId}`;
  return keys.has(byCell) ? byCell : null;
}

/** `url` when it is a base64 JPEG, PNG or WebP data URL (the only thumbnails shown), else null. */
export function safeThumbnail(url: unknown): string | null {
  if (typeof url !== 'string' || url.length > 512 * 1024) return null;
  return /^data:image\/(?:jpeg|png|webp);base64,[A-Za-z0-9+/]+={0,2}$/.test(url) ? url : null;
}

/** An element with a class, inline style and text (text only ever through `textContent`). */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  style: Partial<CSSStyleDeclaration>,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  Object.assign(node.style, style);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A saved summary on the page, and how to tell it how a Restore went. */
export interface SummaryView {
  element: HTMLElement;
  /** Show `message` under the button and enable the button again (a Restore failed). */
  failed(message: string): void;
  /** Remove the click listener. */
  dispose(): void;
}

/** The saved summary of the panel `key` from `record`; `restore` runs when the button is clicked. */
export function buildSummary(key: string, record: SavedRecord, restore: (view: SummaryView) => void): SummaryView {
  const box = el('div', {
    border: '1px solid var(--jp-border-color2, #ccc)',
    borderRadius: '6px',
    padding: '10px 12px',
    background: 'var(--jp-layout-color1, #fff)',
    color: 'var(--jp-ui-font-color1, #222)',
    fontFamily: 'var(--jp-ui-font-family, sans-serif)',
    fontSize: 'var(--jp-ui-font-size1, 13px)',
    maxWidth: '720px'
  });
  box.setAttribute('data-fw-summary', key);
  box.append(el('div', { fontWeight: '600', marginBottom: '4px' }, 'Fooocus panel — saved copy'));
  box.append(
    el(
      'div',
      { color: 'var(--jp-ui-font-color2, #555)', marginBottom: '8px' },
      'This panel is not running: the notebook was opened again or the server restarted. ' +
        'This is what it held when the notebook was saved. Restore panel brings it back with these settings.'
    )
  );
  const state = record.state;
  const row = (label: string, value: string, hook: string): void => {
    const line = el('div', { margin: '2px 0', whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' });
    line.append(el('span', { fontWeight: '600' }, `${label}: `));
    const text = el('span', {}, value);
    text.setAttribute('data-fw', hook);
    line.append(text);
    box.append(line);
  };
  const prompt = typeof state.prompt === 'string' ? state.prompt : '';
  row('Prompt', prompt || '(empty)', 'summary-prompt');
  if (typeof state.negative_prompt === 'string' && state.negative_prompt) {
    row('Negative prompt', state.negative_prompt, 'summary-negative-prompt');
  }
  const styles = Array.isArray(state.styles) ? state.styles.filter((s): s is string => typeof s === 'string') : [];
  row('Styles', styles.length ? styles.join(', ') : '(none)', 'summary-styles');
  const thumbs = (record.results ?? []).map(r => safeThumbnail(r.mini)).filter((u): u is string => u !== null);
  if (thumbs.length) {
    const gallery = el('div', { display: 'flex', flexWrap: 'wrap', gap: '6px', margin: '8px 0' });
    gallery.setAttribute('data-fw', 'summary-thumbnails');
    for (const url of thumbs.slice(0, MAX_SUMMARY_THUMBNAILS)) {
      const img = el('img', { width: '72px', height: '72px', objectFit: 'cover', borderRadius: '4px' });
      img.alt = 'A saved result';
      img.src = url;
      gallery.append(img);
    }
    box.append(gallery);
  }
  const button = el('button', { marginTop: '8px' }, 'Restore panel');
  button.type = 'button';
  button.className = 'jp-mod-styled jp-mod-accept';
  button.setAttribute('data-fw', 'restore-panel');
  const status = el('div', { marginTop: '6px', color: 'var(--jp-error-color1, #b00)' });
  status.setAttribute('data-fw', 'summary-status');
  status.hidden = true;
  box.append(button, status);
  const view: SummaryView = {
    element: box,
    failed(message) {
      button.disabled = false;
      button.textContent = 'Restore panel';
      status.hidden = false;
      status.textContent = message;
    },
    dispose() {
      button.removeEventListener('click', onClick);
    }
  };
  const onClick = (): void => {
    button.disabled = true;
    button.textContent = 'Restoring…';
    status.hidden = true;
    restore(view);
  };
  button.addEventListener('click', onClick);
  return view;
}

/** A Lumino widget, as far as the scan reads one. */
interface WidgetLike {
  readonly node: HTMLElement;
  readonly widgets?: readonly WidgetLike[];
  readonly mimeType?: string;
  readonly isDisposed?: boolean;
}

/** A summary shown in place of a renderer's error text. */
interface Shown {
  view: SummaryView;
  /** The renderer whose node holds the summary. */
  renderer: WidgetLike;
  host: HTMLElement;
  text: string;
}

/**
 * Watches one notebook's page for widget outputs whose model is gone and shows the saved summary
 * of the panel in place of the error. `restore(key, cell, view)` runs on a click. Disposing stops
 * watching and puts back what it replaced.
 */
export class SavedSummaries {
  private readonly observer: MutationObserver;
  private readonly shown: Shown[] = [];
  /** Renderers whose panel could not be told: not judged again at every scan. */
  private readonly untold = new WeakSet<WidgetLike>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(
    private readonly panel: NotebookPanel,
    private readonly restore: (key: string, cell: CodeCell, view: SummaryView) => void
  ) {
    this.observer = new MutationObserver(() => this.schedule());
    this.observer.observe(panel.node, { childList: true, subtree: true, characterData: true });
    this.schedule();
  }

  /** Stop watching, remove every summary and put back the text it replaced. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.observer.disconnect();
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const { view, host, text } of this.shown.splice(0)) {
      view.dispose();
      if (view.element.parentNode === host) {
        view.element.remove();
        host.textContent = text;
      }
    }
  }

  /** Scan soon (once for a burst of changes). */
  private schedule(): void {
    if (this.disposed || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.scan();
    }, SCAN_DELAY_MS);
  }

  /** Show a summary for each cell with a widget output whose model is gone (see the file's notes). */
  scan(): void {
    if (this.disposed) return;
    // forget summaries whose output was cleared (a Restore, or the cell ran again)
    for (let i = this.shown.length - 1; i >= 0; i--) {
      const item = this.shown[i];
      if (item && (item.renderer.isDisposed || item.view.element.parentNode !== item.host)) {
        item.view.dispose();
        this.shown.splice(i, 1);
      }
    }
    let saved: Record<string, SavedRecord> | null = null;
    for (const widget of this.panel.content.widgets) {
      if (widget.model.type !== 'code') continue;
      const cell = widget as CodeCell;
      const renderer = brokenWidgetOutput(cell);
      if (!renderer || this.untold.has(renderer)) continue;
      const host = renderer.node;
      saved ??= readMetadata(this.panel).panels;
      const key = panelKeyForCell(cell.model.id, cell.model.sharedModel.getSource(), new Set(Object.keys(saved)));
      const record = key === null ? undefined : saved[key];
      if (key === null || !record) {
        this.untold.add(renderer);
        continue;
      }
      const view = buildSummary(key, record, v => this.restore(key, cell, v));
      const text = host.textContent ?? '';
      host.textContent = '';
      host.append(view.element);
      this.shown.push({ view, renderer, host, text });
    }
  }
}

/** The renderer of `cell`'s first widget output that could not show it (no summary there yet). */
function brokenWidgetOutput(cell: CodeCell): WidgetLike | null {
  const children = (cell.outputArea?.widgets ?? []) as readonly WidgetLike[];
  for (const child of children) {
    for (const renderer of child.widgets ?? [child]) {
      if (renderer.mimeType !== WIDGET_VIEW_MIME) continue;
      const node = renderer.node;
      if (node.querySelector('[data-fw-summary]')) return null;
      if (!renderer.isDisposed && node.childElementCount === 0 && (node.textContent ?? '').startsWith(RENDER_ERROR_PREFIX)) {
        return renderer;
      }
    }
  }
  return null;
}
