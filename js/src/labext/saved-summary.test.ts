/** The saved summary of a reopened notebook's panel: which key a cell showed, which thumbnails
 *  may be shown, that metadata text never becomes markup, and that the watcher replaces only a
 *  widget output whose model is gone and puts everything back when disposed. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CodeCell } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { METADATA_KEY, type SavedRecord } from '../common/record';
import { buildSummary, panelKeyForCell, safeThumbnail, SavedSummaries, WIDGET_VIEW_MIME } from './saved-summary';

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const record = (state: Record<string, unknown>, minis: string[] = []): SavedRecord => ({
  schema_version: 1,
  revision: 3,
  updated_at: 't',
  state,
  results: minis.map((mini, i) => ({ hash: `h${i}`, seed: String(i), mini }))
});

afterEach(() => vi.useRealTimers());

describe('panelKeyForCell', () => {
  const keys = new Set(['cell-abc', 'mine', 'other']);
  it('reads a single key literal, else the cell id, and only keys the notebook saved', () => {
    expect(panelKeyForCell('abc', "p = fw.FooocusPanel(key='mine')", keys)).toBe('mine');
    expect(panelKeyForCell('abc', 'p = fw.FooocusPanel(key = "other")', keys)).toBe('other');
    expect(panelKeyForCell('abc', 'p = fw.FooocusPanel()', keys)).toBe('cell-abc');
    expect(panelKeyForCell('zzz', 'p = fw.FooocusPanel()', keys)).toBeNull();
    expect(panelKeyForCell('abc', "p = fw.FooocusPanel(key='unknown')", keys)).toBeNull();
  });
  it('cannot tell a key given by a variable beside another literal, or two literals', () => {
    expect(panelKeyForCell('abc', "a = fw.FooocusPanel(key='mine')\nb = fw.FooocusPanel(key='other')", keys)).toBeNull();
    expect(panelKeyForCell('abc', "p = fw.FooocusPanel(key='mi\\'ne')", keys)).toBeNull();
  });
});

describe('safeThumbnail', () => {
  it('keeps base64 JPEG, PNG and WebP data URLs and drops anything else', () => {
    expect(safeThumbnail(PNG)).toBe(PNG);
    expect(safeThumbnail('data:image/jpeg;base64,/9j/4AAQ')).toBe('data:image/jpeg;base64,/9j/4AAQ');
    expect(safeThumbnail('data:image/webp;base64,UklGRg==')).toBe('data:image/webp;base64,UklGRg==');
    for (const bad of [
      'javascript:alert(1)',
      'https://example.com/x.png',
      'data:image/svg+xml;base64,PHN2Zz4=',
      'data:text/html;base64,PGI+',
      'data:image/png;base64,AAAA" onerror="alert(1)',
      'data:image/png,rawbytes',
      42
    ]) {
      expect(safeThumbnail(bad)).toBeNull();
    }
  });
});

describe('buildSummary', () => {
  it('shows prompt, styles and safe thumbnails as text, and restores on click', () => {
    const restore = vi.fn();
    const view = buildSummary(
      'k',
      record({ prompt: '<img src=x onerror=alert(1)>', styles: ['Cinematic', 7, 'Watercolor'] }, [PNG, 'javascript:alert(1)']),
      restore
    );
    const q = (hook: string): Element | null => view.element.querySelector(`[data-fw="${hook}"]`);
    expect(q('summary-prompt')?.textContent).toBe('<img src=x onerror=alert(1)>');
    expect(q('summary-styles')?.textContent).toBe('Cinematic, Watercolor');
    expect([...view.element.querySelectorAll('img')].map(img => img.getAttribute('src'))).toEqual([PNG]);
    const button = q('restore-panel') as HTMLButtonElement;
    button.click();
    expect(restore).toHaveBeenCalledWith(view);
    expect(button.disabled).toBe(true);
    view.failed('Reconnect failed: no kernel.');
    expect(button.disabled).toBe(false);
    expect(q('summary-status')?.textContent).toBe('Reconnect failed: no kernel.');
    view.dispose();
    button.click();
    expect(restore).toHaveBeenCalledTimes(1);
  });
});

describe('SavedSummaries', () => {
  /** A notebook with one code cell whose output is a widget renderer showing `text`. */
  function fakeNotebook(text: string, source = 'panel = fw.FooocusPanel()') {
    const node = document.createElement('div');
    const rendererNode = document.createElement('div');
    rendererNode.textContent = text;
    node.append(rendererNode);
    const metadata = new Map<string, unknown>([[METADATA_KEY, { panels: { 'cell-c1': record({ prompt: 'saved prompt' }) } }]]);
    const cell = {
      node,
      model: { type: 'code', id: 'c1', sharedModel: { getSource: () => source } },
      outputArea: { widgets: [{ node: document.createElement('div'), widgets: [{ node: rendererNode, mimeType: WIDGET_VIEW_MIME }] }] }
    };
    const notebook = { node, content: { widgets: [cell] }, model: { getMetadata: (k: string) => metadata.get(k), setMetadata: () => undefined } };
    return { panel: notebook as unknown as NotebookPanel, cell: cell as unknown as CodeCell, rendererNode };
  }

  it('replaces "model not found" with the saved summary and puts it back when disposed', () => {
    const { panel, cell, rendererNode } = fakeNotebook('Error displaying widget: model not found');
    const restore = vi.fn();
    const summaries = new SavedSummaries(panel, restore);
    summaries.scan();
    summaries.scan(); // once only
    expect(rendererNode.querySelectorAll('[data-fw-summary="cell-c1"]')).toHaveLength(1);
    expect(rendererNode.textContent).toContain('saved prompt');
    (rendererNode.querySelector('[data-fw="restore-panel"]') as HTMLButtonElement).click();
    expect(restore).toHaveBeenCalledWith('cell-c1', cell, expect.anything());
    summaries.dispose();
    expect(rendererNode.textContent).toBe('Error displaying widget: model not found');
  });

  it('leaves a widget that is loading, and a cell whose panel it cannot tell', () => {
    const loading = fakeNotebook('Loading widget...');
    const a = new SavedSummaries(loading.panel, vi.fn());
    a.scan();
    expect(loading.rendererNode.querySelector('[data-fw-summary]')).toBeNull();
    a.dispose();
    const unknown = fakeNotebook('Error displaying widget: model not found', 'p = fw.FooocusPanel(key=name)\nq = f(key="x")');
    const b = new SavedSummaries(unknown.panel, vi.fn());
    b.scan();
    expect(unknown.rendererNode.querySelector('[data-fw-summary]')).toBeNull();
    b.dispose();
  });

  it('scans by itself when the page changes, and stops when disposed', async () => {
    const { panel, rendererNode } = fakeNotebook('Loading widget...');
    const summaries = new SavedSummaries(panel, vi.fn());
    rendererNode.textContent = 'Error displaying widget: model not found';
    await vi.waitFor(() => expect(rendererNode.querySelector('[data-fw-summary]')).not.toBeNull());
    summaries.dispose();
    rendererNode.textContent = 'Error displaying widget: model not found';
    await new Promise(resolve => setTimeout(resolve, 300));
    expect(rendererNode.querySelector('[data-fw-summary]')).toBeNull();
  });
});
